"""Structured identifiers that keep their format and validity: phone, IBAN, card, IP."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

import numpy as np
from pydantic import Field

from stagewall.errors import MaskingError
from stagewall.masking.transformers._base import (
    ParamsModel,
    Transformer,
    as_text,
    register,
    wrong_type,
)
from stagewall.masking.transformers._checksums import (
    iban_check_digits,
    iban_valid,
    luhn_check_digit,
    luhn_valid,
)
from stagewall.masking.transformers._feistel import (
    bits_to_ints,
    ints_to_bits,
    permute,
    permute_walk,
)
from stagewall.masking.transformers._fpe import permute_classes
from stagewall.masking.types import ColumnKind

# ITU-T E.164 country calling codes of one and two digits; all others have three.
_CC1 = {"1", "7"}
_CC2 = {
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45",
    "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61",
    "62", "63", "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94",
    "95", "98",
}  # fmt: skip
_INTL = re.compile(r"^\s*(\+|00)")


def country_code_digits(phone: str) -> int:
    """How many leading digits stay unchanged.

    ``+CC…`` keeps the country code; ``00CC…`` keeps ``00`` and the country code; a
    national number starting with ``0`` keeps two digits (trunk ``0`` + the next,
    non-zero digit), any other number keeps its first digit. The kept prefixes
    form a prefix-free code (no kept prefix is the start of another), which is
    what keeps the whole mapping a bijection when the rest is permuted.
    """
    digits = "".join(c for c in phone if c.isascii() and c.isdigit())
    plus = _INTL.match(phone) is not None and phone.lstrip().startswith("+")
    if plus or digits.startswith("00"):
        lead = 0 if plus else 2
        rest = digits[lead:]
        if rest[:1] in _CC1:
            keep = lead + 1
        elif rest[:2] in _CC2:
            keep = lead + 2
        else:
            keep = lead + 3
    elif digits.startswith("0"):
        keep = 2
    else:
        keep = 1
    return min(keep, len(digits))


class PhoneParams(ParamsModel):
    keep_country_code: bool = True


@register
class Phone(Transformer):
    """Keyed permutation of the subscriber digits; country code, separators and format stay."""

    name = "phone"
    unique_safe = True
    Params = PhoneParams

    def _apply(self, values: list[Any]) -> list[object]:
        texts = as_text(self.name, values)
        keep = [country_code_digits(t) if self.params.keep_country_code else 0 for t in texts]  # type: ignore[attr-defined]
        return permute_classes(self._key, "phone", texts, letters=False, keep_first=keep)  # type: ignore[return-value]


class ChecksumParams(ParamsModel):
    on_invalid: Literal["fail", "null"] = "fail"


def _invalid(name: str, what: str) -> MaskingError:
    return MaskingError(
        f"{name}: a value is not a valid {what}",
        hint="clean the source data or set on_invalid: null in the plan",
    )


@register
class Iban(Transformer):
    """Same country and length, new BBAN (keyed permutation), recomputed mod-97 check digits."""

    name = "iban"
    unique_safe = True
    Params = ChecksumParams

    def _apply(self, values: list[Any]) -> list[object]:
        texts = as_text(self.name, values)
        out: list[object] = [None] * len(texts)
        compact: dict[str, list[int]] = {}
        bbans: dict[str, list[str]] = {}
        for i, t in enumerate(texts):
            c = t.replace(" ", "").upper()
            if not iban_valid(c):
                if self.params.on_invalid == "fail":  # type: ignore[attr-defined]
                    raise _invalid(self.name, "IBAN (mod-97)")
                continue
            compact.setdefault(c[:2], []).append(i)
            bbans.setdefault(c[:2], []).append(c[4:])
        for country, members in compact.items():
            new = permute_classes(self._key, f"iban/{country}", bbans[country], letters=True)
            for i, bban in zip(members, new, strict=True):
                full = country + iban_check_digits(country, bban) + bban
                out[i] = _relayout(texts[i], full)
        return out


def _relayout(original: str, compact: str) -> str:
    """Put ``compact`` back into ``original``'s spacing and case."""
    chars = iter(compact if original != original.lower() else compact.lower())
    return "".join(c if c == " " else next(chars) for c in original)


class CardParams(ChecksumParams):
    keep_prefix: int = Field(default=6, ge=0, le=10)


@register
class CardNumber(Transformer):
    """Same length and separators, valid Luhn; the first ``keep_prefix`` digits (BIN) stay."""

    name = "card_number"
    unique_safe = True
    Params = CardParams

    def _apply(self, values: list[Any]) -> list[object]:
        p: CardParams = self.params  # type: ignore[assignment]
        texts = as_text(self.name, values)
        valid: list[int] = []
        for i, t in enumerate(texts):
            digits = "".join(c for c in t if c.isascii() and c.isdigit())
            if 12 <= len(digits) <= 19 and len(digits) > p.keep_prefix + 1 and luhn_valid(digits):
                valid.append(i)
            elif p.on_invalid == "fail":
                raise _invalid(self.name, "card number (12-19 digits, Luhn)")
        out: list[object] = [None] * len(texts)
        permuted = permute_classes(
            self._key, "card", [texts[i] for i in valid], letters=False,
            keep_first=p.keep_prefix, keep_last=1,
        )  # fmt: skip
        for i, t in zip(valid, permuted, strict=True):
            body = "".join(c for c in t if c.isascii() and c.isdigit())[:-1]
            last = max(j for j, c in enumerate(t) if c.isascii() and c.isdigit())
            out[i] = t[:last] + luhn_check_digit(body) + t[last + 1 :]
        return out


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

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network


