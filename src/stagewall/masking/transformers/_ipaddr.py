"""ip_address: same family, special-purpose blocks (private, loopback, …) kept, rest permuted.

Plain dotted quads — by far the most common form — are parsed, classified,
permuted and formatted as whole NumPy arrays (bytes → octets → uint64 → bit
matrices and back). Other forms (IPv6, ``/prefix``, ``inet`` objects) go
through :mod:`ipaddress`; IPv4 addresses from either path meet in the same
vectorised permutation, so ``"10.1.2.3"``, ``"10.1.2.3/24"`` and
``IPv4Address("10.1.2.3")`` all map to the same address.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import field_validator

from stagewall.errors import MaskingError
from stagewall.masking.transformers._base import ParamsModel, Transformer, register, wrong_type
from stagewall.masking.transformers._feistel import (
    bits_to_ints,
    ints_to_bits,
    permute,
    permute_u8,
    permute_walk,
)
from stagewall.masking.transformers._flat import flatten
from stagewall.masking.transformers._scripts import fold_digits
from stagewall.masking.types import ColumnKind

U64 = npt.NDArray[np.uint64]

_V4_SPECIAL = [
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    )
]  # fmt: skip
_V6_SPECIAL = [
    ipaddress.IPv6Network(n)
    for n in (
        "::1/128", "::/128", "::ffff:0:0/96", "64:ff9b::/96", "fe80::/10",
        "fc00::/7", "ff00::/8", "2000::/3",
    )
]  # fmt: skip
_V4_MASKS = np.array([int(n.netmask) for n in _V4_SPECIAL], dtype=np.uint64)
_V4_NETS = np.array([int(n.network_address) for n in _V4_SPECIAL], dtype=np.uint64)

Addr = ipaddress.IPv4Address | ipaddress.IPv6Address

# Every octet's decimal text, left-aligned in 3 bytes, and its length.
_OCT_TEXT = np.zeros((256, 3), dtype=np.uint8)
for _n in range(256):
    _OCT_TEXT[_n, : len(str(_n))] = np.frombuffer(str(_n).encode(), dtype=np.uint8)
_OCT_LEN = np.array([len(str(n)) for n in range(256)], dtype=np.int64)
_SHIFTS = np.array([24, 16, 8, 0], dtype=np.uint64)


def u64_to_bits(x: U64, nbits: int) -> Any:
    """``(m, nbits)`` bit matrix (uint8, most significant first) of values below ``2**nbits``."""
    raw = np.ascontiguousarray(x, dtype=">u8").view(np.uint8).reshape(-1, 8)
    return np.unpackbits(raw, axis=1)[:, 64 - nbits :]


def bits_to_u64(bits: Any) -> U64:
    m, nbits = bits.shape
    full = np.zeros((m, 64), dtype=np.uint8)
    full[:, 64 - nbits :] = bits
    out: U64 = np.packbits(full, axis=1).view(">u8").reshape(m).astype(np.uint64)
    return out


def v4_class(x: U64) -> Any:
    """Index into ``_V4_SPECIAL`` of each address's block (the first that matches), or -1."""
    hit = (x.reshape(-1, 1) & _V4_MASKS) == _V4_NETS
    return np.where(hit.any(axis=1), hit.argmax(axis=1), -1)


def permute_v4(x: U64, key: bytes, avoid: ipaddress.IPv4Network | None = None) -> U64:
    """The keyed permutation of IPv4 addresses: within each special block, or public → public.

    ``avoid``: a block no public address may land in (it receives a small source
    block; see :class:`IpAddress`).
    """
    out = x.copy()
    cls = v4_class(x)
    a_mask = np.uint64(int(avoid.netmask)) if avoid else np.uint64(0)
    a_net = np.uint64(int(avoid.network_address)) if avoid else np.uint64(1)

    def allowed(b: Any) -> Any:
        y = bits_to_u64(b)
        return (v4_class(y) < 0) & ((y & a_mask) != a_net)  # nothing avoided: 0 != 1

    for ci in np.unique(cls).tolist():
        sel = np.flatnonzero(cls == ci)
        if ci < 0:  # public IPv4: cycle-walk over the whole space
            bits = permute_walk(
                u64_to_bits(x[sel], 32), np.full(32, 2, dtype=np.int64), key, "v4", allowed
            )
            out[sel] = bits_to_u64(bits)
            continue
        net = _V4_SPECIAL[ci]
        host = 32 - net.prefixlen
        base = np.uint64(int(net.network_address))
        bits = u64_to_bits(x[sel] - base, host)
        out[sel] = base + bits_to_u64(permute_u8(bits, np.full(host, 2), key, str(net)))
    return out


