"""Follow a growing log file across rotation and truncation, like ``tail -F``.

:meth:`Follower.poll` returns the complete lines written since the last poll. When
the path is renamed away and a new file appears (logrotate ``create``), the rest of
the old file is read first, then the new file from its start; when the file
shrinks (``copytruncate``), reading restarts at its beginning. A line longer than
``max_line`` is cut there (the parser then reports it as malformed), so memory
stays bounded whatever is written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from stagewall.monitoring.ingest._base import MAX_LINE

READ_SIZE = 1 << 20


class Follower:
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        from_end: bool = False,
        offset: int = 0,
        inode: int | None = None,
        max_line: int = MAX_LINE,
    ) -> None:
        self.path = Path(path)
        self.max_line = max_line
        self._fh: BinaryIO | None = None
        self._ino: int | None = None
        self._partial = b""
        # Offset where an over-long line began while its rest (to its newline) is
        # skipped; None when not skipping.
        self._skip_from: int | None = None
        self._from_end = from_end
        self._resume = (offset, inode)
        self.rotations = 0

    @property
    def position(self) -> tuple[int | None, int]:
        """(inode, offset of the next unread complete line) for resuming later."""
        if self._fh is None:
            return (self._ino, 0)
        if self._skip_from is not None:
            # resumed from here, the over-long line is cut (malformed) and skipped
            # again; resumed inside it, its tail would be read as a line of its own
            return (self._ino, self._skip_from)
        return (self._ino, self._fh.tell() - len(self._partial))

    def _open(self) -> bool:
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            return False
        st = os.fstat(fh.fileno())
        self._fh, self._ino = fh, st.st_ino
        offset, inode = self._resume
        if self._from_end:
            fh.seek(0, os.SEEK_END)
        elif inode == st.st_ino and 0 < offset <= st.st_size:
            fh.seek(offset)
        self._from_end = False
        self._resume = (0, None)
        return True

    def _drain(self, out: list[str]) -> None:
        fh = self._fh
        if fh is None:
            return
        while True:
            chunk = fh.read(READ_SIZE)
            if not chunk:
                return
            data = self._partial + chunk
            if self._skip_from is not None:
                # The rest of an over-long line, which was cut: skipped to its newline.
                # Read as a line of its own, its tail (a statement, a user name: what a
                # client chose) could be written to look like any log line.
                nl = data.find(b"\n")
                if nl < 0:
                    self._partial = b""
                    continue
                data = data[nl + 1 :]
                self._skip_from = None
            parts = data.split(b"\n")
            self._partial = parts.pop()
            for raw in parts:
                out.append(raw[: self.max_line + 1].decode("utf-8", "surrogateescape"))
            if len(self._partial) > self.max_line:
                out.append(self._partial[: self.max_line + 1].decode("utf-8", "surrogateescape"))
                self._skip_from = fh.tell() - len(self._partial)
                self._partial = b""

    def poll(self) -> list[str]:
        out: list[str] = []
        if self._fh is None and not self._open():
            return out
        fh = self._fh
        if fh is None:
            return out
        self._drain(out)
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return out  # rotated away, the new file is not there yet
        if st.st_ino != self._ino:
            self._drain(out)
            if self._partial:
                out.append(self._partial.decode("utf-8", "surrogateescape"))
                self._partial = b""
            fh.close()
            self._fh = None
            self._skip_from = None
            self.rotations += 1
            if self._open():
                self._drain(out)
        elif st.st_size < fh.tell():
            fh.seek(0)
            self._partial = b""
            self._skip_from = None
            self.rotations += 1
            self._drain(out)
        return out

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


__all__ = ["Follower"]
