"""What every parser shares: the interface, the registry and time helpers."""

from __future__ import annotations

import abc
import contextlib
import csv
import json
import re
import time
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson

from stagewall.errors import ConfigError
from stagewall.estate.models import MonitoringSource
from stagewall.monitoring.events import (
    API_CREATE,
    CLS_API_ACTIVITY,
    CLS_AUTHENTICATION,
    LOGON,
    SUCCESS,
    Event,
)

MAX_LINE = 1 << 20  # longer lines are malformed (a follower must never buffer without end)
MAX_DOCUMENT = 64 << 20


class LineError(ValueError):
    """A line the parser cannot read; counted as malformed, never raised out of ingest."""


class Parser(abc.ABC):
    """Turns lines of one source type into events.

    ``feed`` returns the events a line completes (often none: a line may only open
    a session or continue a multi-line record) and raises :class:`LineError` for a
    malformed line. Parsers keep small per-session state (joins on a PID), bounded
    by ``MAX_SESSIONS``.
    """

    name: ClassVar[str]
    MAX_SESSIONS: ClassVar[int] = 65536

    def __init__(self, *, year: int | None = None) -> None:
        # The year of classic syslog lines (which have none); None: each line's own,
        # judged against the clock when it is read (see parse_syslog_time). Fixed when
        # the parser was made, a server running over New Year dated every line a year
        # back, and one started just after it dated December's backlog a year ahead.
        self.year = year
        # text syslog program names are the sender's word unless the source says
        # otherwise (see vouch)
        self.trust_programs = False
        # the relay appends the kernel's credentials of the sender to each line
        # (rsyslog imuxsock annotation, see read_attested)
        self.annotated = False

    @abc.abstractmethod
    def feed(self, line: str) -> list[Event]: ...

    def configure(self, source: MonitoringSource) -> None:
        """Take the declared source's settings."""
        self.trust_programs = source.trust_program_names
        self.annotated = source.syslog_trusted_properties

    def flush(self) -> list[Event]:
        """End of input: complete what is buffered (LineError if it cannot be)."""
        return []


_REGISTRY: dict[str, type[Parser]] = {}


