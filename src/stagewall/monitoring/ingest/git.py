"""Plain git servers: ``git-daemon`` syslog lines and smart-HTTP access-log lines.

git-daemon: ``Connection from IP:PORT`` then ``Request upload-pack for '/repo.git'``
(joined on the PID; git-daemon has no user). Smart HTTP (Apache/nginx combined or
common log format): ``POST /repo.git/git-upload-pack`` is a clone/fetch,
``git-receive-pack`` a push; the authenticated user and response bytes are taken
from the line. Upload-pack cannot tell a clone from a fetch; both are ``git.fetch``.
"""

from __future__ import annotations

import re
from datetime import datetime

from stagewall.monitoring.events import API_READ, API_UPDATE, FAILURE, Event, OcsfClass
from stagewall.monitoring.ingest._base import MAX_LINE, LineError, Parser, register, split_syslog

_ACCESS = re.compile(
    r'^(?P<ip>\S+) \S+ (?P<user>\S+) \[(?P<ts>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+)[^"]*" '
    r"(?P<status>\d{3}) (?P<bytes>\d+|-)"
)
_SERVICE = re.compile(r"^/?(?P<repo>.+?)(?:\.git)?/(?P<svc>git-upload-pack|git-receive-pack)$")
_CONNECTION = re.compile(r"^Connection from \[?([^\]]+?)\]?:(\d+)$")
_REQUEST = re.compile(r"^Request (upload-pack|receive-pack|upload-archive) for '([^']*)'")


def _repo_name(path: str) -> str:
    name = path.strip("/")
    return name[:-4] if name.endswith(".git") else name


@register
class GitParser(Parser):
    name = "git"

    def __init__(self, *, year: int | None = None) -> None:
        super().__init__(year=year)
        self._peers: dict[str, str] = {}

    def feed(self, line: str) -> list[Event]:
        if len(line) > MAX_LINE:
            raise LineError("a line longer than 1 MB")
        if not line.strip():
            return []
        if line[0].isdigit() or line[0] == ":" or (line.startswith("[") and '"' in line):
            m = _ACCESS.match(line)
            if m is not None:
                return self._http(m)
        ts, host, prog, pid, msg = split_syslog(line, self.year)
        if prog != "git-daemon":
            return []
        if msg.startswith("Connection from"):
            cm = _CONNECTION.match(msg)
            if cm:
                if len(self._peers) >= self.MAX_SESSIONS:
                    self._peers.clear()
                self._peers[pid] = cm[1]
            return []
        rm = _REQUEST.match(msg)
        if rm is None:
            return []
        push = rm[1] == "receive-pack"
        return [
            Event(
                ts,
                OcsfClass.API_ACTIVITY,
                API_UPDATE if push else API_READ,
                src_ip=self._peers.pop(pid, ""),
                host=host,
                target=_repo_name(rm[2]),
                operation="git.push" if push else "git.fetch",
                detail="git-daemon",
                session=pid,
            )
        ]

    def _http(self, m: re.Match[str]) -> list[Event]:
        path = m["path"].split("?", 1)[0]
        sm = _SERVICE.match(path)
        if sm is None or m["method"] != "POST":
            return []  # info/refs discovery and other requests
        try:
            ts = datetime.strptime(m["ts"], "%d/%b/%Y:%H:%M:%S %z").timestamp()
        except ValueError:
            raise LineError(f"{m['ts']!r} is not an access-log timestamp") from None
        push = sm["svc"] == "git-receive-pack"
        status = int(m["status"])
        user = m["user"]
        return [
            Event(
                ts,
                OcsfClass.API_ACTIVITY,
                API_UPDATE if push else API_READ,
                status="success" if status < 400 else FAILURE,
                user="" if user == "-" else user,
                src_ip=m["ip"],
                target=_repo_name(sm["repo"]),
                operation="git.push" if push else "git.fetch",
                bytes=0 if m["bytes"] == "-" else int(m["bytes"]),
                detail=f"http {status}",
            )
        ]


__all__ = ["GitParser"]
