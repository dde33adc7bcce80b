"""PostgreSQL server logs: stderr (``%m [%p] `` prefixes), csvlog and jsonlog.

Recognised: ``connection received`` (remembered per process for the client
address), ``connection authorized`` (logon), ``disconnection`` (logoff),
authentication failures (FATAL ``password authentication failed``, ``no pg_hba.conf
entry``, ``role ... does not exist``, ``database ... does not exist``) and pgaudit
``AUDIT:`` lines (datastore activity on the audited object). Statements are stored
with every literal replaced by ``?``.
"""

from __future__ import annotations

import csv
import re
from typing import Any

import orjson

from stagewall.monitoring.events import (
    CLS_AUTHENTICATION,
    CLS_DATASTORE_ACTIVITY,
    DS_CREATE,
    DS_DELETE,
    DS_QUERY,
    DS_READ,
    DS_UPDATE,
    DS_WRITE,
    FAILURE,
    LOGOFF,
    LOGON,
    SUCCESS,
    Event,
)
from stagewall.monitoring.ingest._base import (
    MAX_LINE,
    LineError,
    Parser,
    csv_fields,
    loads,
    parse_iso,
    redact_statement,
    register,
    settings_named,
    strip_comments,
)

# Appended to a statement that was not read whole: the rule statement_not_inspected
# reports it (rules matching the statement cannot vouch for what they did not see).
NOT_INSPECTED = " [not inspected: statement longer than 1 MB]"

_RECEIVED = re.compile(r"^connection received: host=(\S+)(?: port=(\d+))?")
_AUTHORIZED = re.compile(r"^(?:replication )?connection authorized: user=(\S+)(?: database=(\S+))?")
_DISCONNECT = re.compile(
    r"^disconnection: session time: \S+ user=(\S+) database=(\S+) host=(\S+)(?: port=\d+)?"
)
_FAILURES = (
    re.compile(r'^password authentication failed for user "([^"]*)"'),
    re.compile(
        r"^no pg_hba\.conf entry for (?:replication connection from )?"
        r'host "([^"]*)", user "([^"]*)"(?:, database "([^"]*)")?'
    ),
    re.compile(r'^role "([^"]*)" does not exist'),
    re.compile(r'^database "([^"]*)" does not exist'),
    re.compile(
        r"^(?:Ident|Peer|LDAP|RADIUS|PAM|certificate|GSSAPI|SSPI) "
        r'authentication failed for user "([^"]*)"'
    ),
)
_STDERR = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?(?: ?(?:[A-Z]{2,5}|[+-]\d\d(?::?\d\d)?))?)"
    r"\s.*?\[(?P<pid>\d+)\](?P<mid>.*?)\b"
    r"(?P<sev>LOG|FATAL|ERROR|WARNING|PANIC|DETAIL|HINT|STATEMENT|CONTEXT|NOTICE|INFO|DEBUG\d?):  "
    r"(?P<msg>.*)$"
)
_PREFIX_USER = re.compile(r"(?:^|\s)([^\s@\[]+)@(\S+)")
_PREFIX_HOST = re.compile(r"(?:^|\s)([0-9a-fA-F.:]+)\(\d+\)")
# pgaudit class -> activity; command refines WRITE and DDL.
_AUDIT_CLASS = {"READ": DS_READ, "WRITE": DS_WRITE, "DDL": DS_CREATE, "ROLE": DS_UPDATE}
_COMMAND = {
    "UPDATE": DS_UPDATE,
    "DELETE": DS_DELETE,
    "TRUNCATE TABLE": DS_DELETE,
    "INSERT": DS_WRITE,
    "COPY": DS_READ,
    "SELECT": DS_READ,
}

