"""Witness rounds after privileged acts (issue 12): no waiting for the minute tick.

Real witnesses: a ``stagewall witness`` HTTP server in a thread, a bare git
repository in tmp, and a small real SMTP server (tests/alerts/test_smtp.py) as the
auditor's mailbox. The server runs without its sweeper, so nothing but the act
itself can have started the round.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from stagewall.audit import AuditLog, LogBroken
from stagewall.audit._checkpoint import parse_note
from stagewall.audit._quorum import WitnessPolicy
from stagewall.audit._verify import verify_store
from stagewall.audit._witness_git import read_committed_note
from stagewall.audit._witness_mail import BEGIN, END, note_from_text
from stagewall.errors import CheckpointNotFound
from stagewall.keys import load_public_key
from stagewall.server.witnessing import WitnessRounds, rounds_of, run_round
from stagewall.witness import init_witness
from tests.alerts.test_smtp import SmtpServer
from tests.audit.conftest import allow_tampering
from tests.audit.test_witness import RunningWitness
from tests.cli_helpers import run_cli
from tests.server.conftest import Person, World


@pytest.fixture
def mailbox() -> Iterator[SmtpServer]:
    srv = SmtpServer(tls=None)
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture
def witnessed(world: World, tmp_path: Path, mailbox: SmtpServer) -> Iterator[dict[str, Any]]:
    """The estate of ``world`` with a tlog, a git and an e-mail witness."""
    repo = tmp_path / "auditor.git"
    subprocess.run(["git", "init", "--bare", "-q", str(repo)], check=True)
    subprocess.run(
        ["git", "--git-dir", str(repo), "config", "receive.denyNonFastForwards", "true"],
        check=True,
    )
    git_key = init_witness(tmp_path / "gitwitness", "git.auditor.example/w1").key
    tlog = RunningWitness(tmp_path / "tlogwitness", "witness.auditor.example/w1")
    tlog.state.add_log(load_public_key(world.home))
    world.config.write_text(
        world.config.read_text(encoding="utf-8")
        + f"""
audit:
  witnesses:
    - public_key: {tlog.state.key.public.vkey()}
      url: {tlog.url}
    - type: git
      public_key: {git_key.public.vkey()}
      repository: {repo}
      signing_key_file: gitwitness/witness.key
    - type: email
      name: auditor-mailbox
      every: 1h
      smtp:
        type: smtp
        host: 127.0.0.1
        port: {mailbox.port}
        starttls: false
        sender: stagewall@example.com
        to: [auditor@auditfirm.example]
  witness_quorum: 2
""",
        encoding="utf-8",
    )
    world.state.refresh()
    try:
        yield {"repo": repo, "tlog": tlog}
    finally:
        tlog.stop()


def _git_witness(world: World, tmp_path: Path, name: str, repo: Path) -> None:
    """Declare one git witness of the log (its key in tmp_path/gitwitness) and reload."""
    key = init_witness(tmp_path / "gitwitness", name).key
    world.config.write_text(
        world.config.read_text(encoding="utf-8")
        + f"""
audit:
  witnesses:
    - type: git
      public_key: {key.public.vkey()}
      repository: {repo}
      signing_key_file: gitwitness/witness.key
"""
    )
    world.state.refresh()


def _approve(world: World, people: dict[str, Person]) -> int:
    """alice asks for production access, bob approves: the approval event's index."""
    alice, bob = people["alice"], people["bob"]
    res = alice.post(
        "/api/v1/access/requests", {"role": "prod-read", "duration": "1h", "reason": "INC-7"}
    )
    assert res.status_code in (200, 201), res.text
    rid = str(res.json()["request"])
    res = bob.post(f"/api/v1/access/requests/{rid}/reviews", {"approve": True, "otp": bob.otp()})
    assert res.status_code in (200, 201), res.text
    approvals = [
        e.index
        for e in world.events()
        if e.code == "access.review.recorded" and rid in e.raw.decode()
    ]
    assert approvals, "the approval was not audited"
    return approvals[-1]


