"""What a revoked login leaves behind on a PostgreSQL cluster, and how it is made harmless.

Ownership is recorded cluster-wide in ``pg_shdepend`` (one row per owned object,
with the database it lives in), so the databases to visit are found from any
connection. In each of them every object owned by a *suspect* role (the login,
its stagewall groups and the marker role, none of which should ever own
anything) is listed with ``pg_describe_object``; then

* ``SECURITY DEFINER`` functions become ``SECURITY INVOKER`` and lose
  ``EXECUTE`` for PUBLIC;
* every trigger on a table a suspect owns, or calling a function a suspect
  owns, is disabled (its body would otherwise run as whoever fires it);
* event triggers are disabled and dropped (their owner must be a superuser, so
  they cannot be quarantined);
* ``REASSIGN OWNED`` hands everything to the NOLOGIN quarantine role, which has
  no privileges, no login and no members; nothing is ever reassigned to the
  admin. ``DROP OWNED BY`` the login then removes its privileges there.

Statements use server-quoted names (``oid::regprocedure``, ``oid::regclass``,
``quote_ident``) built by ``format()`` on the server, never client string
pasting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

QUARANTINE_ROLE = "stagewall_quarantine"


@dataclass
class Cleanup:
    """What one revocation found and did, across the cluster."""

    objects: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def ensure_quarantine(cur: psycopg.Cursor[Any]) -> None:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (QUARANTINE_ROLE,))
    if cur.fetchone() is None:
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended('stagewall.quarantine', 0))")
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (QUARANTINE_ROLE,))
        if cur.fetchone() is None:
            cur.execute(
                sql.SQL(
                    "CREATE ROLE {} NOLOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE "
                    "NOREPLICATION NOBYPASSRLS"
                ).format(sql.Identifier(QUARANTINE_ROLE))
            )
            cur.execute(
                sql.SQL("COMMENT ON ROLE {} IS {}").format(
                    sql.Identifier(QUARANTINE_ROLE),
                    sql.Literal(
                        '{"stagewall": "quarantine", "note": "owns what revoked logins left '
                        'behind; never grant it anything"}'
                    ),
                )
            )


def databases_with_dependencies(
    cur: psycopg.Cursor[Any], owners: list[int], login: int | None
) -> list[str]:
    """Databases holding objects owned by ``owners`` or privileges/policies of ``login``."""
    cur.execute(
        "SELECT DISTINCT d.datname FROM pg_shdepend s JOIN pg_database d ON d.oid = s.dbid "
        "WHERE s.refclassid = 'pg_authid'::regclass AND ("
        "(s.deptype = 'o' AND s.refobjid = ANY(%s)) OR s.refobjid = %s) ORDER BY 1",
        (owners, login if login is not None else -1),
    )
    return [str(r[0]) for r in cur.fetchall()]


def owned_outside_quarantine(cur: psycopg.Cursor[Any], owners: list[int]) -> int:
    cur.execute(
        "SELECT count(*) FROM pg_shdepend WHERE refclassid = 'pg_authid'::regclass "
        "AND deptype = 'o' AND refobjid = ANY(%s)",
        (owners,),
    )
    row = cur.fetchone()
    return int(row[0]) if row else 0


def _fetch(cur: psycopg.Cursor[Any], query: str, params: tuple[Any, ...]) -> list[Any]:
    cur.execute(query, params)
    return list(cur.fetchall())


def clean_database(conn: psycopg.Connection[Any], owners: list[int], login: int) -> Cleanup:
    """Neutralise and quarantine everything ``owners`` own in the connected database."""
    out = Cleanup()
    with conn.cursor() as cur:
        cur.execute("SELECT current_database()")
        row = cur.fetchone()
        db = str(row[0]) if row else "?"
        described = _fetch(
            cur,
            "SELECT pg_describe_object(classid, objid, objsubid) FROM pg_shdepend "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND refclassid = 'pg_authid'::regclass AND deptype = 'o' AND refobjid = ANY(%s) "
            "ORDER BY 1",
            (owners,),
        )
        out.objects += [f"{db}: {r[0]}" for r in described]
        policies = _fetch(
            cur,
            "SELECT pg_describe_object('pg_policy'::regclass, p.oid, 0) FROM pg_policy p "
            "JOIN pg_class c ON c.oid = p.polrelid "
            "WHERE c.relowner = ANY(%s) OR %s = ANY(p.polroles) ORDER BY 1",
            (owners, login),
        )
        out.objects += [f"{db}: {r[0]}" for r in policies]
        steps: list[tuple[str, list[str]]] = []
        for desc, stmt in _fetch(
            cur,
            "SELECT pg_describe_object('pg_proc'::regclass, p.oid, 0), "
            "ARRAY[format('ALTER FUNCTION %%s SECURITY INVOKER', p.oid::regprocedure), "
            "format('REVOKE ALL ON FUNCTION %%s FROM PUBLIC', p.oid::regprocedure)] "
            "FROM pg_proc p WHERE p.prosecdef AND p.proowner = ANY(%s)",
            (owners,),
        ):
            steps.append((f"{db}: SECURITY DEFINER {desc} made SECURITY INVOKER", stmt))
        for desc, stmt in _fetch(
            cur,
            "SELECT pg_describe_object('pg_trigger'::regclass, t.oid, 0), "
            "ARRAY[format('ALTER TABLE %%s DISABLE TRIGGER %%I', t.tgrelid::regclass, t.tgname)] "
            "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal "
            "AND t.tgenabled <> 'D' AND (c.relowner = ANY(%s) OR p.proowner = ANY(%s))",
            (owners, owners),
        ):
            steps.append((f"{db}: {desc} disabled", stmt))
        for desc, stmt in _fetch(
            cur,
            "SELECT 'event trigger ' || quote_ident(evtname), "
            "ARRAY[format('ALTER EVENT TRIGGER %%I DISABLE', evtname), "
            "format('DROP EVENT TRIGGER %%I', evtname)] "
            "FROM pg_event_trigger WHERE evtowner = ANY(%s)",
            (owners,),
        ):
            steps.append((f"{db}: {desc} disabled and dropped", stmt))
        for desc, stmts in steps:
            try:
                with conn.transaction():
                    for stmt in stmts:
                        cur.execute(stmt.encode())
                out.disabled.append(desc)
            except psycopg.Error as exc:
                out.errors.append(
                    f"{db}: could not neutralise {desc.split(': ', 1)[1]}: {_first(exc)}"
                )
        # A non-superuser can only give an object to a role that may CREATE in its
        # schema: the quarantine role gets CREATE there for the REASSIGN, and loses it.
        schemas = [
            str(r[0])
            for r in _fetch(
                cur,
                "SELECT DISTINCT n.nspname FROM pg_namespace n WHERE n.oid IN ("
                "SELECT relnamespace FROM pg_class WHERE relowner = ANY(%s) "
                "UNION SELECT pronamespace FROM pg_proc WHERE proowner = ANY(%s) "
                "UNION SELECT typnamespace FROM pg_type WHERE typowner = ANY(%s) "
                "UNION SELECT collnamespace FROM pg_collation WHERE collowner = ANY(%s) "
                "UNION SELECT stxnamespace FROM pg_statistic_ext WHERE stxowner = ANY(%s)) "
                "AND NOT has_schema_privilege(%s::name, n.oid, 'CREATE')",
                (owners, owners, owners, owners, owners, QUARANTINE_ROLE),
            )
        ]
        q = sql.Identifier(QUARANTINE_ROLE)
        owning = [
            int(r[0])
            for r in _fetch(
                cur,
                "SELECT DISTINCT refobjid FROM pg_shdepend WHERE refclassid = "
                "'pg_authid'::regclass AND deptype = 'o' AND refobjid = ANY(%s) AND dbid = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())",
                (owners,),
            )
        ]
        for oid in owning:
            try:
                with conn.transaction():
                    for nsp in schemas:
                        cur.execute(
                            sql.SQL("GRANT CREATE ON SCHEMA {} TO {}").format(
                                sql.Identifier(nsp), q
                            )
                        )
                    cur.execute(
                        sql.SQL("REASSIGN OWNED BY {} TO {}").format(
                            sql.Identifier(_rolname(cur, oid)), q
                        )
                    )
                    for nsp in schemas:
                        cur.execute(
                            sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(
                                sql.Identifier(nsp), q
                            )
                        )
            except psycopg.Error as exc:
                out.errors.append(f"{db}: REASSIGN OWNED failed: {_first(exc)}")
        try:
            with conn.transaction():
                cur.execute(
                    sql.SQL("DROP OWNED BY {}").format(sql.Identifier(_rolname(cur, login)))
                )
        except psycopg.Error as exc:
            out.errors.append(f"{db}: DROP OWNED failed: {_first(exc)}")
    return out


def _rolname(cur: psycopg.Cursor[Any], oid: int) -> str:
    cur.execute("SELECT rolname FROM pg_roles WHERE oid = %s", (oid,))
    row = cur.fetchone()
    if row is None:
        raise psycopg.errors.UndefinedObject(f"role {oid} vanished")
    return str(row[0])


def _first(exc: psycopg.Error) -> str:
    return ((str(exc).strip().splitlines() or [""])[0])[:300]


__all__ = [
    "QUARANTINE_ROLE",
    "Cleanup",
    "clean_database",
    "databases_with_dependencies",
    "ensure_quarantine",
    "owned_outside_quarantine",
]
