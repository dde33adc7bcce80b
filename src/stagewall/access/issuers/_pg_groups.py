"""A role's NOLOGIN group in one database, reconciled to exactly what the role declares.

Every privilege the group holds (database, schemas, tables, sequences,
functions, default privileges) is revoked and the declared set granted again,
in the caller's transaction, so a schema or access level removed from
``stagewall.yaml`` is gone after the next issuance and no holder sees a moment
without the declared privileges. A group whose comment names another role is
refused: two roles never share a group.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from stagewall.errors import BackendError

_DEFAULT_KINDS = {"r": "TABLES", "S": "SEQUENCES", "f": "FUNCTIONS", "T": "TYPES", "n": "SCHEMAS"}


def owned_by(comment: str | None, role: str) -> bool:
    """Whether a group's comment names ``role`` as the role it belongs to."""
    doc: object = None
    if comment:
        try:
            doc = json.loads(comment)
        except ValueError:
            doc = None
    return isinstance(doc, dict) and doc.get("role") == role


def check_owner(cur: psycopg.Cursor[Any], group: str, role: str) -> None:
    cur.execute(
        "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s", (group,)
    )
    row = cur.fetchone()
    if not owned_by(row[0] if row else None, role):
        raise BackendError(
            f"group role {group} exists but does not belong to role {role!r}; refusing to "
            "share its privileges",
            hint="drop the stray group role, or rename the role in stagewall.yaml",
        )


def revoke_everything(cur: psycopg.Cursor[Any], group: str) -> None:
    """Revoke every privilege ``group`` holds in this database (and on the database)."""
    g = sql.Identifier(group)
    cur.execute("SELECT oid FROM pg_roles WHERE rolname = %s", (group,))
    row = cur.fetchone()
    if row is None:
        return
    oid = int(row[0])
    cur.execute(
        "SELECT DISTINCT n.nspname, c.relname, c.relkind FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a "
        "WHERE a.grantee = %s",
        (oid,),
    )
    for nsp, rel, kind in cur.fetchall():
        what = "SEQUENCE" if kind == "S" else "TABLE"
        cur.execute(
            sql.SQL("REVOKE ALL ON {} {} FROM {}").format(
                sql.SQL(what), sql.Identifier(nsp, rel), g
            )
        )
    cur.execute(
        "SELECT DISTINCT format('REVOKE ALL ON FUNCTION %%s FROM %%I', "
        "p.oid::regprocedure, %s::text) "
        "FROM pg_proc p, aclexplode(p.proacl) a WHERE a.grantee = %s",
        (group, oid),
    )
    for (stmt,) in cur.fetchall():
        cur.execute(str(stmt).encode())
    cur.execute(
        "SELECT DISTINCT n.nspname FROM pg_namespace n, aclexplode(n.nspacl) a "
        "WHERE a.grantee = %s",
        (oid,),
    )
    for (nsp,) in cur.fetchall():
        cur.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(sql.Identifier(nsp), g))
    cur.execute(
        "SELECT DISTINCT r.rolname, n.nspname, d.defaclobjtype FROM pg_default_acl d "
        "JOIN pg_roles r ON r.oid = d.defaclrole "
        "LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a "
        "WHERE a.grantee = %s",
        (oid,),
    )
    for owner, nsp, kind in cur.fetchall():
        where = sql.SQL(" IN SCHEMA {}").format(sql.Identifier(nsp)) if nsp else sql.SQL("")
        cur.execute(
            sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {}{} REVOKE ALL ON {} FROM {}").format(
                sql.Identifier(owner), where, sql.SQL(_DEFAULT_KINDS[str(kind)]), g
            )
        )
    cur.execute(
        "SELECT DISTINCT d.datname FROM pg_database d, aclexplode(d.datacl) a WHERE a.grantee = %s",
        (oid,),
    )
    for (db,) in cur.fetchall():
        cur.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(sql.Identifier(db), g))


