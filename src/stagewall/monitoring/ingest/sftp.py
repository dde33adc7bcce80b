"""``sftp-server``/``internal-sftp`` lines at ``-l INFO`` (syslog or journald JSON).

Lines of one session are joined on the PID: ``session opened for local user U from
[IP]`` names the user, ``close "PATH" bytes read R written W`` becomes a download
(R > 0) and/or an upload (W > 0) with the byte count, ``remove name "PATH"`` a delete.
"""

from __future__ import annotations

import re

from stagewall.monitoring.events import (
    CLS_FILE_HOSTING,
    FILE_DELETE,
    FILE_DOWNLOAD,
    FILE_UPLOAD,
    Event,
)
from stagewall.monitoring.ingest._base import MAX_LINE, LineError, Parser, register, split_syslog

_OPENED = re.compile(r"^session opened for local user (\S+) from \[([^\]]*)\]")
_CLOSED = re.compile(r"^session closed for local user (\S+)")
_CLOSE = re.compile(r'^close "(.*)" bytes read (\d+) written (\d+)$')
_REMOVE = re.compile(r'^remove name "(.*)"$')


@register
class SftpParser(Parser):
    name = "sftp"

    def __init__(self, *, year: int | None = None) -> None:
        super().__init__(year=year)
        self._sessions: dict[str, tuple[str, str]] = {}

    def feed(self, line: str) -> list[Event]:
        if len(line) > MAX_LINE:
            raise LineError("a line longer than 1 MB")
        if not line.strip():
            return []
        ts, host, _prog, pid, msg = split_syslog(line, self.year)
        if msg.startswith("close "):
            m = _CLOSE.match(msg)
            if m is None:
                raise LineError("an sftp close line without 'bytes read N written N'")
            user, ip = self._sessions.get(pid, ("", ""))
            out = []
            read, written = int(m[2]), int(m[3])
            for size, activity in ((read, FILE_DOWNLOAD), (written, FILE_UPLOAD)):
                if size:
                    out.append(
                        Event(
                            ts,
                            CLS_FILE_HOSTING,
                            activity,
                            user=user,
                            src_ip=ip,
                            host=host,
                            object=m[1],
                            bytes=size,
                            session=pid,
                            operation="download" if activity == FILE_DOWNLOAD else "upload",
                        )
                    )
            return out
        if msg.startswith("session opened"):
            m = _OPENED.match(msg)
            if m is not None:
                if len(self._sessions) >= self.MAX_SESSIONS:
                    self._sessions.clear()
                self._sessions[pid] = (m[1], m[2])
            return []
        if msg.startswith("session closed"):
            self._sessions.pop(pid, None)
            return []
        if msg.startswith("remove name"):
            m = _REMOVE.match(msg)
            if m is None:
                return []
            user, ip = self._sessions.get(pid, ("", ""))
            return [
                Event(
                    ts,
                    CLS_FILE_HOSTING,
                    FILE_DELETE,
                    user=user,
                    src_ip=ip,
                    host=host,
                    object=m[1],
                    operation="remove",
                    session=pid,
                )
            ]
        return []


__all__ = ["SftpParser"]
