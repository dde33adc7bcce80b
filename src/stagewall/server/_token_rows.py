"""Recording and alerting a refused token row, at most once per row per window.

A bearer token whose store row the server did not make (SW973), that changed since
(SW974) or that was put back after its revocation (SW868) is evidence that someone
wrote the control-plane store. The server refuses it (stagewall.identity.tokens) and,
here, records ``identity.token.row_refused`` in the audit log and raises a critical
``identity.token.row_refused`` alert. A step-up window row the server did not seal
(SW869, stagewall.identity.stepup), a passkey challenge it did not seal (SW871) or
one set back to unused after it was spent (SW947) is reported the same way, through the
actor's ``row_report``; an invitation link set back to unused (SW948) through the
``report`` its route gives. Whoever planted the row can present its token in
a loop, or plant many rows: each row is reported once per :data:`WINDOW` (a later
presentation of it within the window is only counted), and at most :data:`MAX_PER_WINDOW`
rows are reported per window in all; the next report carries the count of those left
unreported, so nothing is silently lost. The budget is this process's (several
instances each keep their own). No secret, digest or MAC of the row is recorded: the
event and alert go through the one redaction path (AccessContext.record and .alert).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from stagewall.alerts import Alert, Severity
from stagewall.audit import Status
from stagewall.errors import StagewallError
from stagewall.identity._events import TOKEN_ROW_REFUSED
from stagewall.identity._seal import RefusedRow, RowReport
from stagewall.redact import redact

if TYPE_CHECKING:
    from stagewall.server._state import ServerState

WINDOW = timedelta(minutes=15)
MAX_PER_WINDOW = 20  # rows reported per window, across all rows
MAX_ROWS = 10_000  # rows remembered; the least recently reported are forgotten beyond it
ACTOR = "stagewall"  # the server found it; the row's principal is whatever its writer chose

_log = logging.getLogger("stagewall.server")


class RowAlarm:
    """Which refused rows were reported when, and how many reports were held back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: OrderedDict[tuple[str, str], datetime] = OrderedDict()
        self._window_start: datetime | None = None
        self._in_window = 0
        self._held = 0

    def admit(self, row: RefusedRow, now: datetime) -> int | None:
        """None if ``row`` is not to be reported now; else how many reports were held
        back since the last one made (to say in this one)."""
        return self.admit_key((row.table, row.row_id), now)

    def admit_key(self, key: tuple[str, str], now: datetime) -> int | None:
        """:meth:`admit` for any finding named by ``key`` (e.g. a promotion and what is
        wrong with its rows)."""
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < WINDOW:
                self._held += 1
                return None
            if self._window_start is None or now - self._window_start >= WINDOW:
                self._window_start, self._in_window = now, 0
            if self._in_window >= MAX_PER_WINDOW:
                self._held += 1
                return None
            self._in_window += 1
            self._last[key] = now
            self._last.move_to_end(key)
            while len(self._last) > MAX_ROWS:
                self._last.popitem(last=False)
            held, self._held = self._held, 0
            return held


def row_reporter(
    state: ServerState,
    *,
    source: str | None,
    user_agent: str | None,
    secret: str,
) -> RowReport:
    """The ``report`` a token check is given for one request: records and alerts a
    refused row (rate-limited by ``state.row_alarm``); never raises."""

    def report(row: RefusedRow) -> None:
        try:
            _report(state, row, source=source, user_agent=user_agent, secret=secret)
        except Exception:
            _log.exception("could not record the refused token row %s", row.row_id)

    return report


def _report(
    state: ServerState, row: RefusedRow, *, source: str | None, user_agent: str | None, secret: str
) -> None:
    held = state.row_alarm.admit(row, state.now())
    if held is None:
        return
    # The request's secret is known to the redaction too: should any text ever carry it,
    # it goes out masked.
    reason = redact(row.reason, secrets=(secret,))
    what = {
        "SW973": "not made by this server",
        "SW974": "changed since the server made it",
        "SW869": "a step-up window the server did not open (not sealed, or changed since)",
        "SW871": "a passkey challenge the server did not issue (not sealed, or changed since)",
        "SW947": "a spent passkey challenge set back to unused (the audit log records it used)",
        "SW948": "a used invitation link set back to unused (the audit log records it used)",
    }
    kind = what.get(row.code, "put back after its revocation")
    message = f"token row {row.row_id} in {row.table} refused ({row.code}): {kind}"
    details = {
        "table": row.table,
        "row": row.row_id,
        "row_principal": row.principal[:128],
        "error": row.code,
        "source_address": source,
        "user_agent": (user_agent or "")[:256] or None,
        "reports_held_back": held,
    }
    _log.warning("%s (row principal %r)", message, row.principal[:128])
    try:
        state.ctx.record(
            TOKEN_ROW_REFUSED.code,
            ACTOR,
            redact(message, secrets=(secret,)),
            status=Status.FAILURE,
            resource=f"{row.table}:{row.row_id}",
            details=details,
        )
    except StagewallError as exc:  # the log is down: the alert still goes out
        _log.error("the refused token row %s was not recorded: %s", row.row_id, exc.code)
    state.ctx.alert(
        Alert(
            kind=TOKEN_ROW_REFUSED.code,
            title=f"forged or altered token row {row.row_id} refused ({row.code})",
            text=(
                f"{message}. Someone wrote the control-plane store: {reason} "
                f"Presented from {source or 'an unknown address'}."
                + (f" {held} more refusal(s) were not reported (rate limit)." if held else "")
            ),
            severity=Severity.CRITICAL,
            details=details,
        )
    )


__all__ = ["MAX_PER_WINDOW", "WINDOW", "RowAlarm", "row_reporter"]
