"""Evidence computed from what was measured: control map, checks, the auditor's pack,
questionnaire answers. See docs/evidence.md.

    from stagewall.evidence import EvidenceInputs, Window, evaluate, build_pack, verify_pack
"""

from stagewall.evidence._inputs import EvidenceInputs
from stagewall.evidence._model import (
    Attestation,
    CheckResult,
    CheckStatus,
    Evaluation,
    EventRange,
    Window,
)
from stagewall.evidence._registry import Check, get_check, register, registered_checks
from stagewall.evidence.controlmap import ControlMap, Framework, Requirement, load_control_map
from stagewall.evidence.evaluate import (
    evaluate,
    load_attestations,
    make_window,
    open_local,
    parse_time_arg,
)

__all__ = [
    "Attestation",
    "Check",
    "CheckResult",
    "CheckStatus",
    "ControlMap",
    "Evaluation",
    "EventRange",
    "EvidenceInputs",
    "Framework",
    "Requirement",
    "Window",
    "evaluate",
    "get_check",
    "load_attestations",
    "load_control_map",
    "make_window",
    "open_local",
    "parse_time_arg",
    "register",
    "registered_checks",
]