def parse_dotted(texts: list[str]) -> tuple[Any, U64]:
    """``(ok, ints)``: which texts are plain dotted quads (no leading zeros), and their value."""
    m = len(texts)
    if m == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=np.uint64)
    flat = flatten(texts)
    b = flat.buf
    dot = b == 46
    digit = (b >= 48) & (b <= 57)
    ok = (flat.count(~(dot | digit)) == 0) & (flat.count(dot) == 3)
    ok &= (flat.lengths >= 7) & (flat.lengths <= 15)
    dots_before = flat.rank(dot) - dot
    seg = flat.owner * 4 + np.clip(dots_before, 0, 3)
    pos = np.flatnonzero(digit)
    segd = seg[pos]
    nd = np.bincount(segd, minlength=4 * m)
    first = np.cumsum(nd) - nd  # index into pos of each segment's first digit
    exp = np.clip(nd[segd] - 1 - (np.arange(pos.size) - first[segd]), 0, 3)
    val = np.bincount(segd, weights=(b[pos] - 48) * 10.0**exp, minlength=4 * m)
    lead = np.zeros(4 * m, dtype=np.int64)
    has = nd > 0
    lead[has] = b[pos[first[has]]] - 48
    nd4, val4, lead4 = nd.reshape(m, 4), val.reshape(m, 4), lead.reshape(m, 4)
    ok &= ((nd4 >= 1) & (nd4 <= 3) & (val4 <= 255) & ~((nd4 > 1) & (lead4 == 0))).all(axis=1)
    octets = np.where(ok.reshape(-1, 1), val4, 0).astype(np.uint64)
    ints: U64 = np.bitwise_or.reduce(octets << _SHIFTS, axis=1)
    return ok, ints


def format_dotted(x: U64) -> list[str]:
    """Dotted-quad text of every IPv4 address."""
    m = len(x)
    octets = ((x.reshape(-1, 1) >> _SHIFTS) & np.uint64(255)).astype(np.intp)
    cells = np.full((m, 4, 4), 46, dtype=np.uint8)
    cells[:, :, :3] = _OCT_TEXT[octets]
    lengths = _OCT_LEN[octets]
    keep = np.ones((m, 4, 4), dtype=bool)
    keep[:, :, :3] = np.arange(3) < lengths[:, :, None]
    keep[:, 3, 3] = False
    text = cells[keep].tobytes().decode("ascii")
    bounds = [0, *np.cumsum(lengths.sum(axis=1) + 3).tolist()]
    return [text[i:j] for i, j in pairwise(bounds)]


def _v6_class(addr: Addr) -> ipaddress.IPv6Network:
    found = next((n for n in _V6_SPECIAL if addr in n), None)
    return found or ipaddress.IPv6Network((int(addr) >> 112 << 112, 16))


def _v6_outside_special(base: int) -> Callable[[Any], Any]:
    """For a fallback /16 that contains special ranges: cycle-walk around them."""

    def inside(bits: Any) -> Any:
        return np.array(
            [
                not any(ipaddress.IPv6Address(base + x) in n for n in _V6_SPECIAL)
                for x in bits_to_ints(bits)
            ],
            dtype=bool,
        )

    return inside


def _same(a: Any) -> object:
    return a


def _iface_rebuild(prefix: int) -> Callable[[Any], object]:
    return lambda a: ipaddress.ip_interface((a, prefix))


