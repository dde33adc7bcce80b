"""Classify one column from its name, type, constraints and sampled values."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from stagewall.masking.classify._categories import Category
from stagewall.masking.classify._forms import plain
from stagewall.masking.classify._reference import reference_kind
from stagewall.masking.classify._rules import (
    PERSON_TABLES,
    in_address_context,
    match_rule,
    names_free_text,
    split_name,
)
from stagewall.masking.classify._text import detect_in_text
from stagewall.masking.classify._validators import (
    is_card,
    is_email,
    is_iban,
    is_ip,
    is_national_id,
    is_phone,
    is_street_address,
)
from stagewall.masking.transformers import _dicts, get_transformer_class
from stagewall.masking.transformers._known import fold
from stagewall.masking.types import ColumnKind, binary_text


@dataclass(frozen=True)
class Finding:
    """The proposed action for one column and why."""

    category: Category | None
    transformer: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)
    reason: str = ""
    confidence: float = 1.0


_VALIDATORS: tuple[tuple[Category, Callable[[str], bool], str], ...] = (
    (Category.EMAIL, is_email, "e-mail addresses"),
    (Category.IBAN, is_iban, "valid IBANs (mod-97)"),
    (Category.CARD_NUMBER, is_card, "card numbers (Luhn)"),
    (Category.IP_ADDRESS, is_ip, "IP addresses"),
    (Category.NATIONAL_ID, is_national_id, "national ids"),
    (Category.PHONE, is_phone, "phone numbers"),
    (Category.STREET_ADDRESS, is_street_address, "street addresses"),
)
_DESCRIBE = {cat: what for cat, _, what in _VALIDATORS}
# Category → (transformer, params) when uniqueness does not matter.
_DEFAULT: dict[Category, tuple[str, dict[str, Any]]] = {
    Category.EMAIL: ("email", {}),
    Category.PHONE: ("phone", {}),
    Category.IBAN: ("iban", {}),
    Category.CARD_NUMBER: ("card_number", {}),
    Category.NATIONAL_ID: ("fpe_alnum", {}),
    Category.IP_ADDRESS: ("ip_address", {}),
    Category.PERSON_NAME: ("full_name", {}),
    Category.FIRST_NAME: ("first_name", {}),
    Category.LAST_NAME: ("last_name", {}),
    Category.STREET_ADDRESS: ("street_address", {}),
    Category.CITY: ("city", {}),
    Category.REGION: ("region", {}),
    Category.COUNTRY: ("country", {}),
    Category.POSTCODE: ("postcode", {}),
    Category.DATE_OF_BIRTH: ("birth_date", {"generalise": "year"}),
    Category.USERNAME: ("username", {}),
    Category.COMPANY: ("company", {}),
    Category.SECRET: ("redact", {}),
    Category.FREE_TEXT_WITH_PII: ("text_scrub", {}),
}
_UNIQUE_SAFE = {
    "email", "phone", "iban", "card_number", "fpe_alnum", "ip_address", "fpe_uuid", "fpe_integer"
}  # fmt: skip
_MIN_SHARE = 0.8


def _texts(samples: Sequence[object]) -> list[str]:
    return [s for s in samples if isinstance(s, str) and s.strip()]


def _value_category(texts: list[str]) -> tuple[Category, int] | None:
    if not texts:
        return None
    # each value as the detector reads it: a phone in Arabic-Indic digits, an IBAN
    # in full-width letters are what they say (see _forms)
    texts = list(map(plain, texts))
    for cat, check, _ in _VALIDATORS:
        hits = sum(1 for t in texts if check(t))
        if hits >= max(1, _MIN_SHARE * len(texts)):
            return cat, hits
    return None


def _name_category(texts: list[str]) -> tuple[Category, int] | None:
    if not texts:
        return None
    firsts, lasts = _dicts.detection_first_names(), _dicts.detection_last_names()
    full = first = last = 0
    for t in texts:
        words = fold(t).split()  # the detection lists are folded (accents, case)
        if len(words) >= 2 and words[0] in firsts and words[-1] in lasts:
            full += 1
        elif len(words) == 1 and words[0] in firsts:
            first += 1
        elif len(words) == 1 and words[0] in lasts:
            last += 1
        elif _surname_and_initial(t, firsts, lasts):
            full += 1
    need = max(1, 0.6 * len(texts))
    if full >= need:
        return Category.PERSON_NAME, full
    if first >= need:
        return Category.FIRST_NAME, first
    if last >= need:
        return Category.LAST_NAME, last
    return None


_LETTERS = re.compile(r"[^\W\d_]+")


def _surname_and_initial(text: str, firsts: Any, lasts: Any) -> bool:
    """``Smith, J.``, ``Smith, John`` or ``J. Smith``: how staff lists, CRM exports
    and sign-offs write a person (a surname with a first name or an initial)."""
    folded = fold(text)
    ws = _LETTERS.findall(folded)
    if len(ws) != 2:
        return False
    a, b = ws
    if "," in folded:
        return a in lasts and (b in firsts or len(b) == 1)
    return len(a) == 1 and b in lasts and folded.strip().startswith(f"{a}.")


_BY_KIND: dict[ColumnKind, tuple[str, dict[str, Any]]] = {
    ColumnKind.INTEGER: ("fpe_integer", {}),
    ColumnKind.UUID: ("fpe_uuid", {}),
    ColumnKind.DATE: ("date_shift", {}),
    ColumnKind.TIMESTAMP: ("date_shift", {}),
    ColumnKind.TEXT: ("redact", {}),
}


# Transformers whose ``max_length`` param keeps their output within the column.
BOUNDED = frozenset(
    {"email", "first_name", "last_name", "full_name", "username", "street_address", "city",
     "region", "country", "company", "text_scrub"}
)  # fmt: skip


def bound_params(name: str, params: dict[str, Any], max_length: int | None) -> dict[str, Any]:
    """``params`` with ``max_length`` set from the column's declared length, when the
    transformer's longest output would not fit the column (else unchanged)."""
    if not max_length or name not in BOUNDED:
        return params
    from stagewall.keys import MaskingKey
    from stagewall.masking.transformers import build_transformer

    key = MaskingKey(key_id="plan", secret=b"\0" * 32)
    longest = build_transformer(name, params, key=key).max_output_length(max_length)
    if longest is not None and longest <= max_length:
        return params
    return {**params, "max_length": max_length}


