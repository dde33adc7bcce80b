"""Where stagewall finds its configuration and keeps its local state.

Config: ``--config``, then ``STAGEWALL_CONFIG``, then ``./stagewall.yaml``.
State: ``STAGEWALL_HOME`` (default ``./.stagewall``).
Store URL: ``--db``, then ``STAGEWALL_DB``, then ``sqlite:///$STAGEWALL_HOME/stagewall.db``.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_CONFIG_NAME = "stagewall.yaml"


def home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The state directory (not created here); an existing non-directory is refused."""
    if explicit:
        path = Path(explicit)
    else:
        env = os.environ.get("STAGEWALL_HOME")
        path = Path(env) if env else Path.cwd() / ".stagewall"
    if path.exists() and not path.is_dir():
        from stagewall.errors import ConfigError

        raise ConfigError(
            f"the stagewall state directory {path} is a file, not a directory",
            hint="point STAGEWALL_HOME at a directory (it is created when missing)",
        )
    return path


def ensure_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The state directory, created with mode 0700 if it does not exist."""
    path = home(explicit)
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


def store_url(explicit: str | None = None) -> str:
    """The control-plane store URL."""
    if explicit:
        return explicit
    env = os.environ.get("STAGEWALL_DB")
    if env:
        return env
    return f"sqlite:///{ensure_home() / 'stagewall.db'}"


def configured_store_url(explicit: str | None = None) -> str | None:
    """The store URL if one is configured or the default store already exists.

    For commands whose main job does not need the store (``check``, ``scan``): they
    record an audit event when a store is there, without creating one as a side effect.
    """
    if explicit:
        return explicit
    env = os.environ.get("STAGEWALL_DB")
    if env:
        return env
    default = home() / "stagewall.db"
    return f"sqlite:///{default}" if default.exists() else None