def _v4_public(bits: Any) -> Any:
    x = np.array(bits_to_ints(bits), dtype=np.uint64).reshape(-1, 1)
    return ~((x & _V4_MASKS.reshape(1, -1)) == _V4_NETS.reshape(1, -1)).any(axis=1)


def _ip_class(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> IPNet | None:
    if isinstance(addr, ipaddress.IPv4Address):
        return next((n for n in _V4_SPECIAL if addr in n), None)
    found = next((n for n in _V6_SPECIAL if addr in n), None)
    return found or ipaddress.IPv6Network((int(addr) >> 112 << 112, 16))


def _v6_outside_special(base: int) -> Any:
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


@register
class IpAddress(Transformer):
    """Same family; addresses stay in their special range (private, loopback, ...) or public."""

    name = "ip_address"
    unique_safe = True
    accepts = frozenset({ColumnKind.TEXT, ColumnKind.OTHER})

    def max_output_length(self, input_max: int | None) -> int | None:
        # "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128": an address can grow up to this.
        return None if input_max is None else max(input_max, 43)

    def _apply(self, values: list[Any]) -> list[object]:
        # Plain dotted-quad strings (the common case) are parsed, classified and
        # formatted without ipaddress objects; everything else takes the general
        # path. Both feed the same keyed permutations, so outputs are identical.
        fast_idx: list[int] = []
        fast_ints: list[int] = []
        slow_idx: list[int] = []
        addrs: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
        rebuild: list[Any] = []
        for i, v in enumerate(values):
            if isinstance(v, str) and _V4_PLAIN.fullmatch(v):
                o1, o2, o3, o4 = v.split(".")
                fast_idx.append(i)
                fast_ints.append((int(o1) << 24) | (int(o2) << 16) | (int(o3) << 8) | int(o4))
                continue
            slow_idx.append(i)
            if isinstance(v, ipaddress.IPv4Interface | ipaddress.IPv6Interface):
                addrs.append(v.ip)
                rebuild.append(lambda a, p=v.network.prefixlen: ipaddress.ip_interface((a, p)))
            elif isinstance(v, ipaddress.IPv4Address | ipaddress.IPv6Address):
                addrs.append(v)
                rebuild.append(lambda a: a)
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
            else:
                raise wrong_type(self.name, v, "IP address")
        # (version, class) -> positions into ``ints``
        ints: list[int] = fast_ints + [int(a) for a in addrs]
        groups: dict[tuple[int, IPNet | None], list[int]] = {}
        if fast_ints:
            for cls, members in _classify_v4(np.array(fast_ints, dtype=np.uint64)).items():
                groups.setdefault((4, cls), []).extend(members)
        for j, a in enumerate(addrs, start=len(fast_ints)):
            groups.setdefault((a.version, _ip_class(a)), []).append(j)
        new = [0] * len(ints)
        for (version, net), members in groups.items():
            group = [ints[j] for j in members]
            res = self._permute_group(version, net, group)
            for j, x in zip(members, res, strict=True):
                new[j] = x
        out: list[object] = [None] * len(values)
        octets = _OCTETS
        for i, x in zip(fast_idx, new, strict=False):
            hi, lo = x >> 16, x & 0xFFFF
            out[i] = f"{octets[hi >> 8]}.{octets[hi & 255]}.{octets[lo >> 8]}.{octets[lo & 255]}"
        for i, a, x, fn in zip(slow_idx, addrs, new[len(fast_ints) :], rebuild, strict=True):
            out[i] = fn(ipaddress.ip_address(x) if a.version == 4 else ipaddress.IPv6Address(x))
        return out

    def _permute_group(self, version: int, net: IPNet | None, ints: list[int]) -> list[int]:
        if net is None:  # public IPv4: cycle-walk over the whole space
            bits = ints_to_bits(ints, 32)
            rad = np.full(32, 2, dtype=np.int64)
            return bits_to_ints(permute_walk(bits, rad, self._key, "v4", _v4_public))
        host = net.max_prefixlen - net.prefixlen
        base = int(net.network_address)
        if host == 0:
            return ints
        bits = ints_to_bits([x - base for x in ints], host)
        rad = np.full(host, 2, dtype=np.int64)
        if net in _V6_SPECIAL or version == 4:
            perm = permute(bits, rad, self._key, str(net))
        else:  # fallback /16 of IPv6: skip the special ranges inside it
            inside = _v6_outside_special(base)
            perm = permute_walk(bits, rad, self._key, str(net), inside)
        return [base + x for x in bits_to_ints(perm)]


_OCTET_RE = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_V4_PLAIN = re.compile(rf"{_OCTET_RE}(?:\.{_OCTET_RE}){{3}}")
_OCTETS = [str(n) for n in range(256)]


def _classify_v4(ints: Any) -> dict[IPNet | None, list[int]]:
    """Group IPv4 ints by their special range (first match, as _ip_class) or None."""
    hit = (ints.reshape(-1, 1) & _V4_MASKS.reshape(1, -1)) == _V4_NETS.reshape(1, -1)
    first = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
    groups: dict[IPNet | None, list[int]] = {}
    for cls_index in np.unique(first).tolist():
        members = np.flatnonzero(first == cls_index).tolist()
        groups[None if cls_index < 0 else _V4_SPECIAL[cls_index]] = members
    return groups


def _str_rebuild(original: str, iface: Any) -> Any:
    has_prefix = "/" in original
    upper = original != original.lower()

    def rebuild(a: Any) -> str:
        s = f"{a}/{iface.network.prefixlen}" if has_prefix else str(a)
        return s.upper() if upper else s

    return rebuild


__all__ = ["CardNumber", "Iban", "IpAddress", "Phone", "country_code_digits"]
