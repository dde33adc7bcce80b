"""The evidence flags the masking job runs that went under a plan approval later withdrawn.

``masking.job.triggered`` names the approval a run went under and
``masking.plan.withdrawn`` lists the runs that used it, but the evidence an auditor
gets did not look at either: a pack over a window where an approver took back the
approval that copies of production were made under showed those runs like any other
(base: no ``masking.plan_approvals`` check at all, KeyError). Now the check reads both
events from the log and names each such run as an exception, with the withdrawal's
time, who withdrew it and why; a run whose approval stands is not named.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from stagewall.evidence import CheckStatus
from stagewall.evidence.pack import build_pack
from stagewall.evidence.verify import verify_pack
from stagewall.keys import load_public_key, load_signing_key
from tests.server.conftest import Person, World
from tests.server.test_masking_jobs import finish
from tests.server.test_plan_withdrawal import JOB, _approved, _withdraw
from tests.server.test_redteam_plan_approval import _review, _submit

CHECK = "masking.plan_approvals"


def _run(world: World, person: Person) -> str:
    res = person.post(f"/api/v1/masking/jobs/{JOB}/runs")
    assert res.status_code == 202, res.text
    finish(world)
    return str(res.json()["id"])


def _pack(world: World, tmp: Path) -> tuple[dict[str, Any], dict[str, str], list[Any]]:
    """The pack's checks by name, its ISO 27001 requirement statuses and masking runs."""
    out = tmp / "pack.zip"
    build_pack(
        world.state.evidence_inputs(), out, signing_key=load_signing_key(world.home), pdf=False
    )
    verify_pack(out, public_key=load_public_key(world.home))  # it still verifies
    with zipfile.ZipFile(out) as z:
        checks = json.loads(z.read("checks.json"))["checks"]
        controls = json.loads(z.read("controls.json"))
        runs = list(csv.DictReader(io.StringIO(z.read("populations/masking_runs.csv").decode())))
    iso = {c["requirement"]: c["status"] for c in controls if "27001" in c["framework"]}
    return {c["check"]: c for c in checks}, iso, runs


def test_a_run_under_a_withdrawn_approval_is_an_exception_in_the_pack(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rid = _approved(world, people, monkeypatch)
    flagged = _run(world, people["alice"])
    res = _withdraw(people["bob"], rid, otp=people["bob"].otp(), reason="wrong column")
    assert res.status_code == 200, res.text
    # a new approval of the same plan, and a run under it: that run is not flagged
    sub = _submit(people["alice"]).json()
    assert _review(people["carol"], sub["request"]).status_code == 200, sub
    kept = _run(world, people["alice"])
    events = world.events()
    [gone] = [e for e in events if e.code == "masking.plan.withdrawn"]
    trigger = {e.details["run"]: e for e in events if e.code == "masking.job.triggered"}
    assert trigger[kept].details["plan_approval"]["request"] == sub["request"]

    checks, iso, runs = _pack(world, tmp_path)
    result = checks[CHECK]
    assert result["status"] == "FAIL", result
    assert iso["A.8.33"] == iso["A.8.11"] == "FAIL", iso
    [item] = result["items"]
    assert item["run"] == flagged and item["run"] != kept
    assert item["plan_approval"] == rid and item["approved_by"] == "bob"
    assert item["withdrawn_by"] == "bob" and item["reason"] == "wrong column"
    assert item["withdrawn_at"] == gone.time and item["withdrawal_event"] == gone.index
    assert item["triggered_event"] == trigger[flagged].index
    assert item["masking_run"] and item["started_after_withdrawal"] is False
    assert "mfa" not in item and "otp" not in json.dumps(item)
    assert result["figures"]["runs"] == 2 and result["figures"]["under_withdrawn_approval"] == 1
    cited = {i for first, last in result["events"] for i in range(first, last + 1)}
    assert {gone.index, trigger[flagged].index, trigger[kept].index} <= cited
    # the masking run sampled from the population names the withdrawal too; the other not
    marked = {r["run"]: r["approval_withdrawn_events"] for r in runs}
    assert marked.pop(item["masking_run"]) == str(gone.index)
    assert len(marked) == 1 and set(marked.values()) == {""}, marked


def test_a_run_whose_approval_stands_is_not_flagged(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _approved(world, people, monkeypatch)
    _run(world, people["alice"])
    checks, _iso, runs = _pack(world, tmp_path)
    result = checks[CHECK]
    assert result["status"] == "PASS", result
    assert [r["approval_withdrawn_events"] for r in runs] == [""]
    assert result["items"] == [] and result["figures"]["under_withdrawn_approval"] == 0
    assert result["figures"]["runs"] == 1
    assert world.state.evaluation(fresh=True).get(CHECK).status is CheckStatus.PASS
