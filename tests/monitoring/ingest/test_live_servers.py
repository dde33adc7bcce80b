"""Parsers against logs written by real servers started for this test.

A throwaway PostgreSQL 15 cluster (own directory, free port, ``log_connections``,
``log_disconnections``, csvlog and jsonlog) and, when the binaries are installed, a
throwaway MariaDB with the ``server_audit`` plugin loaded (own datadir, free port):
the shared servers are never reconfigured. pgaudit is not installed on this machine,
so its lines are covered by test_parsers.py from the documented format.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pymysql
import pytest

from stagewall.monitoring.events import Event
from stagewall.monitoring.ingest import parser_for

PG_BIN = Path("/usr/lib/postgresql/15/bin")
MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _need(path: str | Path, what: str) -> None:
    if not Path(path).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is not installed at {path}")
        pytest.skip(f"{what} is not installed at {path}")


def _as_owner(cmd: list[str], user: str | None) -> list[str]:
    if os.geteuid() == 0 and user:
        return ["runuser", "-u", user, "--", *cmd]
    return cmd


@pytest.fixture(scope="module")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    _need(PG_BIN / "initdb", "PostgreSQL initdb")
    # Not under pytest's 0700 tmp root: the postgres user must reach it.
    base = Path(tempfile.mkdtemp(prefix=f"sw-pg-{uuid.uuid4().hex[:8]}-"))
    data, logs = base / "data", base / "log"
    owner = "postgres" if os.geteuid() == 0 else None
    if owner:
        shutil.chown(base, owner)
    pwfile = base / "pw"
    pwfile.write_text("secret-pass\n")
    if owner:
        shutil.chown(pwfile, owner)
    subprocess.run(
        _as_owner(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                f"--pwfile={pwfile}",
            ],
            owner,
        ),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    opts = (
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c logging_collector=on "
        f"-c log_destination=csvlog,jsonlog -c log_directory={logs} "
        "-c log_connections=on -c log_disconnections=on -c log_filename=pg"
    )
    subprocess.run(
        _as_owner(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                opts,
                "-w",
                "-l",
                str(base / "start.log"),
                "start",
            ],
            owner,
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield port, logs
    finally:
        subprocess.run(
            _as_owner([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], owner),
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def _events(kind: str, path: Path) -> list[Event]:
    p = parser_for(kind)
    out: list[Event] = []
    for line in path.read_text(errors="surrogateescape").splitlines():
        out += p.feed(line)
    return out + p.flush()


def test_postgres_csvlog_and_jsonlog_from_a_real_cluster(pg_cluster: tuple[int, Path]) -> None:
    port, logs = pg_cluster
    url = f"postgresql://postgres:secret-pass@127.0.0.1:{port}/postgres"
    with psycopg.connect(url) as conn:
        conn.execute("SELECT 1")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://postgres:wrong@127.0.0.1:{port}/postgres").close()
    deadline = time.monotonic() + 30
    for name in ("pg.csv", "pg.json"):
        while True:  # the logging collector writes asynchronously
            evs = _events("postgresql", logs / name) if (logs / name).exists() else []
            kinds = {(e.activity_id, e.status) for e in evs if e.user == "postgres"}
            if {(1, "success"), (2, "success"), (1, "failure")} <= kinds:
                break
            if time.monotonic() > deadline:
                pytest.fail(f"{name}: expected logon, logoff and failure, got {kinds}")
            time.sleep(0.2)
        logon = next(
            e
            for e in evs
            if e.activity_id == 1 and e.status == "success" and e.src_ip == "127.0.0.1"
        )
        assert (logon.class_uid, logon.target) == (3002, "postgres")
        failure = next(e for e in evs if e.status == "failure")
        assert failure.src_ip == "127.0.0.1"
        assert failure.detail == "password authentication failed"


@pytest.fixture(scope="module")
def mariadb_audit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, Path]]:
    _need(MARIADBD, "mariadbd")
    _need(INSTALL_DB, "mariadb-install-db")
    base = tmp_path_factory.mktemp(f"mdb-{uuid.uuid4().hex[:8]}")
    data, sock, audit = base / "data", base / "mysqld.sock", base / "audit.log"
    subprocess.run(
        [
            INSTALL_DB,
            "--no-defaults",
            f"--datadir={data}",
            "--user=root",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    proc = subprocess.Popen(
        [
            MARIADBD,
            "--no-defaults",
            f"--datadir={data}",
            f"--port={port}",
            f"--socket={sock}",
            "--bind-address=127.0.0.1",
            "--user=root",
            f"--pid-file={base / 'pid'}",
            "--plugin-load-add=server_audit",
            "--server-audit-logging=ON",
            "--server-audit-events=CONNECT,QUERY,TABLE",
            f"--server-audit-file-path={audit}",
            "--skip-log-bin",
            f"--log-error={base / 'err.log'}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                pymysql.connect(host="127.0.0.1", port=port, user="root").close()
                break
            except pymysql.err.OperationalError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(
                        f"throwaway MariaDB did not start: {(base / 'err.log').read_text()[-500:]}"
                    )
                time.sleep(0.3)
        yield port, audit, base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_mariadb_server_audit_from_a_real_server(mariadb_audit: tuple[int, Path, Path]) -> None:
    port, audit, _base = mariadb_audit
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=True)
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE shop")
        cur.execute("CREATE TABLE shop.customers (id INT PRIMARY KEY, email VARCHAR(80))")
        cur.execute("INSERT INTO shop.customers VALUES (1, 'ann@example.com')")
        cur.execute("SELECT email FROM shop.customers WHERE id = 1")
        cur.execute("CREATE USER 'mon_user'@'%' IDENTIFIED BY 'right-pass'")
    conn.close()
    with pytest.raises(pymysql.err.OperationalError):
        pymysql.connect(host="127.0.0.1", port=port, user="mon_user", password="wrong")
    deadline = time.monotonic() + 30
    while True:
        evs = _events("mariadb", audit)
        if (
            any(e.status == "failure" and e.user == "mon_user" for e in evs)
            or time.monotonic() > deadline
        ):
            break
        time.sleep(0.2)
    assert any(
        e.class_uid == 3002 and e.activity_id == 1 and e.status == "success" and e.user == "root"
        for e in evs
    )
    assert any(e.class_uid == 3002 and e.activity_id == 2 and e.user == "root" for e in evs)
    failed = [e for e in evs if e.user == "mon_user" and e.status == "failure"]
    assert failed and failed[0].detail == "error 1045"
    reads = [e for e in evs if e.operation == "READ" and e.object == "customers"]
    assert reads and reads[0].target == "shop"
    writes = [e for e in evs if e.operation == "WRITE" and e.object == "customers"]
    assert writes
    queries = [e for e in evs if e.operation == "SELECT"]
    assert queries and "ann@example.com" not in " ".join(e.detail for e in evs)
    # the password in CREATE USER is masked by the plugin and by our redaction
    assert not any("right-pass" in e.detail for e in evs)
