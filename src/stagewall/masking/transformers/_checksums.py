"""Check-digit algorithms: Luhn (cards), ISO 7064 mod 97-10 (IBAN)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

# ISO 13616 IBAN lengths by country (SWIFT IBAN registry).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


def luhn_checksum(digits: str) -> int:
    """Luhn sum mod 10 of a digit string (0 means valid)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10


def luhn_valid(digits: str) -> bool:
    return len(digits) >= 2 and digits.isdigit() and digits.isascii() and luhn_checksum(digits) == 0


def luhn_check_digit(body: str) -> str:
    """The digit to append to ``body`` so the result passes Luhn."""
    return str((10 - luhn_checksum(body + "0")) % 10)


# each ASCII letter as its base-36 value (A is 10), for a string of ASCII letters
# and digits (what int(c, 36) reads of each)
_BASE36 = {ord(c): str(int(c, 36)) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}


def _iban_number(rearranged: str) -> int:
    if rearranged.isascii() and rearranged.isalnum():  # one translate, no call per character
        return int(rearranged.translate(_BASE36))
    return int("".join(str(int(c, 36)) for c in rearranged))


def iban_valid(iban: str) -> bool:
    """Compact upper-case IBAN: known country length, shape and mod-97 == 1."""
    if not _IBAN.match(iban):
        return False
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    return _iban_number(iban[4:] + iban[:4]) % 97 == 1


def iban_check_digits(country: str, bban: str) -> str:
    """The two check digits for ``country`` + ``bban``."""
    return f"{98 - _iban_number(bban + country + '00') % 97:02d}"


# Vectorised forms, for whole batches (uint8 matrices of ASCII bytes).

IBAN_LENGTH_TABLE = np.zeros(26 * 26, dtype=np.int64)
for _cc, _n in IBAN_LENGTHS.items():
    IBAN_LENGTH_TABLE[(ord(_cc[0]) - 65) * 26 + ord(_cc[1]) - 65] = _n


def mod97_rows(rows: Any) -> Any:
    """ISO 7064 mod 97-10 of every row of upper-case alphanumeric ASCII bytes.

    A letter stands for two decimal digits (A = 10 … Z = 35), a digit for one;
    Horner's rule on int64 keeps every intermediate below 97 · 100 + 35.
    """
    m, n = rows.shape
    r = np.zeros(m, dtype=np.int64)
    cols = np.ascontiguousarray(rows.T)
    for j in range(n):
        c = cols[j]
        r = (r * _MOD97_MULT[c] + _MOD97_VAL[c]) % 97
    return r


_MOD97_MULT = np.where(np.arange(256) >= 65, 100, 10).astype(np.int64)
_MOD97_VAL = np.where(np.arange(256) >= 65, np.arange(256) - 55, np.arange(256) - 48).astype(
    np.int64
)


# contribution of digit d at an even (row 0) or odd (row 1) distance from the end
_LUHN = np.array([list(range(10)), [2 * d - 9 if 2 * d > 9 else 2 * d for d in range(10)]],
                 dtype=np.int64).ravel()  # fmt: skip


def luhn_values(digits: Any, from_end: Any) -> Any:
    """Each digit's contribution to the Luhn sum (doubled at odd distance from the end)."""
    return _LUHN[(from_end & 1) * 10 + digits]


__all__ = [
    "IBAN_LENGTHS",
    "IBAN_LENGTH_TABLE",
    "iban_check_digits",
    "iban_valid",
    "luhn_check_digit",
    "luhn_checksum",
    "luhn_valid",
    "luhn_values",
    "mod97_rows",
]
