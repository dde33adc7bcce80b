"""TOTP enrolment, verification window, replay protection and reset rules."""

from __future__ import annotations

import base64
import multiprocessing
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import select, update

from stagewall import mfa
from stagewall.audit import AuditLog, Status
from stagewall.errors import AccessDenied, ConfigError, IntegrityError, KeyMissing, UsageError
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
  carol: {affiliation: internal}
  ghost: {affiliation: internal, disabled: true}
  dana: {affiliation: external, vendor: devshop}
vendors:
  devshop:
    contract_start: 2020-01-01
    contract_end: 2099-12-31
    nda_signed: 2020-01-01
    dpa_signed: 2020-01-01
"""

T0 = datetime(2030, 1, 1, 12, 0, 10, tzinfo=UTC)  # 10 s into a 30-second step


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


def _events(store: Store, code: str) -> list[Any]:
    return [e for e in AuditLog(store).events() if e.code == code]


def test_enrol_returns_secret_and_uri_once_and_refuses_a_second_enrolment(
    store: Store, estate: Estate
) -> None:
    enr = mfa.enroll(store, estate, "alice")
    assert re.fullmatch(r"[A-Z2-7]{32}", enr.secret)
    assert enr.uri.startswith("otpauth://totp/stagewall:alice?secret=" + enr.secret)
    assert enr.secret not in repr(enr)
    assert mfa.is_enrolled(store, "alice") and not mfa.is_enrolled(store, "bob")
    with pytest.raises(AccessDenied, match="'alice' is already enrolled") as err:
        mfa.enroll(store, estate, "alice")
    assert "mfa reset alice" in (err.value.hint or "")
    # the first secret is still the one that works
    assert mfa.verify(store, "alice", _code(enr.secret, T0), now=T0).step == (
        pyotp.TOTP(enr.secret).timecode(T0)
    )
    [ev] = _events(store, "mfa.enrolled")
    assert ev.actor == "alice" and enr.secret not in str(ev.details)


@pytest.mark.parametrize(
    ("who", "error", "message"),
    [
        ("nobody", ConfigError, "principal 'nobody' is not declared"),
        ("ghost", AccessDenied, "'ghost' is disabled"),
    ],
)
def test_enrol_refuses_unknown_and_disabled(
    store: Store, estate: Estate, who: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        mfa.enroll(store, estate, who)
    assert not mfa.is_enrolled(store, who)


def test_secret_is_encrypted_at_rest(tmp_path: Path, store: Store, estate: Estate) -> None:
    enr = mfa.enroll(store, estate, "alice")
    raw = b"".join(f.read_bytes() for f in tmp_path.glob("store.db*"))  # with any WAL

    assert enr.secret.encode() not in raw
    assert base64.b32decode(enr.secret) not in raw
    with store.read() as conn:
        ct = bytes(conn.execute(select(mfa_enrolments.c.secret_ct)).scalar_one())
    assert enr.secret.encode() not in ct and len(ct) == 12 + 32 + 16  # nonce + text + tag


def test_ciphertext_moved_to_another_principal_does_not_decrypt(
    store: Store, estate: Estate
) -> None:
    mfa.enroll(store, estate, "alice")
    bob = mfa.enroll(store, estate, "bob")
    with store.transaction() as conn:
        alice_ct = conn.execute(
            select(mfa_enrolments.c.secret_ct).where(mfa_enrolments.c.principal == "alice")
        ).scalar_one()
        conn.execute(
            update(mfa_enrolments)
            .where(mfa_enrolments.c.principal == "bob")
            .values(secret_ct=alice_ct)
        )
    with pytest.raises(IntegrityError, match="secret of 'bob' does not decrypt"):
        mfa.verify(store, "bob", _code(bob.secret, T0), now=T0)


def test_key_file_is_0600_and_a_readable_key_is_refused(
    store: Store, estate: Estate, _isolated_home: Path
) -> None:
    enr = mfa.enroll(store, estate, "alice")
    key = _isolated_home / "mfa.key"
    assert key.stat().st_mode & 0o777 == 0o600
    for mode in (0o640, 0o604, 0o660):
        key.chmod(mode)
        with pytest.raises(ConfigError, match=r"readable by group or others \(mode 0o6") as err:
            mfa.verify(store, "alice", _code(enr.secret, T0), now=T0)
        assert f"chmod 600 {key}" in (err.value.hint or "")
        with pytest.raises(ConfigError, match="readable by group or others"):
            mfa.enroll(store, estate, "bob")
    key.chmod(0o600)
    mfa.verify(store, "alice", _code(enr.secret, T0), now=T0)
    assert not mfa.is_enrolled(store, "bob")


def test_missing_or_garbled_key_file(store: Store, estate: Estate, _isolated_home: Path) -> None:
    enr = mfa.enroll(store, estate, "alice")
    key = _isolated_home / "mfa.key"
    key.write_text("not hex\n", encoding="ascii")
    with pytest.raises(ConfigError, match="does not hold a hex key"):
        mfa.verify(store, "alice", _code(enr.secret, T0), now=T0)
    key.write_text("ab" * 16 + "\n", encoding="ascii")
    with pytest.raises(ConfigError, match="32-byte key"):
        mfa.verify(store, "alice", _code(enr.secret, T0), now=T0)
    key.unlink()
    with pytest.raises(KeyMissing, match=r"the MFA key .* does not exist"):
        mfa.verify(store, "alice", _code(enr.secret, T0), now=T0)


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(-41, False), (-40, True), (0, True), (19, True), (49, True), (50, False)],
)
def test_window_is_one_step_either_side(
    store: Store, estate: Estate, offset: int, accepted: bool
) -> None:
    """The code of T0's step checked at T0+offset (T0 is 10 s into its step)."""
    enr = mfa.enroll(store, estate, "alice")
    code = _code(enr.secret, T0)
    at = T0 + timedelta(seconds=offset)
    if accepted:
        ev = mfa.verify(store, "alice", code, now=at)
        assert ev.step == pyotp.TOTP(enr.secret).timecode(T0)
        assert ev.method == "totp" and ev.as_dict()["method"] == "totp"
    else:
        with pytest.raises(AccessDenied, match="wrong or expired"):
            mfa.verify(store, "alice", code, now=at)
        [failed] = _events(store, "mfa.verified")
        assert failed.status is Status.FAILURE and failed.details["reason"] == "wrong code"


