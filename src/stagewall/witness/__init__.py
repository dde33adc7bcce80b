"""A C2SP tlog-witness that the auditor or a second party runs beside stagewall.

It keeps its own Ed25519 key and, per log origin, the newest checkpoint it
cosigned; it cosigns (tlog-cosignature/v1) a new checkpoint only with a valid
consistency proof from that one, so a truncated or rewritten audit log can never
be cosigned again. See docs/audit.md, "Witnesses".
"""

from __future__ import annotations

from stagewall.witness._protocol import Response, Witness
from stagewall.witness._server import make_server
from stagewall.witness._state import Latest, WitnessState, init_witness

__all__ = ["Latest", "Response", "Witness", "WitnessState", "init_witness", "make_server"]
