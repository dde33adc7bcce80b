"""What a database resource *is*: the server identity, pinned per resource and compared.

A resource's declaration says which environment it belongs to; nothing in a
host name or an environment variable proves it. So at credential issuance, at
revocation and on ``stagewall check --live`` stagewall connects and reads the
server's identity:

* PostgreSQL: ``system_identifier`` from ``pg_control_system()`` (unique per
  cluster, shared by its physical replicas), the database OID and name,
  ``inet_server_addr()`` / ``inet_server_port()``;
* MySQL / MariaDB: ``@@server_uuid`` (MariaDB without it: ``@@server_id`` and
  ``@@hostname``), the database name, ``@@port``.

The first verified use pins the identity in the store (``accesspg_identities``)
and the audit log. Afterwards a resource whose server or database differs from
its pin is refused and alerted, and a non-production resource that resolves to
the same server as a production resource is refused and alerted: a staging
role must never be a login on the production cluster.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import psycopg
from sqlalchemy import BigInteger, Column, Connection, Integer, String, Table, insert, select

from stagewall.access import _events as ev
from stagewall.access._core import fmt_time
from stagewall.access.issuers import ServerIdentity
from stagewall.access.issuers.postgres import read_postgres
from stagewall.errors import BackendError, ConfigError, IdentityRefused, StagewallError
from stagewall.estate import Estate, Resource, ResourceKind
from stagewall.redact import redact
from stagewall.store import Store, metadata

if TYPE_CHECKING:
    from stagewall.access._context import AccessContext

accesspg_identities = Table(
    "accesspg_identities",
    metadata,
    Column("resource", String(128), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("server", String(64), nullable=False),
    Column("database_name", String(128), nullable=False),
    Column("database_oid", BigInteger, nullable=True),
    Column("address", String(64), nullable=True),
    Column("port", Integer, nullable=True),
    Column("pinned_at", String(32), nullable=False),
    Column("pinned_by", String(128), nullable=False),
)

LIVE_KINDS = frozenset({ResourceKind.POSTGRESQL, ResourceKind.MYSQL})


def _read_mysql(url: str, database: str | None) -> ServerIdentity:
    import pymysql

    from stagewall.masking.db import parse_url

    u = parse_url(url)
    try:
        conn = pymysql.connect(
            host=u.host,
            port=u.port or 3306,
            user=u.user or "root",
            password=u.password or "",
            database=database or u.database or None,
            connect_timeout=10,
        )
    except pymysql.err.MySQLError as exc:
        raise BackendError(redact(f"MySQL identity of {u.display} unreadable: {exc}")) from None
    with conn, conn.cursor() as cur:
        cur.execute("SELECT @@server_id, @@hostname, DATABASE(), @@port")
        row = cur.fetchone()
        try:
            cur.execute("SELECT @@server_uuid")
            uuid_row = cur.fetchone()
        except pymysql.err.MySQLError:
            uuid_row = None  # MariaDB has no server_uuid
    if row is None:
        raise BackendError("MySQL did not report its identity")
    server = str(uuid_row[0]) if uuid_row and uuid_row[0] else f"{row[1]}#{row[0]}"
    return ServerIdentity("mysql", server, str(row[2] or ""), None, str(row[1]), int(row[3]))


def resource_url(name: str, res: Resource) -> str:
    """The admin URL of ``res`` (else its connection URL), from the named variable."""
    env = res.admin_connection_env or res.connection_env
    if env is None:
        raise ConfigError(
            f"resource {name!r} names no admin_connection_env or connection_env, so its "
            "server identity cannot be read",
            hint="name the environment variable holding its URL in stagewall.yaml",
        )
    url = os.environ.get(env)
    if not url:
        raise ConfigError(f"environment variable {env} (URL of resource {name!r}) is not set")
    return url


def read_identity(name: str, res: Resource, url: str | None = None) -> ServerIdentity:
    """Connect to ``res`` and read what server and database it really is."""
    url = url or resource_url(name, res)
    if res.kind is ResourceKind.MYSQL:
        return _read_mysql(url, res.database)
    if res.kind is not ResourceKind.POSTGRESQL:
        raise ConfigError(f"resource {name!r} is {res.kind.value}; no identity to read")
    kwargs: dict[str, Any] = {"connect_timeout": 10, "autocommit": True}
    if res.database:
        kwargs["dbname"] = res.database
    try:
        with psycopg.connect(url, **kwargs) as conn:
            return read_postgres(conn)
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise BackendError(
            redact(f"reading the identity of resource {name!r} failed: {first[:300]}")
        ) from None
    except (UnicodeError, ValueError):
        raise ConfigError(
            f"the connection URL of resource {name!r} cannot be decoded "
            "(a %-escape in it is not UTF-8)",
            hint="percent-encode the password's bytes as UTF-8 (e.g. urllib.parse.quote)",
        ) from None


def pinned(store: Store, resource: str) -> ServerIdentity | None:
    with store.read() as conn:
        return _pinned(conn, resource)


def _pinned(conn: Connection, resource: str) -> ServerIdentity | None:
    row = conn.execute(
        select(accesspg_identities).where(accesspg_identities.c.resource == resource)
    ).first()
    if row is None:
        return None
    m = row._mapping
    return ServerIdentity(
        m["kind"], m["server"], m["database_name"], m["database_oid"], m["address"], m["port"]
    )


def all_pins(store: Store) -> dict[str, ServerIdentity]:
    with store.read() as conn:
        names = [str(r) for r in conn.execute(select(accesspg_identities.c.resource)).scalars()]
        return {n: p for n in names if (p := _pinned(conn, n)) is not None}


def problems(
    estate: Estate,
    name: str,
    ident: ServerIdentity,
    pin: ServerIdentity | None,
    production: dict[str, ServerIdentity],
) -> list[str]:
    """Why ``ident`` of resource ``name`` must be refused (empty when it may be used)."""
    out: list[str] = []
    if pin is not None and not ident.same_database(pin):
        out.append(
            f"resource {name!r} changed identity: pinned to {pin.describe()}, now resolves to "
            f"{ident.describe()}"
        )
    env = estate.environment_of_resource(name)
    if env is not None and not estate.is_production(env):
        for prod, other in sorted(production.items()):
            if prod != name and ident.same_server(other):
                what = "the same database as" if ident.same_database(other) else "the server of"
                out.append(
                    f"non-production resource {name!r} ({env}) resolves to {what} production "
                    f"resource {prod!r}: {ident.describe()}"
                )
    return out


def production_identities(
    estate: Estate, store: Store, *, live: bool = True
) -> dict[str, ServerIdentity]:
    """Pinned identities of production resources, refreshed live where a URL is set."""
    pins = all_pins(store)
    out: dict[str, ServerIdentity] = {}
    for name, res in estate.resources.items():
        if res.kind not in LIVE_KINDS or not estate.is_production(res.environment):
            continue
        if name in pins:
            out[name] = pins[name]
        if live and (res.admin_connection_env or res.connection_env):
            try:
                out[f"{name} (live)" if name in out else name] = read_identity(name, res)
            except StagewallError:
                continue  # not readable from here: the pin (if any) still counts
    return out


def verify_resource(
    ctx: AccessContext,
    name: str,
    ident: ServerIdentity,
    *,
    actor: str,
    purpose: str,
    overlap: bool = True,
) -> None:
    """Refuse (audit + critical alert) or pin ``ident`` for resource ``name``.

    Raises :class:`IdentityRefused` when the resource changed identity or, with
    ``overlap``, when a non-production resource is a production server.
    """
    estate: Estate = ctx.estate
    # Only a non-production resource is compared with the production servers (see
    # problems()); a production resource needs no live read of the others.
    env = estate.environment_of_resource(name)
    compare = overlap and env is not None and not estate.is_production(env)
    prod = production_identities(estate, ctx.store) if compare else {}
    # A pin is written once and never changed: when it exists, reading it is enough,
    # and once read it is kept (ctx.pins). Only the first use takes the lock, so that two
    # first uses pin once.
    pin = ctx.pins.get(name)
    if pin is None:
        pin = pinned(ctx.store, name)
        if pin is not None:
            ctx.pins[name] = pin
    if pin is None:
        found = _pin(ctx, name, ident, prod, actor=actor, purpose=purpose)
    else:
        found = problems(estate, name, ident, pin, prod)
    if found:
        text = "; ".join(found)
        ctx.refuse(
            ev.IDENTITY_REFUSED.code,
            actor,
            f"{purpose} on resource {name} refused: {text}",
            resource=f"resource:{name}",
            details={"resource": name, "purpose": purpose, "found": ident.as_dict()},
            loud=True,
        )
        raise IdentityRefused(f"{purpose} on resource {name!r} refused: {text}")


def _pin(
    ctx: AccessContext,
    name: str,
    ident: ServerIdentity,
    prod: dict[str, ServerIdentity],
    *,
    actor: str,
    purpose: str,
) -> list[str]:
    """Pin ``ident`` for ``name`` under its lock unless refused; why it was refused."""
    with ctx.store.transaction() as conn:
        ctx.store.lock(conn, f"stagewall.identity.{name}")
        pin = _pinned(conn, name)
        found = problems(ctx.estate, name, ident, pin, prod)
        if not found and pin is None:
            conn.execute(
                insert(accesspg_identities).values(
                    resource=name,
                    kind=ident.kind,
                    server=ident.server,
                    database_name=ident.database,
                    database_oid=ident.database_oid,
                    address=ident.address,
                    port=ident.port,
                    pinned_at=fmt_time(ctx.now()),
                    pinned_by=actor,
                )
            )
            ctx.record(
                ev.IDENTITY_PINNED.code,
                actor,
                f"resource {name} pinned to {ident.describe()} ({purpose})",
                resource=f"resource:{name}",
                details={"resource": name, "purpose": purpose, **ident.as_dict()},
                conn=conn,
            )
    return found


__all__ = [
    "LIVE_KINDS",
    "IdentityRefused",
    "ServerIdentity",
    "accesspg_identities",
    "all_pins",
    "pinned",
    "problems",
    "production_identities",
    "read_identity",
    "read_postgres",
    "resource_url",
    "verify_resource",
]
