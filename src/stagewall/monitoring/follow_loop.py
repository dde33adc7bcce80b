"""The ``--follow`` loop: poll a file (or stdin), ingest what arrived, check for gaps.

The follower's position (inode, offset) is saved in the store after every batch,
so a restarted follower resumes where it stopped instead of re-reading the file.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from typing import IO

from stagewall.monitoring.follow import Follower
from stagewall.monitoring.pipeline import IngestContext, IngestReport, check_gaps, ingest_lines

BATCH = 20000


def _key(source: str) -> str:
    return f"follow:{source}"


def follower_for(ctx: IngestContext, source: str, path: str, *, from_end: bool) -> Follower:
    """A follower that resumes from the saved position of ``source`` when it is the same file."""
    saved = ctx.log.load_state(_key(source)) or {}
    inode = saved.get("inode")
    offset = saved.get("offset")
    return Follower(
        path,
        from_end=from_end and not saved,
        inode=int(inode) if isinstance(inode, int) else None,
        offset=int(offset) if isinstance(offset, int) else 0,
    )


def follow_file(
    ctx: IngestContext,
    source: str,
    follower: Follower,
    *,
    poll: float = 1.0,
    stop: Callable[[], bool],
    on_report: Callable[[IngestReport], None],
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Until ``stop()``: read new lines, ingest them, save the position, check gaps, wait."""
    try:
        while not stop():
            lines = follower.poll()
            for start in range(0, len(lines), BATCH):
                on_report(ingest_lines(source, lines[start : start + BATCH], ctx))
            if lines:
                inode, offset = follower.position
                ctx.log.save_state(_key(source), {"inode": inode, "offset": offset})
            for finding in check_gaps(ctx):
                on_report(IngestReport(source, findings=[finding]))
            if not lines:
                sleep(poll)
    finally:
        follower.close()


def follow_stream(
    ctx: IngestContext,
    source: str,
    stream: IO[str],
    *,
    poll: float = 1.0,
    stop: Callable[[], bool],
    on_report: Callable[[IngestReport], None],
) -> None:
    """Read a stream (a pipe from ``journalctl -f -o json``) in batches until EOF or ``stop()``."""
    batch: list[str] = []
    last = time.monotonic()
    while not stop():
        ready, _, _ = select.select([stream], [], [], poll)
        if ready:
            line = stream.readline()
            if not line:
                break
            batch.append(line)
        if batch and (len(batch) >= BATCH or time.monotonic() - last >= poll):
            on_report(ingest_lines(source, batch, ctx))
            batch, last = [], time.monotonic()
        for finding in check_gaps(ctx):
            on_report(IngestReport(source, findings=[finding]))
    on_report(ingest_lines(source, batch, ctx, final=True))


__all__ = ["follow_file", "follow_stream", "follower_for"]