# Everything the reconciliation below reads or writes, as one hash: every privilege the
# group holds (relations, functions, schemas and default privileges in this database,
# and every database), each with its grantor and grant option; every relation and
# sequence (oid and kind) of the declared schemas; the declared schemas' oids; the
# admin role and the database. Reconciling again while this hash is the one measured
# right after a reconciliation to the same declaration would change nothing.
# ``acl IS NOT NULL`` selects the same rows (aclexplode is strict: a NULL ACL explodes
# to nothing) without calling it for the thousands of functions and relations that
# carry the default ACL: about half the cost of this statement, once per issuance.
_STATE_SQL = """
SELECT current_database(), shobj_description(g.oid, 'pg_authid'),
  EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(marker)s),
  encode(sha256(convert_to(concat_ws('|',
  current_user, current_database(),
  (SELECT string_agg(format('c %%s %%s %%s %%s', c.oid, a.privilege_type, a.grantor,
     a.is_grantable), ',' ORDER BY c.oid, a.privilege_type, a.grantor, a.is_grantable)
   FROM pg_class c, aclexplode(c.relacl) a WHERE c.relacl IS NOT NULL AND a.grantee = g.oid),
  (SELECT string_agg(format('f %%s %%s %%s %%s', p.oid, a.privilege_type, a.grantor,
     a.is_grantable), ',' ORDER BY p.oid, a.privilege_type, a.grantor, a.is_grantable)
   FROM pg_proc p, aclexplode(p.proacl) a WHERE p.proacl IS NOT NULL AND a.grantee = g.oid),
  (SELECT string_agg(format('n %%s %%s %%s %%s', n.oid, a.privilege_type, a.grantor,
     a.is_grantable), ',' ORDER BY n.oid, a.privilege_type, a.grantor, a.is_grantable)
   FROM pg_namespace n, aclexplode(n.nspacl) a WHERE a.grantee = g.oid),
  (SELECT string_agg(format('d %%s %%s %%s %%s %%s %%s %%s', d.oid, d.defaclrole,
     d.defaclnamespace, d.defaclobjtype, a.privilege_type, a.grantor, a.is_grantable), ','
     ORDER BY d.oid, a.privilege_type, a.grantor, a.is_grantable)
   FROM pg_default_acl d, aclexplode(d.defaclacl) a WHERE a.grantee = g.oid),
  (SELECT string_agg(format('b %%s %%s %%s %%s', d.oid, a.privilege_type, a.grantor,
     a.is_grantable), ',' ORDER BY d.oid, a.privilege_type, a.grantor, a.is_grantable)
   FROM pg_database d, aclexplode(d.datacl) a WHERE a.grantee = g.oid),
  (SELECT string_agg(format('s %%s %%s', n.nspname, n.oid), ',' ORDER BY n.nspname)
   FROM pg_namespace n WHERE n.nspname = ANY(%(schemas)s)),
  (SELECT string_agg(format('r %%s %%s', c.oid, c.relkind), ',' ORDER BY c.oid)
   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S'))
), 'UTF8')), 'hex')
FROM pg_roles g WHERE g.rolname = %(group)s
"""


@dataclass(frozen=True)
class GroupState:
    """One read of a group: its database, its comment, whether the marker role exists,
    and the hash of everything a reconciliation of it depends on."""

    database: str
    comment: str | None
    marker: bool
    digest: str


def state(
    cur: psycopg.Cursor[Any], group: str, schemas: tuple[str, ...], marker: str
) -> GroupState | None:
    """The group's :class:`GroupState` in one round trip; None if the group does not exist.

    Called inside the issuance's transaction. Prepared on the session at its first use
    (psycopg would prepare it after its fifth) and, from PostgreSQL 12, run with the
    prepared statement's generic plan for the rest of the transaction (``SET LOCAL
    plan_cache_mode``; the parameters only name a role and schemas): the server keeps its
    admin sessions and runs this once per issuance, and parsing and planning it anew
    cost more than running it (~0.75 ms of the server's CPU instead of ~1.3)."""
    params = {"group": group, "schemas": list(schemas), "marker": marker}
    conn = cur.connection
    in_block = conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    if in_block and conn.info.server_version >= 120000:
        with conn.pipeline():  # one round trip for both
            cur.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            cur.execute(_STATE_SQL, params, prepare=True)
    else:
        cur.execute(_STATE_SQL, params, prepare=True)
    row = cur.fetchone()
    if row is None:
        return None
    return GroupState(str(row[0]), row[1], bool(row[2]), str(row[3]))


def remaining(cur: psycopg.Cursor[Any], group: str) -> list[str]:
    """Privileges the group still holds after a revoke (granted by someone stagewall is not)."""
    cur.execute(
        "SELECT format('%%s on %%s (granted by %%s)', a.privilege_type, c.oid::regclass, "
        "a.grantor::regrole) FROM pg_class c, aclexplode(c.relacl) a "
        "WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = %s) "
        "UNION ALL SELECT format('%%s on schema %%I (granted by %%s)', a.privilege_type, "
        "n.nspname, a.grantor::regrole) FROM pg_namespace n, aclexplode(n.nspacl) a "
        "WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = %s) "
        "UNION ALL SELECT format('%%s on database %%I (granted by %%s)', a.privilege_type, "
        "d.datname, a.grantor::regrole) FROM pg_database d, aclexplode(d.datacl) a "
        "WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = %s)",
        (group, group, group),
    )
    return [str(r[0]) for r in cur.fetchall()]


