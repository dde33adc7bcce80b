"""stagewall: keep outsourced developers on the staging side of the wall."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("stagewall")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