def test_a_code_is_never_accepted_twice_nor_an_older_one(store: Store, estate: Estate) -> None:
    enr = mfa.enroll(store, estate, "alice")
    later = _code(enr.secret, T0 + timedelta(seconds=30))
    mfa.verify(store, "alice", later, now=T0 + timedelta(seconds=30))
    with pytest.raises(AccessDenied, match="already used"):
        mfa.verify(store, "alice", later, now=T0 + timedelta(seconds=31))
    # the previous step's code is inside the window but older than the used one
    with pytest.raises(AccessDenied, match="already used"):
        mfa.verify(store, "alice", _code(enr.secret, T0), now=T0 + timedelta(seconds=31))
    mfa.verify(
        store,
        "alice",
        _code(enr.secret, T0 + timedelta(seconds=60)),
        now=T0 + timedelta(seconds=61),
    )
    results = [(e.status, e.details.get("reason")) for e in _events(store, "mfa.verified")]
    assert results == [
        (Status.SUCCESS, None),
        (Status.FAILURE, "code already used"),
        (Status.FAILURE, "code already used"),
        (Status.SUCCESS, None),
    ]
    audit_text = " ".join(str(e.details) + e.message for e in AuditLog(store).events())
    assert later not in audit_text and enr.secret not in audit_text


@pytest.mark.parametrize(
    "code",
    [
        "12345",
        "1234567",
        "12a456",
        " 123456",
        "123456\n",
        "",
        "\uff11\uff12\uff13\uff14\uff15\uff16",
    ],
)
def test_malformed_codes_are_usage_errors(store: Store, estate: Estate, code: str) -> None:
    mfa.enroll(store, estate, "alice")
    with pytest.raises(UsageError, match="exactly 6 digits"):
        mfa.verify(store, "alice", code, now=T0)
    assert _events(store, "mfa.verified") == []


