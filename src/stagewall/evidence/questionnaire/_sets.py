"""Built-in question sets and the keyword rules that match a customer's questions.

The question texts are stagewall's own wording. For CAIQ v4 only the question IDs
are shared (they identify where an answer goes); SIG Lite IDs are licensed and are
not reproduced, so that set carries topic labels only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    id: str
    topic: str
    text: str
    caiq: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """A topic matches when every group has at least one term in the question."""

    topic: str
    groups: tuple[tuple[str, ...], ...]

    def matches(self, text: str) -> int:
        low = " " + re.sub(r"[^a-z0-9]+", " ", text.lower()) + " "
        hits = 0
        for group in self.groups:
            if not any(f" {term}" in low for term in group):
                return 0
            hits += 1
        return hits


CAIQ_IDS: dict[str, tuple[str, ...]] = {
    "third_party_production_access": ("IAM-05.1", "IVS-05.1"),
    "deployment_separation_of_duties": ("IAM-04.1", "CCC-04.1"),
    "mfa": ("IAM-14.1",),
    "access_reviews": ("IAM-08.1",),
    "test_data": ("DSP-15.1",),
    "logging_monitoring": ("LOG-03.1",),
    "encryption_in_transit": ("CEK-03.1",),
    "vendor_contracts": ("STA-09.1",),
    "incident_alerting": ("LOG-03.1",),
    "environment_separation": ("IVS-05.1",),
}

_TEXTS: dict[str, tuple[str, str]] = {
    # topic: (CAIQ-style wording, SIG-Lite-style wording), both stagewall's own
    "third_party_production_access": (
        "Can people of third parties (contractors, vendors) reach production systems or data?",
        "Do external developers or contractors have access to the production environment?",
    ),
    "deployment_separation_of_duties": (
        "Does someone other than the author approve each change before it is deployed "
        "to production?",
        "Is separation of duties enforced between writing code and releasing it to production?",
    ),
    "mfa": (
        "Is a second authentication factor required for privileged and production access?",
        "Is multi-factor authentication enforced for administrative access?",
    ),
    "access_reviews": (
        "Are access rights reviewed at regular intervals, with removals carried out?",
        "Are user access reviews performed at least quarterly?",
    ),
    "test_data": (
        "Is production data masked before it is used in development or test environments?",
        "Is personal data anonymised or masked in non-production environments?",
    ),
    "logging_monitoring": (
        "Are security-relevant events logged in a protected log and monitored?",
        "Are audit logs of access and changes kept tamper-evident and monitored?",
    ),
    "encryption_in_transit": (
        "Is data encrypted in transit between systems?",
        "Is TLS used for all network connections carrying data?",
    ),
    "vendor_contracts": (
        "Are contracts, NDAs and data processing agreements in place with vendors before "
        "they get access?",
        "Do all suppliers with access to data sign a DPA and a confidentiality agreement?",
    ),
    "incident_alerting": (
        "Do unauthorised access attempts and emergency access raise alerts to responsible staff?",
        "Are security incidents and suspicious activity detected and alerted?",
    ),
    "environment_separation": (
        "Are production and non-production environments kept separate?",
        "Is the production environment isolated from development and test?",
    ),
}


def _build(column: int, prefix: str, with_ids: bool) -> tuple[Question, ...]:
    out = []
    for n, (topic, texts) in enumerate(_TEXTS.items(), 1):
        ids = CAIQ_IDS[topic] if with_ids else ()
        qid = ids[0] if with_ids else f"{prefix}-{n:02d}"
        out.append(Question(qid, topic, texts[column], ids))
    return tuple(out)


QUESTION_SETS: dict[str, tuple[Question, ...]] = {
    "caiq-v4": _build(0, "CAIQ", True),
    "sig-lite": _build(1, "SW-SIGL", False),
}

_ACCESS = ("access", "reach", "permission", "privilege", "entitle", "account", "rights")

RULES: tuple[Rule, ...] = (
    Rule(
        "third_party_production_access",
        (
            (
                "third part",
                "vendor",
                "contractor",
                "supplier",
                "external",
                "outsourc",
                "subcontract",
                "freelanc",
            ),
            ("production", "prod ", "live system", "live environment"),
            _ACCESS,
        ),
    ),
    Rule(
        "deployment_separation_of_duties",
        (
            (
                "segregation",
                "separation of duties",
                "four eyes",
                "other than the author",
                "peer review",
                "approv",
            ),
            ("deploy", "release", "change", "code", "promot"),
        ),
    ),
    Rule(
        "mfa",
        (
            (
                "mfa",
                "multi factor",
                "multifactor",
                "two factor",
                "2fa",
                "second factor",
                "strong authentication",
                "authentication factor",
            ),
        ),
    ),
    Rule(
        "access_reviews",
        (("review", "recertif", "re certif"), _ACCESS),
    ),
    Rule(
        "test_data",
        (
            ("test", "non production", "development", "staging", "dev ", "qa "),
            ("data",),
            ("production", "real", "personal", "mask", "anonym", "pseudonym", "synthetic"),
        ),
    ),
    Rule(
        "logging_monitoring",
        (
            ("log ", "logs", "logged", "logging", "audit trail"),
            (
                "security",
                "access",
                "event",
                "tamper",
                "monitor",
                "retain",
                "retention",
                "integrity",
                "change",
            ),
        ),
    ),
    Rule(
        "encryption_in_transit",
        (
            ("encrypt", "tls", "ssl", "https"),
            ("transit", "motion", "network", "transmi", "in flight", "connection"),
        ),
    ),
    Rule(
        "vendor_contracts",
        (
            (
                "contract",
                "agreement",
                "dpa",
                "data processing",
                "nda",
                "non disclosure",
                "confidentiality",
            ),
            (
                "vendor",
                "supplier",
                "third part",
                "subprocessor",
                "sub processor",
                "processor",
                "contractor",
            ),
        ),
    ),
    Rule(
        "incident_alerting",
        (
            ("alert", "notif", "detect"),
            (
                "incident",
                "unauthori",
                "suspicious",
                "anomal",
                "emergency",
                "security event",
                "intrusion",
            ),
        ),
    ),
    Rule(
        "environment_separation",
        (
            ("separat", "segregat", "isolat"),
            ("environment",),
            ("develop", "test", "staging", "non production", "production"),
        ),
    ),
)


@dataclass(frozen=True)
class Match:
    topic: str | None
    reason: str


# Words that turn a question around: "Are contractors prevented from reaching
# production?" matches the third-party rule, whose answer is "Yes" when they CAN reach
# it. Yes/No follow the built-in phrasing, so such a question goes to a human.
_INVERTING = re.compile(
    r"\b(prevent\w*|prohibit\w*|restrict\w*|block\w*|den(?:y|ied|ies)|forbid\w*|"
    r"disallow\w*|not|never|without|unable|cannot|can t|nobody|no one|none|exclud\w*)\b"
)


# Polarity without a negation word. stagewall's Yes/No answer its own phrasing of each
# topic (test data: "is it masked?"). A customer's question on the same topic may ask the
# opposite ("Do you use real customer data in test?": Yes there means unmasked) or
# something else (has an incident occurred?) in words no negation list catches. Per
# topic: the question must state the stance stagewall answers (a term of _STANCE, where
# the rule's groups do not already require one), and must hold no term of _TURNING.
# Either failing, it goes to a human: a question a human answers costs a minute, a
# reversed "Yes" in a signed questionnaire is a false statement.
_STANCE: dict[str, tuple[str, ...]] = {
    "test_data": (
        "mask",
        "anonym",
        "pseudonym",
        "synthetic",
        "de identif",
        "deidentif",
        "obfuscat",
        "scrambl",
        "sanitis",
        "sanitiz",
        "tokeni",
        "fictitious",
        "dummy",
    ),
}
_TURNING: dict[str, re.Pattern[str]] = {
    topic: re.compile(rf"\b({words})\b")
    for topic, words in {
        "third_party_production_access": r"limit\w*|only|requir\w*|must|controll\w*",
        "deployment_separation_of_duties": r"own|self\w*|themselves|himself|herself|"
        r"same person|same individual|bypass\w*|skip\w*|override\w*",
        "mfa": r"bypass\w*|disabl\w*|optional|skip\w*|exempt\w*|exception\w*|waiv\w*",
        "access_reviews": r"overdue|late|missed|skipp\w*|stale|orphan\w*|dormant",
        "test_data": r"real|live|actual|raw|clear|plain\w*|unmasked|"
        r"cop(?:y|ied|ies)|clon\w*|refresh\w*|restor\w*",
        "logging_monitoring": r"delet\w*|modif\w*|alter\w*|purg\w*|overwrit\w*|"
        r"truncat\w*|disabl\w*|tampered|tamper with|edit\w*|eras\w*|gaps?",
        "encryption_in_transit": r"weak\w*|legacy|deprecated|obsolete|plain\w*|cleartext|"
        r"clear text|unencrypt\w*|downgrad\w*|tls 1 [01]|ssl ?v?[23]|self signed",
        "vendor_contracts": r"lack\w*|missing|expired|lapsed|unsigned|pending|outstanding",
        "incident_alerting": r"had|have there been|were there|was there|occurred|"
        r"experienc\w*|suffer\w*|breach\w*|last \d+|past|ignored|missed|suppress\w*",
        "environment_separation": r"shar\w*|same|bypass\w*|bridg\w*|connected|"
        r"peered|flat",
    }.items()
}


def match_question(text: str) -> Match:
    """The topic whose rule matches with the most groups; a tie, no match or a question
    whose wording may invert the answer goes to a human."""
    scored = sorted(((r.matches(text), r.topic) for r in RULES), reverse=True)
    best = [t for s, t in scored if s and s == scored[0][0]]
    if not best:
        return Match(None, "no rule matched")
    if len(best) > 1:
        return Match(None, "ambiguous: " + ", ".join(sorted(best)))
    inverted = _INVERTING.search(re.sub(r"[^a-z0-9]+", " ", text.lower()))
    if inverted is not None:
        return Match(
            None,
            f"matches {best[0]}, but {inverted.group(0)!r} may turn the question around "
            "(stagewall's Yes/No follow its own phrasing of the question)",
        )
    low = " " + re.sub(r"[^a-z0-9]+", " ", text.lower()) + " "
    stance = _STANCE.get(best[0])
    if stance is not None and not any(f" {term}" in low for term in stance):
        return Match(
            None,
            f"matches {best[0]}, but does not ask what stagewall answers ("
            + ", ".join(stance[:3])
            + "): its Yes could mean the opposite",
        )
    turning = _TURNING[best[0]].search(low)
    if turning is not None:
        return Match(
            None,
            f"matches {best[0]}, but {turning.group(0).strip()!r} may ask the opposite or "
            "something else (stagewall's Yes/No follow its own phrasing of the question)",
        )
    return Match(best[0], f"matched {best[0]}")


__all__ = ["CAIQ_IDS", "QUESTION_SETS", "RULES", "Match", "Question", "Rule", "match_question"]
