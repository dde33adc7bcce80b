"""The row search's lookup of the values of the rows that reference a row
(``_rowcheck._children_lookup``) builds every key's patterns from batched
``checked_patterns_many`` calls (``_grouped_lookup``); it must give exactly the patterns the
call per key it replaced gave — words, compact forms and the values behind them, in
order — whatever the values (accents, ß and umlauts with their other spellings,
look-alike letters, other scripts' digits, HTML entities, NUL, apostrophes, e-mails
whose mailbox holds a digit, phones, streets with their number on either side), the
batch size and what the pattern cache held before."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagewall.masking import _anchors, _rowcheck
from stagewall.masking._known_rows import MAX_CHILD_VALUES
from stagewall.masking._rowcheck import _grouped_lookup, _Pats
from stagewall.masking.transformers import _known
from stagewall.masking.transformers._known import checked_patterns_many
from tests.masking.transformers.strategies import phones, tricky_text

PIECES = [
    "Müller", "Mueller", "Straße", "Hauptstraße 5", "Jørgensen", "Ærø", "O'Brien",
    "d\u2019Artagnan", "Yésica Carrasco", "Calle Mayor 7", "7 Calle Mayor", "222 Ganthriv Lane",
    "Ganthrivweg 14", "İstanbul", "\u0131spanak", "\u13aanna", "\u0410nna", "\uff41\uff4e\uff4e\uff41", "KELVIN\u212a",
    "jg1987@corp.example", "anna.k٣@example.org", "jörg\uff11\uff12@x.de", "&amp;Anna&#39;s",
    "+34 612 345 678", "612 345 678", "020.7946.0958", "٠١٢٣٤٥٦٧٨٩", "१२३४५६७८",
    "Σίσυφος", "ΣΊΣΥΦΟΣ", "a\x00b", "SW1A 1AA", "1234 AB", "x\u200by", "soft\u00adhyphen",
    "  ", "—", "NL91ABNA0417164300", "nl91 abna 0417 1643 00",
]  # fmt: skip
KINDS = ["first_name", "last_name", "full_name", "email", "phone", "street_address", "postcode"]

values = st.one_of(
    st.sampled_from(PIECES),
    tricky_text,
    phones,
    st.lists(st.sampled_from(PIECES), min_size=2, max_size=4).map(" ".join),
    st.text(alphabet="aäoöuüeßøAÖÜEé'\u2019 -.0123456789٣@", min_size=1, max_size=20),
)
pairs = st.tuples(st.sampled_from(KINDS), values.filter(bool))
found_maps = st.dictionaries(
    st.tuples(st.integers(0, 10_000).map(str)),
    st.sets(pairs, min_size=1, max_size=8),
    max_size=40,
)


def _per_key(found: dict[tuple[str, ...], set[tuple[str, str]]]) -> dict[Any, _Pats]:
    """The code before: one ``checked_patterns_many`` call per key (verbatim)."""
    lookup: dict[Any, _Pats] = {}
    for k, vals in found.items():
        known = tuple(sorted(vals)[:MAX_CHILD_VALUES])
        pats = _Pats.built(known, checked_patterns_many(known))
        if pats is not None:
            lookup[k] = pats
    return lookup


def _fields(lookup: dict[Any, _Pats]) -> dict[Any, tuple[Any, ...]]:
    return {k: (p.words, p.compact, p.parts) for k, p in lookup.items()}


@pytest.fixture(autouse=True)
def _cold_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_known, "_MANY", {})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(found=found_maps, batch=st.integers(1, 50), warm=st.booleans())
def test_grouped_patterns_are_the_per_key_patterns(
    found: dict[tuple[str, ...], set[tuple[str, str]]], batch: int, warm: bool
) -> None:
    _known._MANY.clear()
    before = _fields(_per_key(found))
    if not warm:  # each side computes every value's patterns itself
        _known._MANY.clear()
    after = _fields(_grouped_lookup(found, batch))
    assert after == before
    assert list(after) == list(before)


def test_more_values_than_a_key_keeps_are_cut_as_before() -> None:
    vals = {("last_name", f"Name{i:04d}") for i in range(MAX_CHILD_VALUES + 50)}
    found = {("1",): vals, ("2",): {("email", "jg1987@corp.example")}}
    assert _fields(_grouped_lookup(found, 1)) == _fields(_per_key(found))
    assert len(_grouped_lookup(found, 7)[("1",)].parts[0]) == MAX_CHILD_VALUES


def test_the_lookup_batches_the_pattern_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys' values go through ``checked_anchors_many`` a batch of keys at a time (one call
    per key cost NumPy passes over a handful of values each); their patterns are built
    only when asked for, the values of all the keys asked for at once
    (``_rowcheck._build_all``: one ``checked_patterns_many`` call)."""
    calls: list[int] = []
    built: list[int] = []
    real = _rowcheck.checked_anchors_many
    real_patterns = _rowcheck.checked_patterns_many

    def counted(known: Any) -> Any:
        calls.append(len(known))
        return real(known)

    def counted_patterns(known: Any) -> Any:
        built.append(len(known))
        return real_patterns(known)

    monkeypatch.setattr(_rowcheck, "checked_anchors_many", counted)
    monkeypatch.setattr(_rowcheck, "checked_patterns_many", counted_patterns)
    found = {
        (str(i),): {("last_name", f"Name{i}"), ("phone", f"+34 612 345 {i:03d}")}
        for i in range(100)
    }
    lookup = _grouped_lookup(found, 40)
    assert calls == [80, 80, 40]
    assert built == []
    _rowcheck._build_all(list(lookup.values()))
    assert built == [200]
    assert _fields(lookup) == _fields(_per_key(found))