def _fits(name: str, params: dict[str, Any]) -> bool:
    """Whether the bounded transformer can be built (enough dictionary entries fit)."""
    from stagewall.errors import ConfigError
    from stagewall.keys import MaskingKey
    from stagewall.masking.transformers import build_transformer

    try:
        build_transformer(name, params, key=MaskingKey(key_id="plan", secret=b"\0" * 32))
    except ConfigError:
        return False
    return True


def _choose(
    cat: Category, unique: bool, kind: ColumnKind, max_length: int | None
) -> tuple[str, dict[str, Any]]:
    name, params = _DEFAULT[cat]
    params = bound_params(name, dict(params), max_length)
    if not _fits(name, params):  # too narrow for any pseudonym of this kind
        name, params = "redact", {"preserve_length": True}
    if kind not in get_transformer_class(name).accepts:
        name, params = _BY_KIND.get(kind, ("null", {}))
    if unique and name not in _UNIQUE_SAFE:
        if kind in (ColumnKind.DATE, ColumnKind.TIMESTAMP):
            return "date_shift", {"per": "block"}  # unique-safe: a cycle within 64-day blocks
        if kind is ColumnKind.UUID:
            return "fpe_uuid", {}
        if kind is ColumnKind.INTEGER:
            return "fpe_integer", {}
        if kind in (ColumnKind.TEXT, ColumnKind.OTHER):
            return "fpe_alnum", {}
    return name, params


