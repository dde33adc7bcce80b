from __future__ import annotations

import ipaddress
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.errors import MaskingError
from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer
from stagewall.masking.transformers._checksums import (
    iban_check_digits,
    iban_valid,
    luhn_check_digit,
    luhn_valid,
)
from stagewall.masking.transformers._formats import country_code_digits
from stagewall.masking.transformers._ipaddr import _V4_SPECIAL

from .strategies import cards, ibans, ips, phones

KEY = MaskingKey("k", b"\x01" * 32)


def t(name: str, **params: object):  # type: ignore[no-untyped-def]
    return build_transformer(name, params, key=KEY)


def test_checksum_known_answers() -> None:
    assert iban_valid("GB82WEST12345698765432")
    assert iban_valid("DE89370400440532013000")
    assert not iban_valid("GB82WEST12345698765433")
    assert not iban_valid("DE8937040044053201300")  # one character short for DE
    assert iban_check_digits("DE", "370400440532013000") == "89"
    assert iban_check_digits("GB", "WEST12345698765432") == "82"
    assert luhn_valid("4111111111111111") and luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112") and not luhn_valid("79927398710")
    assert luhn_check_digit("7992739871") == "3"


@settings(max_examples=60, deadline=None)
@given(st.lists(ibans(), min_size=1, max_size=20))
def test_iban_outputs_are_valid_same_country_same_length_same_layout(values: list[str]) -> None:
    out = t("iban").transform(values)
    for a, b in zip(values, out, strict=True):
        assert iban_valid(b.replace(" ", ""))
        assert b[:2] == a[:2] and len(b) == len(a)
        assert [i for i, c in enumerate(a) if c == " "] == [i for i, c in enumerate(b) if c == " "]
        assert b.replace(" ", "")[4:] != a.replace(" ", "")[4:] or len(a) < 10


def test_iban_invalid_fails_closed_or_nulls() -> None:
    with pytest.raises(MaskingError, match="not a valid IBAN") as exc:
        t("iban").transform(["GB82WEST12345698765433"])
    assert "GB82" not in exc.value.message
    assert t("iban", on_invalid="null").transform(["nope", "GB82WEST12345698765432"])[0] is None


def test_iban_keeps_lower_case_input_lower_case() -> None:
    out = t("iban").transform(["gb82 west 1234 5698 7654 32"])[0]
    assert out == out.lower() and iban_valid(out.replace(" ", "").upper())


@settings(max_examples=60, deadline=None)
@given(st.lists(cards(), min_size=1, max_size=20), st.integers(0, 6))
def test_card_outputs_pass_luhn_keep_length_and_prefix(values: list[str], keep: int) -> None:
    out = t("card_number", keep_prefix=keep).transform(values)
    for a, b in zip(values, out, strict=True):
        da, db = re.sub(r"\D", "", a), re.sub(r"\D", "", b)
        assert luhn_valid(db) and len(b) == len(a) and da[:keep] == db[:keep]
        assert [c for c in a if not c.isdigit()] == [c for c in b if not c.isdigit()]


def test_card_invalid() -> None:
    with pytest.raises(MaskingError, match="not a valid card number"):
        t("card_number").transform(["4111111111111112"])
    assert t("card_number", on_invalid="null").transform(["123"]) == [None]


@pytest.mark.parametrize(
    ("phone", "kept"),
    [("+44 20 7946 0958", 2), ("0044 20 7946 0958", 4), ("+1 (555) 123-4567", 1),
     ("+353 1 234 5678", 3), ("020 7946 0958", 2), ("(555) 123-4567", 1), ("0049 30 1234", 4), ("7", 1)],
)  # fmt: skip
def test_country_code_detection(phone: str, kept: int) -> None:
    assert country_code_digits(phone) == kept


@settings(max_examples=60, deadline=None)
@given(st.lists(phones, min_size=1, max_size=20))
def test_phone_keeps_country_code_and_format(values: list[str]) -> None:
    out = t("phone").transform(values)
    for a, b in zip(values, out, strict=True):
        assert re.sub(r"\d", "9", a) == re.sub(r"\d", "9", b)
        k = country_code_digits(a)
        assert re.sub(r"\D", "", a)[:k] == re.sub(r"\D", "", b)[:k]


RFC1918 = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]


V6 = [ipaddress.ip_network(n) for n in ("fc00::/7", "2000::/3", "::ffff:0:0/96", "fe80::/10")]


def _klass(a: ipaddress.IPv4Address | ipaddress.IPv6Address) -> tuple[bool, ...]:
    if a.version == 6:
        return (a.is_loopback, a.is_multicast, *(a in n for n in V6))
    rfc1918 = any(a in n for n in RFC1918)
    special = tuple(a in n for n in _V4_SPECIAL)  # each special-purpose block stays itself
    return (rfc1918, a.is_loopback, a.is_link_local, a.is_multicast, *special)