def _str_rebuild(original: str, iface: Any) -> Callable[[Any], str]:
    has_prefix = "/" in original
    upper = original != original.lower()

    def rebuild(a: Any) -> str:
        if a.version == 6:
            s = v6_written_like(a, original.strip().split("/", 1)[0])
        else:
            s = str(a).upper() if upper else str(a)
        return f"{s}/{iface.network.prefixlen}" if has_prefix else s

    return rebuild


_HEX_LETTERS = frozenset("abcdefABCDEF")


def _v6_spelling(text: str) -> tuple[list[int], int, int, bool]:
    """How an IPv6 address is written: ``(width of each of the 8 groups as written,
    0 where elided; where ``::`` starts, or -1; how many groups it stands for;
    whether the last 32 bits are written as an IPv4 address)``."""
    text = text.split("%", 1)[0]
    tail4 = "." in text
    if "::" in text:
        head, tail = text.split("::", 1)
        hg, tg = (head.split(":") if head else []), (tail.split(":") if tail else [])
    else:
        hg, tg = text.split(":"), []
    widths = [len(g) for g in hg + tg]
    if tail4:
        widths[-1:] = [0, 0]
    n = 8 - len(widths)
    at = len(hg) if "::" in text else -1
    if at >= 0:
        widths[at:at] = [0] * n
    return widths, at, n, tail4


def _longest_zero_run(groups: list[int]) -> tuple[int, int]:
    """``(start, length)`` of the first longest run of two zero groups or more."""
    best, at, start = (0, -1), 0, -1
    for k, g in enumerate([*groups, 1]):
        if g == 0 and start < 0:
            start = k
        elif g != 0 and start >= 0:
            if k - start > best[0]:
                best, at = (k - start, start), start
            start = -1
    return (at, best[0]) if best[0] >= 2 else (-1, 0)


def _v6_styled(groups: list[int], tail: str, source: str) -> str:
    """The address of ``groups`` (``tail``: its IPv4 tail, or "") written the way
    ``source`` is, case aside (see :func:`v6_written_like`)."""
    widths, at, n, tail4 = _v6_spelling(source)
    hexes = 6 if tail4 else 8
    if at >= 0 and n and at + n <= hexes and not any(groups[at : at + n]):
        start, length = at, n
    elif at >= 0:
        start, length = _longest_zero_run(groups[:hexes])
    else:
        start, length = -1, 0
    parts = [format(g, "x").zfill(w) for g, w in zip(groups[:hexes], widths, strict=False)]
    if tail4:
        parts.append(tail)
    if start < 0:
        return ":".join(parts)
    return ":".join(parts[:start]) + "::" + ":".join(parts[start + length :])


def v6_follows(masked: ipaddress.IPv6Address, source: str) -> bool:
    """Whether the masked address can be written the way ``source`` (an address
    part, any case) is: its canonical spelling, or a spelling whose shape (group
    widths, ``::``, IPv4 tail: :func:`_shape`) the masked address takes and that
    does not come out as the canonical spelling's output."""
    low = source.split("%", 1)[0].lower()
    canonical = str(ipaddress.IPv6Address(low))
    if low == canonical:
        return True
    groups = [(int(masked) >> (16 * (7 - k))) & 0xFFFF for k in range(8)]
    tail = str(ipaddress.IPv4Address(int(masked) & 0xFFFFFFFF))
    text = _v6_styled(groups, tail, low)
    return _shape(text) == _shape(low) and text != _v6_styled(groups, tail, canonical)


def v6_written_like(masked: ipaddress.IPv6Address, source: str) -> str:
    """The masked IPv6 address written the way ``source`` (its address part) is:
    each group padded with leading zeros to the source group's width, the same
    groups elided by ``::`` when the masked ones are zero (else its longest run of
    zero groups, when the source elides any), an IPv4 tail for an IPv4 tail, and
    the source's letter case: the k-th hex letter in the case of the source's
    k-th (the last one's past the source's letters).

    The output's text once lower-cased depends only on the source's text once
    lower-cased, and its case only on the source's case: two spellings equal
    under a case-insensitive collation (``2001:DB8::A``, ``2001:db8::a``) give
    outputs equal under it, with the case of each. A spelling the masked address
    cannot follow (:func:`v6_follows`) is given another masked address by the
    transformer (:meth:`IpAddress._general`), never a mere mix of cases."""
    address = source.split("%", 1)[0]
    groups = [(int(masked) >> (16 * (7 - k))) & 0xFFFF for k in range(8)]
    tail = str(ipaddress.IPv4Address(int(masked) & 0xFFFFFFFF))
    text = _v6_styled(groups, tail, address.lower())
    cases = [c.isupper() for c in address if c in _HEX_LETTERS]
    return _cased(text, cases) if any(cases) else text


