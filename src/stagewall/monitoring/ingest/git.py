"""Plain git servers: ``git-daemon`` syslog lines and smart-HTTP access-log lines.

git-daemon: ``Connection from IP:PORT`` then ``Request upload-pack for '/repo.git'``
(joined on the PID; git-daemon has no user). Smart HTTP (Apache/nginx combined or
common log format): ``POST /repo.git/git-upload-pack`` is a clone/fetch,
``git-receive-pack`` a push; the authenticated user and response bytes are taken
from the line. Upload-pack cannot tell a clone from a fetch; both are ``git.fetch``.

Git over SSH: sshd logs only the login, never the command, so the command comes
from what runs it:

- gitolite's log (``YYYY-MM-DD.HH:MM:SS<TAB>pid<TAB>ssh<TAB>ARGV=user<TAB>SOC=git-upload-pack
  'repo'<TAB>FROM=ip``; the user is the gitolite user its key maps to, times as UTC);
- a ``ForceCommand``/``command=`` wrapper logging through syslog (program ``git-ssh``,
  ``git-shell`` or ``gitolite``; docs/monitoring.md has a three-line one):
  ``user=alice from=10.0.0.5 command=git-upload-pack 'team/app.git'``.

``git-upload-pack`` and ``git-upload-archive`` are reads (``git.fetch``,
``git.archive``), ``git-receive-pack`` a push; any other command (a shell) is
recorded as ``ssh.command`` with the command's first word only.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from stagewall.monitoring.events import (
    API_READ,
    API_UPDATE,
    CLS_API_ACTIVITY,
    FAILURE,
    Event,
)
from stagewall.monitoring.ingest._base import (
    _MONTHS,
    MAX_LINE,
    PROVEN,
    TAG,
    LineError,
    Parser,
    parse_iso,
    read_syslog,
    register,
    vouch,
)

# Combined/common log format, read field by field the way servers write it: a quoted
# field ends at the first '"' that no backslash escapes (Apache writes '"' and '\\' in
# a request, user agent or user as \" and \\; nginx as \x22 and \x5C). Every field
# after the bytes is read too (a quoted string or a word), to the end of the line: a
# line that does not read this way is malformed, never read in part. (Ending the
# request at any '"', a request line holding \" 200 1 \" chose the status and size.)
# (a quoted field's inside written as an unrolled loop, [^"\\]*(?:\\.[^"\\]*)*: one
# pass, a third of the cost of an alternation tried at every character)
_IN = r'[^"\\]*(?:\\.[^"\\]*)*'
_ACCESS = re.compile(
    rf'(?P<ip>\S+) \S+ (?P<user>(?:[^\s"\\]|\\.)[^\s"\\]*(?:\\.[^\s"\\]*)*|"{_IN}") '
    r"\[(?P<ts>[^\]]+)\] "
    rf'"(?P<request>{_IN})" (?P<status>\d{{3}}) (?P<bytes>\d+|-)'
    rf'(?:[ \t]+(?:"{_IN}"|[^\s"]+))*[ \t]*'
)
# what starts like an access-log line (an address first, then "[time] \"")
_ACCESS_START = re.compile(r'[\d.:\[\]a-fA-F]+ \S+ .*?\] "')
_REQUEST_LINE = re.compile(r"(?P<method>[A-Z]+) (?P<path>[^\s\x00-\x1f]+)(?: HTTP/\d(?:\.\d)?)?")
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|.)")
_SERVICE = re.compile(r"^/?(?P<repo>.+?)(?:\.git)?/(?P<svc>git-upload-pack|git-receive-pack)$")
_CONNECTION = re.compile(r"^Connection from \[?([^\]]+?)\]?:(\d+)$")
_REQUEST = re.compile(r"^Request (upload-pack|receive-pack|upload-archive) for '([^']*)'")
_GITOLITE = re.compile(
    r"^(\d{4}-\d\d-\d\d)\.(\d\d:\d\d:\d\d)\t(\d+)\t(ssh|http)\tARGV=([^\t]*)\tSOC=([^\t]*)"
    r"(?:\tFROM=(\S+))?"
)
_PACK = re.compile(r"^(git[ -](?:upload-pack|receive-pack|upload-archive))\s+'?/?([^']*?)'?\s*$")
_KV = re.compile(r"(\w+)=(\S*)")
_SSH_PROGRAMS = frozenset({"git-ssh", "git-shell", "gitolite"})
_OPERATIONS = {
    "upload-pack": ("git.fetch", API_READ),
    "upload-archive": ("git.archive", API_READ),
    "receive-pack": ("git.push", API_UPDATE),
}


# An access log's time as servers write it (English month, one space, +HHMM); anything
# else, and anything out of range, is left to strptime (which decides and names it).
_ACCESS_TIME = re.compile(
    r"(\d\d)/([A-Z][a-z][a-z])/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)([0-5]\d)", re.ASCII
)


def _access_time(text: str) -> float:
    """``02/Nov/2026:03:48:40 +0000`` -> epoch seconds, as ``strptime`` gives it at a
    tenth of the cost (tests/monitoring/ingest/test_fast_paths.py)."""
    m = _ACCESS_TIME.fullmatch(text)
    month = _MONTHS.get(m[2]) if m is not None else None
    if m is not None and month is not None:
        offset = int(m[8]) * 3600 + int(m[9]) * 60
        try:
            return datetime(
                int(m[3]),
                month,
                int(m[1]),
                int(m[4]),
                int(m[5]),
                int(m[6]),
                tzinfo=timezone(timedelta(seconds=-offset if m[7] == "-" else offset)),
            ).timestamp()
        except ValueError:
            pass
    return datetime.strptime(text, "%d/%b/%Y:%H:%M:%S %z").timestamp()


def _repo_name(path: str) -> str:
    name = path.strip("/")
    return name[:-4] if name.endswith(".git") else name


def _unescape(text: str) -> str:
    """A log field's escapes undone: \\" \\\\ and \\xHH (as Apache and nginx write them)."""

    def one(m: re.Match[str]) -> str:
        e = m[1]
        return chr(int(e[1:], 16)) if len(e) == 3 else e

    return _ESCAPE.sub(one, text)


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
            m = _ACCESS.fullmatch(line)
            if m is not None:
                return self._http(m)
            if _ACCESS_START.match(line):
                raise LineError(
                    "an access-log line that does not read as host ident user [time] "
                    '"request" status bytes, with quotes escaped'
                )
            g = _GITOLITE.match(line)
            if g is not None:
                ts = parse_iso(f"{g[1]}T{g[2]}")
                return self._ssh(ts, "", g[3], g[5], g[7] or "", g[6], f"gitolite {g[4]}")
            if "\t" in line and line[:4].isdigit():
                return []  # gitolite's other records (pre_git, END, ...)
        ts, host, prog, pid, msg, proof = read_syslog(line, self.year, annotated=self.annotated)
        if prog in _SSH_PROGRAMS:
            kv = dict(_KV.findall(msg.split(" command=", 1)[0]))
            command = msg.split(" command=", 1)[1] if " command=" in msg else ""
            if not command:
                raise LineError("a git-over-SSH line without command=")
            out = self._ssh(ts, host, pid, kv.get("user", ""), kv.get("from", ""), command, prog)
            # the wrapper logs through logger: journald's _COMM cannot vouch for it either
            return vouch(out, prog, pid, TAG if proof == PROVEN else proof, self.trust_programs)
        if prog != "git-daemon":
            return []
        return vouch(self._daemon(ts, host, pid, msg), prog, pid, proof, self.trust_programs)

    def _daemon(self, ts: float, host: str, pid: str, msg: str) -> list[Event]:
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
                CLS_API_ACTIVITY,
                API_UPDATE if push else API_READ,
                src_ip=self._peers.pop(pid, ""),
                host=host,
                target=_repo_name(rm[2]),
                operation="git.push" if push else "git.fetch",
                detail="git-daemon",
                session=pid,
            )
        ]

    def _ssh(
        self, ts: float, host: str, pid: str, user: str, src: str, command: str, via: str
    ) -> list[Event]:
        m = _PACK.match(command.strip())
        if m is None:
            word = command.strip().split(" ", 1)[0][:64]
            return [
                Event(
                    ts,
                    CLS_API_ACTIVITY,
                    API_READ,
                    user=user,
                    src_ip=src,
                    host=host,
                    operation="ssh.command",
                    detail=f"{via}: {word}",
                    session=pid,
                )
            ]
        operation, activity = _OPERATIONS[m[1][4:]]
        return [
            Event(
                ts,
                CLS_API_ACTIVITY,
                activity,
                user=user,
                src_ip=src,
                host=host,
                target=_repo_name(m[2]),
                operation=operation,
                detail=via,
                session=pid,
            )
        ]

    def _http(self, m: re.Match[str]) -> list[Event]:
        request = m["request"]
        if "\\" in request:
            request = _unescape(request)
        r = _REQUEST_LINE.fullmatch(request)
        if r is None:
            if "/git-upload-pack" in request or "/git-receive-pack" in request:
                raise LineError("a git request that is not METHOD PATH PROTOCOL")
            return []  # another request (a probe, "-" for a timeout): not git's
        path = r["path"].split("?", 1)[0]
        sm = _SERVICE.match(path)
        if sm is None or r["method"] != "POST":
            return []  # info/refs discovery and other requests
        try:
            ts = _access_time(m["ts"])
        except ValueError:
            raise LineError(f"{m['ts']!r} is not an access-log timestamp") from None
        push = sm["svc"] == "git-receive-pack"
        status = int(m["status"])
        user = m["user"]
        if user[:1] == '"':  # Apache writes an empty user as ""
            user = user[1:-1] or "-"
        if "\\" in user:
            user = _unescape(user)
        return [
            Event(
                ts,
                CLS_API_ACTIVITY,
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
