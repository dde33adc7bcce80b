"""Who wrote a change: commit identities mapped to the principals of the estate.

An author, committer, ``Co-authored-by`` trailer or signer is mapped through the
principals' declared e-mail addresses, GitHub logins (``…@users.noreply.github.com``)
and signing keys. An identity that maps to no principal counts as **external**
(fail closed): it can never approve, and it makes no one it resembles eligible.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from stagewall.estate import Estate

_NOREPLY = re.compile(r"^(?:\d+\+)?([A-Za-z0-9-]+)@users\.noreply\.github\.com$", re.IGNORECASE)


class Role(enum.StrEnum):
    AUTHOR = "author"
    COMMITTER = "committer"
    CO_AUTHOR = "co-author"
    SIGNER = "signer"
    SUBMODULE = "submodule"  # a submodule bump whose history is not available locally
    VENDORED = "vendored"  # a commit touching a vendored directory (``vendored:``)


@dataclass(frozen=True)
class Contribution:
    """One identity's part in one commit, as read from git (stored with the promotion)."""

    sha: str
    role: Role
    email: str
    principal: str | None = None  # set for signers: the principal whose key verified

    def as_dict(self) -> dict[str, Any]:
        return {
            "sha": self.sha,
            "role": self.role.value,
            "email": self.email,
            "principal": self.principal,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Contribution:
        return cls(str(data["sha"]), Role(data["role"]), str(data["email"]), data.get("principal"))


def principal_for_email(estate: Estate, email: str) -> str | None:
    """The principal that declares ``email`` (or its GitHub noreply login), else None."""
    found = estate.principal_by_email(email)
    if found is not None:
        return found
    m = _NOREPLY.match(email.strip())
    if m:
        login = m.group(1).lower()
        for pid, p in estate.principals.items():
            if any(g.lower() == login for g in p.identities.github):
                return pid
    return None


def ssh_key_blob(key: str) -> str | None:
    """The ``type base64`` part of an OpenSSH public key line (comment dropped)."""
    parts = key.split()
    return f"{parts[0]} {parts[1]}" if len(parts) >= 2 else None


def normalise_fingerprint(fpr: str) -> str:
    return re.sub(r"[\s:]", "", fpr).upper()


@dataclass(frozen=True)
class Author:
    """A principal (or an unmapped identity) that touched the change."""

    principal: str | None
    identities: tuple[str, ...]
    internal: bool
    vendor: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "affiliation": "internal" if self.internal else "external",
            "vendor": self.vendor,
            "identities": list(self.identities),
        }


@dataclass(frozen=True)
class Authorship:
    """Everyone who touched a change, at the level of principals."""

    authors: tuple[Author, ...]

    @property
    def principals(self) -> frozenset[str]:
        return frozenset(a.principal for a in self.authors if a.principal is not None)

    @property
    def unmapped(self) -> tuple[str, ...]:
        return tuple(i for a in self.authors if a.principal is None for i in a.identities)

    @property
    def vendors(self) -> frozenset[str]:
        return frozenset(a.vendor for a in self.authors if a.vendor is not None)

    @property
    def has_external(self) -> bool:
        return any(not a.internal for a in self.authors)

    def as_list(self) -> list[dict[str, Any]]:
        return [a.as_dict() for a in self.authors]


def resolve(estate: Estate, contributions: Iterable[Contribution]) -> Authorship:
    """Map every contribution to a principal with the estate as it is now."""
    by_principal: dict[str, set[str]] = {}
    unmapped: set[str] = set()
    vendored: dict[str, str | None] = {}
    for c in contributions:
        label = f"{c.role.value}:{c.email}"
        if c.role is Role.VENDORED:
            vendored[c.email] = _vendor_of(estate, c.email)
            continue
        pid = c.principal if c.principal is not None else principal_for_email(estate, c.email)
        if pid is None:
            # Unmapped: an external for every rule. A lookalike of a declared e-mail
            # (same TR39 skeleton) also makes the principal it imitates an author, so
            # that person can never approve the change that imitates them.
            unmapped.add(c.email.strip().lower())
            for twin in estate.principals_resembling(c.email):
                by_principal.setdefault(twin, set()).add(label + " (lookalike)")
        else:
            by_principal.setdefault(pid, set()).add(label)
    authors: list[Author] = []
    for pid in sorted(by_principal):
        p = estate.principals.get(pid)
        authors.append(
            Author(
                principal=pid,
                identities=tuple(sorted(by_principal[pid])),
                internal=estate.is_internal(pid),
                vendor=p.vendor if p else None,
            )
        )
    for email in sorted(unmapped):
        authors.append(Author(principal=None, identities=(email,), internal=False, vendor=None))
    for label, vendor in sorted(vendored.items()):
        # Vendored code is written by its supplier: an external author, whoever committed.
        authors.append(Author(principal=None, identities=(label,), internal=False, vendor=vendor))
    return Authorship(tuple(authors))


def _vendor_of(estate: Estate, label: str) -> str | None:
    path = label.removeprefix("vendored:")
    return next((v.vendor for v in estate.vendored if v.path == path), None)


__all__ = [
    "Author",
    "Authorship",
    "Contribution",
    "Role",
    "normalise_fingerprint",
    "principal_for_email",
    "resolve",
    "ssh_key_blob",
]