def test_an_approval_is_cosigned_by_every_witness_without_the_minute_tick(
    world: World, people: dict[str, Person], witnessed: dict[str, Any], mailbox: SmtpServer,
    tmp_path: Path,
) -> None:  # fmt: skip
    assert world.state.sweep.last_witness is None  # no sweeper runs in this world
    rounds = rounds_of(world.state)
    index = _approve(world, people)
    assert rounds.wait_idle(120), "the witness round did not finish"
    assert rounds.rounds >= 1
    # the tlog witness cosigned a tree that includes the approval
    with witnessed["tlog"].state.connect() as conn:
        latest = witnessed["tlog"].state.latest(conn, load_public_key(world.home).name or "")
    assert latest is not None and latest.size > index
    # the git witness committed one
    policy = WitnessPolicy.from_settings(world.state.estate.audit, world.config.parent)
    assert policy is not None
    committed = read_committed_note(policy.git[0])
    assert committed is not None and parse_note(committed)[0].size > index
    # and a quorum of 2 fresh cosignatures covers it in audit verify
    log = AuditLog(world.state.ctx.store)
    # The witnesses cosign on this machine's clock; the server's test clock runs a day
    # ahead (the people fixture lets their invitation quarantine pass).
    report = verify_store(log, load_public_key(world.home), policy=policy, online=True,
                          now=datetime.now(UTC))  # fmt: skip
    assert report.witnesses is not None and len(report.witnesses.fresh_witnesses) == 2
    assert report.witnesses.newest_cosigned_size > index
    # the auditor received the signed checkpoint by mail
    assert len(mailbox.received) == 1
    mail = mailbox.received[0]
    assert mail.recipients == ["auditor@auditfirm.example"]
    saved = tmp_path / "MAIL.eml"
    saved.write_bytes(mail.message.as_bytes())
    note = note_from_text(saved.read_text(encoding="utf-8"), source="mail")
    mailed = parse_note(note)[0]
    assert mailed.size > index
    body = mail.message.get_payload(decode=True).decode()
    assert BEGIN in body and END in body and "stagewall audit verify" in body

    # the auditor checks the log against the mail, offline
    pub = world.home / "audit_signing.pub"
    db = str(world.state.ctx.store.url)
    res = run_cli("audit", "verify", "--db", db, "--public-key", str(pub),
                  "--checkpoint", str(saved), "--offline")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert f"ok: consistent with {saved} (size {mailed.size} ->" in res.stdout

    # truncating the log below the mailed checkpoint is caught by the mail alone
    store = world.state.ctx.store
    allow_tampering(store)
    with store.transaction() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE idx >= :n"), {"n": index})
        conn.execute(text("DELETE FROM audit_checkpoints WHERE size > :n"), {"n": index})
    with pytest.raises(LogBroken, match=rf"covers {mailed.size} events but the log has only"):
        verify_store(log, load_public_key(world.home), checkpoint_files=[saved])
    res = run_cli("audit", "verify", "--db", db, "--public-key", str(pub),
                  "--checkpoint", str(saved), "--offline")  # fmt: skip
    assert res.exit_code == 1 and "truncated" in res.stderr


def test_a_burst_of_requests_coalesces_and_a_failing_round_never_reaches_the_act(
    world: World,
) -> None:
    import threading

    started, release = threading.Event(), threading.Event()
    ran: list[int] = []

    def slow_round(_state: object) -> None:
        started.set()
        release.wait(30)
        ran.append(1)
        raise RuntimeError("witness down")  # logged by the worker, never re-raised

    rounds = WitnessRounds(world.state, slow_round)
    rounds.request()
    assert started.wait(30)
    for _ in range(50):  # a burst of privileged acts while a round runs
        rounds.request()
    release.set()
    assert rounds.wait_idle(30)
    assert len(ran) == 2  # the running round, then one more covering the whole burst


def test_a_mail_without_a_checkpoint_is_refused(tmp_path: Path) -> None:
    mail = tmp_path / "other.eml"
    mail.write_text("From: a@example.com\nSubject: hi\n\nnothing here\n", encoding="utf-8")
    with pytest.raises(CheckpointNotFound, match="is a mail without a stagewall checkpoint") as exc:
        note_from_text(mail.read_text(), source="mail")
    assert exc.value.code == "SW516" and exc.value.exit_code == 2


def test_a_failing_witness_alerts_once_per_failure_streak(world: World, tmp_path: Path) -> None:
    _git_witness(world, tmp_path, "git.auditor.example/gone", tmp_path / "no-such-repo.git")
    assert run_round(world.state) == []
    assert run_round(world.state) == []
    failed = [a for a in world.alerts() if a["kind"] == "audit.witness.failed"]
    assert len(failed) == 1  # the second round's identical failure is not alerted again
    assert "no-such-repo.git" in failed[0]["text"] and "SW" not in failed[0]["title"]


def test_a_signer_refusal_in_a_round_is_a_critical_alert(world: World, tmp_path: Path) -> None:
    """When the store no longer holds what the server signed (checkpoint rows removed,
    a backup put back), the round's signer refuses: that is tampering, not a witness
    out of reach, and alerts at once as CRITICAL (red team: it was the WARNING of an
    unreachable witness)."""
    repo = tmp_path / "auditor.git"
    subprocess.run(["git", "init", "--bare", "-q", str(repo)], check=True)
    _git_witness(world, tmp_path, "git.auditor.example/w1", repo)
    assert run_round(world.state)  # signed and cosigned: the signer remembers it
    store = world.state.ctx.store
    allow_tampering(store)
    with store.transaction() as conn:
        conn.execute(text("DELETE FROM audit_checkpoints"))
    run_round(world.state)
    kinds = {a["kind"]: a for a in world.alerts()}
    assert "audit.witness.failed" not in kinds
    refused = kinds["audit.signer.refused"]
    assert refused["severity"] == "critical"
    assert "checkpoint rows were removed" in refused["text"]
