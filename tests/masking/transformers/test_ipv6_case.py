"""ip_address on IPv6 spellings: the output follows the input's letter case.

Before, a spelling the masked address could not follow (leading zeros a masked
group has no room for, ``2001:0db8::1`` beside ``2001:db8::1``) was told apart
by a keyed mix of letter cases alone: two outputs equal under a case-insensitive
collation (MariaDB's default), so a unique column of the two spellings stopped
the run. Now the output once lower-cased depends only on the input once
lower-cased, its case only on the input's, and inputs distinct once lower-cased
give outputs distinct once lower-cased.
"""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer

HEX = frozenset("abcdefABCDEF")
KEY = MaskingKey("k", b"\x01" * 32)


def spell(addr: ipaddress.IPv6Address, widths: list[int], elide: int, tail4: bool) -> str:
    """``addr`` written with its k-th group padded to at least ``widths[k]`` digits,
    its ``elide``-th run of zero groups (if any) written ``::``, an IPv4 tail."""
    groups = [(int(addr) >> (16 * (7 - k))) & 0xFFFF for k in range(8)]
    hexes = 6 if tail4 else 8
    parts = [format(g, "x").zfill(w) for g, w in zip(groups[:hexes], widths, strict=False)]
    if tail4:
        parts.append(str(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)))
    zero_runs, k = [], 0
    while k < hexes:
        if groups[k] == 0:
            j = k
            while j < hexes and groups[j] == 0:
                j += 1
            zero_runs.append((k, j))
            k = j
        else:
            k += 1
    if zero_runs and elide >= 0:
        a, b = zero_runs[elide % len(zero_runs)]
        return ":".join(parts[:a]) + "::" + ":".join(parts[b:])
    return ":".join(parts)


def recase(text: str, upper: list[bool]) -> str:
    out, k = [], 0
    for c in text:
        if c in HEX:
            out.append(c.upper() if upper[k % len(upper)] else c.lower())
            k += 1
        else:
            out.append(c)
    return "".join(out)


addresses = st.one_of(
    st.ip_addresses(v=6),
    st.integers(0, 0xFFFF).map(lambda g: ipaddress.IPv6Address(f"2001:db8::{g:x}")),
    st.integers(0, 2**32 - 1).map(lambda x: ipaddress.IPv6Address((0xFFFF << 32) | x)),
    st.sampled_from(["::1", "::", "fe80::a:b", "2001:db8::", "64:ff9b::c000:207"]).map(
        ipaddress.IPv6Address
    ),
)
spellings = st.builds(
    spell,
    addresses,
    st.lists(st.integers(1, 4), min_size=8, max_size=8),
    st.integers(-1, 3),
    st.booleans(),
)
cases = st.lists(st.booleans(), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(spellings, cases, cases), min_size=1, max_size=12))
def test_output_follows_the_input_case_and_case_insensitive_distinctness(
    items: list[tuple[str, list[bool], list[bool]]],
) -> None:
    ip = build_transformer("ip_address", {}, key=KEY, salt="s")
    first = [recase(s, a) for s, a, _ in items]
    second = [recase(s, b) for s, _, b in items]
    out1 = [str(v) for v in ip.transform(first)]
    out2 = [str(v) for v in ip.transform(second)]
    for src, got in zip(first + second, out1 + out2, strict=True):
        ipaddress.IPv6Address(got)  # a valid address
        # the k-th hex letter in the case of the source's k-th (the last one's past it)
        want = [c.isupper() for c in src if c in HEX]
        have = [c.isupper() for c in got if c in HEX]
        if want:
            assert have == [want[min(k, len(want) - 1)] for k in range(len(have))], (src, got)
        else:
            assert got == got.lower()
    # equal under a case-insensitive collation in, equal under it out
    for a, b in zip(out1, out2, strict=True):
        assert a.lower() == b.lower()
    # distinct under it in, distinct under it out
    low_in = [s.lower() for s in first]
    low_out = [o.lower() for o in out1]
    assert len(set(low_in)) == len(set(zip(low_in, low_out, strict=True)))
    assert len(set(low_in)) == len(set(low_out)), (first, out1)


@settings(max_examples=150, deadline=None)
@given(addresses, st.lists(st.booleans(), min_size=1, max_size=12))
def test_the_canonical_spelling_in_any_case_is_one_masked_address(
    addr: ipaddress.IPv6Address, upper: list[bool]
) -> None:
    ip = build_transformer("ip_address", {}, key=KEY, salt="s")
    canonical = str(addr)
    out = [str(v) for v in ip.transform([canonical, recase(canonical, upper), str(addr.exploded)])]
    assert ipaddress.IPv6Address(out[0]) == ipaddress.IPv6Address(out[1])
    assert out[0] == out[0].lower()
    assert out[0].lower() == out[1].lower()


def test_case_only_spellings_and_padded_spellings() -> None:
    """``2001:DB8::A`` and ``2001:db8::a``: one masked address, each in its own case;
    ``2001:0db8::a`` (leading zeros): distinct once lower-cased (before: the same
    text as the others in another mix of cases)."""
    ip = build_transformer("ip_address", {}, key=KEY, salt="s")
    a, b, c, d = (str(v) for v in ip.transform(
        ["2001:DB8::A", "2001:db8::a", "2001:0db8::a", "2001:0DB8::A"]
    ))  # fmt: skip
    assert a == b.upper() and b == b.lower()
    assert c.lower() not in (a.lower(), b.lower())
    assert d == c.upper()
