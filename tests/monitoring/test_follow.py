"""Following a log across rotation (rename + create, and copytruncate), and resuming."""

from __future__ import annotations

import os
from pathlib import Path

from stagewall.estate import Estate
from stagewall.monitoring import Follower, GrantIndex, IngestContext, ingest_lines
from stagewall.monitoring.follow_loop import follow_file, follower_for
from stagewall.monitoring.log import MonitorLog
from stagewall.monitoring.pipeline import IngestReport
from stagewall.store import Store


def ssh(i: int, user: str = "alice") -> str:
    return (
        f"2026-12-01T09:{i // 60:02d}:{i % 60:02d}.000000+00:00 bastion sshd[{100 + i}]: "
        f"Accepted publickey for {user} from 10.0.0.5 port {i} ssh2: ED25519 SHA256:k"
    )


def test_rotation_by_rename_reads_the_old_tail_then_the_new_file(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(ssh(0) + "\n" + ssh(1) + "\n")
    f = Follower(log)
    assert f.poll() == [ssh(0), ssh(1)]
    with log.open("a") as fh:
        fh.write(ssh(2) + "\n" + ssh(3)[:20])  # a line still being written
    assert f.poll() == [ssh(2)]
    with log.open("a") as fh:
        fh.write(ssh(3)[20:] + "\n" + ssh(4) + "\n")
    os.rename(log, tmp_path / "auth.log.1")
    log.write_text(ssh(5) + "\n")
    assert f.poll() == [ssh(3), ssh(4), ssh(5)]
    assert f.rotations == 1
    with log.open("a") as fh:
        fh.write(ssh(6) + "\n")
    assert f.poll() == [ssh(6)]
    f.close()


def test_copytruncate_restarts_at_the_beginning(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(ssh(0) + "\n" + ssh(1) + "\n")
    f = Follower(log)
    assert len(f.poll()) == 2
    log.write_text(ssh(2) + "\n")  # truncated and rewritten, shorter than before
    assert f.poll() == [ssh(2)]
    f.close()


def test_missing_file_waits_and_an_overlong_line_is_cut(tmp_path: Path) -> None:
    log = tmp_path / "later.log"
    f = Follower(log, max_line=50)
    assert f.poll() == []
    log.write_text("x" * 120 + "\nshort\n")
    lines = f.poll()
    f.close()
    assert lines[-1] == "short"
    assert max(len(x) for x in lines) <= 51


def test_follow_loop_ingests_across_rotation_and_resumes(
    estate: Estate, store: Store, tmp_path: Path
) -> None:
    log = tmp_path / "auth.log"
    log.write_text(ssh(0) + "\n" + "garbage line\n")
    ctx = IngestContext(estate, store, grants=GrantIndex(()), year=2026)
    reports: list[IngestReport] = []
    steps = iter(range(4))

    def stop() -> bool:
        return next(steps, None) is None

    def after_poll(_seconds: float) -> None:
        return None

    def writer(report: IngestReport) -> None:
        reports.append(report)
        if len(reports) == 1:  # rotate while the follower runs
            os.rename(log, tmp_path / "auth.log.1")
            log.write_text(ssh(1) + "\n")

    follow_file(
        ctx,
        "ssh",
        follower_for(ctx, "ssh", str(log), from_end=False),
        stop=stop,
        on_report=writer,
        sleep=after_poll,
    )
    assert sum(r.events for r in reports) == 2
    assert sum(r.malformed for r in reports) == 1
    # a restarted follower resumes after what it already read
    with log.open("a") as fh:
        fh.write(ssh(2) + "\n")
    again: list[IngestReport] = []
    steps2 = iter(range(1))
    follow_file(
        ctx,
        "ssh",
        follower_for(ctx, "ssh", str(log), from_end=False),
        stop=lambda: next(steps2, None) is None,
        on_report=again.append,
        sleep=after_poll,
    )
    assert sum(r.events for r in again) == 1
    assert MonitorLog(store).head().size == 3


def test_malformed_lines_never_stop_ingestion(estate: Estate, store: Store) -> None:
    ctx = IngestContext(estate, store, grants=GrantIndex(()), year=2026)
    lines = [
        "\x00\xff binary",
        "",
        "{",
        ssh(1),
        "Dec 99 99:99:99 x sshd[1]: y",
        ssh(2),
        "z" * (2 << 20),
    ]
    report = ingest_lines("ssh", lines, ctx)
    assert report.events == 2
    assert report.malformed == 4
    assert [s["line"] for s in report.malformed_samples] == [1, 3, 5, 7]


def test_the_rest_of_an_overlong_line_is_not_read_as_a_line_of_its_own(tmp_path: Path) -> None:
    """An over-long line is cut and the rest of it, up to its newline, skipped: its tail
    (a statement's text, a user name — what a client chose) started a new "line" once
    the line outgrew the buffer, and could be written to look like any log line."""
    log = tmp_path / "auth.log"
    log.write_text("x" * 260)  # a long line still being written
    f = Follower(log, max_line=200)
    assert f.poll() == ["x" * 201]
    with log.open("a") as fh:
        fh.write(ssh(1, user="forged") + "\n" + ssh(2) + "\n")
    assert f.poll() == [ssh(2)]
    with log.open("a") as fh:
        fh.write("y" * 260)
    assert f.poll() == ["y" * 201]
    with log.open("a") as fh:
        fh.write("y" * 260)  # still the same line: nothing new
    assert f.poll() == []
    with log.open("a") as fh:
        fh.write("\n" + ssh(3) + "\n")
    assert f.poll() == [ssh(3)]
    f.close()


def test_a_follower_resumed_inside_an_overlong_line_does_not_read_its_tail(
    tmp_path: Path,
) -> None:
    log = tmp_path / "auth.log"
    log.write_text(ssh(0) + "\n" + "x" * 260)
    f = Follower(log, max_line=200)
    assert f.poll() == [ssh(0), "x" * 201]
    inode, offset = f.position
    f.close()
    with log.open("a") as fh:
        fh.write(ssh(1, user="forged") + "\n" + ssh(2) + "\n")
    again = Follower(log, max_line=200, offset=offset, inode=inode)
    assert again.poll() == ["x" * 201, ssh(2)]  # the cut head again (malformed), no tail
    again.close()
