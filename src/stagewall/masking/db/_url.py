"""Database URLs for masking sources and targets.

Accepted forms::

    sqlite:///relative/or/absolute/path.db      (sqlite:////abs/path.db also works)
    postgresql://user:password@host:port/db?sslmode=require   (postgres:// too)
    mysql://user:password@host:port/db          (mariadb:// too)

A password may be left out of the URL and given in the environment instead:
``STAGEWALL_SOURCE_PASSWORD`` / ``STAGEWALL_TARGET_PASSWORD`` (by role), then the
drivers' own ``PGPASSWORD`` (PostgreSQL) or ``MYSQL_PWD`` (MySQL/MariaDB).
Passwords are never part of ``repr``, messages, identities or the audit log.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from stagewall.errors import ConfigError

Backend = Literal["sqlite", "postgresql", "mysql"]
Role = Literal["source", "target"]

_SCHEMES: dict[str, Backend] = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "postgresql+psycopg": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mysql+pymysql": "mysql",
}
_DEFAULT_PORT = {"postgresql": 5432, "mysql": 3306}
_LOCAL = {"localhost", "127.0.0.1", "::1", "ip6-localhost", ""}


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed database URL. ``password`` never appears in ``repr`` or ``display``."""

    backend: Backend
    database: str
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False, compare=False)
    params: tuple[tuple[str, str], ...] = ()
    path: Path | None = None  # SQLite only

    @classmethod
    def parse(cls, url: str, role: Role = "source") -> DatabaseURL:
        return parse_url(url, role)

    @property
    def display(self) -> str:
        """The URL without its password, for messages and records."""
        if self.backend == "sqlite":
            return f"sqlite:///{self.path}"
        user = f"{self.user}@" if self.user else ""
        return f"{self.backend}://{user}{self.host}:{self.port}/{self.database}"

    def identity(self) -> dict[str, str | int | None]:
        """Backend, host, port and database (or path); never credentials."""
        if self.backend == "sqlite":
            return {"backend": "sqlite", "path": str(self.path)}
        return {
            "backend": self.backend,
            "host": self.host,
            "port": self.port,
            "database": self.database,
        }

    def location_key(self) -> tuple[str, ...]:
        """A normalised key: two URLs naming the same database give equal keys."""
        if self.backend == "sqlite":
            path = self.path if self.path is not None else Path(self.database)
            return ("sqlite", str(_real_path(path)))
        return (self.backend, _normal_host(self.host), str(self.port), self.database)

    def same_database(self, other: DatabaseURL) -> bool:
        return self.location_key() == other.location_key()


def _real_path(path: Path) -> Path:
    try:
        return path.expanduser().resolve(strict=False)
    except OSError:
        return path.expanduser().absolute()


def _normal_host(host: str | None) -> str:
    h = (host or "").strip().lower().rstrip(".")
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    if h in _LOCAL or h.startswith("127.") or h.startswith("/"):
        return "localhost"  # loopback and Unix sockets all reach this machine
    try:
        infos = socket.getaddrinfo(h, None)
    except (OSError, UnicodeError):
        return h
    addrs = sorted({str(i[4][0]) for i in infos})
    if any(a in _LOCAL or a.startswith("127.") for a in addrs):
        return "localhost"
    return addrs[0] if addrs else h


def parse_url(url: str, role: Role = "source") -> DatabaseURL:
    """Parse a database URL; ConfigError (without the password) when it is not usable."""
    scheme, sep, _rest = url.partition("://")
    backend = _SCHEMES.get(scheme.lower()) if sep else None
    if backend is None:
        shown = scheme if sep else "(none)"
        raise ConfigError(
            f"{role} URL scheme {shown!r} is not supported",
            hint="use sqlite:///path.db, postgresql://user@host:port/db or "
            "mysql://user@host:port/db",
        )
    if backend == "sqlite":
        raw = url[len(scheme) + 3 :]
        raw = raw.split("?", 1)[0]
        if raw.startswith("/"):
            raw = raw[1:]  # sqlite:///rel.db -> rel.db ; sqlite:////abs.db -> /abs.db
        if not raw or raw == ":memory:":
            raise ConfigError(
                f"{role} URL {url!r} names no database file",
                hint="use sqlite:///path/to/file.db",
            )
        path = Path(unquote(raw))
        return DatabaseURL(backend="sqlite", database=path.name, path=path)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{role} URL is not valid: {_strip_secret(str(exc))}") from None
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ConfigError(
            f"{role} URL {_display_raw(backend, parts.hostname, port, parts.username)} "
            "names no database",
            hint=f"add the database name: {backend}://user@host:port/DATABASE",
        )
    password = unquote(parts.password) if parts.password is not None else None
    if password is None:
        password = os.environ.get(f"STAGEWALL_{role.upper()}_PASSWORD")
    if password is None:
        password = os.environ.get("PGPASSWORD" if backend == "postgresql" else "MYSQL_PWD")
    return DatabaseURL(
        backend=backend,
        database=database,
        host=parts.hostname or "localhost",
        port=port or _DEFAULT_PORT[backend],
        user=unquote(parts.username) if parts.username else None,
        password=password,
        params=tuple(parse_qsl(parts.query)),
    )


def _display_raw(backend: str, host: str | None, port: int | None, user: str | None) -> str:
    u = f"{user}@" if user else ""
    return f"{backend}://{u}{host or 'localhost'}:{port or _DEFAULT_PORT.get(backend, '')}"


def _strip_secret(text: str) -> str:
    return text.split("@")[-1]


__all__ = ["Backend", "DatabaseURL", "Role", "parse_url"]
