"""Identity keys: when two written identities are the same person's, for every rule.

* :func:`normalise` -- NFKC then case folding (``Bob@Example.COM`` = ``bob@example.com``,
  fullwidth letters = ASCII letters);
* :func:`skeleton` -- a confusable skeleton in the manner of Unicode TR39 section 4:
  NFD, each character replaced by its prototype from a confusables table, NFD again.
  The table below is stagewall's own, for the Latin, Cyrillic and Greek lookalikes of
  ASCII letters and digits that e-mail addresses and logins are forged with (``bob`` written
  with a Cyrillic o), plus multi-letter lookalikes (``rn`` for ``m``).

Two identities with the same skeleton are treated as one person's: an estate may
not give them to two principals, and a commit signed by neither cannot hide behind
the lookalike.
"""

from __future__ import annotations

import unicodedata

# prototype -> characters that look like it (after NFKC + casefold, so lower case).
_LOOKALIKES: dict[str, str] = {
    "a": "\u0430\u03b1\u0251\u237a",  # Cyrillic a, Greek alpha, Latin alpha, APL alpha
    "b": "\u0184\u042c\u044c\u0432",  # tone six, Cyrillic soft sign, ve (small caps)
    "c": "\u0441\u03f2\u217d\u1d04",  # Cyrillic es, Greek lunate sigma, roman c, small cap
    "d": "\u0501\u217e",  # Cyrillic komi de, roman d
    "e": "\u0435\u0454\u04bd\u03b5",  # Cyrillic ie, ukrainian ie, abkhasian che, epsilon
    "g": "\u0261\u0581",  # script g, Armenian co
    "h": "\u04bb\u0570",  # Cyrillic shha, Armenian ho
    "i": "\u0456\u03b9\u0131\u2170\u04cf\u0269",  # Cyrillic i, iota, dotless i, roman i
    "j": "\u0458\u03f3",  # Cyrillic je, Greek yot
    "k": "\u03ba\u043a",  # kappa, Cyrillic ka
    "l": "\u217c\u04c0\u007c\u0031\u2113\u01c0",  # roman l, palochka, |, 1, script l
    "m": "\u217f",  # roman m
    "n": "\u0578\u057c",  # Armenian vo, ra
    "o": "\u043e\u03bf\u0585\u0030\u03c3\u2c9f\u0d20",  # Cyrillic o, omicron, Armenian oh, 0
    "p": "\u0440\u03c1\u2374",  # Cyrillic er, rho
    "q": "\u051b\u0563",  # Cyrillic qa, Armenian gim
    "s": "\u0455\u01bd",  # Cyrillic dze, tone five
    "t": "\u03c4",  # tau
    "u": "\u03c5\u057d\u028b",  # upsilon, Armenian seh, v with hook
    "v": "\u03bd\u0475\u2174\u1d20",  # nu, Cyrillic izhitsa, roman v, small cap v
    "w": "\u051d\u0461\u1d21\u026f",  # Cyrillic we, omega (Cyrillic), small cap w
    "x": "\u0445\u03c7\u2179\u04b3",  # Cyrillic ha, chi, roman x
    "y": "\u0443\u03b3\u04af\u0263",  # Cyrillic u, gamma, straight u, Latin gamma
    "z": "\u1d22",  # small cap z
    "-": "\u2010\u2011\u2012\u2013\u2212\u02d7",  # hyphens and minus
    ".": "\u2024\u0702",  # one dot leader, Syriac full stop
    "@": "\uff20",
}
_TABLE = {ch: proto for proto, chars in _LOOKALIKES.items() for ch in chars}
_MULTI = (("rn", "m"), ("vv", "w"), ("cl", "d"))


def normalise(identity: str) -> str:
    """NFKC, case-folded, surrounding white space removed."""
    return unicodedata.normalize("NFKC", identity).casefold().strip()


# Default-ignorable code points outside category Cf (which is dropped as a whole): they
# render as nothing, so ``ali\u034fce`` looks exactly like ``alice``.
_IGNORABLE = frozenset(
    [
        *(0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0),
        *range(0x180B, 0x1810),
        *range(0xFE00, 0xFE10),
        *range(0xE0100, 0xE01F0),
    ]
)


def _visible(ch: str) -> bool:
    return unicodedata.category(ch) != "Cf" and ord(ch) not in _IGNORABLE


def skeleton(identity: str) -> str:
    """The confusable skeleton of ``identity`` (compare skeletons, never show them).

    As TR39 (since Unicode 15.1) prescribes, default-ignorable characters are removed
    first: a zero-width space, soft hyphen, joiner or variation selector inside an
    address shows nothing and must not make it someone else's."""
    text = unicodedata.normalize("NFD", normalise(identity))
    mapped = "".join(_TABLE.get(ch, ch) for ch in text if _visible(ch))
    for seq, proto in _MULTI:
        mapped = mapped.replace(seq, proto)
    return unicodedata.normalize("NFD", mapped)


def mailbox(identity: str) -> str:
    """The mailbox an e-mail address delivers to, written one way.

    Its sub-address (``+tag``) is dropped: ``alice+ci@example.com`` reaches
    ``alice@example.com`` at every common mail provider (Gmail, Microsoft 365, Fastmail,
    Postfix's default ``recipient_delimiter``). So are the quotes of a quoted local part
    (``"alice"@``) and the root dot of a domain (``@example.com.``), which name the same
    mailbox. Each is one way for alice to write under an address nobody declared."""
    text = normalise(identity)
    local, at, domain = text.rpartition("@")
    if not at:
        return text
    if len(local) > 2 and local.startswith('"') and local.endswith('"'):
        local = local[1:-1]
    domain = domain.rstrip(".")
    lead = len(local) - len(local.lstrip("+"))
    if "+" in local[lead:]:
        local = local[:lead] + local[lead:].split("+", 1)[0]
    return local + "@" + domain


__all__ = ["mailbox", "normalise", "skeleton"]
