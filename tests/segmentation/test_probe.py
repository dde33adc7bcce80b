"""`stagewall probe` (issue 12): from a non-production host, prove the declared
production endpoints are not reachable; the server records the report and
`stagewall check --live` shows it. Real sockets on 127.0.0.1, a real server app."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.errors import AccessDenied, UsageError
from stagewall.estate import parse_estate
from stagewall.segmentation import Reach, record_probe, run_probe
from stagewall.segmentation.probe import ProbeReport
from tests.cli_helpers import run_cli

ESTATE = """
version: 1
environments:
  production: {{tier: production}}
  staging: {{tier: non-production}}
vendors:
  devshop: {{contract_start: 2020-01-01, contract_end: 2099-12-31}}
resources:
  prod-api: {{environment: production, kind: api, host: 127.0.0.1, port: {open_port}}}
  prod-queue: {{environment: production, kind: queue, host: 127.0.0.1, port: {closed_port}}}
  prod-dns: {{environment: production, kind: host, host: no-such-host.invalid, port: 22}}
  prod-bucket: {{environment: production, kind: bucket, identifiers: [prod-bucket]}}
  staging-api: {{environment: staging, kind: api, host: 127.0.0.1, port: {open_port}}}
principals:
  alice: {{affiliation: internal}}
  prober: {{affiliation: internal, kind: service}}
  otherbot: {{affiliation: internal, kind: service}}
  vendorbot: {{affiliation: external, vendor: devshop, kind: service}}
segmentation:
  reporters: [prober]