# Last words of a column that names a thing in a catalogue, not a person.
_CATALOGUE = frozenset(
    {"name", "title", "category", "genre", "label", "caption", "type", "kind", "language",
     "currency", "unit", "brand", "model", "product", "album", "track", "song", "film",
     "movie", "book", "rating", "format"}
)  # fmt: skip
_PHOTO = frozenset({"photo", "picture", "avatar", "portrait", "image", "signature", "selfie"})
_DOCUMENT = frozenset(
    {"document", "doc", "attachment", "file", "letter", "scan", "pdf", "contract", "cv", "resume"}
)
_LIFE_EVENT = frozenset(
    {"hire", "hired", "join", "joined", "termination", "terminated", "death", "died",
     "admission", "admitted", "discharge", "discharged", "wedding", "anniversary"}
)  # fmt: skip


_IP_FULL = 43  # the longest IPv6 interface text


def _ip_params(texts: list[str], max_length: int | None) -> tuple[dict[str, Any], str]:
    """``ipv4_only`` for a narrow column of dotted quads; ``small_block`` when the
    sampled addresses share a block of /16 or smaller (see ``ip_address``)."""
    import ipaddress

    params: dict[str, Any] = {}
    why = ""
    quads = []
    for t in texts:
        try:
            quads.append(ipaddress.IPv4Address(t))
        except ValueError:
            continue
    if not quads:
        return params, why
    if max_length is not None and max_length < _IP_FULL and len(quads) == len(texts):
        params["ipv4_only"] = True
        why += f"; only IPv4 addresses fit {max_length} characters"
    ints = [int(q) for q in quads]
    common = 32 - (max(ints) ^ min(ints)).bit_length() if len(set(ints)) > 1 else 32
    if len(quads) == len(texts) and common >= 16:
        prefix = min(common, 24)
        block = ipaddress.IPv4Network((min(ints), prefix), strict=False)
        params["small_block"] = str(block)
        why += (
            f"; all sampled addresses lie in {block}: they move to the neighbouring block, "
            "so no masked address is another source address"
        )
    return params, why


def _strong_values(texts: list[str]) -> bool:
    """True when some sample is an e-mail, phone, IBAN, card or national id."""
    return any(check(t) for t in texts for cat, check, _ in _VALIDATORS[:3])


def found_text_redact(reason: str) -> Finding:
    return Finding(Category.OTHER, "redact", {}, reason, 0.8)


def _json_docs(kind: ColumnKind, samples: Sequence[object]) -> list[Any] | None:
    docs: list[Any] = []
    for s in samples:
        if s is None:
            continue
        if isinstance(s, dict | list):
            docs.append(s)
        elif isinstance(s, str) and s.lstrip()[:1] in ("{", "["):
            try:
                docs.append(json.loads(s))
            except ValueError:
                return None
        elif kind is not ColumnKind.JSON:
            return None
    return docs or None


def _leaves(node: Any, path: str, out: dict[str, list[Any]]) -> None:
    from stagewall.masking.transformers._structured import format_path, parse_path

    if isinstance(node, dict):
        for k, v in node.items():
            _leaves(v, format_path((*parse_path(path), str(k))), out)
    elif isinstance(node, list):
        for v in node:
            _leaves(v, path + "[*]", out)
    elif node is not None:
        out.setdefault(path, []).append(node)


def _doc_keys(node: Any, parent: str, out: set[tuple[str, str]], objs: set[str]) -> None:
    """Every (object's path, key) pair of ``node`` into ``out``, the paths of its
    objects into ``objs`` (array items share their array's path)."""
    if isinstance(node, dict):
        objs.add(parent)
        for k, v in node.items():
            out.add((parent, str(k)))
            if isinstance(v, dict | list):
                _doc_keys(v, f"{parent}\x00{k}", out, objs)
    elif isinstance(node, list):
        for v in node:
            if isinstance(v, dict | list):
                _doc_keys(v, f"{parent}\x00*", out, objs)


