"""Input strategies per transformer for the property tests (including tricky values)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from stagewall.masking.transformers._checksums import (
    IBAN_LENGTHS,
    iban_check_digits,
    luhn_check_digit,
)

tricky_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", ".", "@", "a.b", "ä", "💥", "a\x00b", "A" * 70, "0", "00", "+1"]),
)


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(["DE", "GB", "FR", "NL", "NO", "MT", "IT"]))
    n = IBAN_LENGTHS[country] - 4
    alphabet = "0123456789" if country in ("DE", "NO") else "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    bban = draw(st.text(alphabet=alphabet, min_size=n, max_size=n))
    iban = country + iban_check_digits(country, bban) + bban
    if draw(st.booleans()):
        iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return iban


@st.composite
def cards(draw: st.DrawFn) -> str:
    n = draw(st.integers(13, 19))
    body = draw(st.sampled_from("23456")) + draw(
        st.text(alphabet="0123456789", min_size=n - 2, max_size=n - 2)
    )
    number = body + luhn_check_digit(body)
    sep = draw(st.sampled_from(["", " ", "-"]))
    return sep.join(number[i : i + 4] for i in range(0, len(number), 4))


phones = st.one_of(
    st.from_regex(r"\+(1|44|49|353) [0-9]{2,4} [0-9]{3,4} [0-9]{3,4}", fullmatch=True),
    st.from_regex(r"\([0-9]{3}\) [0-9]{3}-[0-9]{4}", fullmatch=True),
    st.from_regex(r"0[0-9]{3,4}[ -]?[0-9]{5,7}", fullmatch=True),
)
ips = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.ip_addresses(),
    st.sampled_from(["127.0.0.1", "10.0.0.1", "::1", "192.168.0.1/24", "::", "0.0.0.0"]),
)
alnum_ids = st.one_of(
    st.text(max_size=20), st.from_regex(r"[A-Z]{2}-[0-9]{4}-[a-z]{3}", fullmatch=True)
)

# name → (params, strategy of distinct-able inputs)
UNIQUE_SAFE: dict[str, tuple[dict[str, Any], st.SearchStrategy[Any]]] = {
    "email": ({}, tricky_text),
    "phone": ({}, phones),
    "iban": ({}, ibans()),
    "card_number": ({}, cards()),
    "ip_address": ({}, ips),
    "fpe_digits": ({}, tricky_text),
    "fpe_alnum": ({}, alnum_ids),
    "fpe_integer": ({}, st.integers(-(2**63), 2**63 - 1)),
    "fpe_uuid": ({}, st.uuids()),
    "keep": ({}, tricky_text),
}

ANY_VALUES: dict[str, st.SearchStrategy[Any]] = {
    **{name: strat for name, (_, strat) in UNIQUE_SAFE.items()},
    "first_name": tricky_text,
    "last_name": tricky_text,
    "full_name": tricky_text,
    "username": tricky_text,
    "street_address": tricky_text,
    "city": tricky_text,
    "company": tricky_text,
    "postcode": tricky_text,
    "hash": tricky_text,
    "redact": tricky_text,
    "partial": tricky_text,
    "null": tricky_text,
    "text_scrub": tricky_text,
    "date_shift": st.one_of(
        st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
        st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1)),
    ),
    "birth_date": st.dates(),
    "numeric_noise": st.one_of(
        st.integers(-(10**9), 10**9),
        st.floats(allow_nan=False, allow_infinity=False, width=32),
        st.decimals(
            allow_nan=False, allow_infinity=False, places=2, max_value=10**6, min_value=-(10**6)
        ),
    ),
}
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {"constant": {"value": "x"}}

__all__ = ["ANY_VALUES", "DEFAULT_PARAMS", "UNIQUE_SAFE", "cards", "ibans", "ips", "phones"]

_ = (Decimal, ipaddress, uuid)
