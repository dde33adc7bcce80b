"""Transformers for documents: text_scrub (free text) and json_mask (JSON paths)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from itertools import chain, compress
from typing import Any, ClassVar, Literal

import orjson
from pydantic import Field, field_validator, model_validator

from stagewall.errors import ConfigError, MaskingError
from stagewall.masking.transformers._base import (
    ParamsModel,
    Transformer,
    build_transformer,
    get_transformer_class,
    register,
    validate_params,
    wrong_type,
)
from stagewall.masking.transformers._birthdates import DATE_KIND, pseudonym_dates
from stagewall.masking.transformers._known import (
    CORE,
    MIN_COMPACT,
    NO_KNOWN,
    Known,
    Pairs,
    breaking,
    core_hits,
    find_known,
    fold_known,
    kind_of,
    merged_spans,
    pairs_of,
    patterns,
    pick,
    rows_with_candidates,
    split_words,
    surnames,
)
from stagewall.masking.transformers._readings import may_find_more_many, stem_rows, stem_spans
from stagewall.masking.types import ColumnKind

# Which pseudonym replaces each detected kind (text_scrub); keyed by Category value.
_SCRUBBERS: dict[str, tuple[str, dict[str, Any]]] = {
    "email": ("email", {}),
    "phone": ("phone", {}),
    "iban": ("iban", {"on_invalid": "null"}),
    "card_number": ("card_number", {"on_invalid": "null"}),
    "ip_address": ("ip_address", {}),
    "national_id": ("fpe_alnum", {}),
    "person_name": ("full_name", {}),
    "street_address": ("street_address", {}),
}
SCRUB_KINDS = tuple(_SCRUBBERS)
# Which pseudonym replaces a row's own known value of each kind (see _known.KIND);
# kinds not listed are starred out (same length); a date of birth gets a keyed
# pseudonym date written the same way (_birthdates.pseudonym_dates).
_OWN: dict[str, str] = {
    "name": "last_name",
    "street": "street_address",
    "email": "email",
    "phone": "phone",
    "postcode": "postcode",
}
_MAX_RESIDUAL_PASSES = 4
# the own kind of a street's rare name learnt from the source (_streetcores), written
# alone in a text: replaced by a street pseudonym's name
_CORE = "street core"
# and a city's rare word (_streetcores.city_words): replaced by a city pseudonym
_CITY = "city word"
# and a source person's full name written in another row's text (_namepairs):
# replaced whole by a full-name pseudonym
_FULL = "full name"


class TextScrubParams(ParamsModel):
    kinds: list[Literal[SCRUB_KINDS]] = Field(default_factory=lambda: list(SCRUB_KINDS))  # type: ignore[valid-type]
    email_domain: str = "example.com"
    # The column's declared length (varchar(n)): output is cut to it. None: unbounded.
    max_length: int | None = Field(default=None, ge=1)


@register
class TextScrub(Transformer):
    """Replace the row's own known values and every e-mail, phone, IBAN, card, IP,
    national id, street address and person name found in the text.

    The engine hands the transformer each row's known values (the source values
    of the row's masked columns and of the rows it references, see
    :mod:`._known`); each is found as a phrase, case- and accent-insensitively,
    and replaced by a pseudonym. Detected findings are replaced by the pseudonym
    the matching column transformer gives (same key and salt), so
    ``jane@corp.com`` in a note becomes the same address as in the ``email``
    column. Output is cut to ``max_length`` and then checked again: no own value
    survives, not even one a pseudonym or the cut happened to recreate.
    """

    name = "text_scrub"
    Params = TextScrubParams
    wants_known: ClassVar[bool] = True
    optional_params = frozenset({"max_length"})
    # OTHER: columns without a declared type (SQLite) hold text among other values;
    # only the text is scrubbed, a number or blob passes as it is
    accepts = frozenset({ColumnKind.TEXT, ColumnKind.OTHER})

    def setup(self) -> None:
        p: TextScrubParams = self.params  # type: ignore[assignment]
        self._max = p.max_length
        self._subs: dict[str, Transformer] = {}
        for kind in p.kinds:
            tname, tparams = _SCRUBBERS[kind]
            if tname == "email":
                tparams = {"domain": p.email_domain}
            self._subs[kind] = self._sub(tname, tparams)
        self._own = {
            kind: self._sub(tname, {"domain": p.email_domain} if tname == "email" else {})
            for kind, tname in _OWN.items()
        }
        self._own["full_name"] = self._sub("full_name", {})
        self._own[_CITY] = self._sub("city", {})
        self._own["mailbox"] = self._sub("username", {})  # an e-mail's local part alone
        # a date of birth moved by a keyed 1 to 365 days, never 0 (date_shift)
        self._own[DATE_KIND] = self._sub("date_shift", {"max_days": 365})
        self._learned: dict[str, str] = {}
        self._pairs: frozenset[tuple[str, str]] = frozenset()
        self._ids: Any = None

    def learn(self, words: dict[str, str]) -> None:
        """Replace also, in any row, the source's rare name words ``words`` (word →
        kind, :func:`stagewall.masking._namewords.learn`): another row's surname no
        name list knows, written in this row's text, as the row's own name is; and
        the source's full names the words carry (``words.pairs``,
        :class:`stagewall.masking._namepairs.FullNames`): another customer's first
        and last name written side by side (``TOMASZ BERGER``, ``Berger, Tomasz``),
        replaced whole by a full-name pseudonym (:func:`_full_names`). And another
        customer's identifiers (``words.ids``, :mod:`stagewall.masking._otherids`):
        starred out of the output, as a row's own identifier is."""
        self._pairs = getattr(words, "pairs", frozenset())
        self._learned = words if len(words) or self._pairs else {}
        self._ids = getattr(words, "ids", None)

    def _sub(self, tname: str, params: dict[str, Any]) -> Transformer:
        return build_transformer(tname, params, key=self._masking_key, salt=self.salt)

    def max_output_length(self, input_max: int | None) -> int | None:
        return self._max

    def _apply(self, values: list[Any]) -> list[object]:
        return self.transform_known(values, [NO_KNOWN] * len(values))

    def transform_known(self, values: Sequence[object], known: Sequence[Known]) -> list[object]:
        """Scrub a batch whose row ``i`` has the known values ``known[i]``."""
        out: list[object] = list(values)
        idx = [i for i, v in enumerate(out) if type(v) is str and v]
        if idx:
            done = self._scrub([out[i] for i in idx], pick(known, idx))  # type: ignore[misc]
            for i, v in zip(idx, done, strict=True):
                out[i] = v
        blobs = [i for i, v in enumerate(out) if type(v) is bytes and v]
        if blobs:  # text written as bytes (SQLite keeps each value's type): scrubbed as
            # text, given back as bytes
            texts = {i: _utf8(out[i]) for i in blobs}  # type: ignore[arg-type]
            at = [i for i, t in texts.items() if t is not None]
            done = self._scrub([texts[i] for i in at], pick(known, at))  # type: ignore[misc]
            for i, v in zip(at, done, strict=True):
                out[i] = v.encode("utf-8")
        return out

    def _scrub(self, texts: list[str], known: list[Known]) -> list[str]:
        from stagewall.masking.classify._text import detect_findings

        pats = _Patterns(known)
        own = _own_spans(texts, pats)
        detections = detect_findings(texts)
        subs = self._subs
        if self._learned:
            from stagewall.masking._namepairs import pair_spans
            from stagewall.masking._namewords import CITY, STREET
            from stagewall.masking._namewords import kinded_spans as learned_spans

            pairs = pair_spans(texts, self._pairs) if self._pairs else [[]] * len(texts)
            for i, (got, full) in enumerate(
                zip(learned_spans(texts, self._learned), pairs, strict=True)
            ):
                if full:  # (a full name's span holds its words: it wins, merged_spans)
                    got = [(a, b, _FULL) for a, b in full] + got
                if not got:
                    continue
                # (a rare word inside what the detector finds, the mailbox of an
                # e-mail, ganthriv41@..., leaves the whole finding to be replaced)
                outer = [f for f in detections[i] if f[2] in subs]
                # (a full name is dropped only inside one: it replaces what it covers)
                got = [
                    g
                    for g in got
                    if all(
                        g[1] <= f[0]
                        or g[0] >= f[1]
                        or (g[2] == _FULL and g[1] - g[0] >= f[1] - f[0])
                        for f in outer
                    )
                ]
                if got:
                    # (a street's rare name gets a street pseudonym's name: _CORE; a
                    # city's rare word a city pseudonym: _CITY)
                    as_own = {STREET: _CORE, CITY: _CITY, _FULL: _FULL}
                    own[i] = merged_spans(
                        own[i] + [(a, b, as_own.get(k, "name")) for a, b, k in got]
                    )
        spans: list[list[tuple[int, int, str, str]]] = []
        wanted: dict[str, list[str]] = {}
        found: list[tuple[int, int, str, str]]
        # each finding as (start, end, kind, value as the detector read it: a phone in
        # Arabic-Indic digits gets the pseudonym of its ASCII digits)
        for t, mine, detected in zip(texts, own, detections, strict=True):
            if not mine:
                if not detected:
                    spans.append([])
                    continue
                found = [f for f in detected if f[2] in subs]
            else:
                found = [(s, e, "own:" + k, t[s:e]) for s, e, k in mine]
                for f in detected:
                    if f[2] in subs and all(f[1] <= a or f[0] >= b for a, b, _ in mine):
                        found.append(f)
            if not found:
                spans.append(found)
                continue
            found.sort()
            for _, _, kind, text in found:
                wanted.setdefault(kind, []).append(text)
            spans.append(found)
        mapped = {kind: self._replace(kind, items) for kind, items in wanted.items()}
        out: list[str] = []
        for t, found in zip(texts, spans, strict=True):
            if not found:
                out.append(t)
                continue
            parts: list[str] = []
            pos = 0
            for s, e, kind, text in found:
                new = mapped[kind][text]
                parts.append(t[pos:s])
                parts.append(new if new is not None else "*" * (e - s))
                pos = e
            parts.append(t[pos:])
            out.append("".join(parts))
        touched = [i for i, f in enumerate(spans) if f]
        if self._pairs and touched:
            self._no_full_names(out, touched)
        if self._max is not None:
            cut = self._max
            touched = sorted({*touched, *(i for i, o in enumerate(out) if len(o) > cut)})
            out = [o[:cut] for o in out]
        out = _no_residue(out, pats, touched)
        # another customer's identifier, in any text, and one a pseudonym wrote by
        # chance: starred (same length, so after the cut)
        return out if self._ids is None else self._ids.starred(out)

    def holds_ids(self, texts: list[str], known: list[Known]) -> list[bool]:
        """Whether each text (a JSON number leaf's digits, 8 or more) holds one of its row's
        known values (as :meth:`_scrub` finds them) or another customer's identifier
        (the learnt ``words.ids``): the values :meth:`_scrub` would replace or star,
        the detector's findings aside (a number the detector reads as a card or a
        phone, no source customer's, is no leak)."""
        own = _own_spans(texts, _Patterns(known))
        other = self._ids.numbers(texts) if self._ids is not None else [False] * len(texts)
        return [bool(a or b) for a, b in zip(own, other, strict=True)]

    def _no_full_names(self, out: list[str], touched: list[int]) -> None:
        """Replace again, in place, a source person's full name that a pseudonym wrote
        in the ``touched`` rows of ``out`` (the row's own ``Grace Thomas`` drawn as
        ``Jack Schmidt``, another customer's name: the pseudonyms are common names,
        so verify would find it, :mod:`stagewall.masking._namepairs`); starred out
        (same length) if the passes do not clear it."""
        from stagewall.masking._namepairs import pair_spans

        rows = touched
        for n in range(_MAX_RESIDUAL_PASSES + 1):
            found = pair_spans([out[i] for i in rows], self._pairs)
            rows = [i for i, f in zip(rows, found, strict=True) if f]
            if not rows:
                return
            spans = [f for f in found if f]
            items = [out[i][a:b] for i, f in zip(rows, spans, strict=True) for a, b in f]
            last = n == _MAX_RESIDUAL_PASSES
            new = {} if last else _full_names(self._own["full_name"], items)
            for i, f in zip(rows, spans, strict=True):
                t, parts, pos = out[i], [], 0
                for a, b in f:
                    parts += [t[pos:a], new.get(t[a:b]) or "*" * (b - a)]
                    pos = b
                out[i] = "".join([*parts, t[pos:]])

    def _replace(self, kind: str, items: list[str]) -> dict[str, str | None]:
        uniq = list(dict.fromkeys(items))
        if kind.startswith("own:"):
            own = kind[4:]
            if own == "name":
                multi = [u for u in uniq if len(u.split()) > 1]
                single = [u for u in uniq if len(u.split()) <= 1]
                return {
                    **_safe(self._own["full_name"], multi),
                    **_safe(self._own["name"], single),
                }
            if own == "email":  # the mailbox written alone (a login) is a username
                alone = [u for u in uniq if "@" not in u]
                if alone:
                    whole = [u for u in uniq if "@" in u]
                    return {
                        **_safe(self._own["email"], whole),
                        **_safe(self._own["mailbox"], alone),
                    }
            if own == _CORE:
                return _street_cores(self._own["street"], uniq)
            if own == _CITY:
                return _city_words(self._own[_CITY], uniq)
            if own == _FULL:
                return _full_names(self._own["full_name"], uniq)
            if own == DATE_KIND:
                try:
                    return pseudonym_dates(uniq, self._own[DATE_KIND].transform)
                except MaskingError:  # (a date the shift takes out of the calendar)
                    return dict.fromkeys(uniq)
            sub = self._own.get(own)
            return _safe(sub, uniq) if sub is not None else dict.fromkeys(uniq)
        return _safe(self._subs[kind], uniq)