# a key written as a proper noun: capitalised letters-only words (Kowalska, Anna Novak)
_PROPER = re.compile(r"[^\W\d_][^\W\d_A-Z]*(?:[ '-][^\W\d_][^\W\d_A-Z]*)*")


def _data_keys(docs: list[Any]) -> set[str]:
    """The sampled keys that are data, not field names, and so must never be written
    into the plan file (which staging's developers read): a key in which the
    detector finds a name, e-mail, phone, ... (``Anna Novak``, an e-mail), a word of
    the name lists written as a name (``Novak``), a key written as a proper noun
    that fewer than half the documents holding its object hold (a map keyed by
    people, ``Kowalska``; a class's ``Price`` is in every one), or a key only one
    sampled document holds when three or more were sampled (a surname no list
    knows). Such a path is scrubbed as an unknown key, the safe side."""
    firsts, lasts = _dicts.detection_first_names(), _dicts.detection_last_names()
    pairs: dict[tuple[str, str], int] = {}
    parents: dict[str, int] = {}
    for d in docs:
        got: set[tuple[str, str]] = set()
        objs: set[str] = set()
        _doc_keys(d, "$", got, objs)
        for pk in got:
            pairs[pk] = pairs.get(pk, 0) + 1
        for o in objs:
            parents[o] = parents.get(o, 0) + 1
    out: set[str] = set()
    for (parent, k), n in pairs.items():
        if k in out:
            continue
        words = fold(k).split()
        proper = k[:1].isupper() and _PROPER.fullmatch(k) is not None
        if (
            (n == 1 and len(docs) >= 3)
            or (proper and 2 * n < parents[parent])
            or (proper and bool(words) and all(w in firsts or w in lasts for w in words))
            or detect_in_text(k)
        ):
            out.add(k)
    return out


# an integer leaf this large or more (in absolute value, 8 digits) may be an
# identifier's number: its path is not kept (see _classify_json)
_ID_NUMBER = 10_000_000


def _classify_json(table: str, column: str, docs: list[Any]) -> Finding:
    from stagewall.masking.transformers._structured import parse_path

    leaves: dict[str, list[Any]] = {}
    for d in docs:
        _leaves(d, "$", leaves)
    data_keys = _data_keys(docs)
    paths: dict[str, dict[str, Any]] = {}
    keep: list[str] = []
    why: list[str] = []
    unwritten = 0
    numbers = 0
    for path, values in sorted(leaves.items()):
        if any(s in data_keys for s in parse_path(path) if s is not None):
            unwritten += 1  # scrubbed as an unknown key; json_mask judges the key
            continue
        segs = [s for s in parse_path(path) if s is not None]
        key = segs[-1] if segs else column
        strings = [v for v in values if isinstance(v, str)]
        if not strings:
            if any(type(v) is int and not -_ID_NUMBER < v < _ID_NUMBER for v in values):
                # integers of 8 digits or more: one may be a customer's identifier
                # (``{"ssn": 123456789}``), which json_mask replaces under scrub
                numbers += 1
                continue
            keep.append(path)
            continue
        sub = classify_column(table, key, ColumnKind.TEXT, strings, _in_json=True)
        if sub.transformer == "keep":
            keep.append(path)
        else:
            paths[path] = {"transformer": sub.transformer, "params": sub.params}
            why.append(f"{path} → {sub.transformer}")
    if not paths and not unwritten and not numbers:
        return Finding(
            Category.OTHER,
            "keep",
            {},
            f"JSON documents ({len(docs)} sampled) hold no personal data",
            0.6,
        )
    data = (
        f"; {unwritten} sampled path(s) are keyed by data (names, e-mails, keys one "
        "document holds), not field names: not written here, scrubbed as unknown keys, "
        "and json_mask renames keys that hold personal data"
        if unwritten
        else ""
    )
    if numbers:
        data += (
            f"; {numbers} sampled path(s) hold integers of 8 digits or more: not kept, "
            "scrubbed as unknown keys (json_mask replaces one whose digits are a "
            "customer's identifier)"
        )
    return Finding(
        Category.JSON_WITH_PII,
        "json_mask",
        {"paths": paths, "keep": keep, "unknown_keys": "scrub"},
        f"JSON documents contain personal data: {', '.join(why) or 'in their keys'}; "
        f"keys not seen in the samples are scrubbed{data}",
        0.85,
    )


