"""Spring Boot profile documents: one ``application.yml`` (documents separated by
``---``) or ``application.properties`` (``#---``) holding a document per profile, each
activated by ``spring.config.activate.on-profile`` (or the legacy ``spring.profiles``).
Each such document is in the environment its profile names; the file as a whole is in
none (a production document must not make the staging one production).

A document with no profile (the default document) applies to every profile: Spring
loads it whatever is active, and a profile document overrides only the properties it
sets itself, and only when it comes later in the file (Spring Boot 2.4+ processes the
documents in order; a legacy ``spring.profiles`` document always wins over the
default). So a default-document value reaches every profile the file declares unless
that profile's document (or a later default document, or a ``!prod`` document for the
non-production ones) sets the same property after it."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from stagewall.scan._env import EnvModel
from stagewall.scan._model import Attribution, Tier
from stagewall.scan.readers import Kind, Parsed

_YAML_SEPARATOR = re.compile(r"^---(?:\s|$)", re.MULTILINE)
_PROPERTIES_SEPARATOR = re.compile(r"^[#!]---[ \t]*$", re.MULTILINE)
_PROFILE_KEYS = ("spring.config.activate.on-profile", "spring.profiles")
_LIST_INDEX = re.compile(r"\.\d+$")
_CACHE = "spring_profile_documents"


@dataclass(frozen=True)
class ProfileDocument:
    start: int  # first line of the document (1-based)
    end: int  # last line
    attribution: Attribution


@dataclass(frozen=True)
class SpringDocument:
    """One document of a multi-document Spring file that has profile documents."""

    start: int
    end: int
    expression: str | None  # None: the default document (no profile: every profile)
    attribution: Attribution | None  # the environment the profile names, if one
    legacy: bool = False  # ``spring.profiles`` (before 2.4: always over the default)
    every_non_production: bool = False  # ``!prod``: active in every other profile

    @property
    def default(self) -> bool:
        return self.expression is None


def profile_documents(text: str, parsed: Parsed | None, env: EnvModel) -> list[ProfileDocument]:
    """The documents of a multi-document Spring file that a profile puts in one
    environment; ``[]`` when the file has no profile documents. A profile expression
    with a negation (``!prod``) or with words of both tiers is in no environment."""
    out: list[ProfileDocument] = []
    for doc in spring_documents(text, parsed, env):
        if doc.attribution is None:
            continue
        reason = f"Spring profile document {doc.expression} (lines {doc.start}-{doc.end})"
        att = doc.attribution
        out.append(
            ProfileDocument(doc.start, doc.end, Attribution(att.environment, att.tier, reason))
        )
    return out


def spring_documents(text: str, parsed: Parsed | None, env: EnvModel) -> list[SpringDocument]:
    """Every document of a multi-document Spring file with at least one profile
    document, default documents included; ``[]`` for any other file."""
    if parsed is None or "profile" not in text or parsed.kind not in (Kind.YAML, Kind.INI):
        return []
    cached = parsed.extra.get(_CACHE)  # the engine and SW-SCAN-001 both ask
    if cached is None:
        cached = parsed.extra[_CACHE] = _documents(text, parsed, env)
    return list(cached)


_NEGATED_WORD = re.compile(r"^!\s*([A-Za-z0-9_.-]+)$")


def _documents(text: str, parsed: Parsed, env: EnvModel) -> list[SpringDocument]:
    separator = _YAML_SEPARATOR if parsed.kind is Kind.YAML else _PROPERTIES_SEPARATOR
    starts, line, pos = [1], 1, 0
    for match in separator.finditer(text):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        starts.append(line + 1)
    if len(starts) < 2:
        return []
    profiles: dict[int, list[str]] = {}
    legacy: set[int] = set()
    for entry in parsed.entries:
        if not entry.path or entry.path[0][:6].lower() != "spring":
            continue
        key = _LIST_INDEX.sub("", ".".join(entry.path).lower())
        if key in _PROFILE_KEYS:
            index = bisect_right(starts, entry.line) - 1
            profiles.setdefault(index, []).append(entry.value)
            if key == "spring.profiles":
                legacy.add(index)
    if not profiles:
        return []
    out: list[SpringDocument] = []
    total = text.count("\n") + 1
    for index, start in enumerate(starts):
        end = starts[index + 1] - 1 if index + 1 < len(starts) else total
        if index not in profiles:
            out.append(SpringDocument(start, end, None, None))
            continue
        expression = " ".join(profiles[index]).strip()
        att = None if "!" in expression else env.from_words(expression, "")
        negated = _NEGATED_WORD.match(expression)
        every = negated is not None and env.tier_of(negated.group(1)) is Tier.PRODUCTION
        out.append(SpringDocument(start, end, expression, att, index in legacy, every))
    return out


def document_at(documents: list[ProfileDocument], line: int) -> ProfileDocument | None:
    for doc in documents:
        if doc.start <= line <= doc.end:
            return doc
    return None


__all__ = [
    "ProfileDocument",
    "SpringDocument",
    "document_at",
    "profile_documents",
    "spring_documents",
]
