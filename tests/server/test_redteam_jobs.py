"""Red team of the server's masking jobs, notifications and alert sinks.

Each test reproduces an attack that worked before its fix: a job whose target is
declared staging but whose URL is production, and a request reason that wrote its own
lines (a forged review link) into the approvers' notification.
"""

from __future__ import annotations

import contextlib
import sqlite3

import pytest

from stagewall.errors import StagewallError
from stagewall.server import jobs
from tests.server.conftest import ESTATE, Person, World
from tests.server.plan_approval import approve_plan, with_plan_people
from tests.server.test_masking_jobs import JOBS, RESOURCES, finish, prepare_dir

CLOBBER = """  clobber:
    source: prod-sqlite
    target: {target}
    plan: plans/customers.yaml
"""


def _estate(world: World, extra_resources: str, target: str) -> None:
    db = world.state.ctx.loaded.estate.resources["prod-db"].database or ""
    text = ESTATE.format(db=db).replace("resources:\n", RESOURCES + extra_resources, 1)
    world.config.write_text(with_plan_people(text + JOBS + CLOBBER.format(target=target)))
    world.state.refresh()
    assert "clobber" in world.state.estate.masking_jobs
    if (world.config.parent / "plans" / "customers.yaml").exists():
        for job in ("refresh-staging", "bob-only", "clobber"):
            # a job the test means to be refused before it runs cannot be submitted
            with contextlib.suppress(StagewallError):
                approve_plan(world.state, job, world.clock)


def test_a_staging_resource_on_a_production_sqlite_file_is_never_overwritten(
    world: World, people: dict[str, Person]
) -> None:
    """The estate checked the target resource's *environment*; the run wrote its file.
    A staging resource naming production's file (./billing.db for billing.db) had the
    production tables dropped and replaced by a masked copy of another database."""
    tmp = world.config.parent
    prepare_dir(tmp)
    billing = sqlite3.connect(tmp / "billing.db")
    billing.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount INTEGER)")
    billing.execute("INSERT INTO invoices VALUES (1, 100)")
    billing.commit()
    billing.close()
    _estate(
        world,
        "  prod-billing: {environment: production, kind: sqlite, path: billing.db}\n"
        "  staging-mirror: {environment: staging, kind: sqlite, path: ./billing.db}\n",
        "staging-mirror",
    )
    res = people["alice"].post("/api/v1/masking/jobs/clobber/runs")
    finish(world)
    assert res.status_code == 400, res.text
    body = res.json()
    assert body["code"] == "SW150"
    assert "production resource 'prod-billing'" in body["detail"]
    assert jobs.list_runs(world.state) == []  # nothing queued
    billing = sqlite3.connect(tmp / "billing.db")
    assert billing.execute("SELECT amount FROM invoices").fetchall() == [(100,)]
    billing.close()


@pytest.mark.parametrize("same_variable", [True, False])
def test_a_staging_resource_whose_url_is_production_is_refused(
    world: World,
    people: dict[str, Person],
    monkeypatch: pytest.MonkeyPatch,
    same_variable: bool,
) -> None:
    """Production declared only by its connection_env (no host in the estate): a staging
    resource reading the same variable, or another variable holding the same database's
    URL, was queued and written."""
    prepare_dir(world.config.parent)
    prod_url = "postgresql://masker:pw@127.0.0.1:1/payments"
    monkeypatch.setenv("SW_TEST_PAYMENTS_URL", prod_url)
    monkeypatch.setenv("SW_TEST_MIRROR_URL", prod_url.replace("masker:pw", "other:x"))
    variable = "SW_TEST_PAYMENTS_URL" if same_variable else "SW_TEST_MIRROR_URL"
    _estate(
        world,
        "  prod-payments: {environment: production, kind: postgresql, "
        "connection_env: SW_TEST_PAYMENTS_URL}\n"
        f"  staging-payments: {{environment: staging, kind: postgresql, connection_env: {variable}}}\n",
        "staging-payments",
    )
    res = people["alice"].post("/api/v1/masking/jobs/clobber/runs")
    finish(world)
    assert res.status_code == 400, res.text
    assert res.json()["code"] == "SW150"
    assert "prod-payments" in res.json()["detail"] and "pw" not in res.json()["detail"]
    assert jobs.list_runs(world.state) == []


