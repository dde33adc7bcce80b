"""Keeping one file from stopping the scan: text decoding and a per-file time budget.

A file is decoded as UTF-8 (BOM allowed), UTF-16/UTF-32 when it starts with their BOM,
and invalid UTF-8 bytes become U+FFFD so the rest of the file is still scanned. Only
files with NUL bytes (and no UTF-16/32 BOM) or mostly undecodable bytes are binary.

The time budget is checked at checkpoints between reading, parsing and each rule; in
the main thread a timer signal also interrupts a reader or rule that is stuck inside
one call. Either way the file gets a "skipped: too slow" finding instead of a hang.
"""

from __future__ import annotations

import codecs
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAX_REPLACED = 0.1  # more undecodable characters than this fraction: binary


def decode(data: bytes) -> tuple[str | None, str]:
    """(text, how it was decoded); text is None for binary content."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace"), codec
    if b"\x00" in data[:8192]:
        return None, "binary"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        if text.count("\ufffd") > max(8, len(text) * _MAX_REPLACED):
            return None, "binary"
        return text, "utf-8 with replacement"


class TooSlow(Exception):
    """The file used up its time budget."""


class Deadline:
    """A per-file time budget; ``check()`` raises :class:`TooSlow` once it has passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() >= self.end:
            raise TooSlow


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise TooSlow


@contextmanager
def interrupt_after(seconds: float) -> Iterator[None]:
    """Raise :class:`TooSlow` inside the block after ``seconds`` (main thread only;
    elsewhere the block runs unbounded and only the checkpoints apply)."""
    usable = (
        seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)
    )
    if not usable:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


__all__ = ["Deadline", "TooSlow", "decode", "interrupt_after"]
