"""Mapping commit identities to principals (fail closed on anything unknown)."""

from __future__ import annotations

from pathlib import Path

from stagewall.estate import parse_estate
from stagewall.gates.identities import Contribution, Role, principal_for_email, resolve
from tests.gates.conftest import ESTATE

TEXT = ESTATE.replace(
    "bob: {affiliation: internal, emails: [bob@example.com]}",
    "bob: {affiliation: internal, emails: [bob@example.com], identities: {github: [bob-gh]}}",
).replace(
    "carol: {affiliation: internal, emails: [carol@example.com]}",
    "carol: {affiliation: internal, emails: [carol@example.com], disabled: true}",
)
ESTATE_OBJ = parse_estate(TEXT, Path("stagewall.yaml")).estate


def test_emails_match_case_insensitively() -> None:
    assert principal_for_email(ESTATE_OBJ, "Alice@Example.COM") == "alice"
    assert principal_for_email(ESTATE_OBJ, "alice@home.example") == "alice"


def test_github_noreply_addresses_map_to_logins() -> None:
    assert principal_for_email(ESTATE_OBJ, "12345+bob-gh@users.noreply.github.com") == "bob"
    assert principal_for_email(ESTATE_OBJ, "bob-gh@users.noreply.github.com") == "bob"
    assert principal_for_email(ESTATE_OBJ, "99+someone@users.noreply.github.com") is None


def test_resolve_groups_by_principal_and_marks_unknown_external() -> None:
    who = resolve(
        ESTATE_OBJ,
        [
            Contribution("a" * 40, Role.AUTHOR, "dana@devshop.example"),
            Contribution("a" * 40, Role.COMMITTER, "alice@example.com"),
            Contribution("b" * 40, Role.AUTHOR, "alice@home.example"),
            Contribution("b" * 40, Role.CO_AUTHOR, "Ghost@Nowhere.example"),
            Contribution("c" * 40, Role.AUTHOR, "carol@example.com"),
        ],
    )
    assert who.principals == {"alice", "dana", "carol"}
    assert who.unmapped == ("ghost@nowhere.example",)
    assert who.vendors == {"devshop"}
    by = {a.principal: a for a in who.authors}
    assert by["alice"].internal and set(by["alice"].identities) == {
        "committer:alice@example.com",
        "author:alice@home.example",
    }
    assert not by["dana"].internal
    assert not by["carol"].internal  # disabled principals are not internal: fail closed
    assert not by[None].internal


def test_a_lookalike_author_email_makes_the_imitated_principal_an_author() -> None:
    """Issue 12: a Cyrillic a in alice's address used to count as unmapped only."""
    from stagewall.estate import parse_estate
    from stagewall.gates.identities import Contribution, Role, resolve
    from tests.gates.conftest import ESTATE

    estate = parse_estate(ESTATE, "e.yaml").estate
    who = resolve(estate, [Contribution("a" * 40, Role.AUTHOR, "\u0430lice@example.com")])
    assert "alice" in who.principals  # alice cannot approve the change imitating her
    assert who.unmapped == ("\u0430lice@example.com",)  # and it counts as external
    assert any(not a.internal for a in who.authors)


def test_a_sub_addressed_author_email_makes_the_mailbox_owner_an_author() -> None:
    """Attack (redteamgate): alice committed as alice+ci@example.com, which her mailbox
    receives but nobody declared; it counted as an unknown external only, so alice could
    approve her own change on a stage without signed commits."""
    estate = parse_estate(ESTATE, "e.yaml").estate
    for alias in ("alice+ci@example.com", "Alice+Gate+x@Example.COM", "\u0430lice+1@example.com"):
        who = resolve(estate, [Contribution("a" * 40, Role.AUTHOR, alias)])
        assert "alice" in who.principals, alias
        assert any(not a.internal for a in who.authors)  # and it still counts as external
    # A different mailbox is not alice's, and a plus elsewhere changes nothing.
    assert (
        resolve(estate, [Contribution("a" * 40, Role.AUTHOR, "alicex+ci@example.com")]).principals
        == set()
    )
    assert (
        resolve(estate, [Contribution("a" * 40, Role.AUTHOR, "+alice@example.com")]).principals
        == set()
    )


def test_an_author_email_with_invisible_characters_makes_the_principal_an_author() -> None:
    """Attack (redteamgate): a zero-width space (or soft hyphen, joiner, variation
    selector) inside alice's address renders exactly like it but was neither alice's
    nor a lookalike of it; a quoted local part or a root dot names her very mailbox."""
    estate = parse_estate(ESTATE, "e.yaml").estate
    for forged in (
        "alice\u200b@example.com",
        "ali\u00adce@example.com",
        "ali\u200dce@example.com",
        "alice@example.com\u2060",
        "al\u034fice@example.com",
        "alice\ufe0f@example.com",
        "\ufeffalice@example.com",
        "alice@example.com.",
        '"alice"@example.com',
    ):
        who = resolve(estate, [Contribution("a" * 40, Role.AUTHOR, forged)])
        assert "alice" in who.principals, repr(forged)
        assert any(not a.internal for a in who.authors), repr(forged)