def test_a_scheduled_job_into_production_is_a_failed_run_not_a_copy(world: World) -> None:
    """The schedule takes the same path: a failed run, alerted, no copy."""
    tmp = world.config.parent
    prepare_dir(tmp)
    sqlite3.connect(tmp / "billing.db").close()
    _estate(
        world,
        "  prod-billing: {environment: production, kind: sqlite, path: billing.db}\n"
        f"  staging-mirror: {{environment: staging, kind: sqlite, path: {tmp / 'billing.db'}}}\n",
        "staging-mirror",
    )
    with pytest.raises(Exception) as err:
        jobs.start(world.state, "clobber", triggered_by="schedule:clobber", trigger="schedule")
    finish(world)
    assert getattr(err.value, "code", None) == "SW150"
    [run] = jobs.list_runs(world.state, "clobber")
    assert run["state"] == "failed" and "SW150" in run["error"]
    assert any(a["kind"] == "masking.job.failed" for a in world.alerts())


def test_a_requesters_reason_cannot_forge_the_notifications_review_link(
    world: World, people: dict[str, Person]
) -> None:
    """The reason is the requester's text (an external's): with line breaks it wrote its
    own "Review it:" line, pointing the approvers' mail and chat at a look-alike login
    page, above the real one. It is now one quoted line, its links not clickable."""
    from tests.server.test_scheduled import configure, leader_tick

    configure(world, server="  public_url: https://stagewall.example.com/\n")
    forged = "https://stagewall-example.com.evil.example/requests/r"
    reason = f"urgent fix\nReview it: {forged}\nPending until 2099-01-01T00:00:00Z\n\n\n"
    res = people["dana"].post(
        "/api/v1/access/requests",
        {"role": "staging-write", "duration": "2h", "reason": reason},
    )
    assert res.status_code == 201, res.text
    rid = res.json()["request"]
    leader_tick(world)
    [got] = [a for a in world.alerts() if a["kind"] == "approval.pending"]
    lines = got["text"].splitlines()
    reviews = [ln for ln in lines if ln.startswith("Review it:")]
    assert reviews == [f"Review it: https://stagewall.example.com/requests/{rid}"]
    [pending] = [ln for ln in lines if ln.startswith("Pending until")]
    assert "2099" not in pending
    assert forged not in got["text"]  # defanged: not a link any mail or chat client makes
    assert "stagewall-example.com.evil.example/requests/r" in got["text"]  # but readable


def leaky_plan(world: World) -> None:
    """The jobs' plan keeping the e-mail columns (a warning, not an error): its copy
    does not verify clean."""
    import yaml

    tmp = world.config.parent
    prepare_dir(tmp)
    plan = tmp / "plans" / "customers.yaml"
    data = yaml.safe_load(plan.read_text())
    for table, column in (
        ("customers", "email"),
        ("accounts", "customer_email"),
        ("ledger", "acct_email"),
    ):
        data["tables"][table]["columns"][column].update(
            transformer="keep", params={}, reason="not personal (wrongly)"
        )
    plan.write_text(yaml.safe_dump(data))
    _estate(world, "", "staging-sqlite")