@settings(max_examples=60, deadline=None)
@given(st.lists(ips, min_size=1, max_size=20))
def test_ip_keeps_family_and_class(values: list[object]) -> None:
    out = t("ip_address").transform(values)
    for a, b in zip(values, out, strict=True):
        assert type(a) is type(b)
        pa = ipaddress.ip_interface(str(a)).ip
        pb = ipaddress.ip_interface(str(b)).ip
        assert pa.version == pb.version
        assert _klass(pa) == _klass(pb)


def test_ip_examples_and_types() -> None:
    out = t("ip_address").transform(
        [
            "10.1.2.3",
            "127.0.0.1",
            "8.8.8.8",
            "192.168.1.1/24",
            ipaddress.ip_interface("172.16.5.4/16"),
            "::1",
        ]
    )
    assert ipaddress.ip_address(out[0]) in ipaddress.ip_network("10.0.0.0/8")
    assert ipaddress.ip_address(out[1]).is_loopback
    assert ipaddress.ip_address(out[2]).is_global
    public = t("ip_address").transform([f"8.8.{i}.{j}" for i in range(20) for j in range(50)])
    assert all(ipaddress.ip_address(p).is_global for p in public)
    assert out[3].endswith("/24") and ipaddress.ip_interface(out[3]).ip.is_private
    assert isinstance(out[4], ipaddress.IPv4Interface) and out[4].network.prefixlen == 16
    assert out[5] == "::1"  # a one-address class maps to itself
    with pytest.raises(MaskingError, match="not an IP address"):
        t("ip_address").transform(["not-an-ip"])


def test_full_private_24_is_a_bijection() -> None:
    values = [f"192.168.7.{i}" for i in range(256)]
    out = t("ip_address").transform(values)
    assert len(set(out)) == 256
    assert all(ipaddress.ip_address(o) in ipaddress.ip_network("192.168.0.0/16") for o in out)


@pytest.mark.parametrize("shape", ["{}", "+{}", "({}) 12"])
def test_phone_is_a_bijection_on_full_domains(shape: str) -> None:
    # national "0x", "00"+country code and plain numbers mixed in one shape
    values = [shape.format(f"{i:05d}") for i in range(100_000)]
    out = t("phone").transform(values)
    assert len(set(out)) == len(values)
    assert all(a[0] == b[0] for a, b in zip(values, out, strict=True))


def test_ip_max_output_length() -> None:
    assert t("ip_address").max_output_length(15) == 43
    assert t("ip_address").max_output_length(None) is None
    assert max(len(x) for x in t("ip_address").transform(["fe80::1", "2001:db8::1/64"])) <= 43


def test_ip_fast_path_matches_general_path() -> None:
    """Plain dotted quads take a fast path; its outputs equal the ipaddress-object path."""
    import ipaddress
    import random

    from stagewall.keys import MaskingKey
    from stagewall.masking.transformers import build_transformer

    rng = random.Random(7)
    vals = [".".join(str(rng.randrange(256)) for _ in range(4)) for _ in range(5000)]
    vals += ["10.0.0.1", "127.0.0.1", "192.168.1.1", "0.0.0.0", "255.255.255.255", "100.64.3.4"]
    t = build_transformer("ip_address", {}, key=MaskingKey("k", b"\x05" * 32), salt="s")
    fast = t.transform(vals)
    general = [str(x) for x in t.transform([ipaddress.ip_address(v) for v in vals])]
    assert fast == general
    # a leading zero is not a plain quad: it goes the general way and is refused there
    with pytest.raises(MaskingError):
        t.transform(["010.1.2.3"])


_ODD_PHONES = [
    "", "+", "00", "0", " +44 20 7946 0958", "\t0044 1", "\u00a0+44 20", "\u2003+1 555",
    "+00 12", "++44", "+4", "+44", "0 0 4 4", "x+44", "+7 912", "0012", "1", "(0) 20",
]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(phones | st.sampled_from(_ODD_PHONES) | st.text(max_size=12), max_size=30))
def test_vectorised_kept_prefix_equals_the_scalar_rule(values: list[str]) -> None:
    from stagewall.masking.transformers._flat import class_masks, flatten
    from stagewall.masking.transformers._formats import phone_keep

    if not values:
        return
    flat = flatten(values)
    digit, _ = class_masks(flat.buf, letters=False)
    assert phone_keep(flat, values, digit).tolist() == [country_code_digits(v) for v in values]


