"""json_mask's repeated-document path (JsonMask._mask_repeats) against the row-by-row
path (JsonMask._mask): the same masked documents for random batches of documents and
known values, with a cold and a warm memo, whatever the documents hold (the rows'
own values, names the detector finds, escapes, unicode whose lower case differs)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer
from stagewall.masking.transformers._structured import _REPEATS_MIN

KEY = MaskingKey("json-repeats", b"j" * 32)

_WORDS = ["web", "app", "Anna", "Miller", "anna miller", "Calle Mayor 7", "+34 612 345 678",
          "jane@corp.example", "Σ", "ΑΣ", "İ", "ß", "é", "\n", '"', "\\", "\x00", "7", " ", "-",
          "Happy birthday from Anna Miller!", "ES9121000418450200051332", "Müller",
          "Ganthriv", "ganthr", "Ganth", "<b>", "Calle Mayor"]  # fmt: skip
_STRING = st.lists(st.sampled_from(_WORDS), max_size=5).map("".join)
_SCALAR = st.one_of(_STRING, st.integers(-5, 10**20), st.booleans(), st.none(), st.just(1.5))
_DOC = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["channel", "gift", "note", "Anna", "n"]), inner, max_size=3
        ),
    ),
    max_leaves=6,
)
_KNOWN_T = ["first_name", "last_name", "full_name", "street_address", "phone", "iban", "email"]
_ROW = st.lists(st.tuples(st.sampled_from(_KNOWN_T), _STRING), max_size=4).map(tuple)


def _texts(docs: list[object], spaced: bool) -> list[str]:
    """Document texts as PostgreSQL writes jsonb (``", "``, ``": "``) or compact."""
    if spaced:
        return [json.dumps(d, ensure_ascii=False) for d in docs]
    return [json.dumps(d, ensure_ascii=False, separators=(",", ":")) for d in docs]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(_DOC, min_size=1, max_size=6),
    st.lists(_ROW, min_size=1, max_size=6),
    st.booleans(),
    st.sampled_from([{"unknown_keys": "scrub"}, {"unknown_keys": "scrub", "keep": ["$.n"]}]),
    st.randoms(use_true_random=False),
)
def test_repeated_documents_mask_as_row_by_row(
    docs: list[object],
    rows: list[tuple[tuple[str, str], ...]],
    spaced: bool,
    params: dict[str, Any],
    rnd: Any,
) -> None:
    texts = _texts(docs, spaced)
    n = max(_REPEATS_MIN, 2 * len(texts) * len(rows))
    values = [texts[i % len(texts)] for i in range(n)]
    known = [rows[(i * 7) % len(rows)] for i in range(n)]
    rnd.shuffle(known)
    fast = build_transformer("json_mask", params, key=KEY, salt="s")
    ref = build_transformer("json_mask", params, key=KEY, salt="s")
    expected = ref._mask(list(values), list(known))  # type: ignore[attr-defined]
    assert fast.transform_known(values, known) == expected  # type: ignore[attr-defined]
    # a later batch, the memo warm: the same documents in another order
    order = list(range(n))
    rnd.shuffle(order)
    again = fast.transform_known([values[i] for i in order], [known[i] for i in order])  # type: ignore[attr-defined]
    assert again == [expected[i] for i in order]


def test_the_repeated_path_is_taken_and_masks_the_rows_own_values() -> None:
    """A batch of one document over and over: masked once, except in the rows whose own
    values it holds (those are masked row by row, their value replaced)."""
    fast = build_transformer("json_mask", {"unknown_keys": "scrub"}, key=KEY, salt="s")
    calls: list[int] = []
    real = fast._mask  # type: ignore[attr-defined]

    def counting(values: list[object], known: object) -> list[object]:
        calls.append(len(values))
        return real(values, known)  # type: ignore[no-any-return]

    fast._mask = counting  # type: ignore[attr-defined]
    doc = '{"gift": "From Yésica Carrasco, with love", "channel": "web"}'
    n = 200
    known = [
        (("full_name", "Yésica Carrasco"),) if i % 50 == 0 else (("email", f"u{i}@x.org"),)
        for i in range(n)
    ]
    out = fast.transform_known([doc] * n, known)  # type: ignore[attr-defined]
    assert calls == [1, 4]  # once for the repeated text, then the four rows that hold their value
    assert all("Yésica" not in o and "Carrasco" not in o for o in out)
    assert len(set(out[i] for i in range(n) if i % 50)) == 1


def test_a_pseudonym_that_is_the_rows_own_value_is_caught_in_repeated_documents() -> None:
    """The residue check: where the masked document (the same for every row) holds a
    row's own value, that row's document is masked row by row, and the value does not
    survive."""
    doc = '{"gift": "Happy birthday from Anna Miller!", "channel": "web"}'
    fast = build_transformer("json_mask", {"unknown_keys": "scrub"}, key=KEY, salt="s")
    ref = build_transformer("json_mask", {"unknown_keys": "scrub"}, key=KEY, salt="s")
    once = json.loads(ref._mask([doc], [()])[0])["gift"]  # type: ignore[attr-defined]
    pseudonym = once.removeprefix("Happy birthday from ").removesuffix("!")
    assert pseudonym and pseudonym != "Anna Miller"
    n = 100
    known = [(("full_name", pseudonym),) if i % 10 == 3 else () for i in range(n)]
    out = fast.transform_known([doc] * n, known)  # type: ignore[attr-defined]
    assert out == ref._mask([doc] * n, known)  # type: ignore[attr-defined]
    for i in range(3, n, 10):
        assert pseudonym not in out[i]
        assert all(w not in out[i] for w in pseudonym.split())
    assert pseudonym in out[0]
