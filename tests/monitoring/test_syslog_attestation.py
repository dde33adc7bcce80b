"""``logger -i -t sshd`` writes ``sshd[PID]:`` with a PID: the TAG, the PID (``--id=N``)
and the facility (``-p authpriv.info``) are all the sender's choice. What the sender
cannot choose is what the kernel says of it: journald's ``_UID``/``_COMM``/``_EXE``,
and the trailer an annotating rsyslog appends (imuxsock ``SysSock.Annotate``). sshd's
logons are written by its root monitor, so a logon from any other uid is a forgery."""

from __future__ import annotations

import json
from pathlib import Path

from stagewall.estate.loader import parse_estate
from stagewall.monitoring import GrantIndex, IngestContext, IngestReport, ingest_lines
from stagewall.store import Store
from tests.monitoring.test_attribution_claims import events
from tests.monitoring.test_claim_gaps import ACCEPTED, estate_text, rules

ANNOTATED = """
    ssh-annotated: {type: sshd, resource: bastion, syslog_trusted_properties: true}
"""
HEAD = "Dec  1 10:00:00 bastion sshd[4242]: "
REAL = ' @[_PID=4242 _UID=0 _GID=0 _COMM=sshd-session _EXE=/usr/lib/openssh/sshd-session _CMDLINE="sshd-session: alice [priv]"]'
LOGGER = ' @[_PID=4242 _UID=1000 _GID=1000 _COMM=logger _EXE=/usr/bin/logger _CMDLINE="logger -i -t sshd Accepted \\"x\\""]'
RENAMED = " @[_PID=4242 _UID=1000 _GID=1000 _COMM=sshd _EXE=/home/alice/bin/sshd]"


def ingest(tmp_path: Path, source: str, lines: list[str]) -> IngestReport:
    tmp_path.mkdir(parents=True, exist_ok=True)
    store = Store(f"sqlite:///{tmp_path / 'stagewall.db'}")
    store.migrate()
    estate = parse_estate(estate_text().rstrip("\n") + ANNOTATED).estate
    with IngestContext(estate, store, grants=GrantIndex(())) as ctx:
        return ingest_lines(source, lines, ctx, final=True)


def operations(tmp_path: Path, source: str, lines: list[str]) -> list[tuple[int, str]]:
    report = ingest(tmp_path, source, lines)
    return [
        (d["class_uid"], d.get("unmapped", {}).get("operation", ""))
        for d in events(report, tmp_path)
    ]


def test_journald_a_non_root_process_named_sshd_is_no_sshd_logon(tmp_path: Path) -> None:
    """``cp /usr/bin/logger ~/sshd; ~/sshd -i -t sshd ...``: _COMM is ``sshd``, but the
    kernel's _UID (and _EXE) are the user's."""
    record = {
        "__REALTIME_TIMESTAMP": "1796119200000000",
        "_HOSTNAME": "bastion",
        "SYSLOG_IDENTIFIER": "sshd",
        "_PID": "4242",
        "_COMM": "sshd",
        "MESSAGE": ACCEPTED,
    }
    renamed = json.dumps({**record, "_UID": "1000"})
    own_copy = json.dumps({**record, "_UID": "0", "_EXE": "/root/logger"})
    real = json.dumps({**record, "_UID": "0", "_EXE": "/usr/sbin/sshd"})
    # the daemon still running after an upgrade replaced its binary
    upgraded = json.dumps({**record, "_UID": "0", "_EXE": "/usr/sbin/sshd (deleted)"})
    report = ingest(tmp_path, "ssh-untrusted", [renamed, own_copy, real, upgraded])
    docs = events(report, tmp_path)
    assert [d["unmapped"].get("operation") for d in docs[:2]] == ["program_forgery"] * 2
    assert all("uid" not in d["actor"]["user"] for d in docs[:2])
    assert [(d["class_uid"], d["user"]["uid"]) for d in docs[2:]] == [(3002, "alice")] * 2
    assert "program_name_forgery" in rules(report)


def test_an_annotating_relay_tells_logger_from_sshd_on_a_trusting_source(tmp_path: Path) -> None:
    """rsyslog annotates but the source does not declare it: the trailer is believed
    where it contradicts the name (uid 1000, _COMM logger), and is no proof otherwise."""
    lines = [
        HEAD + ACCEPTED + LOGGER,
        HEAD + ACCEPTED + REAL,
        # the sender's false root trailer before the relay's: two trailers, a forgery
        HEAD + ACCEPTED + REAL + LOGGER,
    ]
    ops = operations(tmp_path, "ssh-trusted", lines)
    assert ops == [(6003, "program_forgery"), (3002, "login"), (6003, "program_forgery")]


def test_a_declared_annotated_source_proves_sshd_by_the_kernels_credentials(
    tmp_path: Path,
) -> None:
    lines = [
        HEAD + ACCEPTED + REAL,  # sshd's monitor, root
        HEAD + ACCEPTED + LOGGER,  # logger -i -t sshd run by uid 1000
        HEAD + ACCEPTED + RENAMED,  # a copy of a binary named sshd, uid 1000
        HEAD + ACCEPTED,  # no trailer: not through the annotated socket
        # a false trailer in the message as well as the relay's: which is which is unknown
        HEAD + ACCEPTED + REAL.replace("4242", "1") + LOGGER,
        HEAD + ACCEPTED + REAL.replace("sshd-session _EXE", "logger _EXE"),  # root's logger
    ]
    ops = operations(tmp_path, "ssh-annotated", lines)
    assert ops == [(3002, "login")] + [(6003, "program_forgery")] * 5
    # the PID is the kernel's, not the TAG's (logger --id=N chooses the TAG's)
    report = ingest(
        tmp_path / "pid", "ssh-annotated", [HEAD + ACCEPTED + REAL.replace("4242", "77")]
    )
    (doc,) = events(report, tmp_path / "pid")
    assert doc["class_uid"] == 3002


def test_syslog_trusted_properties_only_on_syslog_sources() -> None:
    import pytest

    with pytest.raises(Exception, match="syslog_trusted_properties applies to sshd, sftp and git"):
        parse_estate(
            estate_text().rstrip("\n")
            + "\n    x: {type: github, syslog_trusted_properties: true}\n"
        )


def test_journald_a_daemons_record_without_the_kernels_fields_proves_nothing(
    tmp_path: Path,
) -> None:
    """journald adds _COMM and _EXE to every local record. A record naming sshd with
    neither (forwarded, exported by hand, written by anyone into the file the source
    reads) was taken on its SYSLOG_IDENTIFIER: now it is a claim."""
    record = {
        "__REALTIME_TIMESTAMP": "1796119200000000",
        "_HOSTNAME": "bastion",
        "SYSLOG_IDENTIFIER": "sshd",
        "_PID": "4242",
        "MESSAGE": ACCEPTED,
    }
    bare = json.dumps(record)
    real = json.dumps({**record, "_COMM": "sshd", "_EXE": "/usr/sbin/sshd", "_UID": "0"})
    docs = events(ingest(tmp_path, "ssh-untrusted", [bare, real]), tmp_path)
    assert docs[0]["unmapped"].get("operation") == "program_forgery"
    assert (docs[1]["class_uid"], docs[1]["user"]["uid"]) == (3002, "alice")