Pats = list[tuple[str, bool, str]]


class _Patterns:
    """The known values of each row of a batch. Their :class:`Pairs` (see
    :attr:`pairs`) test them against the rows' texts at once and pick the few rows
    that need the position-keeping search, for the notes and again for the scrubbed
    notes; :meth:`hits` is the same test for one row (the reference the batch test
    is checked against)."""

    def __init__(self, known: list[Known]) -> None:
        self.known = known
        self._pairs: Pairs | None = None

    @property
    def pairs(self) -> Pairs:
        """The batch's (row, value) pairs and their probes, built at first use and
        shared by the search in the notes and the residue checks after it."""
        if self._pairs is None:
            self._pairs = pairs_of(self.known)
        return self._pairs

    def hits(self, i: int, normed: str, compact: str) -> Pats:
        """The patterns of row ``i`` found in its text, longest first (as
        :func:`known_patterns` orders them; a pattern that is not a substring of
        the normalised text cannot match in :func:`find_known`)."""
        found: dict[tuple[str, bool], str] | None = None
        for transformer, value in self.known[i]:
            seen = False
            for p, comp in patterns(transformer, value):
                if p in (compact if comp else normed):
                    seen = True
                    if found is None:
                        found = {}
                    found.setdefault((p, comp), kind_of(transformer) or "id")
            if not seen:  # a street's core marks (_known._core_found): in no other form
                marks = [(p, c) for p, c in patterns(transformer, value) if p[:1] == CORE]
                for got in (g for p, _ in marks for g in core_hits(p, normed)):
                    if found is None:
                        found = {}
                    found.setdefault((got, False), kind_of(transformer) or "id")
        if found is None:
            return []
        return sorted(((p, c, k) for (p, c), k in found.items()), key=lambda x: -len(x[0]))


