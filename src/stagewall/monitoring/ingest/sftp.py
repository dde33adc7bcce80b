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
from stagewall.monitoring.ingest._base import (
    MAX_LINE,
    PROVEN,
    TAG,
    LineError,
    Parser,
    read_syslog,
    register,
    vouch,
)

# internal-sftp logs as its sshd process; sftp-server as itself
_PROGRAMS = frozenset({"sshd", "sshd-session", "internal-sftp", "sftp-server"})

_OPENED = re.compile(r"^session opened for local user (\S+) from \[([^\]]*)\]")
_CLOSED = re.compile(r"^session closed for local user (\S+)")
_CLOSE = re.compile(r'^close "(.*)" bytes read (\d+) written (\d+)$')
_REMOVE = re.compile(r'^remove name "(.*)"$')


@register
class SftpParser(Parser):
    name = "sftp"

    def __init__(self, *, year: int | None = None) -> None:
        super().__init__(year=year)
        # pid -> (user, address, the session line's proof)
        self._sessions: dict[str, tuple[str, str, str]] = {}

    def feed(self, line: str) -> list[Event]:
        if len(line) > MAX_LINE:
            raise LineError("a line longer than 1 MB")
        if not line.strip():
            return []
        ts, host, prog, pid, msg, proof = read_syslog(line, self.year, annotated=self.annotated)
        if prog not in _PROGRAMS:
            return []
        out = self._events(ts, host, pid, msg, proof)
        if out:
            # as proven as the weaker of this line and its session's opening line
            opened = self._sessions.get(pid, ("", "", PROVEN))[2]
            if not (opened == PROVEN or (opened == TAG and self.trust_programs)):
                proof = opened
            return vouch(out, prog, pid, proof, self.trust_programs)
        return out

    def _events(self, ts: float, host: str, pid: str, msg: str, proof: str) -> list[Event]:
        if msg.startswith("close "):
            m = _CLOSE.match(msg)
            if m is None:
                raise LineError("an sftp close line without 'bytes read N written N'")
            user, ip, _ = self._sessions.get(pid, ("", "", PROVEN))
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
                self._sessions[pid] = (m[1], m[2], proof)
            return []
        if msg.startswith("session closed"):
            self._sessions.pop(pid, None)
            return []
        if msg.startswith("remove name"):
            m = _REMOVE.match(msg)
            if m is None:
                return []
            user, ip, _ = self._sessions.get(pid, ("", "", PROVEN))
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
