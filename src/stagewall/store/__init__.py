"""The control-plane store: SQLAlchemy 2 over SQLite (default) or PostgreSQL.

Each domain package declares its tables on :data:`metadata` and ships an Alembic
migration in ``store/migrations/versions`` on its own branch (``branch_labels``
named after the domain), so domains evolve independently; :meth:`Store.migrate`
upgrades all heads.

Anything that must happen once across processes takes :meth:`Store.lock` inside a
transaction: a PostgreSQL transaction-scoped advisory lock, or on SQLite the
database write lock that every transaction already takes (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, MetaData, text
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from stagewall.errors import BackendError, reason_of
from stagewall.paths import store_url
from stagewall.store._engine import make_engine, normalise_url, redact_url

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = "stagewall.store.migrate"
_AFTER_COMMIT = "stagewall.after_commit"
_log = logging.getLogger("stagewall.store")
_META_DDL = "CREATE TABLE IF NOT EXISTS stagewall_meta (key VARCHAR(64) PRIMARY KEY, value TEXT)"


def migrations_fingerprint() -> str:
    """A hash of the migration files shipped with this version of stagewall."""
    digest = hashlib.sha256()
    for path in sorted((_MIGRATIONS / "versions").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def lock_key(name: str) -> int:
    """The PostgreSQL advisory lock key of :meth:`Store.lock` ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Store:
    """A handle on the control-plane database."""

    def __init__(self, url: str, *, keep_open: bool = False) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, keep_open=keep_open)
        self.backend = self.engine.dialect.name
        # The state directory whose server-held keys (token.key) go with this store: set
        # by whoever knows it (AccessContext.open); None: the default STAGEWALL_HOME.
        self.key_home: str | os.PathLike[str] | None = None
        self.token_key: bytes | None = None  # loaded on first use (identity.tokens)

    def kept_open(self) -> Store:
        """A handle on the same database that keeps its connections between transactions.

        For a long-running writer (ingestion); the caller disposes it when done.
        """
        other = Store(self.url, keep_open=True)
        other.key_home, other.token_key = self.key_home, self.token_key
        return other

    def set_pooled(self, pooled: bool) -> None:
        """Keep PostgreSQL connections in a pool (the server, while it serves) or not.

        The server turns the pool on when it starts serving and off (closing every
        pooled connection) when it stops, so no session outlives it. SQLite: no-op.
        """
        if self.backend != "postgresql":
            return
        old = self.engine
        self.engine = make_engine(self.url, pooled=pooled)
        old.dispose()

    @property
    def display_url(self) -> str:
        return redact_url(self.url)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction; commits on success, rolls back on any error.

        Callbacks registered with :meth:`after_commit` run once the commit succeeded
        (never after a rollback); one that raises is logged, never propagated.
        """
        hooks: list[Callable[[], None]] = []
        try:
            with self.engine.begin() as conn:
                conn.info[_AFTER_COMMIT] = hooks
                try:
                    yield conn
                finally:
                    conn.info.pop(_AFTER_COMMIT, None)
        except OperationalError as exc:
            raise self._failed(exc) from exc
        for hook in dict.fromkeys(hooks):  # each callback once per transaction
            try:
                hook()
            except Exception:  # what follows a commit must never undo or fail it
                _log.exception("after-commit callback failed")

    @staticmethod
    def after_commit(conn: Connection, hook: Callable[[], None]) -> bool:
        """Run ``hook`` after the :meth:`transaction` of ``conn`` commits.

        False (and nothing registered) when ``conn`` was not opened by
        :meth:`transaction`: the caller then has no commit to wait for.
        """
        hooks = conn.info.get(_AFTER_COMMIT)
        if hooks is None:
            return False
        hooks.append(hook)
        return True

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads only: no write and no :meth:`lock` inside.

        On SQLite this is still an IMMEDIATE transaction. On PostgreSQL it runs in
        autocommit: under READ COMMITTED every statement takes its own snapshot inside
        a transaction too, so the reads see exactly the same, and the BEGIN and COMMIT
        round trips of a transaction are spared.
        """
        with self._autocommit() as conn:
            yield conn

    @contextmanager
    def single(self) -> Iterator[Connection]:
        """A connection for exactly one writing statement, which commits by itself.

        On PostgreSQL it runs in autocommit: one statement is one transaction there
        (atomic, its row locks held until it ends), so the BEGIN and COMMIT round trips
        of :meth:`transaction` are spared. On SQLite it is a :meth:`transaction`. No
        :meth:`lock`, no second statement and no :meth:`after_commit` inside.
        """
        with self._autocommit() as conn:
            yield conn

    @contextmanager
    def _autocommit(self) -> Iterator[Connection]:
        """PostgreSQL: a connection in autocommit; SQLite: a :meth:`transaction`."""
        if self.backend != "postgresql":
            with self.transaction() as conn:
                yield conn
            return
        try:
            with self.engine.connect() as conn:
                yield conn.execution_options(isolation_level="AUTOCOMMIT")
        except OperationalError as exc:
            raise self._failed(exc) from exc

    def _failed(self, exc: OperationalError) -> BackendError:
        return BackendError(f"the store at {self.display_url} failed: {reason_of(exc)}")

    def lock(self, conn: Connection, name: str) -> None:
        """Serialise on ``name`` until the current transaction ends."""
        if self.backend == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(name)})
        # SQLite: BEGIN IMMEDIATE already holds the single database write lock.

    def _schema_is_current(self, fingerprint: str) -> bool:
        try:
            with self.engine.connect() as conn:
                value = conn.execute(
                    text("SELECT value FROM stagewall_meta WHERE key = 'migrations'")
                ).scalar()
                conn.rollback()
        except DBAPIError:
            return False
        return value == fingerprint

    def migrate(self) -> None:
        """Bring the schema to the newest version of every domain branch.

        When the store records that it was migrated with exactly the migration
        files of this version, nothing is done (and Alembic is not even imported),
        so commands start fast.
        """
        fingerprint = migrations_fingerprint()
        if self._schema_is_current(fingerprint):
            return
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        cfg.set_main_option("path_separator", "os")
        try:
            with self.transaction() as conn:
                self.lock(conn, _MIGRATION_LOCK)
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
                conn.execute(text(_META_DDL))
                conn.execute(text("DELETE FROM stagewall_meta WHERE key = 'migrations'"))
                conn.execute(
                    text("INSERT INTO stagewall_meta (key, value) VALUES ('migrations', :v)"),
                    {"v": fingerprint},
                )
        except SQLAlchemyError as exc:
            raise BackendError(
                f"cannot migrate the store at {self.display_url}: {reason_of(exc)}"
            ) from exc

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open (and by default migrate) the store at ``url`` or the configured default."""
    store = Store(store_url(url))
    if migrate:
        store.migrate()
    return store


__all__ = ["Store", "lock_key", "metadata", "migrations_fingerprint", "open_store", "redact_url"]
