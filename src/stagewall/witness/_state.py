"""A witness's own state: its key, the logs it knows, the newest checkpoint it cosigned.

Layout of a witness directory (created by :func:`init_witness`)::

    DIR/witness.key   the witness's Ed25519 signing key (mode 0600)
    DIR/witness.pub   its verifier key (C2SP vkey, type 0x04) to give to log operators
    DIR/witness.db    SQLite: known logs, the latest cosigned checkpoint per origin,
                      and refused requests (kept as evidence of log misbehaviour)

The check of a submission against the stored state and the update happen in one
``BEGIN IMMEDIATE`` transaction, so two concurrent submissions (even from two
processes) can never roll the witness back.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from stagewall.audit._cosignature import WitnessSigningKey
from stagewall.errors import ConfigError, KeyMissing
from stagewall.keys import PublicKey
from stagewall.keys._files import check_private_file, parse_public_key

KEY_FILE = "witness.key"
PUBLIC_FILE = "witness.pub"
DB_FILE = "witness.db"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS logs (origin TEXT NOT NULL, vkey TEXT NOT NULL, "
    "PRIMARY KEY (origin, vkey))",
    "CREATE TABLE IF NOT EXISTS latest (origin TEXT PRIMARY KEY, size INTEGER NOT NULL, "
    "root BLOB NOT NULL, note TEXT NOT NULL, updated TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS refused (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "origin TEXT NOT NULL, received TEXT NOT NULL, status INTEGER NOT NULL, "
    "reason TEXT NOT NULL, request TEXT NOT NULL)",
)


@dataclass(frozen=True)
class Latest:
    """The newest checkpoint a witness cosigned for one origin."""

    origin: str
    size: int
    root: bytes
    note: str
    updated: str


class WitnessState:
    """Open a witness directory created by :func:`init_witness`."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        self.db_path = self.dir / DB_FILE
        key_path = self.dir / KEY_FILE
        if not self.db_path.is_file() or not key_path.is_file():
            raise KeyMissing(
                f"{self.dir} is not an initialised witness directory "
                f"({KEY_FILE} and {DB_FILE} are needed)",
                hint="run `stagewall witness init DIR --name NAME` once; a witness whose "
                "state was lost must be retired with a new name, never re-created",
            )
        check_private_file(key_path)
        self.key = WitnessSigningKey.from_text(
            key_path.read_text(encoding="utf-8"), source=str(key_path)
        )

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.db_path, isolation_level=None, timeout=30)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def exclusive(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that holds the database lock from its first statement."""
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def add_log(self, key: PublicKey) -> str:
        """Trust ``key`` for checkpoints whose origin is the key's name; returns the origin."""
        if key.name is None:
            raise ConfigError("the log's public key has no name; pass its vkey, not a PEM key")
        with self.exclusive() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO logs (origin, vkey) VALUES (?, ?)", (key.name, key.vkey())
            )
        return key.name

    def log_keys(self, conn: sqlite3.Connection, origin: str) -> list[PublicKey]:
        rows = conn.execute("SELECT vkey FROM logs WHERE origin = ?", (origin,)).fetchall()
        return [parse_public_key(r[0], source=f"witness log key for {origin}") for r in rows]

    def latest(self, conn: sqlite3.Connection, origin: str) -> Latest | None:
        row = conn.execute(
            "SELECT size, root, note, updated FROM latest WHERE origin = ?", (origin,)
        ).fetchone()
        if row is None:
            return None
        return Latest(origin, int(row[0]), bytes(row[1]), str(row[2]), str(row[3]))

    def all_latest(self) -> list[tuple[str, Latest | None]]:
        with self.connect() as conn:
            origins = [r[0] for r in conn.execute("SELECT DISTINCT origin FROM logs ORDER BY 1")]
            return [(o, self.latest(conn, o)) for o in origins]

    def refused_count(self) -> int:
        with self.connect() as conn:
            return int(conn.execute("SELECT count(*) FROM refused").fetchone()[0])


def init_witness(directory: str | os.PathLike[str], name: str) -> WitnessState:
    """Create a witness directory with a new key; refuses an existing one."""
    base = Path(directory)
    if base.exists() and not base.is_dir():
        raise ConfigError(f"{base} exists and is not a directory")
    if (base / KEY_FILE).exists() or (base / DB_FILE).exists():
        raise ConfigError(
            f"{base} already holds a witness; its key and state are never replaced",
            hint="use a new directory for a new witness",
        )
    key = WitnessSigningKey(name, secrets.token_bytes(32))
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(base / KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key.to_text())
    (base / PUBLIC_FILE).write_text(key.public.vkey() + "\n", encoding="utf-8")
    conn = sqlite3.connect(base / DB_FILE, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        for ddl in _SCHEMA:
            conn.execute(ddl)
    finally:
        conn.close()
    return WitnessState(base)


__all__ = ["DB_FILE", "KEY_FILE", "PUBLIC_FILE", "Latest", "WitnessState", "init_witness"]