def _utf8(value: bytes) -> str | None:
    """``value`` as UTF-8 text, or None when it is not."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _own_spans(
    texts: list[str], pats: _Patterns, only: list[int] | None = None
) -> list[list[tuple[int, int, str]]]:
    """Spans of each text (of the rows ``only``, default all) holding one of its row's
    known values. A C-level substring test on the normalised batch finds the few
    texts that need the (slower, position-keeping) search."""
    out: list[list[tuple[int, int, str]]] = [[] for _ in texts]
    known = pats.known
    if only is None:
        rows = list(compress(range(len(texts)), known))
    else:
        rows = [i for i in only if known[i]]
    if not rows:
        return out
    found = pats.pairs.texts_hits(texts, None if len(rows) == len(texts) else rows)
    hit = [i for i in rows if found[i]]
    # which texts have another reading, and which may find more in their split
    # reading, told for all of them at once (most have neither)
    hit_texts = list(map(texts.__getitem__, hit))
    breaks = set(map(hit.__getitem__, breaking(hit_texts)))
    splits = may_find_more_many(hit_texts, [split_words(found[i]) for i in hit])
    for i, split in zip(hit, splits, strict=True):
        out[i] = find_known(texts[i], found[i], i in breaks, split)
    for i, stems in _stems(texts, known, rows).items():
        out[i] = merged_spans(out[i] + [(s, e, "name") for s, e in stems])
    return out


def _stems(
    texts: Sequence[str], known: Sequence[Known], rows: list[int]
) -> dict[int, list[tuple[int, int]]]:
    """Row → the spans of its text (of the rows ``rows``) holding a prefix of its
    row's surname glued to digits (ganthr7: :func:`stem_spans`). Only the texts with a
    run of letters before a digit are read on their own (:func:`stem_rows`: C-level
    searches of the batch; most have none)."""
    out: dict[int, list[tuple[int, int]]] = {}
    for k in stem_rows([texts[i] for i in rows]):
        i = rows[k]
        names = surnames(known[i])
        stems = stem_spans(fold_known(texts[i]), names) if names else []
        if stems:
            out[i] = stems
    return out


def _no_residue(texts: list[str], pats: _Patterns, touched: list[int]) -> list[str]:
    """Star out (same length) any known value still in a text: one a pseudonym or
    the cut to ``max_length`` happened to recreate. Only the ``touched`` rows (with a
    replacement or cut) can hold one: the others were searched before, whole."""
    out = list(texts)
    rows = touched
    for _ in range(_MAX_RESIDUAL_PASSES):
        spans = _own_spans(out, pats, rows)
        # a pass searches again only the rows the last one changed: the others
        # were searched as they are now and held nothing
        rows = [i for i in rows if spans[i]]
        if not rows:
            return out
        for i in rows:
            for s, e, _ in spans[i]:
                out[i] = out[i][:s] + "*" * (e - s) + out[i][e:]
    last = _own_spans(out, pats, rows)
    for i in rows:
        if last[i]:
            out[i] = "*" * len(out[i])
    return out


def _strings(
    container: Any, k: Any, row: int, out: list[tuple[Any, Any, int]], nums: list[Any]
) -> None:
    """``(container, key, row)`` of every string in ``container[k]``, depth first in
    document order: the slots :meth:`JsonMask._walk` gives ``"scrub"`` when the plan
    lists no path and scrubs unknown keys, without building a path per node; and in
    ``nums`` those of its integers of :data:`MIN_COMPACT` digits or more (the slots
    ``"numbers"``, :meth:`JsonMask._mask_numbers`)."""
    node = container[k]
    if isinstance(node, dict):
        for key, v in node.items():
            if isinstance(v, str):
                out.append((node, key, row))
            elif isinstance(v, dict | list):
                _strings(node, key, row, out, nums)
            elif type(v) is int and not -_SHORT < v < _SHORT:
                nums.append((node, key, row))
    elif isinstance(node, list):
        for idx, v in enumerate(node):
            if isinstance(v, str):
                out.append((node, idx, row))
            elif isinstance(v, dict | list):
                _strings(node, idx, row, out, nums)
            elif type(v) is int and not -_SHORT < v < _SHORT:
                nums.append((node, idx, row))
    elif isinstance(node, str):
        out.append((container, k, row))
    elif type(node) is int and not -_SHORT < node < _SHORT:
        nums.append((container, k, row))


# json_mask: batches with fewer escape-free document texts than this (or than this
# share of the batch) are masked row by row; distinct texts kept across batches
_REPEATS_MIN = 64
_REPEATS_SHARE = 0.5
_MEMO_MAX = 8192
_MEMO_TEXT_MAX = 512  # characters
_LONG_DIGITS = re.compile(r"[0-9]{19}")
# an integer leaf shorter than this (in absolute value) is no identifier's form
_SHORT = 10 ** (MIN_COMPACT - 1)
# json.dumps(d, ensure_ascii=False) builds this encoder for every call
_dumps = json.JSONEncoder(ensure_ascii=False).encode


def _loads(text: str) -> Any:
    """``json.loads(text)``: orjson parses what both accept (the same values, 3-5x
    faster); whatever orjson refuses (NaN, lone surrogates...) goes to
    ``json.loads``, which decides, as before. So do texts with a byte-order mark
    and with a run of 19 digits: orjson reads an integer beyond 64 bits as a float."""
    if not text.startswith("\ufeff") and _LONG_DIGITS.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def _tree_copy(node: Any) -> Any:
    """A copy of a document's dicts and lists (the containers json_mask assigns
    into; it never descends into anything else), sharing every other value: 5-10x
    faster than ``copy.deepcopy`` for the small documents of a batch."""
    if isinstance(node, dict):
        return {k: _tree_copy(v) if isinstance(v, dict | list) else v for k, v in node.items()}
    return [_tree_copy(v) if isinstance(v, dict | list) else v for v in node]


# an e-mail address (its words are the pseudonym's too: example, com), and a word of
# four letters or more
_MAILS = re.compile(r"\S+@\S+")
_WORD = re.compile(r"[^\W\d_]{4,}")


def _words(key: str) -> set[str]:
    """The words of four letters or more of ``key`` outside e-mail addresses, folded."""
    return set(_WORD.findall(_MAILS.sub(" ", key).casefold()))


def _rename(obj: dict[str, Any], new: dict[str, str]) -> None:
    """Rename the keys of ``obj`` in place (``new``: old key → new key), keeping
    their order; a key that stays keeps its name, a renamed key that would meet one
    already there gets the first free suffix `` 2``, `` 3``... (deterministic: the
    object's order decides)."""
    taken = {k for k in obj if k not in new}
    pairs: list[tuple[str, Any]] = []
    for k, v in obj.items():
        if k in new:
            base = name = new[k]
            n = 2
            while name in taken:
                name = f"{base} {n}"
                n += 1
            taken.add(name)
            pairs.append((name, v))
        else:
            pairs.append((k, v))
    obj.clear()
    obj.update(pairs)


def _street_cores(sub: Transformer, items: list[str]) -> dict[str, str | None]:
    """A street pseudonym's name for each of ``items`` (a street's rare name written
    alone: ``Ganthriv`` → ``Snyder`` of ``4821 Snyder Mews``); starred out when the
    pseudonym has none."""
    out: dict[str, str | None] = {}
    for item, street in _safe(sub, items).items():
        words = (street or "").split()
        out[item] = " ".join(words[1:-1]) or None  # (a number, the name, a street word)
    return out


def _city_words(sub: Transformer, items: list[str]) -> dict[str, str | None]:
    """A city pseudonym for each of ``items`` (a city's rare word written in a text:
    ``Quarrington`` → ``Abbottberg``), the same for each writing of the word, in its
    case shape (``QUARRINGTON`` → ``ABBOTTBERG``, ``quarrington`` → ``abbottberg``)."""
    from stagewall.masking._namewords import fold_text

    folded = {item: fold_text(item) for item in items}
    drawn = _safe(sub, list(dict.fromkeys(folded.values())))
    return _in_case_shape(folded, drawn)


def _full_names(sub: Transformer, items: list[str]) -> dict[str, str | None]:
    """A full-name pseudonym for each of ``items`` (a source person's first and last
    name written in a text: ``TOMASZ BERGER``, ``Berger, Tomasz``), the same for
    every writing of the same two words (drawn for them folded, in the order of their
    letters), in the writing's case shape (all upper, all lower, or as drawn)."""
    from stagewall.masking._namepairs import name_words
    from stagewall.masking._namewords import fold_text

    keys = {}
    for item in items:
        words = sorted(name_words(fold_text(item)))
        keys[item] = " ".join(w.title() for w in words) if words else item
    drawn = _safe(sub, list(dict.fromkeys(keys.values())))
    return _in_case_shape(keys, drawn)


def _in_case_shape(keys: dict[str, str], drawn: dict[str, str | None]) -> dict[str, str | None]:
    """For each writing of ``keys`` (writing → the key its pseudonym was drawn for),
    the pseudonym ``drawn`` for its key in the writing's case shape: all upper, all
    lower, or as drawn."""
    out: dict[str, str | None] = {}
    for item, key in keys.items():
        new = drawn.get(key)
        if new is not None and item.isupper():
            new = new.upper()
        elif new is not None and item.islower():
            new = new.lower()
        out[item] = new
    return out


def _safe(sub: Transformer, items: list[str]) -> dict[str, str | None]:
    """``sub`` over ``items``; a value it refuses (not a phone, ...) is starred out."""
    if not items:
        return {}
    try:
        new = sub.transform(items)
    except MaskingError:
        return dict.fromkeys(items)
    return {k: (None if v is None else str(v)) for k, v in zip(items, new, strict=True)}


_SEGMENT = re.compile(r"\.([A-Za-z0-9_$@-]+)|\['((?:[^'\\]|\\.)*)'\]|\[(\*)\]")
Path = tuple[str | None, ...]  # None stands for "any array element"


def parse_path(path: str) -> Path:
    """``$.a.b``, ``$.items[*].name``, ``$['odd key']`` → segments (``None`` = ``[*]``)."""
    if not path.startswith("$"):
        raise ValueError(f"JSON path {path!r} must start with '$'")
    segs: list[str | None] = []
    pos = 1
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if not m:
            raise ValueError(f"JSON path {path!r} is not understood at position {pos}")
        if m.group(3):
            segs.append(None)
        else:
            segs.append(m.group(1) if m.group(1) is not None else m.group(2).replace("\\'", "'"))
        pos = m.end()
    return tuple(segs)


def format_path(path: Path) -> str:
    out = "$"
    for s in path:
        if s is None:
            out += "[*]"
        elif re.fullmatch(r"[A-Za-z0-9_$@-]+", s):
            out += "." + s
        else:
            out += "['" + s.replace("'", "\\'") + "']"
    return out


class PathSpec(ParamsModel):
    transformer: str
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> PathSpec:
        if self.transformer == "json_mask":
            raise ValueError("json_mask cannot be nested inside json_mask")
        try:
            get_transformer_class(self.transformer)
            validate_params(self.transformer, self.params)
        except ConfigError as exc:
            raise ValueError(exc.message) from None
        return self


class JsonMaskParams(ParamsModel):
    paths: dict[str, PathSpec] = Field(default_factory=dict)
    keep: list[str] = Field(default_factory=list)
    unknown_keys: Literal["fail", "keep", "scrub"] = "fail"

    @field_validator("paths")
    @classmethod
    def _paths(cls, v: dict[str, PathSpec]) -> dict[str, PathSpec]:
        for p in v:
            parse_path(p)
        return v

    @field_validator("keep")
    @classmethod
    def _keep(cls, v: list[str]) -> list[str]:
        for p in v:
            parse_path(p)
        return v


@register
class JsonMask(Transformer):
    """Apply a transformer per JSON path; keys not listed follow ``unknown_keys``."""

    name = "json_mask"
    accepts = frozenset({ColumnKind.JSON, ColumnKind.TEXT})
    Params = JsonMaskParams
    # text scrubbed inside the document gets the row's known values (see TextScrub)
    wants_known: ClassVar[bool] = True
    # a json/jsonb column reaches it as the document's JSON text: a top-level string,
    # number or boolean is a document too, and its text says which it is
    takes_json_text: ClassVar[bool] = True

    def setup(self) -> None:
        p: JsonMaskParams = self.params  # type: ignore[assignment]
        self._subs = {
            parse_path(path): build_transformer(
                spec.transformer, spec.params, key=self._masking_key, salt=self.salt
            )
            for path, spec in p.paths.items()
        }
        self._keep = {parse_path(k) for k in p.keep}
        self._scrub = (
            build_transformer("text_scrub", {}, key=self._masking_key, salt=self.salt)
            if p.unknown_keys == "scrub"
            else None
        )
        # every ancestor of a listed path is a container we may walk through
        self._ancestors = {
            path[:i] for path in (*self._subs, *self._keep) for i in range(len(path))
        }
        # no path listed and unknown keys scrubbed: what _walk does is collect every
        # string of the document (see _strings)
        self._only_scrub = not self._subs and not self._keep and p.unknown_keys == "scrub"
        # document text → its masked text with no known values (see _mask_repeats),
        # when every transformer inside gives an output that depends on its input alone
        self._memo: dict[str, str] = {}
        self._memoisable = all(
            getattr(t, "memoisable", True) for t in (*self._subs.values(), self._scrub) if t
        )
        # keys are judged as text_scrub judges a string leaf (see _mask_keys); a key's
        # outcome without known values is kept across batches (bounded, as _memo)
        self._keys = build_transformer("text_scrub", {}, key=self._masking_key, salt=self.salt)
        self._key_memo: dict[str, str] = {}
        self._whole_key = build_transformer("full_name", {}, key=self._masking_key, salt=self.salt)

    def learn(self, words: dict[str, str]) -> None:
        """:meth:`TextScrub.learn` for the text scrubbed inside documents and keys."""
        for tr in (self._scrub, self._keys, *self._subs.values()):
            if tr is not None and hasattr(tr, "learn"):
                tr.learn(words)
        self._memo.clear()
        self._key_memo.clear()

    def max_output_length(self, input_max: int | None) -> int | None:
        return None

    def _apply(self, values: list[Any]) -> list[object]:
        return self._mask(values, None)

    def transform_known(self, values: Sequence[object], known: Sequence[Known]) -> list[object]:
        """Mask a batch; text scrubbed inside row ``i``'s document gets ``known[i]``."""
        out: list[object] = list(values)
        idx = [i for i, v in enumerate(out) if v is not None]
        if idx:
            done = self._mask_repeats([out[i] for i in idx], pick(known, idx))
            for i, v in zip(idx, done, strict=True):
                out[i] = v
        return out

    def _mask_repeats(self, values: list[Any], known: list[Known]) -> list[object]:
        """:meth:`_mask` of a batch, each distinct document text masked once where the
        row's known values cannot matter.

        Text scrubbed inside a document depends on the row only through the row's
        known values, and only on those that can be found in it: a value none of
        whose probes (see :func:`rows_with_candidates`) runs inside the document's
        text, and no surname whose prefix glued to digits is in it (:func:`_stems`),
        cannot be found in any of its strings (each string's folded words run
        inside the text's when the text has no escapes). Such a row's document comes
        out as the same document with no known values, masked once per distinct text
        (and kept for later batches, bounded), unless the residue check would act on
        it: a masked text that differs from the input is tested again, whole, against
        the row's values, and one that may hold any of them (or has escapes) is masked
        row by row as before, as is every row with a candidate in its input.
        """
        n = len(values)
        fast = [i for i, v in enumerate(values) if type(v) is str and "\\" not in v]
        if (
            len(fast) < _REPEATS_MIN
            or len(fast) < n * _REPEATS_SHARE
            or not self._memoisable
            or any(type(v) is not str for v in values)
        ):
            return self._mask(values, known)
        try:
            return self._mask_fast(values, known, fast)
        except MaskingError:  # the error, and which document it names, as row by row
            return self._mask(values, known)

    def _mask_fast(self, values: list[str], known: list[Known], fast: list[int]) -> list[object]:
        n = len(values)
        hit = rows_with_candidates(pick(known, fast), [values[i] for i in fast])
        # and a prefix of the row's surname glued to digits (ganthr7), which no probe
        # of its values finds: text_scrub's own search (see _own_spans)
        stemmed = _stems(values, known, fast)
        if stemmed:
            hit = [h or i in stemmed for i, h in zip(fast, hit, strict=True)]
        plain = [i for i, h in zip(fast, hit, strict=True) if not h]
        memo = self._memo
        todo = [v for v in dict.fromkeys(values[i] for i in plain) if v not in memo]
        # str in, str out (a document text is masked to its text)
        fresh: dict[str, str] = (
            dict(zip(todo, map(str, self._mask(todo, [NO_KNOWN] * len(todo))), strict=True))
            if todo
            else {}
        )
        got: list[Any] = [None] * n
        for i in plain:
            got[i] = fresh[v] if (v := values[i]) in fresh else memo[v]
        # kept for later batches: short texts, a bounded number of them (a full memo
        # is replaced, never emptied in place: a thread of a threaded run may be
        # reading it)
        if len(memo) + len(fresh) > _MEMO_MAX:
            self._memo = memo = {}
        memo.update((k, v) for k, v in fresh.items() if len(k) <= _MEMO_TEXT_MAX)
        # an unchanged text holds none of the row's values (its input held no
        # candidate); a changed one is tested as the residue check would
        changed = [i for i in plain if got[i] != values[i]]
        if changed:
            stemmed = _stems(got, known, changed)
            again = [
                "\\" in got[i] or h or i in stemmed
                for i, h in zip(
                    changed,
                    rows_with_candidates(pick(known, changed), [got[i] for i in changed]),
                    strict=True,
                )
            ]
            for i, a in zip(changed, again, strict=True):
                if a:
                    got[i] = None
        slow = [i for i in range(n) if got[i] is None]
        if slow:
            done = self._mask([values[i] for i in slow], pick(known, slow))
            for i, d in zip(slow, done, strict=True):
                got[i] = d
        return got

    @property
    def refuses_only_non_documents(self) -> bool:
        """Whether the only values it refuses are those :meth:`check` refuses: no
        path has a transformer of its own, and unknown keys are kept or scrubbed."""
        return not self._subs and self.params.unknown_keys != "fail"  # type: ignore[attr-defined]

    def check(self, values: Sequence[object]) -> None:
        """Raise what masking ``values`` raises for the first of them that is no JSON
        document (verify's check of the values whose outputs it does not compute)."""
        self._documents([v for v in values if v is not None])

    def _mask(self, values: list[Any], known: list[Known] | None) -> list[object]:
        docs, as_str = self._documents(values)
        slots: dict[Path | str, list[tuple[Any, Any, int]]] = {}
        if self._only_scrub:  # no paths: every string anywhere is free text
            refs: list[tuple[Any, Any, int]] = []
            nums: list[tuple[Any, Any, int]] = []
            for i in range(len(docs)):
                _strings(docs, i, i, refs, nums)
            if refs:
                slots["scrub"] = refs
            if nums:
                slots["numbers"] = nums
        else:
            for i in range(len(docs)):
                self._walk(docs, i, (), slots, i)
        for target, refs in slots.items():
            if target == "numbers":
                self._mask_numbers(refs, known)
                continue
            sub = self._scrub if target == "scrub" else self._subs[target]  # type: ignore[index]
            if sub is None:
                continue
            try:
                items = [c[k] for c, k, _ in refs]
                if known is not None and getattr(sub, "wants_known", False):
                    new = sub.transform_known(items, pick(known, [i for _, _, i in refs]))  # type: ignore[attr-defined]
                else:
                    new = sub.transform(items)
            except MaskingError as exc:
                where = "unknown keys" if target == "scrub" else format_path(target)  # type: ignore[arg-type]
                raise MaskingError(f"json_mask at {where}: {exc.message}", hint=exc.hint) from None
            if not getattr(sub, "wants_known", False):
                new = self._no_full_names(new)
            for (container, k, _), nv in zip(refs, new, strict=True):
                container[k] = nv
        self._mask_keys(docs, known)
        return [_dumps(d) if s else d for d, s in zip(docs, as_str, strict=True)]

    def _mask_numbers(self, refs: list[tuple[Any, Any, int]], known: list[Known] | None) -> None:
        """Replace, in place, each integer leaf of ``refs`` (unknown keys scrubbed) whose
        digits hold one of its row's known values or another customer's identifier
        (:meth:`TextScrub.holds_ids`: ``{"ssn": 502124002}``) by another integer of as
        many digits and the same sign, keyed on its digits (the same value gives the
        same number), drawn again while it holds one (then ``10…0``)."""
        scrub = self._keys
        if not isinstance(scrub, TextScrub):
            return
        digits = [str(abs(c[k])) for c, k, _ in refs]
        kin = [NO_KNOWN] * len(refs) if known is None else pick(known, [i for _, _, i in refs])
        at = [j for j, h in enumerate(scrub.holds_ids(digits, kin)) if h]
        new: dict[int, str] = {}
        for n in range(_MAX_RESIDUAL_PASSES + 1):
            if not at:
                break
            if n == _MAX_RESIDUAL_PASSES:  # (never seen: four draws each someone's id)
                new.update((j, "1" + "0" * (len(digits[j]) - 1)) for j in at)
                break
            drawn = self._drawn([digits[j] for j in at], n)
            new.update(zip(at, drawn, strict=True))
            again = scrub.holds_ids(drawn, [kin[j] for j in at])
            at = [j for j, h, d in zip(at, again, drawn, strict=True) if h or d == digits[j]]
        for j, d in new.items():
            c, k, _ = refs[j]
            c[k] = -int(d) if c[k] < 0 else int(d)

    def _drawn(self, digits: list[str], n: int) -> list[str]:
        """A keyed number of as many digits (not starting with 0) for each of
        ``digits``, the ``n``-th draw."""
        from stagewall.masking.transformers._batch import keyed_hash

        width = max(map(len, digits))
        parts = [
            keyed_hash(self._key, f"json_mask/number/{n}/{j}", digits).tolist()
            for j in range((width + 17) // 18)
        ]
        out = []
        for i, d in enumerate(digits):
            pool = "".join(f"{p[i] % 10**18:018d}" for p in parts)
            out.append(str(1 + int(pool[0]) % 9) + pool[1 : len(d)])
        return out

    def _mask_keys(self, docs: list[Any], known: list[Known] | None) -> None:
        """Rename, in place, every object key of ``docs`` that text_scrub would change
        as a string leaf of that row (a row's own known value, a name, e-mail, phone
        ... the detector finds): ``{"friends": {"Novak": "self"}}`` keeps its shape,
        the key becomes a pseudonym. Keys that stay keep their names and places; a
        renamed key that meets another key of its object gets a suffix (`` 2``,
        `` 3``...), so none is lost. Paths are matched on the source's keys (this
        runs after the values are masked).

        Batch-wise: each distinct key of the batch is scrubbed once without known
        values (and remembered across batches); only the keys of rows whose keys
        may hold one of the row's known values (:func:`rows_with_candidates` of the
        row's keys joined, and :func:`_stems`) are scrubbed again with them."""
        objs: list[tuple[dict[str, Any], int]] = []
        for i, doc in enumerate(docs):
            if isinstance(doc, dict | list):
                stack = [doc]
                while stack:
                    cur = stack.pop()
                    if isinstance(cur, dict):
                        if cur:
                            objs.append((cur, i))
                        stack.extend(v for v in cur.values() if isinstance(v, dict | list))
                    else:
                        stack.extend(v for v in cur if isinstance(v, dict | list))
        if not objs:
            return
        memo = self._key_memo
        distinct = list(dict.fromkeys(chain.from_iterable(obj for obj, _ in objs)))
        todo = [k for k in distinct if k not in memo]
        fresh: dict[str, str] = (
            dict(zip(todo, self._wholly(todo, self._keys.transform(todo)), strict=True))
            if todo
            else {}
        )
        # each key of the batch → its outcome without known values
        plain = {k: fresh[k] if k in fresh else memo[k] for k in distinct}
        if len(memo) + len(fresh) > _MEMO_MAX:  # replaced, never emptied in place
            self._key_memo = memo = {}
        memo.update((k, v) for k, v in fresh.items() if len(k) <= _MEMO_TEXT_MAX)
        # row → its keys as text_scrub gives them with the row's known values
        own: dict[int, dict[str, str]] = {}
        if known is not None:
            rows = sorted({i for _, i in objs if known[i]})
            if rows:
                keys_of: dict[int, list[str]] = {}
                for obj, i in objs:
                    if known[i]:
                        keys_of.setdefault(i, []).extend(obj)
                joined = ["\n".join(keys_of[i]) for i in rows]
                hit = rows_with_candidates(pick(known, rows), joined)
                texts: list[str] = [""] * len(docs)
                for i, t in zip(rows, joined, strict=True):
                    texts[i] = t
                stemmed = _stems(texts, known, rows)
                hit_rows = [i for i, h in zip(rows, hit, strict=True) if h or i in stemmed]
                items: list[str] = []
                owners: list[int] = []
                for i in hit_rows:
                    ks = list(dict.fromkeys(keys_of[i]))
                    items += ks
                    owners += [i] * len(ks)
                # of those rows' keys, the ones that may hold a value (the same test,
                # key by key): the others come out as without known values
                if items:
                    kin = pick(known, owners)
                    maybe = rows_with_candidates(kin, items)
                    stems = _stems(items, kin, list(range(len(items))))
                    at = [j for j, m in enumerate(maybe) if m or j in stems]
                    items, owners = [items[j] for j in at], [owners[j] for j in at]
                if items:
                    got = self._keys.transform_known(items, pick(known, owners))  # type: ignore[attr-defined]
                    for i, k, v in zip(owners, items, self._wholly(items, got), strict=True):
                        own.setdefault(i, {})[k] = v
        renamed = {k: v for k, v in plain.items() if v != k}
        if not renamed and not own:  # the usual batch: every key a field name
            return
        for obj, i in objs:
            mine = own.get(i)
            if mine is None:
                new = {k: renamed[k] for k in obj if k in renamed}
            else:
                new = {k: n for k in obj if (n := mine.get(k) or plain[k]) != k}
            if new:
                _rename(obj, new)

    def _no_full_names(self, values: Sequence[object]) -> list[object]:
        """A path transformer's ``values`` with no source person's full name (the
        learnt pairs, :meth:`learn`): a pseudonym that writes one by chance (a
        ``full_name`` leaf drawn as a customer's name, a street pseudonym's ``Paul
        Green``) has it drawn again as text_scrub does
        (:meth:`TextScrub._no_full_names`)."""
        out = list(values)
        scrub = self._keys
        if not isinstance(scrub, TextScrub) or not scrub._pairs:
            return out
        at = [j for j, v in enumerate(out) if type(v) is str and v]
        texts: list[str] = [out[j] for j in at]  # type: ignore[misc]
        scrub._no_full_names(texts, list(range(len(texts))))
        for j, t in zip(at, texts, strict=True):
            out[j] = t
        return out

    def _wholly(self, keys: list[str], scrubbed: Sequence[object]) -> list[str]:
        """The new name of each key: text_scrub's output (``scrubbed``), or, where
        that output still holds a word of the key (a name found and replaced beside
        a word the detector does not know: ``Ana Ganthriv`` → ``Yolanda Moore
        Ganthriv``), a pseudonym of the whole key. A key is a name for something,
        not prose: the rest of one that held a name is no field name either, and
        may be another person's surname that no row's known values list."""
        out = list(map(str, scrubbed))
        for j, (k, v) in enumerate(zip(keys, out, strict=True)):
            if v != k and _words(k) & _words(v):
                out[j] = self._whole_name(k)
        return out

    def _whole_name(self, key: str) -> str:
        """A full-name pseudonym of the whole ``key`` that writes no source person's
        full name (the learnt pairs, :meth:`learn`): one that does, by chance (the
        pseudonyms are common names), is drawn again from itself, as text_scrub
        draws such a name again (:meth:`TextScrub._no_full_names`, up to
        :data:`_MAX_RESIDUAL_PASSES` passes), then starred out (same length)."""
        new = str(self._whole_key.transform([key])[0])
        scrub = self._keys
        if not isinstance(scrub, TextScrub) or not scrub._pairs:
            return new
        pairs = scrub._pairs
        from stagewall.masking._namepairs import pair_spans

        for _ in range(_MAX_RESIDUAL_PASSES):
            if not pair_spans([new], pairs)[0]:
                return new
            new = str(self._whole_key.transform([new])[0])
        return new if not pair_spans([new], pairs)[0] else "*" * len(new)

    def _documents(self, values: Sequence[object]) -> tuple[list[Any], list[bool]]:
        """Each value as the document to mask (its containers copied), and whether it
        was JSON text; raises for the first value that is no JSON document."""
        docs: list[Any] = []
        as_str: list[bool] = []
        for v in values:
            if isinstance(v, str):
                try:
                    docs.append(_loads(v))
                except ValueError:
                    raise MaskingError(
                        "json_mask: a value is not valid JSON",
                        hint="use text_scrub for text columns that are not JSON",
                    ) from None
                as_str.append(True)
            elif isinstance(v, dict | list):
                docs.append(_tree_copy(v))
                as_str.append(False)
            elif isinstance(v, bool | int | float):  # a decoded top-level scalar document
                docs.append(v)
                as_str.append(False)
            else:
                raise wrong_type(self.name, v, "JSON (dict, list, str, number or boolean)")
        return docs, as_str

    def _walk(
        self, container: Any, k: Any, path: Path, slots: dict[Path | str, list[Any]], row: int
    ) -> None:
        node = container[k]
        if path in self._subs:
            if isinstance(node, dict | list):
                raise MaskingError(
                    f"json_mask: path {format_path(path)} holds an object or array, not a value",
                    hint="point the path at the values inside (use [*] for array elements)",
                )
            if node is not None:
                slots.setdefault(path, []).append((container, k, row))
            return
        if path in self._keep:
            return
        if path and path not in self._ancestors:
            policy = self.params.unknown_keys  # type: ignore[attr-defined]
            if policy == "fail":
                raise MaskingError(
                    f"json_mask: the document has a key at {format_path(path)} "
                    "that the plan neither masks nor keeps",
                    hint="add the path to paths or keep in the plan, or set unknown_keys",
                )
            if policy == "keep":
                return
        if isinstance(node, dict):
            for key in node:
                self._walk(node, key, (*path, str(key)), slots, row)
        elif isinstance(node, list):
            for idx in range(len(node)):
                self._walk(node, idx, (*path, None), slots, row)
        elif node is not None:
            # a value where the plan expects an object, or any value under "scrub"
            policy = self.params.unknown_keys  # type: ignore[attr-defined]
            if policy == "fail":
                raise MaskingError(
                    f"json_mask: the document has a value at {format_path(path)} "
                    "where the plan expects an object or array",
                    hint="fix the paths in the plan or set unknown_keys",
                )
            if policy == "scrub" and isinstance(node, str):
                slots.setdefault("scrub", []).append((container, k, row))
            elif policy == "scrub" and type(node) is int and not -_SHORT < node < _SHORT:
                slots.setdefault("numbers", []).append((container, k, row))


__all__ = ["JsonMask", "TextScrub", "format_path", "parse_path"]