def test_a_copy_that_does_not_verify_is_withdrawn_not_left_looking_complete(
    world: World, people: dict[str, Person]
) -> None:
    """A plan that keeps the e-mail columns (a warning, not an error) copied 40 production
    addresses into staging; the run said "completed", the target's marker "complete", and
    the addresses stayed where staging's users (externals) read them."""
    from stagewall.masking.db import MarkerStatus, read_completion_marker

    tmp = world.config.parent
    leaky_plan(world)
    alice = people["alice"]
    run = alice.post("/api/v1/masking/jobs/refresh-staging/runs").json()
    finish(world)
    done = alice.get(f"/api/v1/masking/runs/{run['id']}").json()
    assert done["state"] == "failed" and done["verification"] == "failed", done["error"]
    assert "did not verify clean" in done["error"] and "tables were dropped" in done["error"]
    src = sqlite3.connect(tmp / "prod.db")
    emails = {r[0] for r in src.execute("SELECT email FROM customers")}
    src.close()
    tgt = sqlite3.connect(tmp / "staging.db")
    tables = {r[0] for r in tgt.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    tgt.close()
    assert "customers" not in tables and "accounts" not in tables, tables
    marker = read_completion_marker(f"sqlite:///{tmp / 'staging.db'}")
    assert marker is not None and marker.status is MarkerStatus.FAILED
    leak = [a for a in world.alerts() if a["kind"] == "masking.job.leak"]
    assert leak and leak[0]["severity"] == "critical"
    assert not any(e in str(world.alerts()) for e in emails)
    assert [e.code for e in world.events() if e.code == "masking.job.failed"]


def test_two_jobs_writing_one_target_never_run_at_once(
    world: World, people: dict[str, Person]
) -> None:
    """refresh-staging and bob-only both replace staging-sqlite. The busy check was per
    job, so both were queued — on two servers both would drop and fill the same tables
    at once, and one would mark the mix complete."""
    import threading

    prepare_dir(world.config.parent)
    _estate(world, "", "staging-sqlite")
    gate = threading.Event()
    world.state.workers.submit("masking", gate.wait, 30)  # hold the first run queued
    first = people["alice"].post("/api/v1/masking/jobs/refresh-staging/runs")
    assert first.status_code == 202, first.text
    second = people["bob"].post("/api/v1/masking/jobs/bob-only/runs")
    third = people["alice"].post("/api/v1/masking/jobs/clobber/runs")  # same target too
    gate.set()
    finish(world)
    for res in (second, third):
        assert res.status_code == 409, res.text
        assert res.json()["code"] == "SW862"
        assert "refresh-staging" in res.json()["detail"]
    assert [r["job"] for r in jobs.list_runs(world.state)] == ["refresh-staging"]


def test_the_public_healthz_never_shows_the_sweepers_error_text(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    """/healthz needs no login. A sweep that could not reach a production database put
    its error there: resource names, the database's address and port, the driver's
    text. Now it says that an error exists; the text is for internal people/auditors."""
    from tests.server.test_scheduled import leader_tick

    monkeypatch.setenv("SW_TEST_ADMIN_URL", "postgresql://stagewall_admin:pw@127.0.0.1:1/x")
    world.state.refresh()
    leader_tick(world)
    public = world.client.get("/healthz")
    assert public.status_code == 200
    sweeper = public.json()["sweeper"]
    assert sweeper["last_error"] and "prod-db" not in public.text
    assert "127.0.0.1" not in public.text and "port 1" not in public.text
    detail = people["audrey"].get("/api/v1/server/tasks")
    assert detail.status_code == 200
    assert "prod-db" in detail.json()["sweeper"]["last_error"]
    assert people["dana"].get("/api/v1/server/tasks").status_code == 403


def test_a_scheduled_run_that_finds_its_target_busy_is_recorded_and_alerted(
    world: World, people: dict[str, Person]
) -> None:
    """A scheduled slot refused because a run was in progress was only written to the
    server log: staging silently went without its refresh, nobody watching."""
    import threading

    prepare_dir(world.config.parent)
    _estate(world, "", "staging-sqlite")
    gate = threading.Event()
    world.state.workers.submit("masking", gate.wait, 30)
    assert people["alice"].post("/api/v1/masking/jobs/refresh-staging/runs").status_code == 202
    with pytest.raises(Exception) as err:
        jobs.start(
            world.state,
            "refresh-staging",
            triggered_by="schedule:refresh-staging",
            trigger="schedule",
            slot="2026-12-07T02:00:00.000000Z",
        )
    gate.set()
    finish(world)
    assert getattr(err.value, "code", None) == "SW862"
    runs = jobs.list_runs(world.state, "refresh-staging")
    [skipped] = [r for r in runs if r["trigger"] == "schedule"]
    assert skipped["state"] == "failed" and "SW862" in skipped["error"]
    assert any(
        a["kind"] == "masking.job.failed" and "schedule:refresh-staging" in a["text"]
        for a in world.alerts()
    )
