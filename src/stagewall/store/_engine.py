"""Engine creation for the control-plane store (SQLite default, PostgreSQL for real use)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.pool import NullPool, QueuePool

from stagewall.errors import ConfigError


def normalise_url(url: str) -> str:
    """Map user-friendly URLs onto SQLAlchemy dialect URLs.

    ``postgresql://`` and ``postgres://`` use psycopg 3; ``sqlite:///path`` stays.
    """
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def redact_url(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


# A pooled server connection back from use within this many seconds is not pinged
# before its next use: under load every request would otherwise pay a round trip for
# it. A connection that died meanwhile (the store restarted) fails that one request,
# and SQLAlchemy then replaces every pooled connection older than the failure.
PING_AFTER_IDLE_SECONDS = 2.0
_CHECKED_IN = "stagewall.checked_in"


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pre-ping, for connections idle more than PING_AFTER_IDLE_SECONDS."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        back = record.info.get(_CHECKED_IN)
        if back is not None and time.monotonic() - back < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the driver's error for a dead connection
            raise DisconnectionError(f"pooled store connection is gone: {exc}") from exc
        if not alive:
            raise DisconnectionError("pooled store connection is gone")


def make_engine(url: str, *, keep_open: bool = False, pooled: bool = False) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and IMMEDIATE transactions.

    IMMEDIATE transactions make every write transaction take the database write
    lock up front, so concurrent writers from several processes queue instead of
    failing half-way with SQLITE_BUSY on lock upgrade.

    By default no connection outlives its transaction. ``keep_open`` pools a few
    (checked with a ping before use) for a long-running writer such as ingestion:
    closing the last SQLite connection checkpoints and fsyncs the WAL, and a new
    PostgreSQL connection costs an authentication, both per batch otherwise. The
    owner must :meth:`~sqlalchemy.Engine.dispose` it. ``pooled`` is the server's pool
    while it serves, PostgreSQL only (see :meth:`Store.set_pooled`).
    """
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"store URL is not valid: {redact_url(url)}",
            hint="use sqlite:///path/to/stagewall.db or postgresql://user@host:5432/db",
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if keep_open:
            # Used from several threads, one transaction at a time per connection.
            engine = create_engine(
                url,
                connect_args={"timeout": 60, "check_same_thread": False},
                poolclass=QueuePool,
                pool_size=2,
                max_overflow=2,
                pool_pre_ping=True,
            )
        else:
            engine = create_engine(url, connect_args={"timeout": 60}, poolclass=NullPool)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if backend == "postgresql":
        if pooled:
            # The server while it serves: a new connection per transaction would cost
            # more than the transaction itself. Connections idle for a while are checked
            # before use (see _ping_when_idle).
            engine = create_engine(url, pool_size=10, max_overflow=40, pool_recycle=1800)
            _ping_when_idle(engine)
            return engine
        # No pool: a CLI process opens few connections, and a pooled connection left
        # behind at exit (or between tests) is a leaked server session.
        if keep_open:
            return create_engine(
                url, poolclass=QueuePool, pool_size=2, max_overflow=2, pool_pre_ping=True
            )
        return create_engine(url, poolclass=NullPool)
    raise ConfigError(
        f"unsupported store backend {backend!r} in {redact_url(url)}",
        hint="the store runs on SQLite (default) or PostgreSQL (postgresql://...)",
    )