def _mutations(value: str) -> list[str]:
    return [value, value[:-1], value + "0", value.lower(), value[:5] + "\u00e9" + value[6:],
            value.replace("0", "O", 1), value[::-1], " " + value + " ", value + "\n"]  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(st.lists(ibans(), min_size=1, max_size=6))
def test_iban_accepts_exactly_what_the_scalar_check_accepts(values: list[str]) -> None:
    candidates = [m for v in values for m in _mutations(v)]
    out = t("iban", on_invalid="null").transform(candidates)
    for a, b in zip(candidates, out, strict=True):
        assert (b is not None) == iban_valid(a.replace(" ", "").upper()), a
        if b is not None:
            assert iban_valid(b.replace(" ", "").upper()) and b[:2].upper() == a[:2].upper()


@settings(max_examples=40, deadline=None)
@given(st.lists(cards(), min_size=1, max_size=6))
def test_card_accepts_exactly_what_the_scalar_check_accepts(values: list[str]) -> None:
    candidates = [m for v in values for m in (*_mutations(v), "4" + v, v[1:], "x" + v)]
    out = t("card_number", on_invalid="null").transform(candidates)
    for a, b in zip(candidates, out, strict=True):
        digits = "".join(c for c in a if c.isascii() and c.isdigit())
        assert (b is not None) == (12 <= len(digits) <= 19 and luhn_valid(digits)), a


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.ip_addresses(v=4).map(str)
        | st.text(alphabet="0123456789.", max_size=16)
        | st.sampled_from(["1.2.3.4 ", "01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3"]),
        max_size=30,
    )
)
def test_dotted_quad_parser_and_formatter_agree_with_ipaddress(values: list[str]) -> None:
    import numpy as np

    from stagewall.masking.transformers._ipaddr import format_dotted, parse_dotted

    ok, ints = parse_dotted(values)
    for v, good, x in zip(values, ok.tolist(), ints.tolist(), strict=True):
        try:
            expected: int | None = int(ipaddress.IPv4Address(v))
        except ValueError:
            expected = None
        if good:
            assert x == expected
        else:
            assert expected is None
    addrs = [int(ipaddress.IPv4Address(v)) for v, g in zip(values, ok.tolist(), strict=True) if g]
    got = format_dotted(np.array(addrs, dtype=np.uint64))
    assert got == [str(ipaddress.IPv4Address(a)) for a in addrs]


def test_ip_text_object_and_interface_forms_map_alike() -> None:
    vals = ["10.1.2.3", "8.8.4.4", "192.168.0.77", "127.3.2.1"]
    as_text = t("ip_address").transform(vals)
    as_obj = t("ip_address").transform([ipaddress.ip_address(v) for v in vals])
    as_iface = t("ip_address").transform([v + "/24" for v in vals])
    assert as_text == [str(a) for a in as_obj] == [s.split("/")[0] for s in as_iface]


_PHONE_CHARS = st.sampled_from([*"0123456789  +()-./x", "\u00a0", "\u2003", "é"])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.text(_PHONE_CHARS, max_size=22), max_size=40),
    st.booleans(),
)
def test_phone_by_length_groups_equals_the_flat_path(values: list[str], keep_cc: bool) -> None:
    """The row-matrix path and the batch-wide flat path are one mapping."""
    from stagewall.keys import MaskingKey
    from stagewall.masking.transformers import build_transformer

    tr = build_transformer(
        "phone", {"keep_country_code": keep_cc}, key=MaskingKey("kp", b"\x05" * 32), salt=""
    )
    assert tr._apply(values) == tr._apply_flat(values)  # type: ignore[attr-defined]
    assert tr.transform(values[:1]) + tr.transform(values[1:]) == tr.transform(values)


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(
        ["+dd ddd ddddddd", "00dd dd ddddddd", "0ddd dddddd", "(ddd) ddd-dddd", "ddddddd"]
    ),
    st.lists(st.integers(0, 10**12), min_size=1, max_size=60),
    st.booleans(),
)
def test_phone_rows_of_one_layout_equal_the_flat_path(
    shape: str, seeds: list[int], keep_cc: bool
) -> None:
    """Numbers written one way share their digit columns (the fast layout path)."""
    from stagewall.keys import MaskingKey
    from stagewall.masking.transformers import build_transformer

    def fill(seed: int) -> str:
        digits = iter(str(seed).zfill(16))
        return "".join(next(digits) if c == "d" else c for c in shape)

    values = [fill(s) for s in seeds]
    tr = build_transformer(
        "phone", {"keep_country_code": keep_cc}, key=MaskingKey("kl", b"\x06" * 32), salt=""
    )
    assert tr._apply(values) == tr._apply_flat(values)  # type: ignore[attr-defined]