def _shape(text: str) -> str:
    """A spelling's shape: its separators, the width of each group, an IPv4 tail."""
    return _HEX.sub("x", _TAIL4.sub("v4", text))


_HEX = re.compile("[0-9a-fA-F]")
_TAIL4 = re.compile(r"[0-9]+(?:\.[0-9]+){3}$")


def _cased(text: str, upper: list[bool]) -> str:
    """``text`` with its k-th hex letter upper case when ``upper[k]`` (the last
    entry's case past the end)."""
    out, k = [], 0
    for c in text:
        if c in _HEX_LETTERS:
            out.append(c.upper() if upper[min(k, len(upper) - 1)] else c.lower())
            k += 1
        else:
            out.append(c)
    return "".join(out)


class IpParams(ParamsModel):
    # plain dotted quads only (any other value stops the run): outputs fit varchar(15)
    ipv4_only: bool = False
    # an IPv4 block (prefix 16 or longer) that holds the column's addresses: they are
    # moved into the neighbouring block of the same size, so a masked address can
    # never be another source address (a permutation inside a /24 would be)
    small_block: str | None = None

    @field_validator("small_block")
    @classmethod
    def _block(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            net = ipaddress.IPv4Network(v)
        except ValueError:
            raise ValueError(f"{v!r} is not an IPv4 network such as 192.0.2.0/24") from None
        if net.prefixlen < 16 or net.prefixlen == 32:
            raise ValueError("small_block must have a prefix from /16 to /31")
        return str(net)


def neighbour(net: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
    """The block of the same size next to ``net`` (its lowest network bit flipped)."""
    size = net.num_addresses
    return ipaddress.IPv4Network((int(net.network_address) ^ size, net.prefixlen))


# separators of other scripts an address is written with: the Arabic decimal
# separator, full-width and ideographic full stops, full-width colon and solidus
_SEPARATORS = str.maketrans(
    {"\u066b": ".", "\uff0e": ".", "\u3002": ".", "\uff1a": ":", "\uff0f": "/"}
)


def _all_ascii(values: list[Any]) -> bool:
    try:
        return "".join(values).isascii()
    except TypeError:  # not all text
        return all(type(v) is not str or v.isascii() for v in values)


def ascii_spelling(text: str) -> str:
    """``text`` with every decimal digit as its ASCII digit and the separators of
    other scripts as ASCII ones (:data:`_SEPARATORS`)."""
    folded = fold_digits([text])
    return (folded[0][0] if folded else text).translate(_SEPARATORS)


def written_like(masked: str, source: str) -> str:
    """The ASCII ``masked`` address written the way ``source`` is: its k-th digit in
    the script of the source's k-th digit (the last one's past the source's
    digits), its k-th ``.``, ``:`` or ``/`` in the form of the source's k-th one.

    So a spelling that is one script throughout keeps it, and two spellings of one
    address (192.168.1.1 with its first two octets in Arabic-Indic digits and
    with all four, an Arabic decimal separator or a full stop) keep two outputs
    whenever the masked address has as many digits as the source (every IPv4
    address of a special block the mask keeps, such as 192.168.0.0/16, and most
    others); a source with a digit of another script never gets an all-ASCII
    output (its ASCII spelling's)."""
    zeros = [ord(c) - int(unicodedata.decimal(c)) for c in source if c.isdecimal()]
    forms: dict[str, list[str]] = {}
    for c in source:
        sep = c.translate(_SEPARATORS)
        if sep in ".:/":
            forms.setdefault(sep, []).append(c)
    out: list[str] = []
    k = 0
    seen: dict[str, int] = {}
    digit_at: list[int] = []
    for c in masked:
        if "0" <= c <= "9" and zeros:
            digit_at.append(len(out))
            out.append(chr(zeros[min(k, len(zeros) - 1)] + ord(c) - 48))
            k += 1
        elif c in forms:
            j = seen.get(c, 0)
            out.append(forms[c][min(j, len(forms[c]) - 1)])
            seen[c] = j + 1
        else:
            out.append(c)
    foreign = [z for z in zeros if z != 48]
    if foreign and digit_at and all(out[j].isascii() for j in digit_at):
        j = digit_at[-1]
        out[j] = chr(foreign[-1] + ord(out[j]) - 48)
    return "".join(out)


@register
class IpAddress(Transformer):
    """Same family; addresses stay in their special range (private, loopback, ...) or public."""

    name = "ip_address"
    unique_safe = True
    accepts = frozenset({ColumnKind.TEXT, ColumnKind.OTHER})
    Params = IpParams
    optional_params = frozenset({"small_block"})

    def setup(self) -> None:
        p: IpParams = self.params  # type: ignore[assignment]
        self._from = ipaddress.IPv4Network(p.small_block) if p.small_block else None
        self._into = neighbour(self._from) if self._from else None

    def max_output_length(self, input_max: int | None) -> int | None:
        if self.params.ipv4_only:  # type: ignore[attr-defined]
            return 15
        # "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128": an address can grow up to this.
        return None if input_max is None else max(input_max, 43)

    def _permute_v4(self, x: U64) -> U64:
        if self._from is None or self._into is None:
            return permute_v4(x, self._key)
        mask = np.uint64(int(self._from.netmask))
        inside = (x & mask) == np.uint64(int(self._from.network_address))
        if ((x & mask) == np.uint64(int(self._into.network_address))).any():
            raise MaskingError(
                f"ip_address: the column has addresses in {self._into}, the block that "
                f"receives the masked addresses of {self._from}",
                hint="remove small_block from the plan (or give a block that holds all of "
                "the column's addresses)",
            )
        out = permute_v4(x, self._key, avoid=self._into)
        if inside.any():
            host = 32 - self._from.prefixlen
            base = np.uint64(int(self._from.network_address))
            bits = u64_to_bits(x[inside] - base, host)
            perm = bits_to_u64(permute_u8(bits, np.full(host, 2), self._key, "small-block"))
            out[inside] = np.uint64(int(self._into.network_address)) + perm
        return out

    def _apply(self, values: list[Any]) -> list[object]:
        # (a column of native inet values holds no text: not looked at value by value)
        if str not in set(map(type, values)) or _all_ascii(values):
            return self._apply_ascii(values)
        # an address written with other scripts' digits (Arabic-Indic U+0660 on,
        # full-width, ...) or separators: masked as its canonical ASCII spelling (one
        # address, one masked address), written back the way the input was (see
        # written_like: two spellings of one address keep two outputs)
        spelt = [i for i, v in enumerate(values) if type(v) is str and not v.isascii()]
        texts = list(values)
        for i in spelt:
            texts[i] = ascii_spelling(values[i])
        out = self._apply_ascii(texts)
        for i in spelt:
            out[i] = written_like(str(out[i]), values[i])
        return out

    def _apply_ascii(self, values: list[Any]) -> list[object]:
        out: list[object] = [None] * len(values)
        if set(map(type, values)) <= {str}:
            str_idx = np.arange(len(values))
        else:
            str_idx = np.array([i for i, v in enumerate(values) if type(v) is str], dtype=np.intp)
        ok, ints = parse_dotted([values[i] for i in str_idx.tolist()])
        fast = str_idx[ok].tolist()
        for i, s in zip(fast, format_dotted(self._permute_v4(ints[ok])), strict=True):
            out[i] = s
        if len(fast) < len(values) and self.params.ipv4_only:  # type: ignore[attr-defined]
            raise MaskingError(
                "ip_address: a value is not a plain IPv4 address (ipv4_only is set)",
                hint="remove ipv4_only from the plan and widen the column, or clean the value",
            )
        if len(fast) < len(values):
            done = np.zeros(len(values), dtype=bool)
            done[fast] = True
            self._general(values, np.flatnonzero(~done).tolist(), out)
        return out

    def _general(self, values: list[Any], idx: list[int], out: list[object]) -> None:
        """Everything that is not a plain dotted-quad string, via :mod:`ipaddress`."""
        addrs: list[Addr] = []
        rebuild: list[Callable[[Any], object]] = []
        spelt: dict[int, str] = {}  # index into addrs → the address part as written
        for i in idx:
            v = values[i]
            if isinstance(v, ipaddress.IPv4Interface | ipaddress.IPv6Interface):
                addrs.append(v.ip)
                rebuild.append(_iface_rebuild(v.network.prefixlen))
            elif isinstance(v, ipaddress.IPv4Address | ipaddress.IPv6Address):
                addrs.append(v)
                rebuild.append(_same)
            elif isinstance(v, str):
                try:
                    iface = ipaddress.ip_interface(v.strip())
                except ValueError:
                    raise MaskingError(
                        "ip_address: a value is not an IP address",
                        hint="use text_scrub for free text that contains addresses",
                    ) from None
                addrs.append(iface.ip)
                rebuild.append(_str_rebuild(v, iface))
                spelt[len(addrs) - 1] = v.strip().split("/", 1)[0]
            else:
                raise wrong_type(self.name, v, "IP address")
        new: list[int] = [0] * len(addrs)
        v4 = [j for j, a in enumerate(addrs) if a.version == 4]
        if v4:
            x = np.array([int(addrs[j]) for j in v4], dtype=np.uint64)
            for j, y in zip(v4, self._permute_v4(x).tolist(), strict=True):
                new[j] = y
        groups: dict[ipaddress.IPv6Network, list[int]] = {}
        for j, a in enumerate(addrs):
            if a.version == 6:
                groups.setdefault(_v6_class(a), []).append(j)
        for net, members in groups.items():
            res = self._permute_v6(net, [int(addrs[j]) for j in members])
            for j, y in zip(members, res, strict=True):
                new[j] = y
        for j, text in spelt.items():
            if addrs[j].version == 6 and not v6_follows(ipaddress.IPv6Address(new[j]), text):
                # a spelling the masked address cannot follow (leading zeros a masked
                # group has no room for): the masked address of this spelling, keyed by
                # the spelling lower-cased, so that no mix of cases is all that tells
                # two spellings' outputs apart (a case-insensitive unique column)
                net = _v6_class(addrs[j])
                low = text.split("%", 1)[0].lower()
                for attempt in range(8):  # (another address than the canonical's)
                    alt = self._permute_v6(net, [int(addrs[j])], f"|spelling {attempt} {low}")
                    if alt[0] != new[j]:
                        new[j] = alt[0]
                        break
        for j, (i, a) in enumerate(zip(idx, addrs, strict=True)):
            addr = (
                ipaddress.IPv4Address(new[j]) if a.version == 4 else ipaddress.IPv6Address(new[j])
            )
            out[i] = rebuild[j](addr)

    def _permute_v6(
        self, net: ipaddress.IPv6Network, ints: list[int], tweak: str = ""
    ) -> list[int]:
        host = net.max_prefixlen - net.prefixlen
        base = int(net.network_address)
        if host == 0:
            return ints
        bits = ints_to_bits([x - base for x in ints], host)
        rad = np.full(host, 2, dtype=np.int64)
        if net in _V6_SPECIAL:
            perm = permute(bits, rad, self._key, str(net) + tweak)
        else:  # fallback /16: skip the special ranges inside it
            perm = permute_walk(bits, rad, self._key, str(net) + tweak, _v6_outside_special(base))
        return [base + x for x in bits_to_ints(perm)]


__all__ = [
    "IpAddress",
    "IpParams",
    "ascii_spelling",
    "format_dotted",
    "neighbour",
    "parse_dotted",
    "permute_v4",
    "v6_follows",
    "v6_written_like",
    "written_like",
]
