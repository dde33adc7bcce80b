"""The fast paths of the transformers give exactly what the plain code gives:
orjson parsing against ``json.loads``, the no-path JSON walk against ``_walk``,
the ASCII fold against the table fold, the batch candidate test against the
per-pair probes (see also test_recorded.py for whole-transformer outputs)."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer
from stagewall.masking.transformers._known import _fold_table, fold
from stagewall.masking.transformers._structured import _dumps, _loads, _strings

KEY = MaskingKey("speed-key", b"q" * 32)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types and float bits (``0.0 == -0.0``, ``1 == 1.0`` are not)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return math.copysign(1, a) == math.copysign(1, b) and (a == b or (a != a and b != b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


def _check_loads(text: str) -> None:
    """``_loads`` gives what ``json.loads`` gives, or both refuse the text."""
    try:
        want: Any = json.loads(text)
    except ValueError:
        want = ValueError
    try:
        got: Any = _loads(text)
    except ValueError:
        got = ValueError
    assert got is want is ValueError or _same(got, want), text


@settings(max_examples=400, deadline=None)
@given(json_values, st.booleans())
def test_loads_equals_json_loads(value: Any, ascii_: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_)
    assert _same(_loads(text), json.loads(text))


def test_loads_edge_cases_equal_json_loads() -> None:
    texts = [
        "NaN",
        "[Infinity, -Infinity]",
        "123456789012345678901234567890",
        "-0",
        "-0.0",
        "1e400",
        "1.7976931348623157e308",
        "5e-324",
        "0.1",
        "2.5e-7",
        '{"a": 1, "a": 2, "b": 3}',
        '"\\ud800"',
        '"\\ud83d\\ude00"',
        '"é\\u00e9"',
        "\ufeff[1]",
        " [1, 2] \n",
        "1.0",
        "100000000000000000000.0",
        '{"k": [1.5, true, false, null]}',
        "1.00000000000000011102230246251565404236316680908203125",
        "2.2250738585072011e-308",
        "0.30000000000000004",
        "9223372036854775807",
        "18446744073709551615",
        "-9223372036854775809",
        "1E5",
        "[1e-400]",
    ]
    for text in texts:
        _check_loads(text)


@settings(max_examples=300, deadline=None)
@given(
    st.from_regex(r"-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,30})?([eE][-+]?[0-9]{1,3})?", fullmatch=True)
)
def test_loads_of_decimal_numbers_equals_json_loads(text: str) -> None:
    """Numbers as people write them (long mantissas, halfway cases, big exponents)."""
    _check_loads(text)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_dumps_equals_json_dumps(value: Any) -> None:
    assert _dumps(value) == json.dumps(value, ensure_ascii=False)


@settings(max_examples=150, deadline=None)
@given(st.lists(json_values, min_size=1, max_size=6))
def test_scrub_only_walk_equals_the_path_walk(docs: list[Any]) -> None:
    """A plan without paths that scrubs unknown keys: the string collector finds
    the same slots (the same containers and keys), in the same order, as the
    general walk."""
    t = build_transformer("json_mask", {"unknown_keys": "scrub"}, key=KEY)
    assert t._only_scrub  # type: ignore[attr-defined]
    fast: list[Any] = []
    nums: list[Any] = []
    for i in range(len(docs)):
        _strings(docs, i, i, fast, nums)
    slow: dict[Any, Any] = {}
    for i in range(len(docs)):
        t._walk(docs, i, (), slow, i)  # type: ignore[attr-defined]
    assert set(slow) <= {"scrub", "numbers"}
    assert [(id(c), k, r) for c, k, r in fast] == [
        (id(c), k, r) for c, k, r in slow.get("scrub", [])
    ]
    # (and the integer leaves of 8 digits or more, json_mask's number slots)
    assert [(id(c), k, r) for c, k, r in nums] == [
        (id(c), k, r) for c, k, r in slow.get("numbers", [])
    ]


def test_plans_with_paths_or_other_policies_take_the_general_walk() -> None:
    for params in (
        {"unknown_keys": "keep"},
        {"unknown_keys": "fail"},
        {"unknown_keys": "scrub", "keep": ["$.a"]},
        {"unknown_keys": "scrub", "paths": {"$.e": {"transformer": "email"}}},
    ):
        t = build_transformer("json_mask", params, key=KEY)
        assert not t._only_scrub, params  # type: ignore[attr-defined]


@given(st.text(max_size=40))
def test_fold_fast_path_equals_the_table(text: str) -> None:
    assert fold(text) == text.translate(_fold_table()).lower()
    assert len(fold(text)) == len(text)


_RUN_CHARS = st.sampled_from(
    [*"aZ 9\x00\n.-", *"\u03a3\u03c3\u212a\u0130\u0131\u017f\u00fc\u00df\uff2d\u0666", "\U0001d406"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.text(_RUN_CHARS, max_size=40) | st.text(max_size=40))
def test_fold_by_runs_equals_fold(text: str) -> None:
    """Translating only the runs of non-ASCII characters is the whole translate (the
    tables map only non-ASCII characters), and the fold so made is :func:`fold`, a
    final sigma next to ASCII letters included (lower-cased over the whole text)."""
    from stagewall.masking.classify._addresses import _GATE_FOLD
    from stagewall.masking.transformers._known import fold_runs, translate_runs

    assert translate_runs(text, _fold_table()) == text.translate(_fold_table())
    assert fold_runs(text) == fold(text)
    assert translate_runs(fold_runs(text), _GATE_FOLD) == fold(text).translate(_GATE_FOLD)
    assert fold_runs("AB\u03a3 x") == fold("AB\u03a3 x") == "ab\u03c2 x"


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("09AZaz \n_\u0663"), min_size=1, max_size=34))
def test_iban_number_equals_the_per_character_reading(text: str) -> None:
    """The mod-97 number of an IBAN read with one translate is the number read a
    character at a time (int(c, 36) each); a string it cannot read raises alike."""
    from stagewall.masking.transformers._checksums import _iban_number

    try:
        want: int | None = int("".join(str(int(c, 36)) for c in text))
    except ValueError:
        want = None
    try:
        got: int | None = _iban_number(text)
    except ValueError:
        got = None
    assert got == want