_CSV_START = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [A-Z]{2,5}| ?[+-]\d\d(?::?\d\d)?)?,"
)
_CSV_FIELDS = 23  # PG13: 23 columns; PG14+ 26
# The head of a csvlog or jsonlog record longer than 1 MB, up to its message (field 14;
# jsonlog's "message" member, after the members PostgreSQL writes first), and the
# message's characters as far as they go (possessive: one pass, no backtracking).
_CSV_HEAD = re.compile(r'(?:(?:"(?:[^"]|"")*+"|[^,"\n]*+),){13}"')
_CSV_TEXT = re.compile(r'(?:[^"]|"")*+')
_JSON_HEAD = re.compile(
    r'\{\s*(?:"(?:[^"\\]|\\.)*+"\s*:\s*(?:"(?:[^"\\]|\\.)*+"|[-+.\w]++)\s*,\s*)*?'
    r'(?P<key>"message"\s*:\s*")'
)
_JSON_TEXT = re.compile(r'(?:[^"\\]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*+')
_NOT_JSONLOG = "not a jsonlog record (timestamp, error_severity, message)"
_orjson_loads = orjson.loads


def _csv_host(conn_from: str) -> str:
    """csvlog's connection_from (``host:port``, ``[local]``) -> the client address."""
    host = conn_from.rsplit(":", 1)[0] if ":" in conn_from else conn_from
    return host if host != "[local]" else "local"


