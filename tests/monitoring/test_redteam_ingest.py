"""Red team: times a line chooses, and totals another source can reset.

Whoever writes a line chooses its time (a shipper, or a host whose clock or zone is
wrong), and classic syslog lines carry no year at all. These tests pin what such
times may no longer do to detection.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from stagewall.estate import Estate
from stagewall.monitoring import GrantIndex, GrantWindow, IngestContext, ingest_lines
from stagewall.monitoring.baselines import DAY, Volume
from stagewall.monitoring.events import CLS_DATASTORE_ACTIVITY, DS_READ, Event
from stagewall.monitoring.ingest import _base, parser_for
from stagewall.monitoring.log import MonitorLog
from stagewall.store import Store


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _accepted(stamp: str, user: str = "alice") -> str:
    return (
        f"{stamp} bastion sshd[4242]: Accepted publickey for {user} from 10.0.0.5 port 1 "
        "ssh2: ED25519 SHA256:x"
    )


@pytest.mark.parametrize(
    ("now", "stamp", "expected"),
    [
        # a server still running after New Year (its parsers made in December)
        ("2027-01-05 10:00:30", "Jan  5 10:00:00", "2027-01-05 10:00:00"),
        # a backlog of late December read just after midnight
        ("2027-01-01 00:00:30", "Dec 31 23:59:58", "2026-12-31 23:59:58"),
        # a sender's clock a little ahead, a second before midnight
        ("2026-12-31 23:59:59", "Jan  1 00:00:02", "2027-01-01 00:00:02"),
        # an ordinary line of earlier this year
        ("2026-12-06 11:00:00", "Apr  2 08:00:00", "2026-04-02 08:00:00"),
        # 29 February read in a year without one: the last year with one
        ("2027-03-01 00:00:00", "Feb 29 12:00:00", "2024-02-29 12:00:00"),
    ],
)
def test_a_classic_syslog_line_is_of_the_year_it_was_written_in(
    monkeypatch: pytest.MonkeyPatch, now: str, stamp: str, expected: str
) -> None:
    # The year was fixed when the parser was made (the server's ingest context lives
    # as long as its estate): after New Year every sshd, sftp and git-daemon line was
    # dated a year back (no grant covered it, dedup never held, weekdays wrong).
    parser = parser_for("sshd")  # made now, with no year given: as the server does
    monkeypatch.setattr(_base, "_now", lambda: _ts(now), raising=False)
    (ev,) = parser.feed(_accepted(stamp))
    assert ev.time == _ts(expected)


def test_an_explicit_year_still_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_base, "_now", lambda: _ts("2027-01-05 10:00:00"), raising=False)
    (ev,) = parser_for("sshd", year=2020).feed(_accepted("Dec 31 23:59:58"))
    assert ev.time == _ts("2020-12-31 23:59:58")


def _read(pid: str, t: float) -> Event:
    return Event(t, CLS_DATASTORE_ACTIVITY, DS_READ, principal=pid)


def test_an_earlier_days_read_does_not_reset_todays_total() -> None:
    # Volume kept one running total per principal and reset it whenever an event of
    # another day came: a read dated yesterday between today's (a late batch of
    # another source, or one a shipper sends on purpose) set today's count back to 0,
    # so 5,000 reads in a day never crossed the 500-read floor.
    volume = Volume()
    start = 20_000 * DAY
    for d in range(7):  # a week of ten reads a day
        for i in range(10):
            volume.judge(_read("dana", start + d * DAY + i))
    today = start + 7 * DAY
    flagged = []
    for i in range(5000):
        ev = _read("dana", today + i)
        volume.judge(ev)
        flagged += [ev.volume_anomaly] if ev.volume_anomaly else []
        if i % 100 == 0:
            volume.judge(_read("dana", today - DAY + i))  # "yesterday"
    assert flagged == ["count"]
    # the late reads count for the day they happened
    yesterday = [h for h in volume.state["dana"][4] if h[0] == int((today - DAY) // DAY)]
    assert yesterday[0][2] == 10 + 50


def test_a_future_dated_line_is_stored_at_receipt_and_alerted(estate: Estate, store: Store) -> None:
    clock = _ts("2026-12-01 09:00:00")
    ctx = IngestContext(estate, store, grants=GrantIndex(()), clock=lambda: clock)
    line = (
        "2099-12-01 09:00:00.000 UTC [1] LOG:  connection received: host=10.0.0.5 port=1\n"
        "2099-12-01 09:00:00.000 UTC [1] LOG:  connection authorized: user=app_user "
        "database=app"
    )
    report = ingest_lines("pg", line.split("\n"), ctx)
    assert "log_time_ahead" in [f.rule for f in report.findings]
    docs = MonitorLog(store).documents()
    login = next(d for d in docs if d["class_uid"] == 3002)
    assert login["time"] == "2026-12-01T09:00:00.000000Z"
    assert login["unmapped"]["claim"] == "time:2099-12-01T09:00:00.000000Z"
    # within the allowance (clocks that disagree a little) a time is the line's own
    ok = "2026-12-01 09:10:00.000 UTC [2] LOG:  connection authorized: user=app_user database=app"
    again = ingest_lines("pg", [ok], ctx)
    assert [f.rule for f in again.findings if f.rule == "log_time_ahead"] == []
    assert MonitorLog(store).documents()[-1]["time"] == "2026-12-01T09:10:00.000000Z"
    ctx.close()


def test_a_future_dated_first_event_does_not_postpone_learning(
    estate: Estate, store: Store
) -> None:
    # FirstSeen starts a principal's learning week at its first event: one dated 2099
    # put the end of learning in 2099, so no new network was flagged for that person.
    clock = _ts("2026-12-01 09:00:00")
    ctx = IngestContext(estate, store, grants=GrantIndex(()), clock=lambda: clock)
    ssh = "2099-01-01T00:00:00Z bastion sshd[1]: Accepted publickey for alice from 8.8.8.8 port 1 ssh2"
    ingest_lines("ssh", [ssh], ctx)
    assert ctx.first_seen.first["alice"] == clock
    ctx.close()


def _prod_login(user: str, pid: int) -> list[str]:
    t = "2026-12-01 09:00:00.000 UTC"
    return [
        f"{t} [{pid}] LOG:  connection received: host=10.0.0.5 port=5000",
        f"{t} [{pid}] LOG:  connection authorized: user={user} database=app",
    ]


def test_a_kelvin_sign_login_is_not_the_internal_it_lowercases_to(store: Store) -> None:
    # Names were matched by str.lower(), which folds U+212A KELVIN SIGN to an ASCII
    # "k": a database role or account named "\u212aalice" (a different login from
    # "kalice") was attributed to the internal kalice, whose grant covered it, so a
    # production login by whoever made that role raised nothing.
    from stagewall.estate.loader import parse_estate
    from tests.monitoring.conftest import ESTATE

    estate = parse_estate(
        ESTATE.replace("logins: [alice, alice_ro]", "logins: [alice, alice_ro, kalice]")
    ).estate
    start = _ts("2026-12-01 08:00:00")
    grants = GrantIndex([GrantWindow("alice", "production", start, start + 7200)])
    ctx = IngestContext(estate, store, grants=grants)
    quiet = ingest_lines("pg", _prod_login("kalice", 1), ctx)
    assert [f.rule for f in quiet.findings] == []  # the real login, inside the grant
    forged = ingest_lines("pg", _prod_login("\u212aalice", 2), ctx)
    assert "production_login_without_grant" in [f.rule for f in forged.findings]
    assert MonitorLog(store).documents()[-1]["unmapped"]["actor"] == "unknown:\u212aalice"
    ctx.close()


def test_a_look_alike_of_an_external_on_production_is_still_alerted(
    estate: Estate, store: Store
) -> None:
    # Held: "b\u043eb" (Cyrillic o) is not bob, and an unknown login on production
    # without a grant is alerted all the same.
    ctx = IngestContext(estate, store, grants=GrantIndex(()))
    report = ingest_lines("pg", _prod_login("b\u043eb", 1), ctx)
    assert [f.rule for f in report.findings] == ["production_login_without_grant"]
    assert report.findings[0].actor == "unknown:b\u043eb"
    ctx.close()


def test_a_login_name_cannot_write_escape_sequences_to_the_operators_terminal(
    tmp_path: Path,
) -> None:
    # A database role name is written raw into PostgreSQL's log; `stagewall ingest`
    # printed it inside its ALERT line, so "\x1b[1A\x1b[2K" (cursor up, erase line)
    # could wipe the alert, or another line, off the operator's screen, and U+202E
    # (right-to-left override) reverse what follows it.
    from click.testing import CliRunner

    from stagewall.cli import root
    from tests.monitoring.conftest import ESTATE

    cfg = tmp_path / "stagewall.yaml"
    cfg.write_text(ESTATE)
    log = tmp_path / "pg.log"
    log.write_text("\n".join(_prod_login("x\x1b[1A\x1b[2K\u202e\x08", 1)) + "\n")
    db = f"sqlite:///{tmp_path / 'sw.db'}"
    args = ["ingest", "pg", "--from", str(log), "--config", str(cfg), "--db", db]
    res = CliRunner().invoke(root, args, color=True)  # as on a terminal: nothing stripped
    assert res.exit_code == 0, res.output
    assert "production_login_without_grant" in res.output
    assert not any(c in res.output for c in "\x1b\u202e\x08")
    assert "unknown:x\\x1b[1A\\x1b[2K\\u202e\\x08 on db-prod" in res.output