def grant_declared(
    cur: psycopg.Cursor[Any],
    group: str,
    *,
    database: str,
    schemas: tuple[str, ...],
    table_privs: tuple[str, ...],
    seq_privs: tuple[str, ...],
    create: bool,
) -> None:
    g = sql.Identifier(group)
    cur.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), g))
    tprivs = sql.SQL(", ").join(sql.SQL(p) for p in table_privs)
    sprivs = sql.SQL(", ").join(sql.SQL(p) for p in seq_privs)
    for schema in schemas:
        s = sql.Identifier(schema)
        cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
        if cur.fetchone() is None:
            raise BackendError(
                f"schema {schema!r} does not exist in database {database!r}",
                hint="fix the role's schemas: list in stagewall.yaml",
            )
        usage = "USAGE, CREATE" if create else "USAGE"
        cur.execute(sql.SQL("GRANT {} ON SCHEMA {} TO {}").format(sql.SQL(usage), s, g))
        cur.execute(sql.SQL("GRANT {} ON ALL TABLES IN SCHEMA {} TO {}").format(tprivs, s, g))
        cur.execute(sql.SQL("GRANT {} ON ALL SEQUENCES IN SCHEMA {} TO {}").format(sprivs, s, g))
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


def creation_rights(cur: psycopg.Cursor[Any], login: str) -> list[str]:
    """Where ``login`` could create persistent objects in this database (any grant path)."""
    cur.execute(
        "SELECT format('schema %%I', nspname) FROM pg_namespace "
        "WHERE nspname NOT LIKE 'pg\\_%%' AND nspname <> 'information_schema' "
        "AND has_schema_privilege(%s::name, oid, 'CREATE') "
        "UNION ALL SELECT format('database %%I', datname) FROM pg_database "
        "WHERE datname = current_database() AND has_database_privilege(%s::name, oid, 'CREATE')",
        (login, login),
    )
    return [str(r[0]) for r in cur.fetchall()]


# The databases below are those anyone can connect to: not ``datallowconn`` false, and not
# marked invalid (``datconnlimit = -2``), which DROP DATABASE does first, before it waits
# for a checkpoint (which can take seconds) and removes the files and the row. No login can
# reach an invalid database, so it holds nothing a login could create; counting it made a
# grant fail while someone else dropped a database on the same cluster.
def databases_creatable(cur: psycopg.Cursor[Any], login: str) -> list[str]:
    """Other databases where ``login`` could create schemas (CREATE on the database)."""
    cur.execute(
        "SELECT datname FROM pg_database WHERE datallowconn AND datconnlimit <> -2 "
        "AND datname <> current_database() "
        "AND has_database_privilege(%s::name, oid, 'CONNECT') "
        "AND has_database_privilege(%s::name, oid, 'CREATE') ORDER BY 1",
        (login, login),
    )
    return [str(r[0]) for r in cur.fetchall()]


def schemas_creatable(cur: psycopg.Cursor[Any], roles: list[str]) -> list[str]:
    """Schemas of this database where PUBLIC, or any of ``roles`` (with every role they
    inherit), may CREATE: what a login that is a member of ``roles`` could create in,
    read from a session on this database while the login itself is not yet committed."""
    cur.execute(
        "SELECT nspname FROM pg_namespace n WHERE nspname NOT LIKE 'pg\\_%%' "
        "AND nspname <> 'information_schema' AND ("
        "EXISTS (SELECT 1 FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a "
        "WHERE a.grantee = 0 AND a.privilege_type = 'CREATE') "
        "OR EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = ANY(%s) "
        "AND has_schema_privilege(r.oid, n.oid, 'CREATE'))) ORDER BY 1",
        (roles,),
    )
    return [str(r[0]) for r in cur.fetchall()]


def other_databases(cur: psycopg.Cursor[Any], login: str) -> list[str]:
    """Other databases ``login`` can connect to (through PUBLIC's default CONNECT)."""
    cur.execute(
        "SELECT datname FROM pg_database WHERE datallowconn AND datconnlimit <> -2 "
        "AND datname <> current_database() "
        "AND has_database_privilege(%s::name, oid, 'CONNECT') ORDER BY 1",
        (login,),
    )
    return [str(r[0]) for r in cur.fetchall()]


__all__ = [
    "GroupState",
    "check_owner",
    "creation_rights",
    "databases_creatable",
    "grant_declared",
    "other_databases",
    "owned_by",
    "remaining",
    "revoke_everything",
    "schemas_creatable",
    "state",
]
