"""Shared fixtures: throwaway databases on the real local servers.

Every test that needs PostgreSQL or MariaDB gets its own database, dropped after
the test. Under ``CI=true`` an unreachable server fails the test instead of
skipping it.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

PG_ADMIN_DSN = os.environ.get("STAGEWALL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_HOST = os.environ.get("STAGEWALL_TEST_MYSQL_HOST", "127.0.0.1")
MYSQL_PORT = int(os.environ.get("STAGEWALL_TEST_MYSQL_PORT", "3306"))
IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable(what: str, exc: Exception) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is unreachable: {exc}")
    pytest.skip(f"{what} unreachable: {exc}")


# -- password hashing: argon2id at its cheapest parameters, except where marked ---------
#
# Every local account's password is hashed with argon2id at RFC 9106's low-memory
# parameters (64 MiB, 3 passes, 4 lanes): about 0.2 s of CPU per hash or login. The
# suite onboards and signs in thousands of people, so outside the tests marked
# ``production_kdf`` (tests/identity/test_password_kdf.py checks the production
# parameters end to end) the module's hasher is the same argon2id at its cheapest
# parameters. Hashes carry their parameters, so the code under test is unchanged.


def _cheap_hasher() -> tuple[object, str]:
    from argon2 import PasswordHasher

    # argon2id with the production salt and hash lengths, one pass over 8 KiB in one lane
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return hasher, hasher.hash("stagewall-no-such-account")


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    from stagewall.identity import accounts

    saved = accounts._hasher, accounts._DUMMY_HASH
    accounts._hasher, accounts._DUMMY_HASH = _cheap_hasher()  # type: ignore[assignment]
    try:
        yield
    finally:
        accounts._hasher, accounts._DUMMY_HASH = saved


@pytest.fixture(autouse=True)
def _production_password_hashing(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests marked ``production_kdf`` hash and verify with the production parameters."""
    if request.node.get_closest_marker("production_kdf") is None:
        return
    from argon2 import PasswordHasher

    from stagewall.identity import accounts

    production = PasswordHasher()
    monkeypatch.setattr(accounts, "_hasher", production)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", production.hash("stagewall-no-such-account"))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own STAGEWALL_HOME and no inherited config or store."""
    home = tmp_path / "swhome"
    monkeypatch.setenv("STAGEWALL_HOME", str(home))
    # The CLI's credentials and CI job sessions go to this test's own config directory.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("STAGEWALL_CONFIG", raising=False)
    monkeypatch.delenv("STAGEWALL_DB", raising=False)
    return home


# -- dropping the tests' databases off the test's clock -------------------------------
#
# PostgreSQL 15's DROP DATABASE ends with an immediate checkpoint and waits for it:
# every buffer written since the last one, and an fsync of every file of every
# database created since then (a fresh database is some 300 files), 0.1 to 1 s on
# the CI machine, once per database the suite makes. The database's name is unique
# and no later test opens it, so the test need not wait: its databases are dropped
# by a few background threads of the same test process, whose drops share
# checkpoints when they overlap. Every drop is still made and checked: the session
# (each xdist worker's) ends by waiting for all of them and fails if one failed.


class _Drops:
    """Background drops of the tests' databases, waited for at the end of the session."""

    def __init__(self) -> None:
        self._pool: Any = None
        self._pending: list[tuple[str, Any]] = []
        self._lock = threading.Lock()

    def submit(self, what: str, drop: Callable[[str], None], name: str) -> None:
        from concurrent.futures import ThreadPoolExecutor

        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sw-test-drop")
            self._pending.append((what, self._pool.submit(drop, name)))

    def wait(self) -> list[str]:
        """Wait for every drop submitted so far; what failed, with its error."""
        with self._lock:
            pending, self._pending = self._pending, []
        failed = []
        for what, future in pending:
            exc = future.exception()
            if exc is not None:
                failed.append(f"{what}: {type(exc).__name__}: {exc}")
        return failed


