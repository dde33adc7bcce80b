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
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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
    ServerIdentity,
    _pg_groups,
    _pg_objects,
)
from stagewall.errors import BackendError, ConfigError
from stagewall.estate import Access, Resource
from stagewall.redact import redact, secrets_of

MARKER_ROLE = "stagewall_managed"
LOGIN_PREFIX = "sw_"
GROUP_PREFIX = "sw_grp_"
_SAFE = re.compile(r"[^a-z0-9_]")
_TERMINATE_WAIT_MS = 5000
# At most this many issuances at once hold an admin session on one resource (holding()).
HELD_ADMIN_SESSIONS = 8
# Other databases of the cluster read at once when a login is issued (_creation_elsewhere).
_SIBLING_READERS = 8
# Kept admin sessions (keep_sessions): one idle longer than this is closed, not reused;
# one idle longer than PING_AFTER_IDLE_SECONDS answers a SELECT 1 before it is reused.
ADMIN_SESSION_IDLE_SECONDS = 60.0
PING_AFTER_IDLE_SECONDS = 2.0
# Sessions a sweep's fast lock-out ended before the full revocation of the same login in
# this process: the revocation's proof reports them too, so the audit event still says
# how many sessions the expiry killed.
_ENDED_EARLY: dict[str, int] = {}
_ENDED_EARLY_LOCK = threading.Lock()

