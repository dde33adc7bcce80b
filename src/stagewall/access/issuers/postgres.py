"""PostgreSQL credentials per grant, and revocation that is verified.

For each grant stagewall creates a login role ``sw_<grant id>`` with a random
password (sent to the server only as a SCRAM-SHA-256 verifier, so the
plaintext never reaches server logs), ``VALID UNTIL`` the grant end, the role's
connection limit, and membership in

* a NOLOGIN group role ``sw_grp_<role>_<hash>`` that carries the privileges
  (CONNECT, USAGE on the schemas, SELECT / INSERT / UPDATE / DELETE by access
  level, including default privileges), created and kept up to date here; and
* the NOLOGIN marker role ``stagewall_managed``; a ``COMMENT ON ROLE`` holds the
  grant id and the stagewall instance id, so sweeps recognise their own logins.

Revocation: NOLOGIN + CONNECTION LIMIT 0, terminate every backend whose session
user is the login (``usename``/``usesysid``; a session that ran ``SET ROLE``
keeps its session user, so it is found too), revoke memberships, REASSIGN /
DROP OWNED, DROP ROLE, then measure what is left in ``pg_stat_activity`` and
``pg_roles``. Every identifier goes through ``psycopg.sql.Identifier``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from stagewall.access.issuers import (
    CredentialSpec,
    IssuedCredential,
    ManagedLogin,
    RevocationProof,
)
from stagewall.errors import BackendError, ConfigError
from stagewall.estate import Access, Resource

MARKER_ROLE = "stagewall_managed"
LOGIN_PREFIX = "sw_"
GROUP_PREFIX = "sw_grp_"
_SAFE = re.compile(r"[^a-z0-9_]")
_TERMINATE_WAIT_MS = 5000

_TABLE_PRIVS: dict[Access, tuple[str, ...]] = {
    Access.READ: ("SELECT",),
    Access.WRITE: ("SELECT", "INSERT", "UPDATE", "DELETE"),
    Access.ADMIN: ("ALL",),
}
_SEQ_PRIVS: dict[Access, tuple[str, ...]] = {
    Access.READ: ("SELECT",),
    Access.WRITE: ("USAGE", "SELECT", "UPDATE"),
    Access.ADMIN: ("ALL",),
}


def scram_verifier(password: str, *, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores (RFC 5802 / RFC 7677)."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}$"
        f"{b64(stored_key).decode()}:{b64(server_key).decode()}"
    )


def group_name(role: str, instance_id: str, resource: str) -> str:
    tag = hashlib.sha256(f"{instance_id}\n{resource}".encode()).hexdigest()[:8]
    return f"{GROUP_PREFIX}{_SAFE.sub('_', role.lower())[:40]}_{tag}"


def _err(what: str, exc: psycopg.Error) -> BackendError:
    first = (str(exc).strip().splitlines() or [""])[0]
    return BackendError(f"PostgreSQL {what} failed: {exc.__class__.__name__}: {first[:300]}")


class PostgresIssuer:
    """Issues and revokes per-grant logins through an admin connection."""

    def __init__(self, resource_name: str, admin_url: str, resource: Resource | None = None):
        self.resource_name = resource_name
        self._admin_url = admin_url
        parts = urlsplit(admin_url)
        self.host = (resource.host if resource and resource.host else parts.hostname) or "localhost"
        self.port = (resource.port if resource and resource.port else parts.port) or 5432
        self.database = (resource.database if resource else None) or parts.path.lstrip("/")

    @classmethod
    def from_resource(cls, name: str, resource: Resource) -> PostgresIssuer:
        env = resource.admin_connection_env
        if env is None:
            raise ConfigError(
                f"resource {name!r} has no admin_connection_env, so stagewall cannot issue "
                "database logins for it",
                hint="set admin_connection_env: NAME_OF_ENV_VAR on the resource",
            )
        url = os.environ.get(env)
        if not url:
            raise ConfigError(
                f"environment variable {env} (admin connection of resource {name!r}) is not set",
                hint=f"export {env}=postgresql://admin@host:5432/db before running stagewall",
            )
        return cls(name, url, resource)

    @contextmanager
    def _connect(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection[Any]]:
        kwargs: dict[str, Any] = {"autocommit": autocommit, "connect_timeout": 10}
        if self.database:
            kwargs["dbname"] = self.database
        try:
            conn = psycopg.connect(self._admin_url, **kwargs)
        except psycopg.Error as exc:
            raise _err(f"admin connection for resource {self.resource_name!r}", exc) from None
        try:
            yield conn
        finally:
            conn.close()

    def login_for(self, grant_id: str) -> str:
        return LOGIN_PREFIX + _SAFE.sub("_", grant_id.lower())

    # -- issuing ------------------------------------------------------------

    def _lock(self, cur: psycopg.Cursor[Any], name: str) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (name,))

    def _role_exists(self, cur: psycopg.Cursor[Any], name: str) -> bool:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
        return cur.fetchone() is not None

    def _ensure_group(self, cur: psycopg.Cursor[Any], spec: CredentialSpec) -> str:
        if not self._role_exists(cur, MARKER_ROLE):
            self._lock(cur, "stagewall.marker")
            if not self._role_exists(cur, MARKER_ROLE):
                cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(MARKER_ROLE)))
        group = group_name(spec.role, spec.instance_id, spec.resource)
        g = sql.Identifier(group)
        self._lock(cur, f"stagewall.group.{group}")
        if not self._role_exists(cur, group):
            cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(g))
            marker = {"stagewall": "group", "instance": spec.instance_id, "role": spec.role}
            cur.execute(
                sql.SQL("COMMENT ON ROLE {} IS {}").format(g, sql.Literal(json.dumps(marker)))
            )
        cur.execute("SELECT current_database()")
        row = cur.fetchone()
        db = str(row[0]) if row else self.database
        cur.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(db), g))
        tprivs = sql.SQL(", ").join(sql.SQL(p) for p in _TABLE_PRIVS[spec.access])
        sprivs = sql.SQL(", ").join(sql.SQL(p) for p in _SEQ_PRIVS[spec.access])
        for schema in spec.schemas:
            s = sql.Identifier(schema)
            cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
            if cur.fetchone() is None:
                raise BackendError(
                    f"schema {schema!r} of role {spec.role!r} does not exist in database {db!r}",
                    hint="fix the role's schemas: list in stagewall.yaml",
                )
            usage = "USAGE, CREATE" if spec.access is Access.ADMIN else "USAGE"
            cur.execute(sql.SQL("GRANT {} ON SCHEMA {} TO {}").format(sql.SQL(usage), s, g))
            cur.execute(sql.SQL("GRANT {} ON ALL TABLES IN SCHEMA {} TO {}").format(tprivs, s, g))
            cur.execute(
                sql.SQL("GRANT {} ON ALL SEQUENCES IN SCHEMA {} TO {}").format(sprivs, s, g)
            )
            cur.execute(
                sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT {} ON TABLES TO {}").format(
                    s, tprivs, g
                )
            )
            cur.execute(
                sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT {} ON SEQUENCES TO {}").format(
                    s, sprivs, g
                )
            )
        return group

    def issue(self, spec: CredentialSpec) -> IssuedCredential:
        login = self.login_for(spec.grant_id)
        password = secrets.token_urlsafe(24)
        until = spec.valid_until.strftime("%Y-%m-%d %H:%M:%S+00")
        marker = {"stagewall": "login", "grant": spec.grant_id, "instance": spec.instance_id}
        try:
            with self._connect() as conn, conn.cursor() as cur:
                group = self._ensure_group(cur, spec)
                cur.execute(
                    sql.SQL(
                        "CREATE ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                        "NOREPLICATION NOBYPASSRLS INHERIT PASSWORD {} VALID UNTIL {} "
                        "CONNECTION LIMIT {} IN ROLE {}, {}"
                    ).format(
                        sql.Identifier(login),
                        sql.Literal(scram_verifier(password)),
                        sql.Literal(until),
                        sql.Literal(spec.connection_limit),
                        sql.Identifier(group),
                        sql.Identifier(MARKER_ROLE),
                    )
                )
                cur.execute(
                    sql.SQL("COMMENT ON ROLE {} IS {}").format(
                        sql.Identifier(login), sql.Literal(json.dumps(marker, sort_keys=True))
                    )
                )
                conn.commit()
        except psycopg.Error as exc:
            raise _err(f"creating login {login} on {self.resource_name!r}", exc) from None
        return IssuedCredential(
            login=login,
            password=password,
            host=self.host,
            port=self.port,
            database=self.database,
            valid_until=spec.valid_until.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )

    # -- revoking -----------------------------------------------------------

    def _sessions(self, cur: psycopg.Cursor[Any], login: str, oid: int | None) -> list[int]:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE (usename = %s OR usesysid = %s) "
            "AND pid <> pg_backend_pid()",
            (login, oid if oid is not None else -1),
        )
        return [int(r[0]) for r in cur.fetchall()]

    def session_count(self, login: str) -> int:
        with self._connect(autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("SELECT oid FROM pg_roles WHERE rolname = %s", (login,))
            row = cur.fetchone()
            return len(self._sessions(cur, login, int(row[0]) if row else None))

    def revoke(self, login: str) -> RevocationProof:
        if not login.startswith(LOGIN_PREFIX) or login.startswith(GROUP_PREFIX):
            raise ConfigError(f"{login!r} is not a stagewall login; refusing to touch it")
        ident = sql.Identifier(login)
        error: str | None = None
        terminated = 0
        oid: int | None = None
        with self._connect(autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("SELECT oid FROM pg_roles WHERE rolname = %s", (login,))
            row = cur.fetchone()
            existed = row is not None
            oid = int(row[0]) if row else None
            try:
                if existed:
                    cur.execute(sql.SQL("ALTER ROLE {} NOLOGIN CONNECTION LIMIT 0").format(ident))
                for _attempt in range(3):
                    pids = self._sessions(cur, login, oid)
                    if not pids:
                        break
                    for pid in pids:
                        cur.execute(
                            "SELECT pg_terminate_backend(%s, %s)", (pid, _TERMINATE_WAIT_MS)
                        )
                        terminated += 1
                if existed:
                    with conn.transaction():
                        cur.execute(
                            "SELECT r.rolname FROM pg_auth_members m "
                            "JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = %s",
                            (oid,),
                        )
                        for (granted,) in cur.fetchall():
                            if granted != MARKER_ROLE:
                                cur.execute(
                                    sql.SQL("REVOKE {} FROM {}").format(
                                        sql.Identifier(granted), ident
                                    )
                                )
                        cur.execute(sql.SQL("REASSIGN OWNED BY {} TO CURRENT_USER").format(ident))
                        cur.execute(sql.SQL("DROP OWNED BY {}").format(ident))
                        cur.execute(sql.SQL("DROP ROLE {}").format(ident))
            except psycopg.Error as exc:
                error = str(_err(f"revoking {login}", exc).message)
            remaining = len(self._sessions(cur, login, oid))
            cur.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (login,))
            after = cur.fetchone()
        return RevocationProof(
            login=login,
            existed=existed,
            sessions_terminated=terminated,
            sessions_remaining=remaining,
            role_remaining=after is not None,
            login_possible=bool(after[0]) if after else False,
            error=error,
        )

    def managed_logins(self) -> list[ManagedLogin]:
        with self._connect(autocommit=True) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT r.rolname, shobj_description(r.oid, 'pg_authid') FROM pg_roles r "
                "JOIN pg_auth_members m ON m.member = r.oid "
                "JOIN pg_roles mk ON mk.oid = m.roleid WHERE mk.rolname = %s",
                (MARKER_ROLE,),
            )
            rows = cur.fetchall()
        out: list[ManagedLogin] = []
        for name, comment in rows:
            grant_id: str | None = None
            instance: str | None = None
            # A marked role whose comment is not our JSON keeps grant/instance None: it is
            # listed, but no instance claims it, so no reconciler drops a role it cannot
            # attribute.
            with suppress(ValueError):
                doc = json.loads(comment) if comment else {}
                if isinstance(doc, dict):
                    grant_id = doc.get("grant") if isinstance(doc.get("grant"), str) else None
                    inst = doc.get("instance")
                    instance = inst if isinstance(inst, str) else None
            out.append(ManagedLogin(str(name), grant_id, instance))
        return out
