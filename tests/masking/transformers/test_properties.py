"""Properties every transformer must have: determinism, key dependence, None, uniqueness."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer, transformer_names

from .strategies import ANY_VALUES, UNIQUE_SAFE

K1 = MaskingKey("k1", b"\x01" * 32)
K2 = MaskingKey("k2", b"\x02" * 32)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_unique_safe_table_covers_every_unique_safe_transformer() -> None:
    from stagewall.masking.transformers import get_transformer_class

    claimed = {n for n in transformer_names() if get_transformer_class(n).unique_safe}
    assert claimed == set(UNIQUE_SAFE)


@pytest.mark.parametrize("name", sorted(UNIQUE_SAFE))
def test_unique_safe_transformers_keep_distinct_inputs_distinct(name: str) -> None:
    params, strategy = UNIQUE_SAFE[name]

    @SETTINGS
    @given(st.lists(strategy, min_size=1, max_size=60, unique_by=_identity))
    def check(values: list[Any]) -> None:
        out = build_transformer(name, params, key=K1).transform(values)
        assert len(out) == len(values)
        assert len({_identity(v) for v in out}) == len(values)

    check()


def _identity(v: Any) -> Any:
    return (type(v).__name__, str(v)) if not isinstance(v, str) else ("str", v)


@pytest.mark.parametrize("name", sorted(ANY_VALUES))
def test_deterministic_under_a_key_and_different_under_another(name: str) -> None:
    strategy = ANY_VALUES[name]

    @SETTINGS
    @given(st.lists(strategy, min_size=1, max_size=30))
    def check(values: list[Any]) -> None:
        a = build_transformer(name, {}, key=K1).transform(values)
        # a fresh instance, the values in another order and batch: same mapping
        b = build_transformer(name, {}, key=K1).transform(list(reversed(values)))
        assert a == list(reversed(b))
        single = build_transformer(name, {}, key=K1)
        assert [single.transform([v])[0] for v in values[:5]] == a[:5]

    check()


KEYED = ["email", "first_name", "full_name", "phone", "iban", "card_number", "fpe_digits",
         "fpe_alnum", "fpe_integer", "fpe_uuid", "ip_address", "hash", "date_shift", "city"]  # fmt: skip


@pytest.mark.parametrize("name", KEYED)
def test_another_key_gives_other_outputs(name: str) -> None:
    values = [v for v in _examples(name)]
    a = build_transformer(name, {}, key=K1).transform(values)
    b = build_transformer(name, {}, key=K2).transform(values)
    differ = sum(x != y for x, y in zip(a, b, strict=True))
    assert differ >= len(values) * 0.6, (name, differ)


def test_salt_changes_the_mapping_and_equal_salt_agrees() -> None:
    ids = list(range(1000, 1100))
    a = build_transformer("fpe_integer", {}, key=K1, salt="customers.id").transform(ids)
    b = build_transformer("fpe_integer", {}, key=K1, salt="customers.id").transform(ids[::-1])
    c = build_transformer("fpe_integer", {}, key=K1, salt="other").transform(ids)
    assert a == b[::-1]
    assert a != c


@pytest.mark.parametrize(
    "name", sorted(set(transformer_names()) - {"null", "constant", "json_mask"})
)
def test_none_stays_none(name: str) -> None:
    values = [None, *_examples(name)[:3], None]
    out = build_transformer(name, {}, key=K1).transform(values)
    assert out[0] is None and out[-1] is None
    assert len(out) == len(values)


def test_numpy_object_arrays_are_accepted() -> None:
    import numpy as np

    arr = np.array(["a@b.com", None, "c@d.org"], dtype=object)
    out = build_transformer("email", {}, key=K1).transform(arr)
    assert out == build_transformer("email", {}, key=K1).transform(["a@b.com", None, "c@d.org"])


_SCRIPT = """
import json
from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer, _dicts
k = MaskingKey("k", b"\\x05" * 32)
vals = ["jane.doe@corp.com", "Bob", "+44 20 7946 0958", "GB82WEST12345698765432"]
print(json.dumps({
    "dicts": _dicts.fingerprint(),
    "email": build_transformer("email", {}, key=k).transform(vals[:1]),
    "full_name": build_transformer("full_name", {}, key=k).transform(vals),
    "phone": build_transformer("phone", {}, key=k).transform(vals[2:3]),
    "iban": build_transformer("iban", {}, key=k).transform(vals[3:]),
}))
"""


def test_outputs_and_dictionaries_are_identical_across_processes() -> None:
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", _SCRIPT], check=True, capture_output=True, text=True,
                env={"PYTHONHASHSEED": seed, "PATH": ""},
            ).stdout
        )
        for seed in ("1", "2")
    ]  # fmt: skip
    assert runs[0] == runs[1]
    assert runs[0]["full_name"][0] != runs[0]["full_name"][1]


def _examples(name: str) -> list[Any]:
    import datetime as dt
    import uuid
    from decimal import Decimal

    text = [f"value-{i}@example.org" for i in range(20)]
    return {
        "phone": [f"+44 20 7946 {i:04d}" for i in range(20)],
        "iban": ["GB82WEST12345698765432", "DE89370400440532013000", "NL91ABNA0417164300"] * 3,
        "card_number": ["4111111111111111", "5500000000000004", "340000000000009"] * 3,
        "fpe_integer": list(range(100, 120)),
        "fpe_uuid": [uuid.UUID(int=i * 99991) for i in range(20)],
        "ip_address": [f"8.8.{i}.{i}" for i in range(20)],
        "date_shift": [dt.date(2000, 1, 1) + dt.timedelta(days=i * 13) for i in range(20)],
        "birth_date": [dt.date(1980, 5, 17)] * 3,
        "numeric_noise": [Decimal("12.50"), 7, 3.25],
    }.get(name, text)


_DOMAIN_KINDS = ["email", "street_address", "city", "full_name", "phone", "postcode", "company"]


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(_DOMAIN_KINDS),
    st.lists(st.text(alphabet="abcdefgh 0123@.", min_size=3, max_size=20), min_size=1, max_size=20),
)
def test_consistency_domain_gives_equal_outputs_in_every_column(
    name: str, values: list[str]
) -> None:
    """Two columns (different root-key salts) of one domain map equal values equally;
    without the domain, the column's salt keys the output."""
    values = [v for v in values if v.strip()] or ["a@b.co"]
    if name == "email":
        values = [f"{v.replace('@', '')}@x.org" for v in values]
    if name == "phone":
        values = [f"+44 20 7946 {i:04d}" for i in range(len(values))]
    key = MaskingKey("k", b"p" * 32)
    a = build_transformer(name, {"consistency": "d"}, key=key, salt="customers.id")
    b = build_transformer(name, {"consistency": "d"}, key=key, salt="invoices.id")
    assert a.transform(values) == b.transform(values)
    c = build_transformer(name, {}, key=key, salt="customers.id")
    d = build_transformer(name, {}, key=key, salt="invoices.id")
    assert c.transform(values) == build_transformer(
        name, {}, key=key, salt="customers.id"
    ).transform(values)
    if name != "postcode" and len(set(values)) >= 5:
        assert c.transform(values) != d.transform(values)
