"""MariaDB ``server_audit`` plugin log (file output).

``timestamp,serverhost,username,host,connectionid,queryid,operation,database,object,retcode``
with the timestamp ``YYYYMMDD HH:MM:SS`` (the server's clock, read as UTC), the
object quoted with ``'`` and ``\\`` escapes, and (MariaDB 12) ``host:port``.
CONNECT/FAILED_CONNECT/DISCONNECT become authentication events; QUERY and the
table events (READ, WRITE, CREATE, ALTER, DROP, RENAME) datastore activity.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime

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
    command_word,
    csv_fields,
    redact_statement,
    register,
    settings_named,
    strip_comments,
)

# Appended to a statement whose command the log cut off (a leading comment that never
# ends: server_audit keeps server_audit_query_log_limit bytes, 1024 by default).
NOT_INSPECTED = " [not inspected: the log cut the statement inside a leading comment]"

_TABLE_OPS = {
    "READ": DS_READ,
    "WRITE": DS_WRITE,
    "CREATE": DS_CREATE,
    "ALTER": DS_UPDATE,
    "DROP": DS_DELETE,
    "RENAME": DS_UPDATE,
}
_QUERY_ACTIVITY = {
    "SELECT": DS_READ,
    "INSERT": DS_WRITE,
    "REPLACE": DS_WRITE,
    "UPDATE": DS_UPDATE,
    "DELETE": DS_DELETE,
    "CREATE": DS_CREATE,
    "DROP": DS_DELETE,
    "ALTER": DS_UPDATE,
}


_DAYS: dict[str, int] = {}  # "YYYYMMDD" -> epoch seconds at 00:00 UTC
_MINUTES: dict[str, int] = {}  # "HH:MM" -> seconds since 00:00 (checked ones only)


def _time(text: str) -> float:
    day = _DAYS.get(text[:8])
    if day is None:
        try:
            day = round(_parse_time(text[:8] + " 00:00:00"))
        except LineError:
            return _parse_time(text)  # raises, naming the whole timestamp
        if len(_DAYS) > 65536:
            _DAYS.clear()
        _DAYS[text[:8]] = day
    # Any part that int() refuses or that is out of range: datetime decides (and names it).
    minute = _MINUTES.get(text[9:14])
    if minute is None:
        try:
            h, m = int(text[9:11]), int(text[12:14])
        except ValueError:
            return _parse_time(text)
        if not (0 <= h < 24 and 0 <= m < 60):
            return _parse_time(text)
        if len(_MINUTES) > 65536:
            _MINUTES.clear()
        minute = _MINUTES[text[9:14]] = h * 3600 + m * 60
    try:
        s = int(text[15:17])
    except ValueError:
        return _parse_time(text)
    if not 0 <= s < 60:
        return _parse_time(text)
    return float(day + minute + s)


def _parse_time(text: str) -> float:
    try:
        return datetime(
            int(text[0:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[9:11]),
            int(text[12:14]),
            int(text[15:17]),
            tzinfo=UTC,
        ).timestamp()
    except ValueError:
        raise LineError(
            f"{text[:17]!r} is not a server_audit timestamp (YYYYMMDD HH:MM:SS)"
        ) from None


@register
class MariaDBParser(Parser):
    name = "mariadb"

    def feed(self, line: str) -> list[Event]:
        if len(line) > MAX_LINE:
            raise LineError("a line longer than 1 MB")
        if not line.strip():
            return []
        try:
            row = csv_fields(line, "'", "\\")
        except csv.Error:
            raise LineError("not a server_audit record") from None
        if len(row) < 10:
            raise LineError(f"a server_audit record with {len(row)} fields (expected 10)")
        if len(row) > 10:  # an unquoted object with commas: rejoin the middle
            row = [*row[:8], ",".join(row[8:-1]), row[-1]]
        ts = _time(row[0])
        server, user, host, conn_id, _qid, op, db, obj, retcode = row[1:10]
        if ":" in host and host.count(":") == 1:
            host = host.split(":", 1)[0]
        failed = retcode not in ("", "0")
        status = FAILURE if failed else SUCCESS
        obj_name = detail = ""
        if op in ("CONNECT", "FAILED_CONNECT", "CHANGEUSER"):
            cls, activity, operation = CLS_AUTHENTICATION, LOGON, "connect"
            status = FAILURE if op == "FAILED_CONNECT" or failed else SUCCESS
            detail = f"error {retcode}" if status == FAILURE else ""
        elif op == "DISCONNECT":
            cls, activity, operation, status = CLS_AUTHENTICATION, LOGOFF, "disconnect", SUCCESS
        elif op == "QUERY":
            operation, cut = command_word(obj)
            cls, activity = CLS_DATASTORE_ACTIVITY, _QUERY_ACTIVITY.get(operation, DS_QUERY)
            detail = redact_statement(strip_comments(obj, dialect="mariadb"))
            if cut:  # statement_not_inspected reports it
                detail += NOT_INSPECTED
            detail += settings_named(obj, detail)
        else:
            table_activity = _TABLE_OPS.get(op)
            if table_activity is None:
                return []
            cls, activity, operation, obj_name = CLS_DATASTORE_ACTIVITY, table_activity, op, obj
        # Positional, in Event's field order (time .. session; see postgres._audit).
        return [
            Event(
                ts,
                cls,
                activity,
                status,
                user,
                host,  # src_ip
                server,  # host
                db,  # target
                obj_name,  # object
                operation,
                0,  # bytes
                0,  # rows
                detail,
                conn_id,  # session
            )
        ]


__all__ = ["MariaDBParser"]
