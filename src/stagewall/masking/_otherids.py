"""Another customer's identifier written without the shape the detector knows.

The detector (:mod:`.classify._text`) finds an identifier by its shape: an IBAN's
check digits, a DNI's control letter, a phone's ``+``. Written otherwise, another
customer's value in this row's note or JSON document is a bare run of digits like an
order number: a Spanish DNI without its letter (``48213957``), a US SSN without its
dashes (``123456789``), an IBAN's account part alone, a phone without its country
code, a passport or account number. The row's own values are found in any form
(:func:`._known._patterns_of`); another row's were not, so the copy kept them and
verify passed.

Here the source values of the plan's masked *identifier* columns (the kinds whose
row's own values are searched in their compact form too: phones, IBANs, cards and
every identifier, :data:`ID_KINDS`) give their compact forms as the row's own value
gives them (:func:`forms`: the compact form, a phone's national number, an IBAN's
account part, an identifier's number without its letters), those of
:data:`MIN_COMPACT` characters or more holding a digit, as keyed 64-bit hashes
(:class:`OtherIds`: never the values). A text's *candidates* (:func:`_candidates`)
are its runs of letters and digits holding a digit (case folded), the runs of
:data:`MIN_COMPACT` digits or more inside them, and a run of digit groups apart by
one separator (``612 345 678``, ``123-45-6789``, ``48.213.957``) joined, as any
groups in a row of it up to :data:`MAX_FORM` digits. A candidate whose hash is one
of the set is another customer's identifier: the copy's text_scrub stars it out as
it stars a row's own identifier (:meth:`OtherIds.spans`, applied to its output, so a
pseudonym that writes one by chance is starred too) and verify's whole-target scan
counts every text cell holding one (:meth:`OtherIds.cells_holding`). One rule, read
by :func:`learn_ids` from the source in the run's snapshot and in verify's.

A value a kept column holds whole (an order number kept as it is) is public: it is
left out of the set, so a note writing it is left as it is. Noise accepted: a number
in a note equal to a form of someone's identifier (an 8-digit order number that is
a customer's DNI without its letter) is starred out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from stagewall.masking.transformers._batch import keyed_hash
from stagewall.masking.transformers._known import (
    _COMPACT_KINDS,
    MIN_COMPACT,
    account_numbers,
    account_part,
    compact_many,
    id_numbers,
    kind_of,
    national_numbers,
    norm_many,
)

ID_KINDS = _COMPACT_KINDS
OTHER_ID = "identifier"  # the kind verify reports a cell holding one as
MAX_FORM = 34  # characters: the longest IBAN; a longer joined run is no identifier
MAX_GROUPS = 16  # digit groups of one run joined (a longer run: its first ones)
_LABEL = "otherids"
_PURPOSE = "masking/otherids"
_DIGIT = re.compile("[0-9]")
# a run of digit groups apart by one separator each, or a run of letters and digits
# holding a digit; neither glued to a letter or digit on either side
_RUN = re.compile(r"(?<![^\W_])(?:[0-9]+(?:[ .\-/][0-9]+)+|[^\W_]*[0-9][^\W_]*)(?![^\W_])")
_SEPARATOR = re.compile(r"[ .\-/]")
_DIGITS = re.compile(f"[0-9]{{{MIN_COMPACT},}}")


def id_columns(plan: Any, table: Any) -> dict[str, str]:
    """The columns of ``table`` whose values are identifiers (column → transformer)."""
    from stagewall.masking.db import copy_columns

    out: dict[str, str] = {}
    for col in copy_columns(table):
        cp = plan.column(table.qualified, col.name)
        if cp is not None and kind_of(cp.transformer) in ID_KINDS:
            out[col.name] = cp.transformer
    return out


def forms(transformer: str, values: Sequence[object]) -> list[str]:
    """The compact forms of ``values`` (of a column of ``transformer``) that another
    row's text is searched for: exactly the compact patterns of a row's own value
    (:func:`._known._patterns_of`, which tests/masking/test_redteam_otherids2.py
    compares), those holding a digit. Strings and integers; a few C-level passes."""
    kind = kind_of(transformer)
    if kind not in ID_KINDS:
        return []
    texts = [str(v) if type(v) is int else v for v in values if type(v) in (str, int)]
    compacts = [c for c in compact_many(norm_many(texts)) if _DIGIT.search(c)]  # type: ignore[arg-type]
    out = [c for c in compacts if len(c) >= MIN_COMPACT]
    if kind == "phone":
        out += [n for n in national_numbers(compacts) if n is not None]
    elif kind == "iban":
        out += [b for b in map(account_part, compacts) if b is not None]
        # the account apart from the bank's code (Kto 532013000, a UK sort code and
        # account): as the row's own value is searched (account_numbers)
        out += [a for c in compacts for a in account_numbers(c)]
    elif kind == "id":
        out += [f for c in compacts if not c.isdigit() for f in id_numbers(c)]
    return out


def _candidates(text: str) -> Iterable[tuple[int, int, str]]:
    """Every candidate of ``text`` (see the module doc) as ``(start, end, form)``."""
    for m in _RUN.finditer(text):
        run = m.group()
        at = m.start()
        if _SEPARATOR.search(run) is None:
            low = run.lower()
            if len(low) >= MIN_COMPACT and len(low) == len(run):
                yield at, m.end(), low
            for inner in _DIGITS.finditer(run):
                if len(inner.group()) != len(run):
                    yield at + inner.start(), at + inner.end(), inner.group()
            continue
        groups = [(g.start(), g.end()) for g in re.finditer("[0-9]+", run)][:MAX_GROUPS]
        for i, (a, _) in enumerate(groups):
            joined = ""
            for g0, g1 in groups[i:]:
                joined += run[g0:g1]
                if len(joined) > MAX_FORM:
                    break
                if len(joined) >= MIN_COMPACT:
                    yield at + a, at + g1, joined


class OtherIds:
    """The keyed hashes of the source's identifier forms (sorted, distinct), and the
    search for them in texts."""

    def __init__(self, key: bytes, hashes: npt.NDArray[np.uint64]) -> None:
        self.key = key
        self.hashes = hashes

    def __len__(self) -> int:
        return int(self.hashes.size)

    def _found(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        from stagewall.masking._units import contains

        cands = [list(_candidates(t)) for t in texts]
        flat = [f for c in cands for _, _, f in c]
        if not flat:
            return [[] for _ in texts]
        hit = contains(self.hashes, keyed_hash(self.key, _LABEL, flat)).tolist()
        out: list[list[tuple[int, int]]] = []
        k = 0
        for c in cands:
            got = [(a, b) for (a, b, _), h in zip(c, hit[k : k + len(c)], strict=True) if h]
            k += len(c)
            out.append(got)
        return out

    def spans(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """The spans of each text holding another customer's identifier (overlapping
        spans merged), in order."""
        out = []
        for got in self._found(texts):
            merged: list[tuple[int, int]] = []
            for a, b in sorted(got):
                if merged and a <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
                else:
                    merged.append((a, b))
            out.append(merged)
        return out

    def numbers(self, digits: Sequence[str]) -> list[bool]:
        """Whether each run of digits alone (a JSON number leaf's, of
        :data:`MIN_COMPACT` digits or more) is a form: such a run is its only
        candidate (:func:`_candidates`), hashed without the search."""
        from stagewall.masking._units import contains

        if not digits:
            return []
        return contains(self.hashes, keyed_hash(self.key, _LABEL, digits)).tolist()  # type: ignore[no-any-return]

    def starred(self, texts: list[str]) -> list[str]:
        """``texts`` with every span :meth:`spans` finds starred out (same length),
        again until none is left (a star splits a run: what is left of it is a
        candidate of its own)."""
        out = list(texts)
        rows = [i for i, t in enumerate(out) if _DIGIT.search(t)]
        while rows:
            found = self.spans([out[i] for i in rows])
            rows = [i for i, f in zip(rows, found, strict=True) if f]
            for i, f in zip(rows, [f for f in found if f], strict=True):
                t, parts, pos = out[i], [], 0
                for a, b in f:
                    parts += [t[pos:a], "*" * (b - a)]
                    pos = b
                out[i] = "".join([*parts, t[pos:]])
        return out

    def cells_holding(self, values: Sequence[object]) -> int:
        """How many of ``values`` (cells: strings, bytes of text, JSON documents as
        their text) hold another customer's identifier."""
        from stagewall.masking._namewords import _texts

        texts = [t for t in _texts(values) if _DIGIT.search(t)]
        return sum(1 for f in self._found(texts) if f) if texts else 0


