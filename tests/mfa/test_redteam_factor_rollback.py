"""Red team (continuity): a TOTP factor removed by a reset stays removed.

An insider with the store's credentials keeps the sealed secret of a principal's old
factor (a phone since lost or stolen, the reason for the reset) and puts the row back
after the reset, from an older backup or by hand. The sealed secret still decrypts (it
is bound only to the principal's name), so the old authenticator's codes passed every
step-up again. The log records the reset and every enrolment (with the SHA-256 of the
sealed secret): a row the newest enrolment does not name is refused (SW971, 403).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import delete, insert, select

from stagewall import mfa
from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.errors import IntegrityError
from stagewall.estate import Estate, load_estate
from stagewall.mfa._tables import mfa_enrolments
from stagewall.store import Store, open_store

ESTATE = """
version: 1
environments:
  production: {tier: production}
principals:
  alice: {affiliation: internal}
  bob: {affiliation: internal}
"""

T0 = datetime(2030, 1, 1, 12, 0, 10, tzinfo=UTC)


@pytest.fixture
def estate(tmp_path: Path) -> Estate:
    path = tmp_path / "stagewall.yaml"
    path.write_text(ESTATE, encoding="utf-8")
    return load_estate(path).estate


@pytest.fixture
def store(sqlite_store_url: str) -> Store:
    return open_store(sqlite_store_url)


def _code(secret: str, at: datetime) -> str:
    return str(pyotp.TOTP(secret).at(at))


def _row(store: Store, principal: str) -> dict[str, object]:
    with store.read() as conn:
        return dict(
            conn.execute(select(mfa_enrolments).where(mfa_enrolments.c.principal == principal))
            .one()
            ._mapping
        )


def _put_back(store: Store, row: dict[str, object]) -> None:
    with store.transaction() as conn:
        conn.execute(delete(mfa_enrolments).where(mfa_enrolments.c.principal == row["principal"]))
        conn.execute(insert(mfa_enrolments).values(**row))


def test_a_factor_put_back_after_its_reset_is_refused(store: Store, estate: Estate) -> None:
    old = mfa.enroll(store, estate, "alice")
    bob = mfa.enroll(store, estate, "bob")
    kept = _row(store, "alice")  # the insider's copy (or last night's backup)
    mfa.reset(store, estate, "alice", actor="bob", code=_code(bob.secret, T0), now=T0)
    _put_back(store, kept)
    later = T0 + timedelta(minutes=5)
    with pytest.raises(IntegrityError, match="removed this factor") as exc:
        mfa.verify(store, "alice", _code(old.secret, later), now=later)
    assert exc.value.code == "SW971" and getattr(exc.value, "http_status", None) == 403
    assert old.secret not in exc.value.message


def test_an_old_factor_swapped_for_the_new_one_is_refused(store: Store, estate: Estate) -> None:
    old = mfa.enroll(store, estate, "alice")
    bob = mfa.enroll(store, estate, "bob")
    kept = _row(store, "alice")
    mfa.reset(store, estate, "alice", actor="bob", code=_code(bob.secret, T0), now=T0)
    new = mfa.enroll(store, estate, "alice")
    later = T0 + timedelta(minutes=5)
    mfa.verify(store, "alice", _code(new.secret, later), now=later)  # the genuine factor
    _put_back(store, kept)
    later += timedelta(minutes=1)
    with pytest.raises(IntegrityError, match=r"not the factor audit event #\d+ enrolled") as exc:
        mfa.verify(store, "alice", _code(old.secret, later), now=later)
    assert exc.value.code == "SW971"


def test_a_genuine_factor_still_verifies(store: Store, estate: Estate) -> None:
    enr = mfa.enroll(store, estate, "alice")
    ev = mfa.verify(store, "alice", _code(enr.secret, T0), now=T0)
    assert ev.method == "totp"


def test_a_digestless_enrolment_appended_does_not_vouch_for_an_old_factor(
    store: Store, estate: Estate
) -> None:
    """sealgaps: the insider also appends an ``mfa.enrolled`` event without
    ``sealed_sha256`` (as enrolments before the digest were): it came after the reset, so
    the old sealed secret put back passed. A digest-less enrolment after one that
    records the digest is not the server's."""
    old = mfa.enroll(store, estate, "alice")
    bob = mfa.enroll(store, estate, "bob")
    kept = _row(store, "alice")
    mfa.reset(store, estate, "alice", actor="bob", code=_code(bob.secret, T0), now=T0)
    _put_back(store, kept)
    AuditLog(store).append(
        AuditEvent(
            "mfa.enrolled",
            Status.SUCCESS,
            "alice",
            "alice enrolled TOTP",
            resource="principal:alice",
            details={"method": "totp"},
        )
    )
    later = T0 + timedelta(minutes=5)
    with pytest.raises(IntegrityError, match="records no digest of the sealed secret") as exc:
        mfa.verify(store, "alice", _code(old.secret, later), now=later)
    assert exc.value.code == "SW971"