_DROPS = _Drops()


@pytest.fixture(scope="session", autouse=True)
def _background_drops() -> Iterator[None]:
    """Ends the session by waiting for the tests' databases to be dropped; a failed
    drop fails here (an error at the teardown of the session's last test)."""
    yield
    failed = _DROPS.wait()
    if failed:
        pytest.fail("test databases not dropped:\n" + "\n".join(failed))


def _new_pg_database() -> tuple[str, str]:
    import psycopg

    name = f"sw_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        _unavailable("PostgreSQL", exc)
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


def _drop_pg_database_now(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _drop_pg_database(name: str) -> None:
    """Drop a test's PostgreSQL database in the background (see ``_Drops``)."""
    _DROPS.submit(f"PostgreSQL database {name}", _drop_pg_database_now, name)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database: ``postgresql://postgres@127.0.0.1:5432/sw_test_x``."""
    name, url = _new_pg_database()
    try:
        yield url
    finally:
        _drop_pg_database(name)


@pytest.fixture
def pg_url_factory() -> Iterator[object]:
    """Call to get more fresh PostgreSQL databases (e.g. a source and a target)."""
    made: list[str] = []

    def make() -> str:
        name, url = _new_pg_database()
        made.append(name)
        return url

    try:
        yield make
    finally:
        for name in made:
            _drop_pg_database(name)


def _new_mysql_database() -> tuple[str, str]:
    import pymysql

    name = f"sw_test_{uuid.uuid4().hex[:12]}"
    try:
        conn = pymysql.connect(
            host=MYSQL_HOST,
            port=MYSQL_PORT,
            user="root",
            password="",
            connect_timeout=5,
            autocommit=True,
        )
    except pymysql.err.OperationalError as exc:
        _unavailable("MariaDB/MySQL", exc)
    with conn:
        conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    return name, f"mysql://root@{MYSQL_HOST}:{MYSQL_PORT}/{name}"


def _drop_mysql_database_now(name: str) -> None:
    import pymysql

    conn = pymysql.connect(
        host=MYSQL_HOST, port=MYSQL_PORT, user="root", password="", autocommit=True
    )
    with conn:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")


def _drop_mysql_database(name: str) -> None:
    """Drop a test's MariaDB database in the background (see ``_Drops``)."""
    _DROPS.submit(f"MariaDB database {name}", _drop_mysql_database_now, name)


@pytest.fixture
def mysql_url_factory() -> Iterator[object]:
    """Call to get fresh MariaDB databases: ``mysql://root@127.0.0.1:3306/sw_test_x``."""
    made: list[str] = []

    def make() -> str:
        name, url = _new_mysql_database()
        made.append(name)
        return url

    try:
        yield make
    finally:
        for name in made:
            _drop_mysql_database(name)


@pytest.fixture
def sqlite_store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(scope="session")
def _migrated_sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite store migrated once per test process (the schema only: no row a test
    wrote; an instance id and keys are made later, by whoever opens a copy)."""
    from stagewall.store import open_store

    path = tmp_path_factory.mktemp("migrated-store") / "store.db"
    open_store(f"sqlite:///{path}").dispose()
    if path.with_name("store.db-wal").exists():  # the last connection checkpoints it
        raise RuntimeError("the migrated store template kept a write-ahead log")
    return path


@pytest.fixture
def migrated_sqlite_store_url(tmp_path: Path, _migrated_sqlite_store: Path) -> str:
    """``sqlite_store_url``'s file, already migrated: a copy of a store migrated once.

    Migrating a new store runs every Alembic migration (a third of a server test's
    setup); a copy is the same file, and opening it finds its schema current.
    """
    import shutil

    target = tmp_path / "store.db"
    shutil.copyfile(_migrated_sqlite_store, target)
    return f"sqlite:///{target}"


@pytest.fixture
def pg_store_url(pg_url: str) -> str:
    return pg_url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session")
def _migrated_pg_store() -> Iterator[str]:
    """A PostgreSQL store migrated once per test process, the template of
    ``migrated_pg_store_url`` (the schema only, as ``_migrated_sqlite_store``)."""
    from stagewall.store import open_store

    name, url = _new_pg_database()
    try:
        open_store(url.replace("postgresql://", "postgresql+psycopg://", 1)).dispose()
        yield name
    finally:
        _drop_pg_database(name)


@pytest.fixture
def migrated_pg_store_url(_migrated_pg_store: str) -> Iterator[str]:
    """A fresh PostgreSQL database already migrated: ``CREATE DATABASE ... TEMPLATE`` of
    a store migrated once (a file-level copy of its catalog and tables, 0.1 s, where
    running every Alembic migration takes 1 to 3 s); opening it finds its schema current.
    Tests of migrating a store keep ``pg_store_url``, an empty database."""
    import psycopg

    name = f"sw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_migrated_pg_store}"')
    try:
        yield f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}".replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
    finally:
        _drop_pg_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_migrated_store_url(request: pytest.FixtureRequest) -> str:
    """``any_store_url`` already migrated (``migrated_sqlite_store_url``,
    ``migrated_pg_store_url``): for tests that open the store, not migrate it."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("migrated_sqlite_store_url"))
    return str(request.getfixturevalue("migrated_pg_store_url"))


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Parametrised over both store backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_store_url"))


# -- a second PostgreSQL cluster with password (SCRAM) authentication ---------------

PG_BIN = Path(os.environ.get("STAGEWALL_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


class PgCluster:
    """A throwaway PostgreSQL cluster on a free port with ``scram-sha-256`` for every login.

    ``url(user, password, db)`` builds connection URLs; ``superuser_url(db)`` is the
    bootstrap superuser. ``stop()`` / ``start()`` let a test take the server down
    (always restart it in a ``finally``). Databases and roles a test creates should
    still get unique names: the cluster is shared by the whole session.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.password = uuid.uuid4().hex
        self.port = 0
        self.host = "127.0.0.1"

    def _run(self, *args: str) -> None:
        import subprocess

        cmd = list(args)
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        import shutil

        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(pwfile, "postgres")
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
        )
        pwfile.unlink()

    def start(self) -> None:
        import socket

        if not self.port:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = int(s.getsockname()[1])
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=60"
        )
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w",
            "-o", opts, "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, user: str, password: str, db: str = "postgres") -> str:
        from urllib.parse import quote

        return f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{self.host}:{self.port}/{db}"

    def superuser_url(self, db: str = "postgres") -> str:
        return self.url("postgres", self.password, db)


@pytest.fixture(scope="session")
def pg_scram() -> Iterator[PgCluster]:
    """A second PostgreSQL cluster (SCRAM password auth, free port), for the whole session.

    Started with ``initdb`` from ``STAGEWALL_TEST_PG_BIN`` (default
    /usr/lib/postgresql/15/bin) in a unique directory; stopped and removed at the end.
    """
    import shutil
    import subprocess
    import tempfile

    if not (PG_BIN / "initdb").exists():
        _unavailable("PostgreSQL server binaries", FileNotFoundError(str(PG_BIN / "initdb")))
    root = Path(tempfile.mkdtemp(prefix="sw_pgscram_"))
    cluster = PgCluster(root)
    started = False
    try:
        try:
            cluster.init()
            cluster.start()
            started = True
        except (subprocess.SubprocessError, OSError) as exc:
            log = root / "log"
            detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            _unavailable("a second PostgreSQL cluster", RuntimeError(f"{exc}\n{detail}"))
        yield cluster
    finally:
        if started:
            try:
                cluster.stop()
            except subprocess.SubprocessError:
                cluster._run(
                    str(PG_BIN / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "stop"
                )
        shutil.rmtree(root, ignore_errors=True)
