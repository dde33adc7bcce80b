"""Promotion gates: changes reach a stage only through independent internal approval.

    from stagewall.gates import Gate, check, verify_envelope

See docs/gates.md.
"""

from stagewall.gates.attestation import (
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    Verified,
    expect_subject,
    key_id,
    pae,
    sign_envelope,
    statement,
    verify_envelope,
)
from stagewall.gates.continuity import record_rules, rules_document, rules_hash, weakenings
from stagewall.gates.deploy import Allowed, check
from stagewall.gates.followups import overdue, overdue_violations
from stagewall.gates.identities import (
    Author,
    Authorship,
    Contribution,
    principal_for_email,
    resolve,
)
from stagewall.gates.promotions import Gate, Promotion, PromotionKind, approver_problem

__all__ = [
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "Allowed",
    "Author",
    "Authorship",
    "Contribution",
    "Gate",
    "Promotion",
    "PromotionKind",
    "Verified",
    "approver_problem",
    "check",
    "expect_subject",
    "key_id",
    "overdue",
    "overdue_violations",
    "pae",
    "principal_for_email",
    "record_rules",
    "resolve",
    "rules_document",
    "rules_hash",
    "sign_envelope",
    "statement",
    "verify_envelope",
    "weakenings",
]