"""


@pytest.fixture
def ports() -> Iterator[tuple[int, int]]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    try:
        yield listener.getsockname()[1], closed.getsockname()[1]
    finally:
        listener.close()
        closed.close()


def _estate_text(open_port: int, closed_port: int) -> str:
    return ESTATE.format(open_port=open_port, closed_port=closed_port)


def test_a_reachable_production_endpoint_is_found(ports: tuple[int, int]) -> None:
    estate = parse_estate(_estate_text(*ports)).estate
    rep = run_probe(estate, environment="staging", timeout=2)
    reach = {r.target.resource: r.reach for r in rep.results}
    assert reach == {
        "prod-api": Reach.REACHABLE,
        "prod-queue": Reach.REFUSED,
        "prod-dns": Reach.UNRESOLVED,
    }
    assert rep.not_probed == ("prod-bucket",)  # no host: nothing to try
    assert not rep.segmented


def test_only_declared_production_addresses_are_tried(ports: tuple[int, int]) -> None:
    estate = parse_estate(_estate_text(*ports)).estate
    tried: list[tuple[str, int]] = []

    def connect(address: tuple[str, int], timeout: float) -> socket.socket:
        tried.append(address)
        assert timeout <= 10
        raise ConnectionRefusedError

    rep = run_probe(estate, environment="staging", timeout=0.5, connect=connect)
    assert sorted(tried) == sorted([("127.0.0.1", ports[0]), ("127.0.0.1", ports[1])])
    assert rep.segmented  # nothing answered


@pytest.mark.parametrize(
    ("env", "timeout", "message"),
    [
        ("production", 2.0, "is production"),
        ("qa", 2.0, "is not declared"),
        ("staging", 60.0, "at most 10s"),
    ],
)
def test_bad_probe_arguments_are_refused(
    ports: tuple[int, int], env: str, timeout: float, message: str
) -> None:
    estate = parse_estate(_estate_text(*ports)).estate
    with pytest.raises(UsageError, match=message):
        run_probe(estate, environment=env, timeout=timeout)


class _Server:
    def __init__(self, tmp: Path, text: str) -> None:
        from stagewall.identity.pipeline import create_pipeline_token
        from stagewall.keys import init_keys
        from stagewall.server import ServerState, create_app

        self.config = tmp / "stagewall.yaml"
        self.config.write_text(text, encoding="utf-8")
        self.db = f"sqlite:///{tmp / 'store.db'}"
        home = tmp / "server-home"
        init_keys(home)
        self.state = ServerState.open(self.config, self.db, home)
        self.client = TestClient(create_app(self.state, run_sweeper=False))
        # probe agents are service principals: they hold pipeline tokens, never logins
        self.tokens = {
            who: create_pipeline_token(
                self.state.ctx.store,
                self.state.estate,
                self.state.ctx.audit,
                who,
                now=datetime.now(UTC),
            ).secret
            for who in ("prober", "otherbot", "vendorbot")
        }

    def post(self, who: str, body: dict[str, Any]) -> Any:
        return self.client.post(
            "/api/v1/segmentation/probes",
            json=body,
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
        )

    def probe_events(self) -> list[Any]:
        return [
            e
            for e in AuditLog(self.state.ctx.store).events()
            if e.code == "segmentation.probe.reported"
        ]


def test_the_server_records_reports_and_check_live_shows_them(
    tmp_path: Path, ports: tuple[int, int]
) -> None:
    text = _estate_text(*ports)
    srv = _Server(tmp_path, text)
    try:
        rep = run_probe(srv.state.estate, environment="staging", timeout=2)
        res = srv.post("prober", rep.as_dict())
        assert res.status_code == 201, res.text
        assert res.json() == {"recorded": True, "segmented": False}
        [event] = srv.probe_events()
        assert event.status.value == "Failure" and "PRODUCTION REACHABLE: prod-api" in event.message
        # a report whose targets are not the estate's production endpoints is refused
        forged = rep.as_dict()
        forged["results"] = [r for r in forged["results"] if r["reach"] != "reachable"]
        assert srv.post("prober", forged).status_code in (400, 409, 422)
        # a vendor's service account cannot vouch for segmentation
        assert srv.post("vendorbot", rep.as_dict()).status_code == 403
        assert len(srv.probe_events()) == 1
        # the server never trusts the client's verdict
        lying = {**rep.as_dict(), "segmented": True}
        assert srv.post("prober", lying).json()["segmented"] is False
    finally:
        srv.client.close()
        srv.state.ctx.store.dispose()
    r = run_cli("check", "--live", "--config", str(srv.config), "--db", srv.db)
    assert r.exit_code == 1, r.stderr
    assert "SW-LIVE-004" in r.stdout and "prod-api" in r.stdout


def test_record_probe_refuses_externals_and_production_sources(
    tmp_path: Path, ports: tuple[int, int]
) -> None:
    from stagewall.store import open_store

    estate = parse_estate(_estate_text(*ports)).estate
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        log = AuditLog(store)
        rep = run_probe(estate, environment="staging", timeout=1)
        with pytest.raises(AccessDenied):
            record_probe(log, estate, rep, actor="vendorbot")
        from_prod = ProbeReport("production", "h", rep.time, rep.results)
        with pytest.raises(UsageError, match="non-production"):
            record_probe(log, estate, from_prod, actor="prober")
        # the refused reporter is recorded; no report is
        assert [(e.code, e.actor) for e in log.events()] == [
            ("segmentation.probe.refused", "vendorbot")
        ]
    finally:
        store.dispose()


def test_only_declared_reporters_post_reports_and_only_theirs_count(
    tmp_path: Path, ports: tuple[int, int]
) -> None:
    """Any internal person or pipeline could post "production unreachable" for an
    environment, and the evidence took the newest report, whoever sent it."""
    from stagewall.access.live import _probes
    from stagewall.segmentation import latest_reports

    text = _estate_text(*ports)
    srv = _Server(tmp_path, text)
    try:
        rep = run_probe(srv.state.estate, environment="staging", timeout=2)
        assert srv.post("prober", rep.as_dict()).status_code == 201  # reachable: a finding
        clean = rep.as_dict()
        for r in clean["results"]:
            if r["reach"] == "reachable":
                r["reach"] = "refused"
        res = srv.post("otherbot", clean)  # internal, but not a declared reporter
        assert res.status_code == 403, res.text
        assert res.json()["code"] == "SW865" and "segmentation.reporters" in res.json()["detail"]
        events = AuditLog(srv.state.ctx.store).events()
        [refused] = [e for e in events if e.code == "segmentation.probe.refused"]
        assert refused.actor == "otherbot" and refused.status.value == "Failure"
        assert [e.actor for e in srv.probe_events()] == ["prober"]
        # a "clean" report that reached the log by another way does not count either
        AuditLog(srv.state.ctx.store).append(
            AuditEvent("segmentation.probe.reported", Status.SUCCESS, "otherbot", "x",
                       details=ProbeReport.from_dict(clean).as_dict())
        )  # fmt: skip
        estate = srv.state.estate
        latest = latest_reports(AuditLog(srv.state.ctx.store).events(), estate)
        assert not latest["staging"].segmented  # prober's report, not otherbot's
        assert not _probes(srv.db, estate)["staging"].segmented
        # a reporter the estate no longer names: its reports no longer count
        undeclared = parse_estate(text.replace("reporters: [prober]", "reporters: []")).estate
        assert latest_reports(AuditLog(srv.state.ctx.store).events(), undeclared) == {}
        assert srv.post("prober", rep.as_dict()).status_code == 201  # still declared here
    finally:
        srv.client.close()
        srv.state.ctx.store.dispose()


def test_a_reporter_must_be_a_declared_internal_principal(ports: tuple[int, int]) -> None:
    from stagewall.errors import ConfigError

    for ref, message in (
        ("vendorbot", "must be internal"),
        ("ghost", "unknown principal 'ghost'"),
        ("group:nope", "unknown group"),
    ):
        text = _estate_text(*ports).replace("reporters: [prober]", f"reporters: [{ref}]")
        with pytest.raises(ConfigError, match=message):
            parse_estate(text)