def learn_ids(
    plan: Any,
    schema: Any,
    db: Any,
    key: Any,
    batch_rows: int,
    checkpoint: Callable[[], None] | None = None,
) -> OtherIds | None:
    """The source's identifier forms (:func:`forms`) less the whole values its kept
    columns hold, read once (one pass over each identifier column, then the kept
    text columns of the tables that have one); None when there is none. Memory: 8
    bytes a distinct form. ``checkpoint`` is called after each batch read."""
    from stagewall.masking._units import HashSet, contains, unique_sorted
    from stagewall.masking.db import copy_columns
    from stagewall.masking.types import ColumnKind

    subkey = key.derive(_PURPOSE)
    found = HashSet()
    for table in schema.tables:
        cols = id_columns(plan, table)
        read = list(cols)
        for _, columns in db.iter_columns(table, read, None, batch_rows) if read else ():
            for name, values in zip(read, columns, strict=True):
                got = forms(cols[name], values)
                if got:
                    found.add_array(keyed_hash(subkey, _LABEL, got))
            if checkpoint is not None:
                checkpoint()
    hashes = found.array()
    if not hashes.size:
        return None
    public = HashSet()
    for table in schema.tables:
        read = [
            c.name
            for c in copy_columns(table)
            if c.kind in (ColumnKind.TEXT, ColumnKind.OTHER)
            and (cp := plan.column(table.qualified, c.name)) is not None
            and cp.transformer == "keep"
        ]
        for _, columns in db.iter_columns(table, read, None, batch_rows) if read else ():
            for values in columns:
                texts = [v for v in values if type(v) is str and _DIGIT.search(v)]
                whole = [
                    c
                    for c in compact_many(norm_many(texts))
                    if len(c) >= MIN_COMPACT and _DIGIT.search(c)
                ]
                if whole:
                    public.add_array(keyed_hash(subkey, _LABEL, whole))
            if checkpoint is not None:
                checkpoint()
    shown = unique_sorted(public.array())
    if shown.size:
        hashes = hashes[~contains(shown, hashes)]
    return OtherIds(subkey, hashes) if hashes.size else None


__all__ = ["ID_KINDS", "OTHER_ID", "OtherIds", "forms", "id_columns", "learn_ids"]