@register
class PostgresParser(Parser):
    name = "postgresql"

    def __init__(self, *, year: int | None = None) -> None:
        super().__init__(year=year)
        self._pending: list[str] = []  # the lines of a csvlog record still open
        self._pending_size = 0
        self._pending_odd = 0  # 1 while the record's quotes are unbalanced
        self._hosts: dict[str, str] = {}  # pid -> client address from "connection received"
        # A stderr pgaudit line whose quoted statement goes on in tab-indented lines:
        # (time, pid, user, db, host, the message's lines so far, their length).
        self._open: tuple[float, str, str, str, str, list[str]] | None = None
        self._open_size = 0
        self._open_odd = 0
        self._cut = False  # the statement being read was cut at 1 MB
        # The rest of a csvlog pgaudit record cut at 1 MB is skipped until its quotes
        # close: read afresh, a statement's line could be a forged record.
        self._skipping = False

    def feed(self, line: str) -> list[Event]:
        if self._skipping:
            if line.count('"') & 1:
                self._skipping = False
            return []
        if self._open is not None:
            if line[:1] == "\t":
                if self._open_size + len(line) <= MAX_LINE:
                    return self._continue_audit(line[1:])
                self._cut = True  # a statement past 1 MB: its event says so
            # the next record (or a statement past 1 MB): the audit event with what
            # it has, never dropped
            return self._close_audit() + self.feed(line)
        if len(line) > MAX_LINE:
            self._pending, self._pending_size, self._pending_odd = [], 0, 0
            if line[:1] == "{" or _CSV_START.match(line):
                return self._record_cut(line[:MAX_LINE], "a line longer than 1 MB")
            if not self._audit_head(line):
                raise LineError("a line longer than 1 MB")
            # A pgaudit stderr line is read up to 1 MB: its time, process, class,
            # command and object come first. Refused whole, it let anyone who can run
            # SQL hide a statement from every rule by padding it; read in part, the
            # statement's rest went unseen: the event says it was not inspected.
            self._cut = True
            try:
                return self._stderr(line[:MAX_LINE])
            finally:
                if self._open is None:
                    self._cut = False
        if self._pending:
            # Quote parity and size kept as lines come, the record joined once: joining
            # it again on every line was quadratic (an 8 MB post of lines after an
            # unbalanced quote cost 12.7 CPU seconds, under the lock all ingest shares).
            self._pending.append(line)
            self._pending_size += len(line) + 1
            self._pending_odd ^= line.count('"') & 1
            if self._pending_odd:
                if self._pending_size > MAX_LINE:
                    text = "\n".join(self._pending)[:MAX_LINE]
                    self._pending, self._pending_size = [], 0
                    events = self._record_cut(
                        text, "a csvlog record longer than 1 MB (or an unbalanced quote)"
                    )
                    self._skipping = True  # a pgaudit record: its rest is its statement's
                    return events
                return []
            text = "\n".join(self._pending)
            self._pending, self._pending_size = [], 0
            return self._csv(text)
        if not line.strip():
            return []
        first = line[0]
        if first == "{":
            return self._json(line)
        if first.isdigit() and len(line) > 24:
            if _CSV_START.match(line):
                if line.count('"') % 2:
                    self._pending, self._pending_size, self._pending_odd = [line], len(line), 1
                    return []
                return self._csv(line)
            return self._stderr(line)
        if first in " \t":
            return []  # continuation of a multi-line stderr message
        raise LineError("not a PostgreSQL log line (stderr, csvlog or jsonlog)")

    # -- formats ----------------------------------------------------------------

    def _json(self, line: str) -> list[Event]:
        # Fast path: orjson's record whose fields read here are strings (the pid an
        # integer), as PostgreSQL writes them. Those values are what json.loads gives
        # too, so a float elsewhere in the record (orjson's reading of a huge integer,
        # see loads) cannot change an event and is not looked for. Anything else takes
        # the general path below. (One difference, on input PostgreSQL does not write:
        # a field it does not read nested ~1000-1023 deep was a parser failure, the
        # RecursionError of loads' float search; the record's event is now read.)
        try:
            rec = _orjson_loads(line)
        except orjson.JSONDecodeError:
            return self._json_general(line)
        get = rec.get
        ts_text, sev, msg = get("timestamp"), get("error_severity"), get("message", "")
        user, db = get("user") or "", get("dbname") or ""
        host, session, pid = get("remote_host") or "", get("session_id") or "", get("pid", "")
        if (
            type(ts_text) is not str
            or type(sev) is not str
            or type(msg) is not str
            or type(user) is not str
            or type(db) is not str
            or type(host) is not str
            or type(session) is not str
            or (type(pid) is not int and type(pid) is not str)
        ):
            return self._json_general(line)
        try:
            ts = parse_iso(ts_text)
        except LineError:
            raise LineError(_NOT_JSONLOG) from None
        if sev == "LOG" and msg.startswith("AUDIT: "):
            if not host:
                host = self._hosts.get(str(pid), "")
            return [self._audit(ts, msg[7:], user, db, host, session)]
        return self._message(ts, str(pid), sev, msg, user, db, host, session)

    def _json_general(self, line: str) -> list[Event]:
        try:
            rec: dict[str, Any] = loads(line)
            ts = parse_iso(str(rec["timestamp"]))
            msg = str(rec.get("message", ""))
            sev = str(rec["error_severity"])
        except (ValueError, KeyError, TypeError):
            raise LineError(_NOT_JSONLOG) from None
        host = rec.get("remote_host")
        return self._message(
            ts,
            str(rec.get("pid", "")),
            sev,
            msg,
            str(rec.get("user") or ""),
            str(rec.get("dbname") or ""),
            str(host) if host else "",
            str(rec.get("session_id") or ""),
        )

    def _csv(self, text: str) -> list[Event]:
        try:
            row = csv_fields(text)
        except csv.Error:
            raise LineError("not a csvlog record") from None
        if len(row) < _CSV_FIELDS:
            raise LineError(f"a csvlog record with {len(row)} fields (expected 23 to 26)")
        return self._message(
            parse_iso(row[0]), row[3], row[11], row[13], row[1], row[2], _csv_host(row[4]), row[5]
        )

    def _stderr(self, line: str) -> list[Event]:
        m = _STDERR.match(line)
        if m is None:
            raise LineError("a PostgreSQL stderr line without a '[pid]' and 'LEVEL:  ' part")
        mid = m["mid"]
        user = db = host = ""
        if mid.strip():
            um = _PREFIX_USER.search(mid)
            if um:
                user, db = um[1], um[2]
            hm = _PREFIX_HOST.search(mid)
            if hm:
                host = hm[1]
            # %u in the prefix is the name the client sent ("x 10.0.0.1(1)" on a failed
            # login): the address the server wrote on this process's "connection
            # received" line wins over whatever the prefix seems to hold.
            known = self._hosts.get(m["pid"])
            if known:
                host = known
        msg = m["msg"]
        if m["sev"] == "LOG" and msg.startswith("AUDIT: ") and msg.count('"') % 2:
            # PostgreSQL's stderr goes on with a multi-line message (a statement with a
            # line break, which pgaudit quotes) in lines that start with a tab: the
            # statement is read whole, or "ALTER SYSTEM SET<newline>pgaudit.log = ..."
            # would be stored (and judged) as "ALTER SYSTEM SET".
            self._open = (parse_iso(m["ts"]), m["pid"], user, db, host, [msg])
            self._open_size, self._open_odd = len(msg), 1
            return []
        return self._message(parse_iso(m["ts"]), m["pid"], m["sev"], msg, user, db, host, "")

    def _record_cut(self, head: str, reason: str) -> list[Event]:
        """A csvlog or jsonlog record longer than 1 MB, from its first 1 MB (``head``):
        a pgaudit record makes its event, marked not inspected when its message was cut
        (as a stderr pgaudit line past 1 MB is; padding a statement must not hide it);
        anything else is malformed (``reason``)."""
        if head[:1] == "{":
            m = _JSON_HEAD.match(head)
            if m is None:
                raise LineError(reason)
            try:
                rec = loads(head[: m.start("key")].rstrip().rstrip(",") + "}")
            except ValueError:
                raise LineError(reason) from None
            t = _JSON_TEXT.match(head, m.end())
            raw = t[0] if t is not None else ""
            whole = head[m.end() + len(raw) : m.end() + len(raw) + 1] == '"'
            try:
                msg = loads(f'"{raw}"')
            except ValueError:
                raise LineError(reason) from None
            fields = [rec.get(k) for k in ("timestamp", "pid", "error_severity")]
            fields += [rec.get(k) or "" for k in ("user", "dbname", "remote_host", "session_id")]
            if not all(isinstance(f, str | int) for f in fields):
                raise LineError(reason)
            ts_text, pid, sev, user, db, host, session = (str(f) for f in fields)
        else:
            m = _CSV_HEAD.match(head)
            if m is None:
                raise LineError(reason)
            row = csv_fields(head[: m.end() - 2])
            t = _CSV_TEXT.match(head, m.end())
            raw = t[0] if t is not None else ""
            # a '"' closes the message unless it is the last character read (the first
            # of a doubled '""' cut in two, perhaps)
            whole = len(head) > m.end() + len(raw) + 1
            msg = raw.replace('""', '"')
            if len(row) != 13:
                raise LineError(reason)
            host = _csv_host(row[4])
            ts_text, pid, sev, user, db, session = row[0], row[3], row[11], row[1], row[2], row[5]
        if sev != "LOG" or not msg.startswith("AUDIT: "):
            raise LineError(reason)
        self._cut = not whole
        try:
            return self._message(parse_iso(ts_text), pid, sev, msg, user, db, host, session)
        finally:
            self._cut = False

    @staticmethod
    def _audit_head(line: str) -> bool:
        """Whether ``line`` starts like a stderr pgaudit line (in its first 4 KB)."""
        head = line[:4096]
        if not head[:1].isdigit() or _CSV_START.match(head):
            return False
        m = _STDERR.match(head.split("\n", 1)[0] + "\n")
        return m is not None and m["sev"] == "LOG" and m["msg"].startswith("AUDIT: ")

    def _continue_audit(self, text: str) -> list[Event]:
        if self._open is None:  # pragma: no cover - feed checks
            return []
        self._open[5].append(text)
        self._open_size += len(text) + 1
        self._open_odd ^= text.count('"') & 1  # kept as lines come: no re-count
        if self._open_odd:
            return []
        return self._close_audit()

    def _close_audit(self) -> list[Event]:
        if self._open is None:
            return []
        ts, pid, user, db, host, lines = self._open
        self._open, self._open_size = None, 0
        try:
            return self._message(ts, pid, "LOG", "\n".join(lines), user, db, host, "")
        finally:
            self._cut = False

    def flush(self) -> list[Event]:
        self._skipping = False
        if self._pending:  # a body is complete: its last record cannot go on in the next
            self._pending, self._pending_size, self._pending_odd = [], 0, 0
            raise LineError("the input ends inside a csvlog record")
        return self._close_audit()

    # -- messages ---------------------------------------------------------------

    def _message(
        self, ts: float, pid: str, sev: str, msg: str, user: str, db: str, host: str, session: str
    ) -> list[Event]:
        if sev == "LOG":
            if msg.startswith("AUDIT: "):
                return [
                    self._audit(ts, msg[7:], user, db, host or self._hosts.get(pid, ""), session)
                ]
            if msg.startswith("connection received"):
                m = _RECEIVED.match(msg)
                if m:
                    if len(self._hosts) >= self.MAX_SESSIONS:
                        self._hosts.clear()
                    self._hosts[pid] = m[1]
                return []
            if msg.startswith(("connection authorized", "replication connection authorized")):
                m = _AUTHORIZED.match(msg)
                if m is None:
                    raise LineError("a 'connection authorized' line without user=")
                activity, operation = LOGON, "connect"
                target, src_ip = m[2] or db, host or self._hosts.get(pid, "")
            elif msg.startswith("disconnection:"):
                m = _DISCONNECT.match(msg)
                self._hosts.pop(pid, None)
                if m is None:
                    raise LineError("a 'disconnection' line without user=, database=, host=")
                activity, operation = LOGOFF, "disconnect"
                target, src_ip = m[2], m[3] if m[3] != "[local]" else "local"
            else:
                return []
            # positional, in Event's field order (as in _audit)
            return [
                Event(
                    ts,
                    CLS_AUTHENTICATION,
                    activity,
                    SUCCESS,
                    m[1],  # user
                    src_ip,
                    "",  # host
                    target,
                    "",  # object
                    operation,
                    0,  # bytes
                    0,  # rows
                    "",  # detail
                    session or pid,
                )
            ]
        if sev == "FATAL":
            return self._failure(ts, pid, msg, user, db, host, session)
        return []

    def _failure(
        self, ts: float, pid: str, msg: str, user: str, db: str, host: str, session: str
    ) -> list[Event]:
        for i, pattern in enumerate(_FAILURES):
            m = pattern.match(msg)
            if m is None:
                continue
            if i == 1:
                host, user, db = m[1], m[2], m[3] or db
            elif i == 3:
                db = m[1]
            else:
                user = m[1]
            return [
                Event(
                    ts,
                    CLS_AUTHENTICATION,
                    LOGON,
                    status=FAILURE,
                    user=user,
                    target=db,
                    src_ip=host or self._hosts.pop(pid, ""),
                    operation="connect",
                    detail=msg.split(" for ")[0][:80] if i != 3 else "database does not exist",
                    session=session or pid,
                )
            ]
        return []

    def _audit(self, ts: float, body: str, user: str, db: str, host: str, session: str) -> Event:
        parts = body.split(",", 7)
        if len(parts) < 7 or parts[0] not in ("SESSION", "OBJECT"):
            raise LineError("a pgaudit line that is not AUDIT: SESSION|OBJECT,id,id,CLASS,...")
        klass, command, obj = parts[3], parts[4], parts[6]
        activity = _COMMAND.get(command) or _AUDIT_CLASS.get(klass, DS_QUERY)
        if klass == "DDL":
            verb = command.split(" ", 1)[0]
            activity = {"ALTER": DS_UPDATE, "DROP": DS_DELETE}.get(verb, DS_CREATE)
        statement = parts[7] if len(parts) > 7 else ""
        if statement.endswith(",<not logged>"):  # pgaudit's parameter column
            statement = statement[:-13]
        elif statement.endswith(",<none>"):
            statement = statement[:-7]
        if statement.startswith('"') and statement.endswith('"'):
            statement = statement[1:-1].replace('""', '"')
        # Comments are not stored (nor matched): padding a statement with one cannot
        # push what it does out of the stored 400 characters. The setting names are
        # looked for in the statement as written, comments and all.
        detail = redact_statement(strip_comments(statement))
        if self._cut:
            detail += NOT_INSPECTED
        # Positional, in Event's field order (time .. session): a third cheaper than
        # keywords on the busiest path (tests/monitoring/test_events.py pins the order).
        return Event(
            ts,
            CLS_DATASTORE_ACTIVITY,
            activity,
            SUCCESS,
            user,
            host,  # src_ip
            "",  # host
            db,  # target
            obj.strip('"'),  # object
            command,  # operation
            0,  # bytes
            0,  # rows
            detail + settings_named(statement, detail),
            session,
        )


__all__ = ["PostgresParser"]
