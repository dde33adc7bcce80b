"""Recording and alerting promotions a listing found unbound, at most once per window.

``gate list``, the web UI's promotion pages and the approver's inbox decide each
promotion as ``gate check`` does (gates/_standing.py); one whose rows the audit log
does not back is listed ``unverified`` and reported here: a ``gate.row.unbound`` event
and a critical alert, as ``gate check`` records and alerts (gates/_alerts.py). Anyone
who may list promotions can list them in a loop, so each finding (a promotion and what
is wrong with it) is reported once per :data:`~stagewall.server._token_rows.WINDOW`, at
most :data:`~stagewall.server._token_rows.MAX_PER_WINDOW` findings per window in all;
the next report carries the count held back. The budget is this process's.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from stagewall.gates import Gate
from stagewall.gates._alerts import alert_unbound

if TYPE_CHECKING:
    from stagewall.server._state import ServerState

_log = logging.getLogger("stagewall.server")


def gate_row_reporter(
    state: ServerState, gate: Gate, actor: str, found_by: str
) -> Callable[[str, list[str]], None]:
    """The ``report`` a listing is given: records and alerts (rate-limited by
    ``state.gate_alarm``); never raises (the listing shows the row unverified anyway)."""

    def report(promotion: str, problems: list[str]) -> None:
        what = hashlib.sha256("\n".join(problems).encode("utf-8")).hexdigest()
        held = state.gate_alarm.admit_key((promotion, what), state.now())
        if held is None:
            return
        try:
            alert_unbound(gate, actor, promotion, problems, found_by=found_by, held_back=held)
        except Exception:
            _log.exception("could not record the unbound rows of promotion %s", promotion)

    return report


__all__ = ["gate_row_reporter"]