def register(cls: type[Parser]) -> type[Parser]:
    if cls.name in _REGISTRY:
        raise ConfigError(f"log parser {cls.name!r} is registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def parser_for(source_type: str, *, year: int | None = None) -> Parser:
    try:
        return _REGISTRY[source_type](year=year)
    except KeyError:
        raise ConfigError(
            f"there is no log parser for source type {source_type!r}",
            hint=f"use one of: {', '.join(sorted(_REGISTRY))}",
        ) from None


def parser_names() -> list[str]:
    return sorted(_REGISTRY)


# -- time ---------------------------------------------------------------------

_EPOCH_NAIVE = datetime(1970, 1, 1)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


_fromisoformat = datetime.fromisoformat


def parse_iso(text: str) -> float:
    """ISO 8601 (``2026-12-05 02:41:20.123 UTC``, ``...T...Z``, ``+01:00``) -> epoch seconds.

    A time without a zone is taken as UTC. (A cache per day or second in Python was
    measured slower than ``datetime.fromisoformat``, which is C.)
    """
    value = text.strip()
    if value.endswith((" UTC", " GMT")):
        value = value[:-4]
    elif value.endswith("Z"):
        value = value[:-1]
    try:
        dt = _fromisoformat(value)
    except ValueError:
        raise LineError(f"{text[:40]!r} is not a timestamp") from None
    if dt.tzinfo is None:
        return (dt - _EPOCH_NAIVE).total_seconds()
    return dt.timestamp()


_parse_iso = parse_iso  # the name tests/monitoring/ingest/test_fast_paths.py compares with


def csv_fields(line: str, quotechar: str = '"', escapechar: str | None = None) -> list[str]:
    """One CSV record's fields; a record with no quote or escape character is split on
    commas directly (what the csv module gives for it, at a third of the cost)."""
    if (
        line
        and quotechar not in line
        and (escapechar is None or escapechar not in line)
        and "\r" not in line
        and "\n" not in line
        and "\0" not in line
    ):
        return line.split(",")
    try:
        return next(csv.reader([line], quotechar=quotechar, escapechar=escapechar))
    except StopIteration:
        return []


def _has_float(value: Any) -> bool:
    t = type(value)
    if t is dict:
        value = value.values()
    elif t is not list:
        return t is float
    for v in value:
        t = type(v)
        if t is float or ((t is dict or t is list) and _has_float(v)):
            return True
    return False


def loads(text: str) -> Any:
    """JSON text -> value, as ``json.loads`` gives it, at half the cost.

    orjson parses; what it refuses (NaN, lone surrogate escapes, deep nesting) and
    any value holding a float (orjson turns integers past 64 bits into floats) is
    parsed again by the json module. Log records rarely hold floats.
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    return json.loads(text) if _has_float(value) else value


# the clock a classic syslog line's year is judged against (tests move it)
_now = time.time
# how far after the clock a classic syslog line may be and still be of this year
YEAR_SLACK = 86400.0


def parse_syslog_time(text: str, year: int | None) -> float:
    """``Dec  5 02:41:20`` (no year, taken as UTC in ``year``) -> epoch seconds.

    ``year`` None: the latest year that puts the line at most ``YEAR_SLACK`` after the
    clock — a line is read soon after it is written, so ``Dec 31 23:59:58`` read on
    1 January is of the year before, and ``Jan  1 00:00:01`` read a second before
    midnight on 31 December (a sender's clock a little ahead) of the year after."""
    try:
        month = _MONTHS[text[:3]]
        day = int(text[4:6])
        hh, mm, ss = int(text[7:9]), int(text[10:12]), int(text[13:15])
        if year is not None:
            return datetime(year, month, day, hh, mm, ss, tzinfo=UTC).timestamp()
        now = _now()
        today = datetime.fromtimestamp(now, UTC)
        latest = now + YEAR_SLACK
        if month == 1 and today.month == 12:
            ts = datetime(today.year + 1, month, day, hh, mm, ss, tzinfo=UTC).timestamp()
            if ts <= latest:
                return ts
        try:
            ts = datetime(today.year, month, day, hh, mm, ss, tzinfo=UTC).timestamp()
        except ValueError:  # 29 February in a year without one: an earlier year's
            ts = latest + 1
        y = today.year - 1
        while ts > latest and y >= today.year - 4:
            with contextlib.suppress(ValueError):
                ts = datetime(y, month, day, hh, mm, ss, tzinfo=UTC).timestamp()
            y -= 1
        if ts > latest:
            raise ValueError(text)
        return ts
    except (KeyError, ValueError):
        raise LineError(f"{text[:15]!r} is not a syslog timestamp") from None


# Daemons whose journald records are trusted only from their own processes (_COMM,
# which journald reads from the kernel: at most 15 characters).
_SSHD_COMMS = frozenset({"sshd", "sshd-session", "sshd-auth"})
_DAEMON_COMMS = {
    "sshd": _SSHD_COMMS,
    "sshd-session": _SSHD_COMMS,
    "sshd-auth": _SSHD_COMMS,
    "internal-sftp": _SSHD_COMMS,
    "sftp-server": frozenset({"sftp-server"}),
    "git-daemon": frozenset({"git-daemon"}),
}

# How far a syslog line's program name is proven (see :func:`read_syslog`).
PROVEN, TAG, FORGED = "proven", "tag", "forged"
# a line of a source declared ``syslog_trusted_properties`` that carries none: it did
# not come through the annotating socket (a network input, a file written by hand)
UNATTESTED = "unattested"
# sshd's authentication lines (Accepted, Failed, Invalid user, not allowed...) are
# written by its privileged monitor, always root: the preauth child's messages go
# through it. (Post-auth lines such as disconnections may come from the user's child.)
_ROOT_DAEMONS = _SSHD_COMMS

# rsyslog imuxsock ``SysSock.Annotate="on"`` (``ParseTrusted`` off) appends what the
# kernel says of the sending process (SCM_CREDENTIALS, /proc):
# `` @[_PID=1 _UID=0 _GID=0 _COMM=sshd _EXE=/usr/sbin/sshd _CMDLINE="sshd: ..."]``.
# _COMM is at most 15 characters; _EXE is a path (the sender's, if it runs its own copy);
# _CMDLINE is quoted with \" and \\ escaped.
_TRUSTED_MARK = " @[_PID="
_TRUSTED = re.compile(
    r" @\[_PID=(?P<pid>\d+) _UID=(?P<uid>\d+) _GID=\d+(?: _COMM=(?P<comm>\S{0,15}))?"
    r'(?: _EXE=(?P<exe>[^"]*?))?(?: _CMDLINE="(?:[^"\\]|\\.)*")?\]$'
)

# Syslog: classic ("Dec  5 02:41:20 host prog[pid]: msg") or RFC 3339 (rsyslog).
_SYSLOG = re.compile(
    r"^(?:(?P<classic>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)|(?P<iso>\d{4}-\d\d-\d\dT\S+))"
    r" (?P<host>\S+) (?P<prog>[\w./-]+)(?:\[(?P<pid>\d+)\])?: (?P<msg>.*)$"
)


def split_syslog(line: str, year: int | None) -> tuple[float, str, str, str, str]:
    """(time, host, program, pid, message) of a syslog line, or a journald JSON line
    (a daemon's name that journald's ``_COMM`` contradicts is no program's: empty)."""
    ts, host, prog, pid, msg, proof = read_syslog(line, year)
    return ts, host, "" if proof == FORGED else prog, pid, msg


def read_syslog(
    line: str, year: int | None, *, annotated: bool = False
) -> tuple[float, str, str, str, str, str]:
    """(time, host, program, pid, message, proof): :func:`read_attested` without the uid."""
    return read_attested(line, year, annotated=annotated)[:6]


def _contradicts(daemon: frozenset[str] | None, comm: str, exe: str) -> bool:
    """The kernel's name (or executable) of the sender is not the daemon's."""
    if daemon is None:
        return False
    # a daemon still running from a binary an upgrade replaced reads "/usr/sbin/sshd (deleted)"
    name = exe.removesuffix(" (deleted)").rsplit("/", 1)[-1]
    return bool(comm and comm not in daemon) or bool(exe and name not in daemon)


def read_attested(
    line: str, year: int | None, *, annotated: bool = False
) -> tuple[float, str, str, str, str, str, str]:
    """(time, host, program, pid, message, proof, uid) of a syslog line or journald record.

    ``uid`` is the sending process's user id as the kernel gave it (journald ``_UID``, or
    the trailer an annotating rsyslog appends), ``""`` when the line carries none.

    ``proof`` says what the program name rests on: :data:`PROVEN` (journald, whose
    ``_COMM`` is the kernel's name for the sending process, agrees with a daemon's
    name, or the name is no daemon's), :data:`FORGED` (journald's ``_COMM`` contradicts
    the daemon's name the record gives: ``logger -t sshd``; the program is the name
    given, which the line claims) or :data:`TAG` (a text syslog line: its TAG is
    whatever the sender wrote, and any local user may send ``logger -t sshd``).

    On a source declared ``annotated`` (``syslog_trusted_properties``) a text line's
    trailer is the relay's: it proves the name (:data:`PROVEN`, its ``_PID`` the PID) or
    contradicts it (:data:`FORGED`), and a line without one is :data:`UNATTESTED`.
    Elsewhere a trailer may be the sender's own text: it is believed only where it
    contradicts the name (a sender does not forge against itself). A trailer is read
    only when it is the line's only one (the message or ``_EXE`` may hold a false one)."""
    if line.startswith("{"):
        try:
            rec = loads(line)
            message = str(rec["MESSAGE"])
            ts = int(rec["__REALTIME_TIMESTAMP"]) / 1e6
        except (ValueError, KeyError, TypeError):
            raise LineError("not a journald JSON record (MESSAGE, __REALTIME_TIMESTAMP)") from None
        ident, comm = str(rec.get("SYSLOG_IDENTIFIER") or ""), str(rec.get("_COMM") or "")
        prog = ident or comm
        proof = PROVEN
        daemon = _DAEMON_COMMS.get(ident)
        exe = str(rec.get("_EXE") or "")
        uid = str(rec.get("_UID") or "")
        if _contradicts(daemon, comm, exe):
            # SYSLOG_IDENTIFIER is whatever the sender says (``logger -t sshd``, which
            # any local user may run); _COMM and _EXE are journald's, from the process
            proof = FORGED
        elif daemon is not None and not (comm or exe):
            # journald adds _COMM and _EXE to every local record; a daemon's record
            # with neither (a forwarded or hand-made export) proves nothing
            proof = UNATTESTED
        host = str(rec.get("_HOSTNAME", ""))
        return ts, host, prog, str(rec.get("_PID", "")), message, proof, uid
    m = _SYSLOG.match(line)
    if m is None:
        raise LineError("not a syslog line (timestamp host program[pid]: message)")
    classic = m["classic"]
    ts = parse_syslog_time(classic, year) if classic else parse_iso(m["iso"])
    prog, pid, msg = m["prog"], m["pid"] or "", m["msg"]
    marks = msg.count(_TRUSTED_MARK)
    trailer = _TRUSTED.search(msg) if marks == 1 else None
    if trailer is None:
        if marks and (annotated or marks > 1) and _DAEMON_COMMS.get(prog) is not None:
            # two trailers (one is the sender's: which is unknown), or one the relay
            # would not write: what the message says before them is a claim
            return ts, m["host"], prog, pid, msg[: msg.find(_TRUSTED_MARK)], FORGED, ""
        if annotated and _DAEMON_COMMS.get(prog) is not None:
            return ts, m["host"], prog, pid, msg, UNATTESTED, ""
        return ts, m["host"], prog, pid, msg, TAG, ""
    msg, uid = msg[: trailer.start()], trailer["uid"]
    if _contradicts(_DAEMON_COMMS.get(prog), trailer["comm"] or "", trailer["exe"] or ""):
        return ts, m["host"], prog, pid, msg, FORGED, uid
    if not annotated:
        return ts, m["host"], prog, pid, msg, TAG, uid
    return ts, m["host"], prog, trailer["pid"], msg, PROVEN, uid


# What a daemon's line becomes when its program name is not proven (see vouch).
PROGRAM_CLAIM, PROGRAM_FORGERY = "program_claim", "program_forgery"


def vouch(
    events: list[Event], prog: str, pid: str, proof: str, trusted: bool, uid: str = ""
) -> list[Event]:
    """A daemon's events as the daemon's only when its program name is proven.

    Proven: journald's ``_COMM`` agrees (:data:`PROVEN`), or a text syslog line (TAG)
    on a source declared ``trust_program_names``. Otherwise each event becomes an API
    Activity record of what the line claims: the user, address and host as written,
    operation :data:`PROGRAM_CLAIM`, ``claim`` ``program:<name>`` (never attributed:
    no principal, no baseline, no login rule). It is :data:`PROGRAM_FORGERY` (which
    ``program_name_forgery`` alerts on) when it looks like one: journald's ``_COMM``
    contradicts the name, the line has no PID (sshd and git-daemon always write one;
    ``logger -t sshd`` writes none), or an unproven line claims a successful logon.

    ``uid`` (the kernel's, when the line carries it): sshd's logons are written by its
    root monitor, so a logon line from any other user (``logger -i -t sshd`` run by
    alice, a process renamed sshd) is a forgery whatever else the line proves."""
    if not events:
        return events
    unprivileged = (
        uid not in ("", "0") and prog in _ROOT_DAEMONS and any(_logon(ev) for ev in events)
    )
    if not unprivileged and (proof == PROVEN or (proof == TAG and trusted and pid)):
        return events
    forged = proof == FORGED or not pid or unprivileged
    if not forged:
        for ev in events:
            if (
                ev.class_uid == CLS_AUTHENTICATION
                and ev.activity_id == LOGON
                and (ev.status == SUCCESS)
            ):
                forged = True
                break
    operation = PROGRAM_FORGERY if forged else PROGRAM_CLAIM
    return [
        Event(
            ev.time,
            CLS_API_ACTIVITY,
            API_CREATE,
            status=ev.status,
            user=ev.user,
            src_ip=ev.src_ip,
            host=ev.host,
            target=ev.target,
            object=ev.object,
            operation=operation,
            detail=f"{prog}: {ev.operation}"[:120],
            session=pid,
            claim=f"program:{prog}",
        )
        for ev in events
    ]


def _logon(ev: Event) -> bool:
    return ev.class_uid == CLS_AUTHENTICATION and ev.activity_id == LOGON


def json_records(value: Any) -> list[dict[str, Any]]:
    """The records of a JSON document: a list, ``{"Records": [...]}`` or one object."""
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    if isinstance(value, dict):
        records = value.get("Records")
        if isinstance(records, list):
            return [v for v in records if isinstance(v, dict)]
        return [value]
    raise LineError("a JSON value that is neither an object nor a list")


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _json_depth(line: str) -> int:
    """How many more brackets ``line`` opens than it closes (strings left out: a JSON
    string never spans lines)."""
    if '"' in line:
        line = _JSON_STRING.sub("", line)
    return line.count("{") + line.count("[") - line.count("}") - line.count("]")


class JsonParser(Parser):
    """Base for JSON sources: JSON lines, or a whole (pretty-printed) JSON document.

    A document spanning lines is parsed once, when its brackets close (counted line
    by line, strings left out). Trying it on every line that ends in ``}`` or ``]``
    was quadratic (4 MB of such lines cost 14 CPU seconds), and a document that never
    parsed (one junk line) swallowed every line after it."""

    def __init__(self, *, year: int | None = None) -> None:
        super().__init__(year=year)
        self._buf: list[str] = []
        self._size = 0
        self._depth = 0

    @abc.abstractmethod
    def record(self, rec: dict[str, Any]) -> Event | None: ...

    def _records(self, value: Any) -> list[Event]:
        out: list[Event] = []
        bad = 0
        for rec in json_records(value):
            try:
                ev = self.record(rec)
            except (KeyError, TypeError, ValueError):
                bad += 1
                continue
            if ev is not None:
                out.append(ev)
        if bad and not out:
            raise LineError(f"{bad} JSON record(s) lack the fields this source needs")
        return out

    def feed(self, line: str) -> list[Event]:
        text = line.strip()
        if not text and not self._buf:
            return []
        if not self._buf and text.startswith("{") and text.endswith("}"):
            try:
                value = loads(text)
            except ValueError:
                raise LineError("not valid JSON") from None
            return self._records(value)
        self._buf.append(line)
        self._size += len(line)
        if self._size > MAX_DOCUMENT:
            self._buf, self._size, self._depth = [], 0, 0
            raise LineError("a JSON document larger than 64 MB")
        self._depth += _json_depth(line)
        if self._depth > 0:
            return []
        text = "\n".join(self._buf)
        self._buf, self._size, self._depth = [], 0, 0
        try:
            value = loads(text)
        except (ValueError, RecursionError):
            raise LineError("not valid JSON") from None
        return self._records(value)

    def flush(self) -> list[Event]:
        if self._buf:
            self._buf, self._size, self._depth = [], 0, 0
            raise LineError("the input ends inside a JSON document")
        return []


_MARIADB_EXECUTABLE = re.compile(r"/\*M?!\d*")
_LEAD = re.compile(r"[ \t\r\n(]*")
_WORD = re.compile(r"[^\W\d]+")  # letters and "_"


def first_word(statement: str) -> str:
    """A MariaDB/MySQL statement's command word (see :func:`command_word`)."""
    return command_word(statement)[0]


def command_word(statement: str) -> tuple[str, bool]:
    """A MariaDB/MySQL statement's command word, upper case, after its leading
    comments; and whether a leading comment never ends (the log cut the statement:
    server_audit keeps ``server_audit_query_log_limit`` bytes).

    ``/* ... */`` comments are skipped as MariaDB reads them (they do not nest: the
    first ``*/`` ends one); executable comments (``/*!50000 ... */``, ``/*M!... */``)
    are statements, so their content is read. ``-- `` and ``#`` comments run to the end
    of a line, which server_audit's log no longer shows (line breaks become spaces):
    behind one the word is unknown (empty), as it is behind a comment the log cut.
    One pass over the statement, however many comments lead it (it was at most 64
    comments, after which the word was empty, and a copy of the rest per comment)."""
    n, i = len(statement), 0
    while True:
        i = _LEAD.match(statement, i).end()  # type: ignore[union-attr]
        if statement.startswith("/*", i):
            m = _MARIADB_EXECUTABLE.match(statement, i)
            if m is not None:
                i = m.end()
                continue
            end = statement.find("*/", i + 2)
            if end < 0:
                return "", True
            i = end + 2
            continue
        if statement.startswith("#", i) or (
            statement.startswith("--", i) and (i + 2 == n or statement[i + 2] in " \t\r\n")
        ):
            return "", False
        break
    m = _WORD.match(statement, i)
    return (m[0].upper() if m is not None else ""), False


# strip_comments: the next place a comment, a string or a quoted name can start
_PG_TOKENS = re.compile(r"--|/\*|[\'\"$]")
_MY_TOKENS = re.compile(r"/\*|[\'\"`]")
_PG_NESTING = re.compile(r"/\*|\*/")
_DOLLAR_TAG = re.compile(r"\$(?:[^\W\d$]\w*)?\$")
_IDENT_CHAR = re.compile(r"[\w$]")


def strip_comments(statement: str, *, dialect: str = "postgresql") -> str:
    """``statement`` with each comment replaced by one space, for storing and matching.

    PostgreSQL: ``--`` to the end of the line and ``/* */`` nested as PostgreSQL nests
    them; MariaDB (``dialect="mariadb"``): ``/* */`` not nested, executable comments
    (``/*! */``) kept, and ``-- ``/``#`` comments kept (server_audit's log has lost the
    line break that ends them). Strings (``'...'``, PostgreSQL's ``E'...'`` and
    ``$tag$...$tag$``, MariaDB's backslash escapes) and quoted names are skipped, so a
    comment marker inside one is text. What cannot be read to its end (a string or
    comment the log cut) is kept as it is: a mistake here may keep a comment, never
    hide a statement. One pass: linear in the statement's length."""
    mysql = dialect == "mariadb"
    if "/*" not in statement and (mysql or "--" not in statement):
        return statement
    tokens = _MY_TOKENS if mysql else _PG_TOKENS
    out: list[str] = []
    keep, i, n = 0, 0, len(statement)
    while True:
        m = tokens.search(statement, i)
        if m is None:
            break
        tok, at = m[0], m.start()
        if tok == "--":
            end = statement.find("\n", at + 2)
            out += (statement[keep:at], " ")
            if end < 0:
                keep = i = n
                break
            keep = i = end
        elif tok == "/*":
            if mysql:
                if statement.startswith(("/*!", "/*M!"), at):
                    i = at + 3
                    continue
                end = statement.find("*/", at + 2)
                if end < 0:
                    break
                end += 2
            else:
                depth, j, end = 1, at + 2, -1
                while True:
                    c = _PG_NESTING.search(statement, j)
                    if c is None:
                        break
                    depth += 1 if c[0] == "/*" else -1
                    j = c.end()
                    if depth == 0:
                        end = j
                        break
                if end < 0:
                    break
            out += (statement[keep:at], " ")
            keep = i = end
        elif tok == "$":
            d = _DOLLAR_TAG.match(statement, at)
            if d is None or (at and _IDENT_CHAR.match(statement, at - 1)):
                i = at + 1  # a parameter ($1) or part of a name (a$b)
                continue
            end = statement.find(d[0], d.end())
            if end < 0:
                break
            i = end + len(d[0])
        else:  # a string or a quoted name: to its closing quote
            escapes = mysql or (
                tok == "'"
                and at > 0
                and statement[at - 1] in "eE"
                and not (at > 1 and _IDENT_CHAR.match(statement, at - 2))
            )
            j = at + 1
            while True:
                end = statement.find(tok, j)
                if end < 0:
                    break
                if escapes:
                    k = end  # the quote is escaped when an odd run of backslashes precedes it
                    while k > j and statement[k - 1] == "\\":
                        k -= 1
                    if (end - k) % 2:
                        j = end + 1
                        continue
                if statement.startswith(tok * 2, end):  # '' or "" inside
                    j = end + 2
                    continue
                break
            if end < 0:
                break
            i = end + 1
    if not out:
        return statement
    out.append(statement[keep:])
    return "".join(out)


_LITERAL = re.compile(r"'(?:[^'\\]|''|\\.)*'|\$\$.*?\$\$", re.DOTALL)
# A number not inside a word: ``(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])``, written to start
# with the character it matches (a pattern that starts with a look-behind is tried at
# every position; this one is a third faster, same matches: tests/monitoring/ingest).
_NUMBER = re.compile(r"(?:-(?<![\w.]-)\d+|\d(?<![\w.]\d)\d*)(?:\.\d+)?(?![\w.])")


# Bytes that can start a number match ('-' or an ASCII digit) -> NUL, for a C-speed
# scan to the first place the number pattern can match (the regex engine tries every
# position at ~10 ns a character).
_NUMBER_START = bytes.maketrans(b"-0123456789", bytes(11))


# Names of logging and auditing settings (and the functions and views that change a
# setting named in a literal). A redacted, truncated statement may no longer show them:
# see settings_named.
_SETTING_WORDS = re.compile(
    r"pgaudit(?:\.\w+)?|log_connections|log_disconnections|log_statement\w*|logging_collector"
    r"|log_destination|log_min_messages|shared_preload_libraries|server_audit\w*|general_log\w*"
    r"|set_config|pg_settings",
)  # matched on the lower-cased statement
_UESCAPE = re.compile(r"uescape\s*'(.)'", re.IGNORECASE)
MAX_NAMED = 8


def _decode_unicode_escapes(text: str) -> str:
    """PostgreSQL's ``U&"..."`` escapes (``\\0061``, ``\\+000061``, or the character
    a ``UESCAPE '!'`` names) decoded, for matching only. One pass whatever the number of
    escape characters named (a pass per character was quadratic: a statement of many
    ``UESCAPE`` clauses with different characters cost a pass over itself for each)."""
    chars = "".join(sorted({"\\", *_UESCAPE.findall(text)}))
    e = "[" + "".join(re.escape(c) for c in chars) + "]"

    def one(m: re.Match[str]) -> str:
        code = int(m[1] or m[2], 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else m[0]

    return re.sub(e + r"(?:\+([0-9a-fA-F]{6})|([0-9a-fA-F]{4}))", one, text)


def settings_named(statement: str, shown: str) -> str:
    """`` [names: pgaudit.log, ...]`` for the logging and auditing settings (and
    ``set_config``/``pg_settings``) that ``statement`` names but ``shown``, its redacted
    and truncated form, does not show; else empty.

    Without it, a statement that switches auditing off escapes the rules that read
    the stored statement by a trivial spelling: the setting named in a literal
    (``set_config('pgaudit.log', ...)``, which redaction hides), behind a long comment
    or another statement (cut at 400 characters), or Unicode-escaped
    (``U&"pg\\0061udit.log"``). The names are no personal data."""
    probe = _decode_unicode_escapes(statement) if "&" in statement else statement
    low = probe.lower()
    # Most statements name none: a substring test (C speed) per word before the pattern.
    if not (
        "pgaudit" in low
        or "log_" in low
        or "logging_collector" in low
        or "shared_preload" in low
        or "server_audit" in low
        or "general_log" in low
        or "set_config" in low
        or "pg_settings" in low
    ):
        return ""
    shown_low = shown.lower()
    missing: list[str] = []
    for m in _SETTING_WORDS.finditer(low):
        word = m[0][:64]
        if word not in shown_low and word not in missing:
            missing.append(word)
            if len(missing) == MAX_NAMED:
                break
    return f" [names: {', '.join(missing)}]" if missing else ""


def redact_statement(statement: str, limit: int = 400) -> str:
    """A statement with every literal replaced by ``?`` (no secrets, no personal data)."""
    # A literal starts with ' or $$: a statement with neither has none to replace.
    if "'" in statement or "$" in statement:
        statement = _LITERAL.sub("'?'", statement)
    if statement.isascii():
        # The number pattern needs one character before a match (its look-behind),
        # so the text before that is kept as it is (a NUL in it only starts earlier).
        start = statement.encode().translate(_NUMBER_START).find(0)
        if start < 0:
            out = statement
        elif start > 1:
            out = statement[: start - 1] + _NUMBER.sub("?", statement[start - 1 :])
        else:
            out = _NUMBER.sub("?", statement)
    else:  # \d and \w are Unicode classes: other digits are numbers too
        out = _NUMBER.sub("?", statement)
    out = " ".join(out.split())
    return out if len(out) <= limit else out[:limit] + "..."


__all__ = [
    "MAX_LINE",
    "PROGRAM_CLAIM",
    "PROGRAM_FORGERY",
    "JsonParser",
    "LineError",
    "Parser",
    "command_word",
    "csv_fields",
    "first_word",
    "json_records",
    "loads",
    "parse_iso",
    "parse_syslog_time",
    "parser_for",
    "parser_names",
    "read_syslog",
    "redact_statement",
    "register",
    "settings_named",
    "split_syslog",
    "strip_comments",
    "vouch",
]
