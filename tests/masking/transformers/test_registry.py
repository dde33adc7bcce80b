from __future__ import annotations

import re
from pathlib import Path

import pytest

from stagewall.errors import ConfigError
from stagewall.keys import MaskingKey
from stagewall.masking.transformers import (
    ParamsModel,
    Transformer,
    build_transformer,
    get_transformer_class,
    register,
    transformer_names,
)
from stagewall.masking.types import ColumnKind

KEY = MaskingKey("k", b"\x01" * 32)
REQUIRED = {
    "keep", "null", "constant", "redact", "partial", "hash", "first_name", "last_name",
    "full_name", "email", "phone", "street_address", "city", "postcode", "company", "username",
    "iban", "card_number", "ip_address", "date_shift", "birth_date", "numeric_noise",
    "fpe_digits", "fpe_alnum", "fpe_uuid", "fpe_integer", "json_mask", "text_scrub",
}  # fmt: skip


def test_all_required_transformers_are_registered() -> None:
    assert set(transformer_names()) >= REQUIRED


def test_unknown_name_lists_the_valid_names() -> None:
    with pytest.raises(ConfigError) as exc:
        get_transformer_class("emial")
    assert "unknown transformer 'emial'" in exc.value.message
    assert "email" in exc.value.message and "fpe_uuid" in exc.value.message


def test_duplicate_registration_is_rejected() -> None:
    class Dup(Transformer):
        name = "email"

        def _apply(self, values: list[object]) -> list[object]:
            return values

    with pytest.raises(ValueError, match="registered twice"):
        register(Dup)


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("hash", {"length": 2}, "length"),
        ("hash", {"encoding": "rot13"}, "encoding"),
        ("email", {"domian": "x.org"}, "domian"),
        ("email", {"domain": "not a domain"}, "domain"),
        ("redact", {"char": "**"}, "char"),
        ("fpe_integer", {"mode": "range", "min": 5}, "min and max are required"),
        ("date_shift", {"max_days": 0}, "max_days"),
        ("constant", {}, "value"),
        (
            "json_mask",
            {"paths": {"customer.email": {"transformer": "email"}}},
            "must start with '$'",
        ),
        ("json_mask", {"paths": {"$.a": {"transformer": "emial"}}}, "unknown transformer 'emial'"),
        (
            "json_mask",
            {"paths": {"$.a": {"transformer": "hash", "params": {"length": 1}}}},
            "length",
        ),
        ("json_mask", {"unknown_keys": "ignore"}, "unknown_keys"),
    ],
)
def test_bad_params_name_the_field(name: str, params: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as exc:
        build_transformer(name, params, key=KEY)
    assert f"invalid params for transformer {name!r}" in exc.value.message
    assert field in exc.value.message


def test_class_contract() -> None:
    for name in transformer_names():
        cls = get_transformer_class(name)
        assert cls.name == name
        assert issubclass(cls.Params, ParamsModel)
        assert cls.Params.model_config.get("extra") == "forbid"
        assert cls.accepts and cls.accepts <= frozenset(ColumnKind)
        assert not (cls.unique_safe and cls.lossy), name
    lossy = {n for n in transformer_names() if get_transformer_class(n).lossy}
    assert {"null", "constant", "redact", "partial", "birth_date"} <= lossy
    assert not get_transformer_class("email").lossy


def test_secret_never_in_repr() -> None:
    t = build_transformer("email", {}, key=MaskingKey("kid", b"supersecretsupersecret1234567890"))
    assert "supersecret" not in repr(t) and "kid" in repr(t)


def test_every_transformer_is_documented_with_an_example() -> None:
    doc = (Path(__file__).parents[3] / "docs" / "transformers.md").read_text()
    headings = set(re.findall(r"^### `([a-z_0-9]+)`", doc, flags=re.M))
    assert headings == set(transformer_names())
    for name in transformer_names():
        section = doc.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]
        assert "```" in section, f"{name} has no example"
