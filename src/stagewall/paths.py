"""Where stagewall finds its configuration and keeps its local state.

Config: ``--config``, then ``STAGEWALL_CONFIG``, then ``./stagewall.yaml``.
State: ``STAGEWALL_HOME``, else ``.stagewall`` **next to the estate file in use**
(``--config ../stagewall.yaml`` from a subdirectory uses ``../.stagewall``, the
same store as running beside the file; never a second, empty one in the CWD).
Store URL: ``--db``, then ``STAGEWALL_DB``, then ``sqlite:///<state>/stagewall.db``.
"""

from __future__ import annotations

import os
from pathlib import Path

# The estate file of this process's command (set by the CLI's --config); a process
# global, not a context variable, so the server's threads see it too.
_estate_in_use: list[Path | None] = [None]

DEFAULT_CONFIG_NAME = "stagewall.yaml"


def use_estate(path: str | os.PathLike[str] | None) -> None:
    """The estate file this invocation works with (``--config``); None: the default one."""
    _estate_in_use[0] = Path(path).absolute() if path else None


def estate_dir(estate: str | os.PathLike[str] | None = None) -> Path:
    """The directory of the estate file in use: ``estate``, ``--config``,
    ``STAGEWALL_CONFIG``, else the current directory (where ``./stagewall.yaml`` is)."""
    chosen: Path | None = Path(estate) if estate else _estate_in_use[0]
    if chosen is None:
        env = os.environ.get("STAGEWALL_CONFIG")
        chosen = Path(env) if env else None
    return chosen.absolute().parent if chosen is not None else Path.cwd()


def home(
    explicit: str | os.PathLike[str] | None = None,
    *,
    estate: str | os.PathLike[str] | None = None,
) -> Path:
    """The state directory (not created here); an existing non-directory is refused."""
    if explicit:
        path = Path(explicit)
    else:
        env = os.environ.get("STAGEWALL_HOME")
        path = Path(env) if env else estate_dir(estate) / ".stagewall"
    if path.exists() and not path.is_dir():
        from stagewall.errors import ConfigError

        raise ConfigError(
            f"the stagewall state directory {path} is a file, not a directory",
            hint="point STAGEWALL_HOME at a directory (it is created when missing)",
        )
    return path


def ensure_home(
    explicit: str | os.PathLike[str] | None = None,
    *,
    estate: str | os.PathLike[str] | None = None,
) -> Path:
    """The state directory, created with mode 0700 if it does not exist."""
    path = home(explicit, estate=estate)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The estate file to use, or ``None`` when none is configured or present."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("STAGEWALL_CONFIG")
    if env:
        return Path(env)
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.exists() else None


def store_url(explicit: str | None = None, *, estate: str | os.PathLike[str] | None = None) -> str:
    """The control-plane store URL (the default store is created beside the estate)."""
    if explicit:
        return explicit
    env = os.environ.get("STAGEWALL_DB")
    if env:
        return env
    return f"sqlite:///{ensure_home(estate=estate) / 'stagewall.db'}"


def existing_store_url(
    explicit: str | None = None, *, estate: str | os.PathLike[str] | None = None
) -> str:
    """The store URL for a command that only reads: StoreMissing if there is none."""
    from stagewall.errors import StoreMissing

    url = configured_store_url(explicit, estate=estate)
    if url is None:
        raise StoreMissing(
            f"there is no stagewall store at {home(estate=estate) / 'stagewall.db'} "
            f"(the state directory of the estate file in {estate_dir(estate)}); "
            "nothing was created"
        )
    missing = missing_sqlite_file(url)
    if missing is not None:
        # Opening it would create (and migrate) an empty store and read nothing from it.
        where = "--db" if explicit else "STAGEWALL_DB"
        raise StoreMissing(
            f"there is no stagewall store at {missing} (the SQLite file {where} names does "
            "not exist); nothing was created",
            hint=f"check the path in {where}: it must name an existing stagewall store",
        )
    return url


def missing_sqlite_file(url: str) -> Path | None:
    """The file a file-backed SQLite store URL names, if it does not exist; ``None`` for
    any other URL (a server database, an in-memory SQLite, an unparseable URL: opening
    it reports that)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite":
        return None
    db = parsed.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    path = Path(db)
    return None if path.exists() else path


def configured_store_url(
    explicit: str | None = None, *, estate: str | os.PathLike[str] | None = None
) -> str | None:
    """The store URL if one is configured or the default store already exists.

    For commands whose main job does not need the store (``check``, ``scan``): they
    record an audit event when a store is there, without creating one as a side effect.
    """
    if explicit:
        return explicit
    env = os.environ.get("STAGEWALL_DB")
    if env:
        return env
    default = home(estate=estate) / "stagewall.db"
    return f"sqlite:///{default}" if default.exists() else None
