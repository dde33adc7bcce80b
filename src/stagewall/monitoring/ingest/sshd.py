"""OpenSSH ``sshd`` lines from auth.log (classic or RFC 3339 syslog) or journald JSON.

Accepted/Failed password, publickey and keyboard-interactive logins (with the key
type and fingerprint), invalid users, ``maximum authentication attempts``,
``not allowed because`` refusals and disconnections. Other lines are ignored.
"""

from __future__ import annotations

import re

from stagewall.monitoring.events import (
    CLS_AUTHENTICATION,
    FAILURE,
    LOGOFF,
    LOGON,
    Event,
)
from stagewall.monitoring.ingest._base import (
    MAX_LINE,
    LineError,
    Parser,
    read_attested,
    register,
    vouch,
)

# The user name is the client's, logged as sent (spaces too): "x from 10.0.0.5 port 1"
# is a name. What sshd writes after it is not the client's, so these patterns take
# the name greedily and anchor the address at the end of the message: it is the last
# " from ADDRESS port N" that sshd's own ending follows. (A certificate's ID, after
# " ID ", is chosen by whoever made the certificate: it can still hold such text.)
_ACCEPTED = re.compile(
    r"^(Accepted|Failed) (\S+) for (invalid user )?(.*) from (\S+) port (\d+)"
    r"(?: ssh2)?(?:: (\S+) (\S+)(?: ID .*)?)?\s*$"
)
_INVALID = re.compile(r"^Invalid user (.*) from (\S+)(?: port (\d+))?(?: \[preauth\])?\s*$")
_MAXTRIES = re.compile(
    r"^(?:error: )?maximum authentication attempts exceeded for (?:invalid user )?(.*) "
    r"from (\S+)(?: port \d+)?(?: ssh2)?(?: \[preauth\])?\s*$"
)
_NOT_ALLOWED = re.compile(r"^User (\S+) from (\S+) not allowed because")
_DISCONNECTED = re.compile(r"^Disconnected from user (\S+) (\S+) port (\d+)")
_PROGRAMS = frozenset({"sshd", "sshd-session", "sshd-auth"})


@register
class SshdParser(Parser):
    name = "sshd"

    def feed(self, line: str) -> list[Event]:
        if len(line) > MAX_LINE:
            raise LineError("a line longer than 1 MB")
        if not line.strip():
            return []
        ts, host, prog, pid, msg, proof, uid = read_attested(
            line, self.year, annotated=self.annotated
        )
        if prog not in _PROGRAMS:
            return []
        events = self._events(ts, host, pid, msg)
        return vouch(events, prog, pid, proof, self.trust_programs, uid)

    def _events(self, ts: float, host: str, pid: str, msg: str) -> list[Event]:
        c = msg[:3]
        if c in ("Acc", "Fai"):
            m = _ACCEPTED.match(msg)
            if m is None:
                return []
            ok = m[1] == "Accepted"
            detail = m[2] if m[7] is None else f"{m[2]} {m[7]} {m[8]}"
            return [
                Event(
                    ts,
                    CLS_AUTHENTICATION,
                    LOGON,
                    status="success" if ok else FAILURE,
                    user=m[4],
                    src_ip=m[5],
                    host=host,
                    operation="invalid_user" if m[3] else "login",
                    detail=detail,
                    session=pid,
                )
            ]
        simple = _SIMPLE.get(c)
        if simple is None:
            return []
        pattern, activity, status, operation, detail = simple
        m = pattern.match(msg)
        if m is None:
            return []
        extra: dict[str, str] = {}
        if status is not None:
            extra["status"] = status
        if detail is not None:
            extra["detail"] = detail
        return [
            Event(
                ts,
                CLS_AUTHENTICATION,
                activity,
                user=m[1],
                src_ip=m[2],
                host=host,
                operation=operation,
                session=pid,
                **extra,  # type: ignore[arg-type]
            )
        ]


# First three letters of the message -> (pattern, activity, status, operation, detail);
# every pattern captures the user and the source address first.
_SIMPLE: dict[str, tuple[re.Pattern[str], int, str | None, str, str | None]] = {
    "Inv": (_INVALID, LOGON, FAILURE, "invalid_user", "invalid user"),
    "max": (_MAXTRIES, LOGON, FAILURE, "max_attempts", "maximum attempts"),
    "err": (_MAXTRIES, LOGON, FAILURE, "max_attempts", "maximum attempts"),
    "Use": (_NOT_ALLOWED, LOGON, FAILURE, "not_allowed", "not allowed"),
    "Dis": (_DISCONNECTED, LOGOFF, None, "logout", None),
}


__all__ = ["SshdParser"]