# A column of which more than this share of samples name people, and whose values
# are all short lists of names, is a column of people's names (Chinook's composers:
# 65 %; artist names, 43 %, and song titles, 7 %, stay free text).
_NAME_LIST_SHARE = 0.55
_LIST_SEP = re.compile(r"\s*(?:[,/&;+]|\band\b|\be\b|\by\b|\bund\b)\s*")
_NAME_PART = re.compile(r"[^\W\d_][\w.'\u2019-]*(?: [^\W\d_][\w.'\u2019-]*){0,4}")


def _is_name_list(text: str) -> bool:
    """Whether ``text`` is only names separated by commas, slashes, "&", "and"."""
    parts = [p for p in _LIST_SEP.split(text.strip()) if p]
    return bool(parts) and all(_NAME_PART.fullmatch(p) for p in parts)


# Free text by value: most sampled values are sentences of this many words or more.
_PROSE_WORDS = 6
_PROSE_SHARE = 0.6
_SCRUBBABLE = frozenset({ColumnKind.TEXT, ColumnKind.OTHER})


def _free_text(column: str, texts: list[str]) -> str:
    """Why the column holds free text ("by its name", "by its values"), or ""."""
    if names_free_text(column):
        return "by its name"
    prose = sum(1 for t in texts if len(t.split()) >= _PROSE_WORDS)
    if texts and prose >= _PROSE_SHARE * len(texts):
        return f"by its values: {prose}/{len(texts)} samples are sentences"
    return ""


def free_text(column: str, kind: ColumnKind, samples: Sequence[object] = ()) -> str:
    """Why a column holds free text ("by its name", "by its values: …"), or "" when
    it does not (or is not of a type text_scrub takes)."""
    return _free_text(column, _texts(samples)) if kind in _SCRUBBABLE else ""


def _scrub_unseen(found: Callable[[Category, str, float], Finding], why: str, seen: str) -> Finding:
    """Fail closed: free text beside a person's data is scrubbed even when the sample
    is clean. Rows outside the sample may name the row's own person ("Spoke with Mrs
    Carrasco"); text_scrub replaces the row's own known values and what the detectors
    find, and leaves clean text as it is. Keep it only with a reason of your own."""
    return found(
        Category.FREE_TEXT_WITH_PII,
        f"free-text column ({why}) of rows about a person: scrubbed although "
        f"{seen} (unsampled rows may name the row's own person); to keep it, write "
        "your reason into the plan",
        0.7,
    )


def _structured(texts: list[str]) -> Finding:
    """A value with a syntax of its own (a composite type, a range, an enum, ...): no
    transformer can rewrite it and still parse, so it is kept unless a sample holds
    personal data, and then set to NULL (a NOT NULL column makes that a lint error,
    for review: verify would fail on what keep copies)."""
    n = len(texts)
    found = sorted({m.category.value for t in texts for m in detect_in_text(t)})
    if found:
        hits = sum(1 for t in texts if detect_in_text(t))
        return Finding(
            None,
            "null",
            {},
            f"{hits}/{n} samples of a structured type (composite, range, ...) hold "
            f"personal data ({', '.join(found)}) that no transformer rewrites in place",
            0.6,
        )
    return Finding(
        None,
        "keep",
        {},
        f"a structured type (composite, range, enum, ...): none of {n} samples held personal data",
        0.7,
    )