def test_not_enrolled_is_refused_and_audited(store: Store, estate: Estate) -> None:
    mfa.enroll(store, estate, "alice")
    with pytest.raises(AccessDenied, match="'bob' has no MFA enrolment"):
        mfa.verify(store, "bob", "123456", now=T0)
    [ev] = _events(store, "mfa.verified")
    assert ev.status is Status.FAILURE and ev.actor == "bob"


def _race(pairs: list[tuple[str, str]], home: str, at: str, barrier: Any, out: Any) -> None:
    from stagewall import mfa as m
    from stagewall.store import open_store as o

    when = datetime.fromisoformat(at)
    for url, secret in pairs:
        store = o(url, migrate=False)
        barrier.wait()
        try:
            m.verify(store, "alice", str(pyotp.TOTP(secret).at(when)), home=home, now=when)
            out.put((url, "ok"))
        except AccessDenied as exc:
            out.put((url, exc.message))


@pytest.mark.postgres
def test_replay_refused_across_processes(
    sqlite_store_url: str, pg_store_url: str, estate: Estate, _isolated_home: Path
) -> None:
    """Three processes race the same code on each backend: exactly one wins on each."""
    pairs = [
        (url, mfa.enroll(open_store(url), estate, "alice").secret)
        for url in (sqlite_store_url, pg_store_url)
    ]
    n = 3
    mp = multiprocessing.get_context("spawn")
    barrier, out = mp.Barrier(n), mp.Queue()
    procs = [
        mp.Process(target=_race, args=(pairs, str(_isolated_home), T0.isoformat(), barrier, out))
        for _ in range(n)
    ]
    for p in procs:
        p.start()
    results: dict[str, list[str]] = {url: [] for url, _ in pairs}
    for _ in range(n * len(pairs)):
        url, res = out.get(timeout=60)
        results[url].append(res)
    for p in procs:
        p.join(timeout=60)
    for url, _ in pairs:
        assert results[url].count("ok") == 1, results
        assert [r for r in results[url] if r != "ok"] == [
            "this one-time code for 'alice' was already used"
        ] * (n - 1), results
        statuses = [e.status for e in _events(open_store(url), "mfa.verified")]
        assert statuses.count(Status.SUCCESS) == 1 and len(statuses) == n


def test_reset_rules(store: Store, estate: Estate) -> None:
    alice = mfa.enroll(store, estate, "alice")
    bob = mfa.enroll(store, estate, "bob")
    mfa.enroll(store, estate, "dana")
    with pytest.raises(AccessDenied, match="cannot reset its own"):
        mfa.reset(store, estate, "alice", actor="alice", code=_code(alice.secret, T0), now=T0)
    with pytest.raises(AccessDenied, match="'dana' is not an internal, enabled principal"):
        mfa.reset(store, estate, "alice", actor="dana", code="123456", now=T0)
    with pytest.raises(AccessDenied, match="'ghost' is not an internal"):
        mfa.reset(store, estate, "alice", actor="ghost", code="123456", now=T0)
    with pytest.raises(AccessDenied, match="'carol' has no MFA enrolment"):
        mfa.reset(store, estate, "alice", actor="carol", code="123456", now=T0)
    # nothing to reset: refused before bob's code is checked, so the code stays usable
    with pytest.raises(UsageError, match="'carol' is not enrolled"):
        mfa.reset(store, estate, "carol", actor="bob", code=_code(bob.secret, T0), now=T0)
    with pytest.raises(AccessDenied, match="wrong or expired"):
        mfa.reset(
            store,
            estate,
            "alice",
            actor="bob",
            code=_code(bob.secret, T0 - timedelta(minutes=5)),
            now=T0,
        )
    assert mfa.is_enrolled(store, "alice")
    mfa.reset(store, estate, "alice", actor="bob", code=_code(bob.secret, T0), now=T0)
    assert not mfa.is_enrolled(store, "alice")
    with pytest.raises(AccessDenied, match="'alice' has no MFA enrolment"):
        mfa.verify(store, "alice", _code(alice.secret, T0), now=T0)
    again = mfa.enroll(store, estate, "alice")
    assert again.secret != alice.secret
    [ev] = _events(store, "mfa.reset")
    assert ev.actor == "bob" and ev.resource == "principal:alice"
