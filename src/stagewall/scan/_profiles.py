"""Spring Boot profile documents: one ``application.yml`` (documents separated by
``---``) or ``application.properties`` (``#---``) holding a document per profile, each
activated by ``spring.config.activate.on-profile`` (or the legacy ``spring.profiles``).
Each such document is in the environment its profile names; the file as a whole is in
none (a production document must not make the staging one production)."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from stagewall.scan._env import EnvModel
from stagewall.scan._model import Attribution
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


def profile_documents(text: str, parsed: Parsed | None, env: EnvModel) -> list[ProfileDocument]:
    """The documents of a multi-document Spring file that a profile puts in one
    environment; ``[]`` when the file has no profile documents. A profile expression
    with a negation (``!prod``) or with words of both tiers is in no environment."""
    if parsed is None or "profile" not in text or parsed.kind not in (Kind.YAML, Kind.INI):
        return []
    cached = parsed.extra.get(_CACHE)  # the engine and SW-SCAN-001 both ask
    if cached is None:
        cached = parsed.extra[_CACHE] = _documents(text, parsed, env)
    return list(cached)


def _documents(text: str, parsed: Parsed, env: EnvModel) -> list[ProfileDocument]:
    separator = _YAML_SEPARATOR if parsed.kind is Kind.YAML else _PROPERTIES_SEPARATOR
    starts, line, pos = [1], 1, 0
    for match in separator.finditer(text):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        starts.append(line + 1)
    if len(starts) < 2:
        return []
    profiles: dict[int, list[str]] = {}
    for entry in parsed.entries:
        if not entry.path or entry.path[0][:6].lower() != "spring":
            continue
        key = _LIST_INDEX.sub("", ".".join(entry.path).lower())
        if key in _PROFILE_KEYS:
            profiles.setdefault(bisect_right(starts, entry.line) - 1, []).append(entry.value)
    out: list[ProfileDocument] = []
    total = text.count("\n") + 1
    for index, values in sorted(profiles.items()):
        expression = " ".join(values)
        if "!" in expression:
            continue
        att = env.from_words(expression, "")
        if att is None:
            continue
        end = starts[index + 1] - 1 if index + 1 < len(starts) else total
        reason = f"Spring profile document {expression.strip()} (lines {starts[index]}-{end})"
        out.append(
            ProfileDocument(starts[index], end, Attribution(att.environment, att.tier, reason))
        )
    return out


def document_at(documents: list[ProfileDocument], line: int) -> ProfileDocument | None:
    for doc in documents:
        if doc.start <= line <= doc.end:
            return doc
    return None


__all__ = ["ProfileDocument", "document_at", "profile_documents"]