def _elements(value: object) -> list[str]:
    """The strings of an array (nested arrays flattened)."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, (list, tuple)):
        return [e for v in value for e in _elements(v)]
    return []


def _array(column: str, samples: Sequence[object]) -> Finding:
    """An array (PostgreSQL ``text[]``): no transformer rewrites its elements, so it
    is kept unless its name says it holds personal data (``emails``, ``phones``)
    or a sampled element does, and then set to NULL (a NOT NULL column makes that a
    lint error, for review: verify would fail on what keep copies)."""
    texts = [e for s in samples for e in _elements(s)]
    rule = match_rule(column, ColumnKind.TEXT)
    found = sorted({m.category.value for t in texts for m in detect_in_text(t)})
    if rule is not None or found:
        why = f"name rule '{rule.label}'" if rule is not None else ""
        if found:
            hits = sum(1 for t in texts if detect_in_text(t))
            why += (", " if why else "") + (
                f"{hits}/{len(texts)} sampled elements hold personal data ({', '.join(found)})"
            )
        return Finding(
            rule.category if rule is not None else None,
            "null",
            {},
            f"an array: {why}, which no transformer rewrites element by element",
            0.6,
        )
    return Finding(
        None,
        "keep",
        {},
        f"an array: none of {len(texts)} sampled elements held personal data",
        0.7,
    )


_BINARY_SCAN = 65_536  # characters of a binary sample's text searched for personal data


def _binary_text(samples: Sequence[object]) -> Finding | None:
    """A binary column whose sampled values are text holding personal data (a
    ``bytea`` of UTF-8 e-mails, a BLOB of notes): no transformer rewrites text kept
    as bytes, so NULL (verify reads such values as text)."""
    texts = [
        t[:_BINARY_SCAN]
        for s in samples
        if isinstance(s, (bytes, bytearray, memoryview))
        for t in [binary_text(s)]
        if t is not None and t.strip()
    ]
    found = sorted({m.category.value for t in texts for m in detect_in_text(t)})
    if not found:
        return None
    hits = sum(1 for t in texts if detect_in_text(t))
    return Finding(
        Category.OTHER,
        "null",
        {},
        f"{hits}/{len(samples)} samples of a binary column are text holding personal data "
        f"({', '.join(found)}), which no transformer rewrites in bytes; to keep it, write "
        "your reason into the plan",
        0.8,
    )


def classify_column(
    table: str,
    column: str,
    kind: ColumnKind,
    samples: Sequence[object] = (),
    *,
    is_unique: bool = False,
    is_primary_key: bool = False,
    is_foreign_key: bool = False,
    max_length: int | None = None,
    personal_table: bool | None = None,
    about_person: bool | None = None,
    _in_json: bool = False,
) -> Finding:
    """Propose a transformer for one column, with the category, a reason and a confidence.

    ``personal_table``: whether the table holds data about people (the planner
    knows from the table's other columns and foreign keys); None: judged from the
    table's name alone. ``about_person``: whether a row's free text is about a
    person — the row holds personal data itself, or belongs to people (``orders`` →
    ``customers``; not ``products`` → ``suppliers``); None: as ``personal_table``.
    Such free text is scrubbed even when the sample is clean (fail closed).
    """
    unique = is_unique or is_primary_key
    texts = _texts(samples)
    n = len(texts)
    if kind is ColumnKind.STRUCTURED:
        return _structured(texts)
    if kind is ColumnKind.ARRAY:
        return _array(column, samples)
    if kind is ColumnKind.BYTES:
        held = _binary_text(samples)
        if held is not None:
            return held
    rule = match_rule(column, kind)
    rule_cat = rule.category if rule else None
    label = f"name rule '{rule.label}'" if rule else ""
    person_table = PERSON_TABLES.search(table.lower()) is not None
    personal = person_table if personal_table is None else (personal_table or person_table)
    about = personal if about_person is None else (about_person or person_table)
    words = split_name(column)
    context = in_address_context(column)
    if rule is None and kind is ColumnKind.TEXT and words == ["name"] and person_table:
        rule_cat, label = Category.PERSON_NAME, "name rule 'name' on a person table"
    elif rule is None and kind is ColumnKind.TEXT and words[-1:] == ["name"] and context:
        # ship_name, recipient_name: somebody's (or some company's) name in an address
        looks = _name_category(texts)
        rule_cat = Category.PERSON_NAME if looks or not texts else Category.COMPANY
        label = f"name rule 'name' in an address ({'_'.join(words)})"
    # what verify would read as a person's name in a kept column is never kept as
    # reference data ("Aurora" the city is also a first name)
    has_names = any(detect_in_text(t) for t in texts)
    if (
        rule_cat in (Category.CITY, Category.REGION, Category.COUNTRY)
        and not (personal or context)
        and not has_names
    ):
        return Finding(
            Category.REFERENCE,
            "keep",
            {},
            f"{label} in a table without personal data: a place name is public reference data",
            0.8,
        )
    if (
        rule_cat is None
        and not personal
        and not has_names
        and kind in (ColumnKind.TEXT, ColumnKind.OTHER)
    ):
        ref = reference_kind(texts)
        if ref is not None:
            what, hits, distinct = ref
            return Finding(
                Category.REFERENCE,
                "keep",
                {},
                f"public reference data: {hits}/{distinct} distinct samples are {what}",
                0.85,
            )
        if (
            words
            and words[-1] in _CATALOGUE
            and not _strong_values(texts)
            and _name_category(texts) is None
        ):
            return Finding(
                Category.REFERENCE,
                "keep",
                {},
                f"catalogue {words[-1]} in a table without personal data "
                "(product, title or category names are public)",
                0.75,
            )
    if personal and kind is ColumnKind.BYTES and _PHOTO & set(words):
        return Finding(Category.OTHER, "null", {}, "a photo or document of a person (binary)", 0.85)
    if about and kind is ColumnKind.BYTES and (_DOCUMENT & set(words) or names_free_text(column)):
        return Finding(
            Category.OTHER,
            "null",
            {},
            f"a document or text about a person kept as binary ({column}): text_scrub reads "
            "text only; to keep it, write your reason into the plan",
            0.8,
        )
    if personal and kind is ColumnKind.TEXT and _PHOTO & set(words) and rule_cat is None:
        return found_text_redact(f"a path or link to a person's photo or document ({column})")
    if personal and kind in (ColumnKind.DATE, ColumnKind.TIMESTAMP) and _LIFE_EVENT & set(words):
        return Finding(
            Category.OTHER,
            "date_shift",
            {"per": "block"} if unique else {},
            f"a date in a person's life ({'_'.join(words)}): shifted per row"
            + (", within its 64-day block (a unique key)" if unique else ""),
            0.8,
        )

    def found(cat: Category, reason: str, confidence: float) -> Finding:
        name, params = _choose(cat, unique, kind, max_length)
        if name == "ip_address":
            params, why = _ip_params(texts, max_length)
            reason += why
        if unique and name not in _UNIQUE_SAFE and params.get("per") != "block":
            reason += "; unique column: no unique-safe transformer fits this type, review"
            confidence = min(confidence, 0.5)
        elif unique and (name, params) != _DEFAULT[cat]:
            reason += f"; unique column, so the unique-safe {name} instead of {_DEFAULT[cat][0]}"
            if params.get("per") == "block":
                reason += " (per: block: each day moves within its 64-day block, no two alike)"
        return Finding(cat, name, params, reason, confidence)

    if kind is ColumnKind.TEXT and texts and not _in_json:
        # a JSON document that holds an address is masked per path, never replaced
        # by one street string (which would no longer be JSON)
        docs = _json_docs(kind, samples)
        if docs is not None:
            return _classify_json(table, column, docs)
    if kind in (ColumnKind.TEXT, ColumnKind.OTHER) and texts:
        by_value = _value_category(texts)
        if by_value is not None:
            cat, hits = by_value
            share = f"{hits}/{n} samples are {_DESCRIBE[cat]}"
            if rule_cat is cat:
                return found(cat, f"{label} + {share}", 0.98)
            if rule_cat is not None and rule_cat is not Category.SECRET:
                return found(cat, f"{share} (the name suggests {rule_cat.value})", 0.9)
            if rule_cat is None:
                return found(cat, share, 0.9)

    if rule_cat is not None and kind is not ColumnKind.JSON:
        if rule_cat in (Category.IBAN, Category.CARD_NUMBER) and n >= 5:
            check = is_iban if rule_cat is Category.IBAN else is_card
            # read as the detector does: another script's digits are digits (the
            # transformers keep each digit's script and compute checksums on values)
            hits = sum(1 for t in texts if check(plain(t)))
            if hits < max(1, 0.2 * n):
                reason = (
                    f"{label}, but only {hits}/{n} samples are {_DESCRIBE[rule_cat]}: "
                    "format-preserving permutation instead of the checksum-keeping transformer"
                )
                return Finding(rule_cat, "fpe_alnum", {}, reason, 0.6)
        names = _name_category(texts)
        extra = f" + {names[1]}/{n} samples are names" if names else ""
        return found(rule_cat, f"{label}{extra}", 0.95 if (names or not texts) else 0.85)

    if kind in (ColumnKind.TEXT, ColumnKind.OTHER) and texts:
        names = _name_category(texts)
        if names is not None:
            cat, hits = names
            return found(cat, f"{hits}/{n} samples are names from the name dictionary", 0.8)

    if (kind is ColumnKind.JSON or kind is ColumnKind.TEXT) and not _in_json:
        docs = _json_docs(kind, samples)
        if docs is not None:
            return _classify_json(table, column, docs)

    if kind in (ColumnKind.TEXT, ColumnKind.OTHER) and texts:
        with_pii = [detect_in_text(t) for t in texts]
        strong = sum(
            1 for ms in with_pii if any(m.category is not Category.PERSON_NAME for m in ms)
        )
        named = sum(1 for ms in with_pii if ms)
        kinds = sorted({m.category.value for ms in with_pii for m in ms})
        people = sum(1 for ms in with_pii if any(m.category is Category.PERSON_NAME for m in ms))
        if people >= _NAME_LIST_SHARE * n and sum(map(_is_name_list, texts)) >= 0.8 * n:
            # composers, authors, cast: the whole value is people's names (some of
            # them in forms the detector misses: "Harris", "roger glover")
            return found(
                Category.PERSON_NAME,
                f"{people}/{n} samples are lists of person names, replaced whole",
                0.8,
            )
        # Fail safe: one finding is enough (the verifier scans these columns for the
        # same kinds); the reason gives the counts so a reviewer can decide to keep.
        if strong >= 1 or named >= 1:
            reason = f"{named}/{n} samples contain personal data in the text ({', '.join(kinds)})"
            return found(Category.FREE_TEXT_WITH_PII, reason, 0.85)
        free = _free_text(column, texts)
        if free and about:
            return _scrub_unseen(found, free, f"none of the {n} sampled values holds any")
        if free:
            return Finding(
                Category.OTHER,
                "keep",
                {},
                f"free-text column ({free}) whose rows are not about a person, no personal "
                f"data in {n} samples; the verifier scans it",
                0.6,
            )
    if about and not texts and kind in _SCRUBBABLE and names_free_text(column):
        return _scrub_unseen(found, "by its name", "no value was sampled")

    if is_primary_key or is_foreign_key:
        what = "primary key" if is_primary_key else "foreign key"
        return Finding(
            Category.IDENTIFIER, "keep", {}, f"{what}, not sensitive by name or samples", 0.9
        )
    return Finding(
        None, "keep", {}, f"no name rule matched and none of {n} samples looked sensitive", 0.7
    )


__all__ = ["Finding", "classify_column", "free_text"]