_TABLE_PRIVS: dict[Access, tuple[str, ...]] = {
    Access.READ: ("SELECT",),
    Access.WRITE: ("SELECT", "INSERT", "UPDATE", "DELETE"),
    # Not ALL: TRIGGER lets a holder attach code to the application's tables.
    Access.ADMIN: ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES"),
}
_SEQ_PRIVS: dict[Access, tuple[str, ...]] = {
    Access.READ: ("SELECT",),
    Access.WRITE: ("USAGE", "SELECT", "UPDATE"),
    Access.ADMIN: ("USAGE", "SELECT", "UPDATE"),
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
    """One group per (instance, resource, exact role name).

    The readable part is normalised (``stg-read`` and ``stg.read`` both read
    ``stg_read``), so the exact role name goes into the hash too: two roles never
    share a group, and the group's comment names its role, checked before use.
    """
    tag = hashlib.sha256(f"{instance_id}\n{resource}\n{role}".encode()).hexdigest()[:12]
    return f"{GROUP_PREFIX}{_SAFE.sub('_', role.lower())[:36]}_{tag}"


def read_postgres(conn: psycopg.Connection[Any]) -> ServerIdentity:
    row = conn.execute(
        "SELECT (SELECT system_identifier::text FROM pg_control_system()), d.oid::bigint, "
        "d.datname, host(inet_server_addr()), inet_server_port() FROM pg_database d "
        "WHERE d.datname = current_database()"
    ).fetchone()
    if row is None:
        raise BackendError("PostgreSQL did not report its identity")
    return ServerIdentity(
        "postgresql",
        str(row[0]),
        str(row[2]),
        int(row[1]),
        str(row[3]) if row[3] else None,
        int(row[4]) if row[4] else None,
    )


def _malformed(resource: str) -> ConfigError:
    return ConfigError(
        f"the admin connection URL of resource {resource!r} cannot be decoded "
        "(a %-escape in it is not UTF-8)",
        hint="percent-encode the password's bytes as UTF-8 (e.g. urllib.parse.quote)",
    )


class PostgresIssuer:
    """Issues and revokes per-grant logins through an admin connection."""

    def __init__(self, resource_name: str, admin_url: str, resource: Resource | None = None):
        self.resource_name = resource_name
        self._admin_url = admin_url
        url_host: str | None = None
        url_port: int | None = None
        url_db = ""
        try:
            parts = urlsplit(admin_url)
            url_host, url_port, url_db = parts.hostname, parts.port, parts.path.lstrip("/")
        except ValueError:  # malformed: the driver reports it, redacted, when it connects
            pass
        self.host = (resource.host if resource and resource.host else url_host) or "localhost"
        self.port = (resource.port if resource and resource.port else url_port) or 5432
        self.database = (resource.database if resource else None) or url_db
        self._held = threading.local()  # see holding()
        self._sessions_left = threading.BoundedSemaphore(HELD_ADMIN_SESSIONS)
        self._idle: list[tuple[Any, float]] = []  # see keep_sessions()
        self._idle_lock = threading.Lock()
        self._keep = False
        # Group states measured right after a reconciliation, per declaration.
        self._reconciled: dict[tuple[Any, ...], tuple[str, str]] = {}

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

    def _open(self, *, autocommit: bool = False, database: str | None = None) -> Any:
        """A new admin session (the caller closes it); driver errors as BackendError."""
        kwargs: dict[str, Any] = {"autocommit": autocommit, "connect_timeout": 10}
        if database or self.database:
            kwargs["dbname"] = database or self.database
        what = f"database {database!r}" if database else f"resource {self.resource_name!r}"
        try:
            return psycopg.connect(self._admin_url, **kwargs)
        except psycopg.Error as exc:
            raise self._err(f"admin connection for {what}", exc) from None
        except (UnicodeError, ValueError):
            # libpq decodes %XX escapes; one that is not UTF-8 makes the driver raise
            # a decoding error. Its text is not shown: it could quote the password.
            raise _malformed(self.resource_name) from None

    @contextmanager
    def _connect(
        self, *, autocommit: bool = False, database: str | None = None
    ) -> Iterator[psycopg.Connection[Any]]:
        conn = self._open(autocommit=autocommit, database=database)
        try:
            yield conn
        finally:
            conn.close()

    # -- admin sessions kept between issuances (the server, while it serves) --

    def keep_sessions(self, keep: bool) -> None:
        """Keep the admin sessions of finished issuances open for the next ones, or not.

        A new session costs the production server a fork, an authentication and a cold
        catalog cache, more than the issuance itself. The server turns this on while it
        serves and off (closing every kept session) when it stops; at most
        HELD_ADMIN_SESSIONS are kept, one idle for ADMIN_SESSION_IDLE_SECONDS is closed
        instead of reused, and one idle for more than PING_AFTER_IDLE_SECONDS is checked
        before use. Every issuance still reads the server's identity on the session that
        creates its login.
        """
        with self._idle_lock:
            self._keep = keep
            idle, self._idle = self._idle, []
        if not keep:
            for conn, _at in idle:
                with suppress(psycopg.Error):
                    conn.close()

    def _checkout(self) -> Any:
        """The most recently kept admin session that still answers, else a new one.

        Sessions idle too long are closed on the way (the oldest are at the front).
        """
        while True:
            now = time.monotonic()
            with self._idle_lock:
                fresh = [(c, t) for c, t in self._idle if now - t <= ADMIN_SESSION_IDLE_SECONDS]
                stale = [c for c, t in self._idle if now - t > ADMIN_SESSION_IDLE_SECONDS]
                conn, at = fresh.pop() if fresh else (None, now)
                self._idle = fresh
            for c in stale:
                with suppress(psycopg.Error):
                    c.close()
            if conn is None:
                return self._open(autocommit=True)
            if self._usable(conn, ping=now - at > PING_AFTER_IDLE_SECONDS):
                return conn
            with suppress(psycopg.Error):
                conn.close()

    @staticmethod
    def _usable(conn: Any, *, ping: bool) -> bool:
        if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            return False
        if not ping:
            return True
        try:
            conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def _checkin(self, conn: Any, *, clean: bool) -> None:
        """Keep ``conn`` for the next issuance if it ended cleanly and there is room."""
        with self._idle_lock:
            if (
                clean
                and self._keep
                and len(self._idle) < HELD_ADMIN_SESSIONS
                and self._usable(conn, ping=False)
            ):
                self._idle.append((conn, time.monotonic()))
                return
        with suppress(psycopg.Error):
            conn.close()

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Within this block (in this thread), :meth:`identity` and :meth:`issue` share
        one admin connection: the identity read is of the very session that then creates
        the login, and an issuance costs one connection instead of two."""
        if getattr(self._held, "conn", None) is not None:
            yield  # already held further up
            return
        # Bounded: a burst of issuances queues here instead of opening a session each
        # on the production server at once.
        with self._sessions_left:
            conn = self._checkout()
            self._held.conn = conn
            clean = False
            try:
                yield
                clean = True
            finally:
                self._held.conn = None
                self._checkin(conn, clean=clean)

    @contextmanager
    def _admin(self) -> Iterator[psycopg.Connection[Any]]:
        """The held admin connection, else one for this call (autocommit)."""
        conn = getattr(self._held, "conn", None)
        if conn is not None:
            yield conn
            return
        with self._session() as conn:
            yield conn

    @contextmanager
    def _session(self) -> Iterator[psycopg.Connection[Any]]:
        """An autocommit admin session for one call: a kept one while the server keeps
        them (see keep_sessions), given back if the call ended cleanly; else a new one."""
        if not self._keep:
            with self._connect(autocommit=True) as conn:
                yield conn
            return
        conn = self._checkout()
        clean = False
        try:
            yield conn
            clean = True
        finally:
            self._checkin(conn, clean=clean)

    def _err(self, what: str, exc: psycopg.Error) -> BackendError:
        """A driver error as a BackendError, with every trace of the admin password removed."""
        first = (str(exc).strip().splitlines() or [""])[0]
        text = f"PostgreSQL {what} failed: {exc.__class__.__name__}: {first[:300]}"
        return BackendError(redact(text, secrets=secrets_of(self._admin_url)))

    def login_for(self, grant_id: str) -> str:
        return LOGIN_PREFIX + _SAFE.sub("_", grant_id.lower())

    def is_stagewall_login(self, login: str) -> bool:
        return login.startswith(LOGIN_PREFIX) and not login.startswith(GROUP_PREFIX)

    # -- issuing ------------------------------------------------------------

    def _lock(self, cur: psycopg.Cursor[Any], name: str) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (name,))

    def _role_exists(self, cur: psycopg.Cursor[Any], name: str) -> bool:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
        return cur.fetchone() is not None

    def _declared(self, spec: CredentialSpec) -> tuple[Any, ...]:
        """What the role declares for its group: the key of :attr:`_reconciled`."""
        return (
            group_name(spec.role, spec.instance_id, spec.resource),
            spec.role,
            spec.schemas,
            _TABLE_PRIVS[spec.access] + (("TRIGGER",) if spec.create_objects else ()),
            _SEQ_PRIVS[spec.access],
            spec.create_objects,
        )

    def _group_is_current(self, cur: psycopg.Cursor[Any], spec: CredentialSpec) -> bool:
        """True when the group's state is the one measured right after this process last
        reconciled it to exactly this declaration (so reconciling again changes nothing).

        Any difference (a privilege granted or revoked by hand, a table or schema added
        or dropped, another admin role, another declaration) sends the issuance through
        the full reconciliation under the group's lock, as before.
        """
        key = self._declared(spec)
        known = self._reconciled.get(key)
        if known is None:
            return False
        now = _pg_groups.state(cur, key[0], spec.schemas, MARKER_ROLE)
        # A stranger's group or a missing marker: the full path refuses or repairs it.
        return (
            now is not None
            and now.marker
            and _pg_groups.owned_by(now.comment, spec.role)
            and (now.database, now.digest) == known
        )

    def _ensure_group(self, cur: psycopg.Cursor[Any], spec: CredentialSpec) -> str:
        group = group_name(spec.role, spec.instance_id, spec.resource)
        if self._group_is_current(cur, spec):
            return group
        if not self._role_exists(cur, MARKER_ROLE):
            self._lock(cur, "stagewall.marker")
            if not self._role_exists(cur, MARKER_ROLE):
                cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(MARKER_ROLE)))
        g = sql.Identifier(group)
        self._lock(cur, f"stagewall.group.{group}")
        if not self._role_exists(cur, group):
            cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(g))
            marker = {
                "stagewall": "group",
                "instance": spec.instance_id,
                "resource": spec.resource,
                "role": spec.role,
            }
            cur.execute(
                sql.SQL("COMMENT ON ROLE {} IS {}").format(g, sql.Literal(json.dumps(marker)))
            )
        _pg_groups.check_owner(cur, group, spec.role)
        cur.execute("SELECT current_database()")
        row = cur.fetchone()
        db = str(row[0]) if row else self.database
        _pg_groups.revoke_everything(cur, group)
        leftover = _pg_groups.remaining(cur, group)
        if leftover:
            raise BackendError(
                f"group role {group} holds privileges stagewall did not grant and cannot "
                f"revoke: {'; '.join(leftover[:5])}",
                hint="revoke them as the role that granted them; the group must hold exactly "
                "what the role declares",
            )
        _pg_groups.grant_declared(
            cur,
            group,
            database=db,
            schemas=spec.schemas,
            table_privs=_TABLE_PRIVS[spec.access] + (("TRIGGER",) if spec.create_objects else ()),
            seq_privs=_SEQ_PRIVS[spec.access],
            create=spec.create_objects,
        )
        # Measured inside this transaction, after the reconciliation: should it not
        # commit, the state stays the old one, whose hash matches only if it was equal.
        measured = _pg_groups.state(cur, group, spec.schemas, MARKER_ROLE)
        if measured is not None:
            self._reconciled[self._declared(spec)] = (measured.database, measured.digest)
        return group

    def reconcile(self, spec: CredentialSpec) -> bool:
        """Bring the group of ``spec``'s role to what ``spec`` declares, so the logins
        already issued (its members) hold what the role declares now, not what it
        declared when they were issued. A declaration this process has reconciled
        before is not looked at again (the sweep calls this every pass); True when it
        ran."""
        if self._declared(spec) in self._reconciled:
            return False
        try:
            with self._admin() as conn, conn.transaction(), conn.cursor() as cur:
                self._ensure_group(cur, spec)
        except psycopg.Error as exc:
            raise self._err(
                f"reconciling the group of role {spec.role!r} on {self.resource_name!r}", exc
            ) from None
        return True

    def issue(self, spec: CredentialSpec) -> IssuedCredential:
        login = self.login_for(spec.grant_id)
        password = secrets.token_urlsafe(24)
        until = spec.valid_until.strftime("%Y-%m-%d %H:%M:%S+00")
        marker = {"stagewall": "login", "grant": spec.grant_id, "instance": spec.instance_id}
        try:
            with self._admin() as conn, conn.transaction(), conn.cursor() as cur:
                group = self._ensure_group(cur, spec)
                # One round trip for the login, its marker and the first check (and one
                # more for the last): the statements queue in a pipeline; a failure in
                # one skips the rest and rolls the whole transaction back.
                with conn.pipeline():
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
                    if not spec.create_objects:
                        rights = _pg_groups.creation_rights(cur, login)
                        if rights:
                            raise BackendError(
                                f"a login for role {spec.role!r} could create objects in "
                                f"{', '.join(rights)} (granted to PUBLIC or another role it "
                                "inherits); the role does not declare create_objects, so no login "
                                "was created",
                                hint="REVOKE CREATE ON ... FROM PUBLIC, or set "
                                "create_objects: true on the role if holders really must "
                                "create objects",
                            )
                    others = _pg_groups.other_databases(cur, login)
                if not spec.create_objects:
                    # Still in the transaction: a refusal rolls the login back.
                    elsewhere = self._creation_elsewhere(cur, group, login, others)
                    if elsewhere:
                        raise BackendError(
                            f"a login for role {spec.role!r} could create objects in "
                            f"{', '.join(elsewhere)}: another database of the cluster, which "
                            "every login can connect to through PUBLIC's CONNECT; the role "
                            "does not declare create_objects, so no login was created",
                            hint="in that database run REVOKE CREATE ON SCHEMA <schema> FROM "
                            "PUBLIC (PostgreSQL 14 and older, and databases upgraded from "
                            "them, grant CREATE on schema public to PUBLIC), or REVOKE CONNECT "
                            "ON DATABASE <database> FROM PUBLIC",
                        )
        except psycopg.Error as exc:
            raise self._err(f"creating login {login} on {self.resource_name!r}", exc) from None
        return IssuedCredential(
            login=login,
            password=password,
            host=self.host,
            port=self.port,
            database=self.database,
            valid_until=spec.valid_until.strftime("%Y-%m-%dT%H:%M:%SZ"),
            other_databases=tuple(others),
        )

    def _creation_elsewhere(
        self, cur: psycopg.Cursor[Any], group: str, login: str, others: list[str]
    ) -> list[str]:
        """Where, outside the resource's database, a new login (``login``, member of
        ``group`` and the marker) could create objects that outlive its grant.

        Each other database is read on a session of its own that is closed at once: a
        session kept open there would make the operators' DROP DATABASE, ALTER DATABASE
        RENAME and (on template1) CREATE DATABASE fail.
        """
        found = [
            f"database {db} (CREATE on the database)"
            for db in _pg_groups.databases_creatable(cur, login)
        ]
        roles = [group, MARKER_ROLE]
        # The databases are read at once (each costs a connection: a round trip and an
        # authentication on the server); only a failure is looked at again, one by one.
        with ThreadPoolExecutor(max_workers=min(_SIBLING_READERS, len(others) or 1)) as pool:
            first = list(pool.map(lambda db: self._try_schemas(db, roles), others))
        for db, result in zip(others, first, strict=True):
            schemas = result if isinstance(result, list) else self._schemas_again(cur, db, roles)
            found += [f"database {db} (schema {schema})" for schema in schemas or ()]
        return found

    def _try_schemas(self, db: str, roles: list[str]) -> list[str] | Exception:
        try:
            with self._connect(autocommit=True, database=db) as other, other.cursor() as oc:
                return _pg_groups.schemas_creatable(oc, roles)
        except (psycopg.Error, BackendError) as exc:
            return exc

    def _schemas_again(
        self, cur: psycopg.Cursor[Any], db: str, roles: list[str]
    ) -> list[str] | None:
        """After a failed read of ``db``: None when the database was dropped meanwhile or is
        being dropped (invalid: nobody can connect to it, so it holds nothing), else the
        schemas read on a second or third try; a database that cannot be read refuses the
        login (fail closed)."""
        for _attempt in range(2):
            cur.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s AND datallowconn "
                "AND datconnlimit <> -2",
                (db,),
            )
            if cur.fetchone() is None:
                return None
            result = self._try_schemas(db, roles)
            if isinstance(result, list):
                return result
        if isinstance(result, BackendError):
            raise result
        if isinstance(result, psycopg.Error):
            raise self._err(f"reading the schemas of database {db!r}", result) from None
        raise BackendError(f"cannot read the schemas of database {db!r}")

    # -- revoking -----------------------------------------------------------

    def _sessions(self, cur: psycopg.Cursor[Any], login: str, oid: int | None) -> list[int]:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE (usename = %s OR usesysid = %s) "
            "AND pid <> pg_backend_pid()",
            (login, oid if oid is not None else -1),
        )
        return [int(r[0]) for r in cur.fetchall()]

    def lock_out(self, login: str) -> int:
        """Refuse new logins and end every session of ``login`` now; sessions ended.

        The sweep's first, fast step for a burst of expiring grants: one connection
        and a few statements per login, before the full :meth:`revoke` (objects,
        memberships, drop, verification) that follows under the grant's lock.
        """
        if not self.is_stagewall_login(login):
            raise ConfigError(f"{login!r} is not a stagewall login; refusing to touch it")
        ended = 0
        try:
            with self._connect(autocommit=True) as conn, conn.cursor() as cur:
                cur.execute("SELECT oid FROM pg_roles WHERE rolname = %s", (login,))
                row = cur.fetchone()
                if row is None:
                    return 0
                cur.execute(
                    sql.SQL("ALTER ROLE {} NOLOGIN CONNECTION LIMIT 0").format(
                        sql.Identifier(login)
                    )
                )
                for pid in self._sessions(cur, login, int(row[0])):
                    cur.execute("SELECT pg_terminate_backend(%s, %s)", (pid, _TERMINATE_WAIT_MS))
                    ended += 1
        except psycopg.Error as exc:
            raise self._err(f"locking out {login}", exc) from None
        with _ENDED_EARLY_LOCK:
            _ENDED_EARLY[login] = _ENDED_EARLY.get(login, 0) + ended
        return ended

    def session_count(self, login: str) -> int:
        with self._connect(autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("SELECT oid FROM pg_roles WHERE rolname = %s", (login,))
            row = cur.fetchone()
            return len(self._sessions(cur, login, int(row[0]) if row else None))

    def _suspects(self, cur: psycopg.Cursor[Any], oid: int) -> list[int]:
        """The login, the stagewall groups it is in and the marker: none may own anything."""
        cur.execute(
            "SELECT r.oid FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
            "WHERE m.member = %s AND (r.rolname LIKE 'sw\\_grp\\_%%' OR r.rolname = %s)",
            (oid, MARKER_ROLE),
        )
        return [oid, *sorted(int(r[0]) for r in cur.fetchall())]

    def _take_over(self, cur: psycopg.Cursor[Any], roles: list[int]) -> list[str]:
        """Give a non-superuser admin the memberships REASSIGN / DROP OWNED need."""
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cur.fetchone()
        if row and row[0]:
            return []
        # Only the login, the quarantine role and roles that really own something: the
        # admin never becomes a member of the marker role (that would list it as a login).
        cur.execute(
            "SELECT rolname FROM pg_roles r WHERE (r.oid = %s OR r.rolname = %s "
            "OR (r.oid = ANY(%s) AND EXISTS (SELECT 1 FROM pg_shdepend s WHERE "
            "s.refclassid = 'pg_authid'::regclass AND s.refobjid = r.oid AND s.deptype = 'o'))) "
            "AND NOT pg_has_role(current_user, r.oid, 'USAGE')",
            (roles[0], _pg_objects.QUARANTINE_ROLE, roles),
        )
        names = [str(r[0]) for r in cur.fetchall()]
        for name in names:
            cur.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(name)))
        return names

    def revoke(self, login: str) -> RevocationProof:
        if not self.is_stagewall_login(login):
            raise ConfigError(f"{login!r} is not a stagewall login; refusing to touch it")
        ident = sql.Identifier(login)
        errors: list[str] = []
        cleanup = _pg_objects.Cleanup()
        terminated = 0
        with self._connect(autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("SELECT oid FROM pg_roles WHERE rolname = %s", (login,))
            row = cur.fetchone()
            existed = row is not None
            oid = int(row[0]) if row else None
            suspects: list[int] = []
            try:
                if oid is not None:
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
                if oid is not None:
                    suspects = self._suspects(cur, oid)
                    _pg_objects.ensure_quarantine(cur)
                    taken = self._take_over(cur, suspects)
                    for db in _pg_objects.databases_with_dependencies(cur, suspects, oid):
                        try:
                            with self._connect(autocommit=True, database=db) as dbconn:
                                part = _pg_objects.clean_database(dbconn, suspects, oid)
                        except BackendError as exc:
                            part = _pg_objects.Cleanup(errors=[f"{db}: {exc.message}"])
                        cleanup.objects += part.objects
                        cleanup.disabled += part.disabled
                        cleanup.errors += part.errors
                    try:
                        with conn.transaction():
                            cur.execute(
                                "SELECT r.rolname FROM pg_auth_members m "
                                "JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = %s",
                                (oid,),
                            )
                            for (granted,) in cur.fetchall():
                                cur.execute(
                                    sql.SQL("REVOKE {} FROM {}").format(
                                        sql.Identifier(granted), ident
                                    )
                                )
                            if not cleanup.errors:
                                # Only once everything it left is quarantined: otherwise the
                                # disabled login stays, for the next sweep to finish.
                                cur.execute(sql.SQL("DROP OWNED BY {}").format(ident))
                                cur.execute(sql.SQL("DROP ROLE {}").format(ident))
                    finally:
                        for name in taken:
                            if self._role_exists(cur, name):
                                cur.execute(
                                    sql.SQL("REVOKE {} FROM CURRENT_USER").format(
                                        sql.Identifier(name)
                                    )
                                )
            except psycopg.Error as exc:
                errors.append(self._err(f"revoking {login}", exc).message)
            errors += cleanup.errors
            remaining = len(self._sessions(cur, login, oid))
            cur.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (login,))
            after = cur.fetchone()
            owned = _pg_objects.owned_outside_quarantine(cur, suspects) if suspects else 0
            cur.execute(
                "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r "
                "ON r.oid = m.member OR r.oid = m.roleid WHERE r.rolname = %s",
                (login,),
            )
            mrow = cur.fetchone()
        with _ENDED_EARLY_LOCK:
            terminated += _ENDED_EARLY.pop(login, 0)
        return RevocationProof(
            login=login,
            existed=existed,
            sessions_terminated=terminated,
            sessions_remaining=remaining,
            role_remaining=after is not None,
            login_possible=bool(after[0]) if after else False,
            error="; ".join(errors) if errors else None,
            owned_remaining=owned,
            memberships_remaining=int(mrow[0]) if mrow else 0,
            objects=tuple(cleanup.objects),
            disabled=tuple(cleanup.disabled),
        )

    def identity(self) -> ServerIdentity:
        """The server and database the admin URL really reaches."""
        try:
            with self._admin() as conn:
                return read_postgres(conn)
        except psycopg.Error as exc:
            raise self._err(f"reading the identity of {self.resource_name!r}", exc) from None

    def managed_logins(self) -> list[ManagedLogin]:
        with self._session() as conn, conn.cursor() as cur:
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
