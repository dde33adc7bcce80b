"""Red team (continuity): ``estate.changed`` names every weakening of the audit witnesses.

An insider who edits stagewall.yaml to drop the auditor's witness, swap its key for one
of their own, lower ``witness_quorum``, stretch ``witness_max_age``, point a git witness
at a repository they control or stop mailing the auditor loosens the only check on a
truncated or rewritten log. Before, each of these was only a line in the change summary,
never in ``weakened`` (no warning severity, no "WEAKENED" in the message).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from stagewall.audit._tables import audit_events
from stagewall.estate import parse_estate
from stagewall.estate.history import document, record_estate, weakenings
from stagewall.estate.loader import load_estate
from stagewall.store import open_store

BASE = """version: 1
environments:
  production: {{tier: production}}
audit:
  witness_quorum: {quorum}
  witness_max_age: {max_age}
  witnesses:
{witnesses}"""

TLOG = """    - public_key: {key}
      url: https://{host}
"""
GIT = """    - type: git
      public_key: {key}
      repository: {repo}
      signing_key_file: /etc/stagewall/git-witness/witness.key
"""
MAIL = """    - type: email
      name: auditor-mailbox
      every: {every}
      smtp: {{type: smtp, host: smtp.example.com, sender: sw@example.com, to: [{to}]}}
"""


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str]:
    from stagewall.witness._state import init_witness

    base = tmp_path_factory.mktemp("witnesses")
    return tuple(  # type: ignore[return-value]
        init_witness(base / n, f"witness.example/{n}").key.public.vkey() for n in ("w1", "w2", "g")
    )


def _doc(witnesses: str, quorum: int = 2, max_age: str = "10m") -> dict[str, object]:
    text = BASE.format(quorum=quorum, max_age=max_age, witnesses=witnesses)
    return document(parse_estate(text).estate)


def _all(keys: tuple[str, str, str], **kw: str) -> str:
    w1, w2, g = keys
    return (
        TLOG.format(key=w1, host="witness.example")
        + TLOG.format(key=w2, host="witness2.example")
        + GIT.format(key=g, repo=kw.get("repo", "ssh://git@git.auditor.example/w.git"))
        + MAIL.format(
            every=kw.get("every", "1h"), to=kw.get("to", "a@audit.example, b@audit.example")
        )
    )


def test_unchanged_or_stronger_witnesses_are_no_weakening(keys: tuple[str, str, str]) -> None:
    old = _doc(_all(keys))
    assert weakenings(old, _doc(_all(keys))) == []
    stronger = _doc(_all(keys, every="15m"), quorum=3, max_age="5m")
    assert weakenings(old, stronger) == []


def test_a_removed_or_rekeyed_witness_is_a_weakening(keys: tuple[str, str, str]) -> None:
    w1, w2, _g = keys
    old = _doc(_all(keys))
    dropped = _all(keys).replace(TLOG.format(key=w2, host="witness2.example"), "")
    weak = weakenings(old, _doc(dropped, quorum=1))
    assert "audit witness witness.example/w2: removed" in weak
    assert "audit.witness_quorum lowered from 2 to 1" in weak
    # the auditor's key swapped for one the insider holds: the old witness is gone
    from stagewall.witness._state import init_witness

    mine = init_witness(Path(__import__("tempfile").mkdtemp()) / "m", "witness.example/w1")
    swapped = _all(keys).replace(w1, mine.key.public.vkey())
    assert "audit witness witness.example/w1: removed" in weakenings(old, _doc(swapped))
    mail_gone = _all(keys).split("    - type: email")[0]
    assert "audit witness auditor-mailbox: removed" in weakenings(old, _doc(mail_gone))


def test_looser_settings_are_weakenings(keys: tuple[str, str, str]) -> None:
    old = _doc(_all(keys))
    weak = weakenings(
        old,
        _doc(
            _all(
                keys, repo="ssh://git@git.insider.example/w.git", every="1d", to="a@audit.example"
            ),
            max_age="30d",
        ),
    )
    assert "audit witness witness.example/g: repository changed" in weak
    assert "audit witness auditor-mailbox: mails less often" in weak
    assert "audit witness auditor-mailbox: recipients removed: b@audit.example" in weak
    assert "audit.witness_max_age raised from 10m to 30d" in weak


def test_the_change_is_recorded_as_weakened(tmp_path: Path, keys: tuple[str, str, str]) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    path = tmp_path / "stagewall.yaml"
    path.write_text(BASE.format(quorum=2, max_age="10m", witnesses=_all(keys)))
    record_estate(store, load_estate(path))
    path.write_text(BASE.format(quorum=1, max_age="10m", witnesses=_all(keys)))
    record_estate(store, load_estate(path))
    with store.read() as conn:
        last = conn.execute(
            select(audit_events.c.canonical).order_by(audit_events.c.idx.desc()).limit(1)
        ).scalar()
    store.dispose()
    text = bytes(last).decode()
    assert "WEAKENED: audit.witness_quorum lowered from 2 to 1" in text
    assert '"severity":"warning"' in text