def _anchor_fields(lookup: dict[Any, _Pats]) -> dict[Any, tuple[Any, ...]]:
    return {k: (p.anchors, p.parts) for k, p in lookup.items()}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(found=found_maps, batch=st.integers(1, 50), share=st.integers(0, 3), cold=st.booleans())
def test_anchors_taken_from_the_memo_are_those_computed_again(
    found: dict[tuple[str, ...], set[tuple[str, str]]], batch: int, share: int, cold: bool
) -> None:
    """``source_lookups`` hands ``_grouped_lookup`` the anchors its first pass found (a
    child table's own values): the lookup is the one built without them, whatever
    share of the values the memo holds and whatever the anchor cache holds after."""
    _known._MANY.clear()
    before = _anchor_fields(_grouped_lookup(found, batch))
    every = sorted({tv for vals in found.values() for tv in vals})
    some = every[:: share + 1] if share else []
    memo = dict(zip(some, _rowcheck.checked_anchors_many(some), strict=True))
    if cold:
        _anchors._ANCHORS.clear()
    after = _anchor_fields(_grouped_lookup(found, batch, memo))
    assert after == before
    assert list(after) == list(before)


def test_the_memo_spares_the_values_it_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, str]] = []
    real = _rowcheck.checked_anchors_many

    def counted(known: Any) -> Any:
        asked.extend(known)
        return real(known)

    found = {
        (str(i),): {("street_address", f"{i} Calle Mayor"), ("city", "Lyon")} for i in range(9)
    }
    memo = dict(zip(*[[("city", "Lyon")], real([("city", "Lyon")])], strict=True))
    monkeypatch.setattr(_rowcheck, "checked_anchors_many", counted)
    lookup = _grouped_lookup(found, 4, memo)
    assert ("city", "Lyon") not in asked
    assert sorted(asked) == sorted(("street_address", f"{i} Calle Mayor") for i in range(9))
    monkeypatch.setattr(_rowcheck, "checked_anchors_many", real)
    assert _anchor_fields(lookup) == _anchor_fields(_grouped_lookup(found, 4))
