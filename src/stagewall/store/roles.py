"""Least privilege on a PostgreSQL store: an owner role migrates, a runtime role runs.

The owner role owns every table (it runs ``Store.migrate()``); the runtime role,
which ``stagewall serve`` connects as, gets only what the application needs: on
the audit tables ``SELECT`` and ``INSERT`` and nothing else, so it can neither
change nor delete an event, nor drop or disable the append-only triggers (only a
table's owner or a superuser can). :func:`assert_runtime_role_safe` refuses a
connection whose role could.
"""

from __future__ import annotations

import enum

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from stagewall.errors import BackendError, StoreRoleUnsafe, reason_of
from stagewall.store import Store

AUDIT_TABLES = ("audit_events", "audit_checkpoints", "audit_cosignatures")
# Tables that record history the audit log's events refer to: append-only as well.
HISTORY_TABLES = ("estate_versions", "gate_rules")
APPEND_ONLY_TABLES = AUDIT_TABLES + HISTORY_TABLES
_FORBIDDEN = ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")


class RoleCheck(enum.Enum):
    SAFE = "safe"
    NOT_APPLICABLE = "not applicable"  # SQLite: no roles; file permissions are the boundary


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def assert_runtime_role_safe(store: Store) -> RoleCheck:
    """Raise :class:`StoreRoleUnsafe` if the connected role could rewrite the audit log.

    Unsafe: a superuser or a role with BYPASSRLS-like power; the owner of an audit
    table or a member of the owner role (membership carries the owner's rights);
    any privilege on an audit or history table (:data:`APPEND_ONLY_TABLES`) beyond
    SELECT and INSERT; CREATE on the schema.
    """
    if store.backend != "postgresql":
        return RoleCheck.NOT_APPLICABLE
    problems: list[str] = []
    try:
        with store.engine.connect() as conn:
            role, is_super = conn.execute(
                text("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
            ).one()
            if is_super:
                problems.append(f"role {role} is a superuser")
            for table in APPEND_ONLY_TABLES:
                row = conn.execute(
                    text(
                        "SELECT c.oid, pg_get_userbyid(c.relowner), n.nspname "
                        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE c.relname = :t AND n.nspname = current_schema()"
                    ),
                    {"t": table},
                ).first()
                if row is None:
                    raise StoreRoleUnsafe(
                        f"the append-only table {table} does not exist in the store",
                        hint="run the migrations as the owner role first",
                    )
                oid, owner, schema = row
                if conn.execute(
                    text("SELECT pg_has_role(current_user, :o, 'MEMBER')"), {"o": owner}
                ).scalar():
                    what = "owns" if owner == role else f"is a member of {owner}, which owns"
                    problems.append(f"role {role} {what} {schema}.{table}")
                for privilege in _FORBIDDEN:
                    if conn.execute(
                        text("SELECT has_table_privilege(CAST(:oid AS oid), :p)"),
                        {"oid": oid, "p": privilege},
                    ).scalar():
                        problems.append(f"role {role} has {privilege} on {table}")
            if conn.execute(
                text("SELECT has_schema_privilege(current_schema(), 'CREATE')")
            ).scalar():
                problems.append(f"role {role} may CREATE in the store's schema")
            conn.rollback()
    except SQLAlchemyError as exc:
        raise BackendError(
            f"cannot check the store role at {store.display_url}: {reason_of(exc)}"
        ) from exc
    if problems:
        raise StoreRoleUnsafe(
            "the server must not run as a role that can rewrite the audit log: "
            + "; ".join(dict.fromkeys(problems)),
            hint="run migrations as the owner role, then connect `stagewall serve` as a "
            "runtime role set up with `grant_runtime_role` (docs/audit.md, Least privilege)",
        )
    return RoleCheck.SAFE


def grant_runtime_role(owner_store: Store, runtime_role: str) -> None:
    """As the owner: give ``runtime_role`` exactly the rights the application needs.

    Audit and history tables (:data:`APPEND_ONLY_TABLES`): SELECT and INSERT only.
    Other stagewall tables: SELECT, INSERT, UPDATE, DELETE (requests, grants, ...
    change state). Sequences: USAGE, SELECT.
    """
    if owner_store.backend != "postgresql":
        raise BackendError("runtime roles exist only on a PostgreSQL store")
    role = _quote(runtime_role)
    try:
        with owner_store.transaction() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            tables = [
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                        "AND tableowner = current_user"
                    )
                )
            ]
            conn.execute(text(f"GRANT USAGE ON SCHEMA {_quote(schema)} TO {role}"))
            conn.execute(text(f"REVOKE CREATE ON SCHEMA {_quote(schema)} FROM {role}"))
            for table in tables:
                name = _quote(table)
                conn.execute(text(f"REVOKE ALL ON {name} FROM {role}"))
                rights = (
                    "SELECT, INSERT"
                    if table in APPEND_ONLY_TABLES
                    else ("SELECT, INSERT, UPDATE, DELETE")
                )
                if table == "alembic_version":
                    rights = "SELECT"
                conn.execute(text(f"GRANT {rights} ON {name} TO {role}"))
            conn.execute(
                text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {_quote(schema)} TO {role}")
            )
    except SQLAlchemyError as exc:
        raise BackendError(
            f"cannot grant the runtime role on {owner_store.display_url}: {reason_of(exc)}"
        ) from exc


__all__ = [
    "APPEND_ONLY_TABLES",
    "AUDIT_TABLES",
    "HISTORY_TABLES",
    "RoleCheck",
    "assert_runtime_role_safe",
    "grant_runtime_role",
]
