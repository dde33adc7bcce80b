"""Bad input for every access command: exit code, a message naming the problem, no change.

One world per module (an estate, a SQLite store, a live server, people with
accounts and tokens, a pending request, a live grant, an open campaign); every
case snapshots the store before and after and asserts that only the documented
failure events were added and no one-time code was burned.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from stagewall.identity import accounts
from stagewall.keys import init_keys
from stagewall.server import ServerState
from tests.access.conftest import CliWorld

TABLES = (
    "access_requests",
    "access_reviews",
    "access_outcomes",
    "access_grants",
    "access_credentials",
    "access_followups",
    "access_offboarded",
    "access_campaigns",
    "access_campaign_items",
    "access_campaign_decisions",
)


class World(CliWorld):
    """The estate behind a live ``stagewall serve``; each person has their own token.

    ``--as NAME`` in a case is not an option of the CLI any more: the harness takes it
    out and runs the command with NAME's token (``nobody``: a token the server does not
    know). The server's clock is a test clock that moves on 31 s for every code, so
    codes are never replays by accident.
    """

    req: str
    grant: str
    camp: str
    item: str
    url: str
    state: Any

    def snapshot(self) -> dict[str, Any]:
        with sqlite3.connect(self.db_path) as conn:
            snap: dict[str, Any] = {
                t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES
            }
            snap["mfa"] = sorted(
                conn.execute("SELECT principal, last_step FROM mfa_enrolments").fetchall()
            )
            snap["audit"] = conn.execute(
                "SELECT code, status, actor FROM audit_events ORDER BY idx"
            ).fetchall()
        return snap

    def otp(self, name: str) -> str:
        self.state.clock.advance(timedelta(seconds=31))
        return str(pyotp.TOTP(self.secrets[name]).at(self.state.clock()))

    def fresh(self, name: str) -> str:
        """A valid code the store has not seen used (bad input never burns one)."""
        return self.otp(name)

    def wrong(self, name: str) -> str:
        """A well-formed code that matches no step near now."""
        totp = pyotp.TOTP(self.secrets[name])
        now = totp.timecode(self.state.clock())
        near = {totp.generate_otp(s) for s in range(now - 3, now + 4)}
        return next(c for c in (f"{n:06d}" for n in range(0, 999_999, 7919)) if c not in near)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from tests.live_server import PASSWORD, serve
    from tests.server.conftest import Clock

    tmp = tmp_path_factory.mktemp("cli-bad-input")
    w = World(tmp)
    home = tmp / "home"
    w.env["STAGEWALL_HOME"] = str(home)
    init_keys(home)
    w.state = ServerState.open(w.config, w.db, home)
    w.state.clock = w.state.ctx.clock = Clock()
    w.tokens = {}
    with w.stack, serve(w.state, run_sweeper=False) as url:
        w.url = url
        for name in ("alice", "bob", "carol", "dana"):
            inv = accounts.create_invitation(
                w.state.ctx.store,
                w.state.estate,
                name,
                created_by="server-operator",
                now=w.state.now(),
            )
            got = httpx.post(
                f"{url}/api/v1/invitations/accept", json={"token": inv.token, "password": PASSWORD}
            ).json()
            w.secrets[name] = got["totp_secret"]
            httpx.post(
                f"{url}/api/v1/invitations/confirm", json={"token": inv.token, "otp": w.otp(name)}
            ).raise_for_status()
            w.tokens[name] = httpx.post(
                f"{url}/api/v1/session",
                json={"principal": name, "password": PASSWORD, "otp": w.otp(name)},
            ).json()["token"]
        req = w.ok(
            "access", "request", "--as", "alice", "--role", "prod-read", "--for", "1h",
            "--reason", "INC-1", "--format", "json",
        ).stdout  # fmt: skip
        w.req = _json(req)["request"]
        staging = _json(
            w.ok(
                "access",
                "request",
                "--as",
                "carol",
                "--role",
                "staging-write",
                "--for",
                "2h",
                "--reason",
                "migration",
                "--format",
                "json",
            ).stdout
        )
        w.grant = _json(
            w.ok(
                "access",
                "review",
                staging["request"],
                "--as",
                "bob",
                "--approve",
                "--otp",
                w.otp("bob"),
                "--format",
                "json",
            ).stdout
        )["grant"]
        camp = _json(
            w.ok(
                "review", "start", "--name", "Q3", "--due", "2099-12-31", "--format", "json"
            ).stdout
        )
        w.camp = camp["id"]
        report = _json(w.ok("review", "report", w.camp, "--format", "json").stdout)
        # the grant's item (the campaign also reviews the people's API tokens)
        w.item = next(i["id"] for i in report["items"] if i["kind"] == "grant")
        yield w


def _json(text: str) -> Any:
    import json

    return json.loads(text)


F = "Failure"
# (args, exit code, message on stderr, audit events (code, status, actor) added)
CASES: list[tuple[tuple[str, ...], int, str, list[tuple[str, str, str]]]] = [
    # mfa enroll / reset
    # Enrolment is only ever for the caller: no principal argument, no --as.
    (("mfa", "enroll", "nobody"), 2, "Got unexpected extra argument (nobody)", []),
    (("mfa", "enroll", "--as", "alice"), 1, "principal 'alice' is already enrolled", []),
    (("mfa", "enroll", "--as", "nobody"), 2, "the login token is unknown", []),
    (
        ("mfa", "reset", "nobody", "--as", "bob", "--otp", "{otp:bob}"),
        2,
        "principal 'nobody' is not enrolled",
        [],
    ),
    (
        ("mfa", "reset", "alice", "--as", "bob", "--otp", "12ab56"),
        2,
        "the one-time code must be exactly 6 digits",
        [],
    ),
    (
        ("mfa", "reset", "alice", "--as", "bob", "--otp", "{wrong:bob}"),
        1,
        "the one-time code for 'bob' is wrong or expired",
        [("mfa.verified", F, "bob")],
    ),
    (
        ("mfa", "reset", "alice", "--as", "alice", "--otp", "{otp:alice}"),
        1,
        "cannot reset its own MFA enrolment",
        [],
    ),
    (
        ("mfa", "reset", "alice", "--as", "dana", "--otp", "{otp:dana}"),
        1,
        "'dana' (external) may not call mfa.reset",
        [("server.request.refused", F, "dana")],
    ),
    # access request
    (
        (
            "access",
            "request",
            "--as",
            "nobody",
            "--role",
            "prod-read",
            "--for",
            "1h",
            "--reason",
            "x",
        ),
        2,
        "the login token is unknown, expired or revoked",
        [],
    ),
    (
        ("access", "request", "--as", "alice", "--role", "nope", "--for", "1h", "--reason", "x"),
        2,
        "role 'nope' is not declared (declared roles: prod-read, staging-write)",
        [],
    ),
    (
        (
            "access",
            "request",
            "--as",
            "alice",
            "--role",
            "prod-read",
            "--for",
            "forever",
            "--reason",
            "x",
        ),
        2,
        "--for: 'forever' is not a duration",
        [],
    ),
    (
        (
            "access",
            "request",
            "--as",
            "alice",
            "--role",
            "prod-read",
            "--for",
            "0s",
            "--reason",
            "x",
        ),
        2,
        "--for: '0s' is not a positive duration",
        [],
    ),
    (
        (
            "access",
            "request",
            "--as",
            "alice",
            "--role",
            "prod-read",
            "--for",
            "3h",
            "--reason",
            "x",
        ),
        2,
        "role 'prod-read' allows at most 2h, but 3h was requested",
        [],
    ),
    (
        ("access", "request", "--as", "alice", "--role", "prod-read", "--for", "1h"),
        2,
        "Missing option '--reason'",
        [],
    ),
    (
        (
            "access",
            "request",
            "--as",
            "alice",
            "--role",
            "prod-read",
            "--for",
            "1h",
            "--reason",
            "  ",
        ),
        2,
        "a reason is required (--reason TEXT)",
        [],
    ),
    (
        (
            "access",
            "request",
            "--as",
            "dana",
            "--role",
            "prod-read",
            "--for",
            "1h",
            "--reason",
            "x",
        ),
        1,
        "externals never hold production role 'prod-read'",
        [("access.request.refused", F, "dana")],
    ),
    # access review
    (
        ("access", "review", "r000000", "--as", "bob", "--approve", "--otp", "{otp:bob}"),
        2,
        "there is no request 'r000000'",
        [],
    ),
    (
        ("access", "review", "{req}", "--as", "bob", "--approve", "--otp", "1234567"),
        2,
        "the one-time code must be exactly 6 digits",
        [],
    ),
    (
        ("access", "review", "{req}", "--as", "bob", "--otp", "{otp:bob}"),
        2,
        "say --approve or --deny",
        [],
    ),
    (
        ("access", "review", "{req}", "--as", "bob", "--approve", "--otp", "{wrong:bob}"),
        1,
        "the one-time code for 'bob' is wrong or expired",
        [("mfa.verified", F, "bob")],
    ),
    (
        ("access", "review", "{req}", "--as", "nobody", "--approve", "--otp", "123456"),
        2,
        "the login token is unknown, expired or revoked",
        [],
    ),
    (
        ("access", "review", "{req}", "--as", "alice", "--approve", "--otp", "{otp:alice}"),
        1,
        "nobody reviews their own request",
        [("access.review.refused", F, "alice")],
    ),
    # access credentials
    (("access", "credentials", "g000000", "--as", "alice"), 2, "there is no grant 'g000000'", []),
    (
        ("access", "credentials", "{grant}", "--as", "alice"),
        1,
        "which belongs to 'carol'",
        [("access.credential.refused", F, "alice")],
    ),
    # access grants
    (("access", "grants", "--format", "xml"), 2, "Invalid value for '--format'", []),
    # access revoke
    (
        ("access", "revoke", "g000000", "--as", "bob", "--reason", "x", "--otp", "{otp:bob}"),
        2,
        "there is no grant 'g000000'",
        [],
    ),
    (
        ("access", "revoke", "{grant}", "--as", "bob", "--otp", "123456"),
        2,
        "Missing option '--reason'",
        [],
    ),
    (
        ("access", "revoke", "{grant}", "--as", "bob", "--reason", " ", "--otp", "123456"),
        2,
        "a reason is required (--reason TEXT)",
        [],
    ),
    (
        ("access", "revoke", "{grant}", "--as", "bob", "--reason", "x", "--otp", "abcdef"),
        2,
        "the one-time code must be exactly 6 digits",
        [],
    ),
    (
        ("access", "revoke", "{grant}", "--as", "dana", "--reason", "x", "--otp", "{otp:dana}"),
        1,
        "'dana' (external) may not call access.revoke",
        [("server.request.refused", F, "dana")],
    ),
    # access sweep
    (
        ("access", "sweep", "--loop", "--interval", "forever"),
        2,
        "--interval: 'forever' is not a duration",
        [],
    ),
    (
        ("access", "sweep", "--loop", "--interval", "0s"),
        2,
        "--interval: '0s' is not a positive duration",
        [],
    ),
    (("access", "sweep", "--max-iterations", "0"), 2, "Invalid value for '--max-iterations'", []),
    # access break-glass
    (
        (
            "access",
            "break-glass",
            "--as",
            "nobody",
            "--role",
            "prod-read",
            "--reason",
            "x",
            "--otp",
            "123456",
        ),
        2,
        "the login token is unknown, expired or revoked",
        [],
    ),
    (
        (
            "access",
            "break-glass",
            "--as",
            "alice",
            "--role",
            "nope",
            "--reason",
            "x",
            "--otp",
            "123456",
        ),
        2,
        "role 'nope' is not declared",
        [],
    ),
    (
        (
            "access",
            "break-glass",
            "--as",
            "alice",
            "--role",
            "prod-read",
            "--reason",
            "",
            "--otp",
            "123456",
        ),
        2,
        "a reason is required (--reason TEXT)",
        [],
    ),
    (
        (
            "access",
            "break-glass",
            "--as",
            "alice",
            "--role",
            "prod-read",
            "--reason",
            "x",
            "--otp",
            "12 456",
        ),
        2,
        "the one-time code must be exactly 6 digits",
        [],
    ),
    (
        (
            "access",
            "break-glass",
            "--as",
            "dana",
            "--role",
            "prod-read",
            "--reason",
            "x",
            "--otp",
            "{otp:dana}",
        ),
        1,
        "'dana' (external) may not call access.break_glass",
        [("server.request.refused", F, "dana")],
    ),
    # access follow-up
    (
        ("access", "follow-up", "f000000", "--as", "bob", "--otp", "123456", "--note", "x"),
        2,
        "there is no break-glass follow-up 'f000000'",
        [],
    ),
    (
        ("access", "follow-up", "f000000", "--as", "bob", "--otp", "123456", "--note", ""),
        2,
        "a note on what was reviewed is required",
        [],
    ),
    # vendor offboard
    (
        ("vendor", "offboard", "nope", "--as", "bob", "--otp", "123456"),
        2,
        "vendor 'nope' is not declared (declared: devshop, nonda, oldco)",
        [],
    ),
    (
        ("vendor", "offboard", "devshop", "--as", "bob", "--otp", "1234"),
        2,
        "the one-time code must be exactly 6 digits",
        [],
    ),
    (
        ("vendor", "offboard", "devshop", "--as", "dana", "--otp", "{otp:dana}"),
        1,
        "'dana' (external) may not call vendor.offboard",
        [("server.request.refused", F, "dana")],
    ),
    (
        ("vendor", "offboard", "devshop", "--as", "bob", "--otp", "{wrong:bob}"),
        1,
        "the one-time code for 'bob' is wrong or expired",
        [("mfa.verified", F, "bob")],
    ),
    # review start / decide / close / report
    (
        ("review", "start", "--name", "x", "--due", "tomorrow"),
        2,
        "--due 'tomorrow' is not a date; use YYYY-MM-DD",
        [],
    ),
    (
        ("review", "start", "--name", "x", "--due", "2000-01-01"),
        2,
        "the due date 2000-01-01 is in the past",
        [],
    ),
    (
        ("review", "start", "--name", " ", "--due", "2099-01-01"),
        2,
        # whitespace alone is an empty name, refused before credentials (SW110)
        "error[SW110]: --name is empty; it must be a campaign name",
        [],
    ),
    (("review", "start", "--name", "x"), 2, "Missing option '--due'", []),
    (
        ("review", "decide", "i000000", "--as", "bob", "--keep", "--otp", "{otp:bob}"),
        2,
        "there is no review item 'i000000'",
        [],
    ),
    (
        ("review", "decide", "{item}", "--as", "bob", "--otp", "{otp:bob}"),
        2,
        "say --keep or --revoke",
        [],
    ),
    (
        ("review", "decide", "{item}", "--as", "alice", "--keep", "--otp", "99999"),
        2,
        "the one-time code must be exactly 6 digits",
        [],
    ),
    (
        ("review", "decide", "{item}", "--as", "alice", "--keep", "--otp", "{wrong:alice}"),
        1,
        "the one-time code for 'alice' is wrong or expired",
        [("mfa.verified", F, "alice")],
    ),
    (
        # bob approved carol's grant: he may revoke it, never certify it
        ("review", "decide", "{item}", "--as", "bob", "--keep", "--otp", "{otp:bob}"),
        1,
        "'bob' may not keep access",
        [("access.campaign.decided", F, "bob")],
    ),
    (
        ("review", "decide", "{item}", "--as", "carol", "--revoke", "--otp", "{otp:carol}"),
        1,
        "'carol' cannot review their own access",
        [("access.campaign.decided", F, "carol")],
    ),
    (
        ("review", "decide", "{item}", "--as", "dana", "--keep", "--otp", "{otp:dana}"),
        1,
        "'dana' (external) may not call review.decide",
        [("server.request.refused", F, "dana")],
    ),
    (("review", "close", "c000000"), 2, "there is no access-review campaign 'c000000'", []),
    (("review", "close", "{camp}"), 1, "item(s) are undecided", []),
    (("review", "report", "c000000"), 2, "there is no access-review campaign 'c000000'", []),
    (("review", "report", "{camp}", "--format", "pdf"), 2, "Invalid value for '--format'", []),
]


def _fill(world: World, args: tuple[str, ...]) -> list[str]:
    out = []
    for a in args:
        if a.startswith("{otp:"):
            a = world.fresh(a[5:-1])
        elif a.startswith("{wrong:"):
            a = world.wrong(a[7:-1])
        elif a in ("{req}", "{grant}", "{camp}", "{item}"):
            a = getattr(world, a[1:-1])
        out.append(a)
    return out


def _id(case: tuple[tuple[str, ...], int, str, list[Any]]) -> str:
    return " ".join(case[0][:2]) + ": " + case[2][:40]


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_bad_input(world: World, case: tuple[tuple[str, ...], int, str, list[Any]]) -> None:
    args, code, message, events = case
    before = world.snapshot()
    res = world.run(*_fill(world, args))
    after = world.snapshot()
    assert res.exit_code == code, res.stderr + res.stdout
    assert message in res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""
    assert res.stderr.startswith(("error[", "Usage:"))
    assert after.pop("audit")[len(before["audit"]) :] == events
    assert after == {k: v for k, v in before.items() if k != "audit"}


BROKEN_ENV = {
    "missing estate file": (
        {"STAGEWALL_CONFIG": "{tmp}/absent.yaml"},
        "absent.yaml: the estate file does not exist",
    ),
    "invalid estate file": (
        {"STAGEWALL_CONFIG": "{tmp}/broken.yaml"},
        "broken.yaml:3: this is not valid YAML",
    ),
    "estate with a wrong field": (
        {"STAGEWALL_CONFIG": "{tmp}/wrong.yaml"},
        "principals.x.affiliation: Input should be 'internal' or",
    ),
    "unreachable store": (
        {"STAGEWALL_DB": "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/nope"},
        "the store at postgresql+psycopg://postgres:***@127.0.0.1:1/nope failed",
    ),
}

CLIENTS: list[tuple[str, ...]] = [
    ("mfa", "enroll"),
    ("mfa", "reset", "alice", "--otp", "123456"),
    ("access", "request", "--role", "prod-read", "--for", "1h", "--reason", "x"),
    ("access", "pending"),
    ("access", "review", "r000000", "--approve", "--otp", "123456"),
    ("access", "credentials", "g000000"),
    ("access", "grants"),
    ("access", "revoke", "g000000", "--reason", "x", "--otp", "123456"),
    ("access", "break-glass", "--role", "prod-read", "--reason", "x", "--otp", "123456"),
    ("access", "follow-up", "f000000", "--otp", "123456", "--note", "x"),
    ("vendor", "offboard", "devshop", "--otp", "123456"),
    ("review", "start", "--name", "x", "--due", "2099-01-01"),
    ("review", "decide", "i000000", "--keep", "--otp", "123456"),
    ("review", "close", "c000000"),
    ("review", "report", "c000000"),
    ("whoami",),
    ("logout",),
]


@pytest.mark.parametrize("broken", sorted(BROKEN_ENV))
def test_broken_environment_of_the_operator_sweep(
    world: World, tmp_path: Path, broken: str
) -> None:
    (tmp_path / "broken.yaml").write_text("version: 1\nprincipals: [\n", encoding="utf-8")
    (tmp_path / "wrong.yaml").write_text(
        "version: 1\nenvironments: {}\nprincipals:\n  x: {affiliation: martian}\n",
        encoding="utf-8",
    )
    overrides, message = BROKEN_ENV[broken]
    env = {k: v.replace("{tmp}", str(tmp_path)) for k, v in overrides.items()}
    before = world.snapshot()
    res = world.run("access", "sweep", env=env)
    assert res.exit_code == 2, res.stderr + res.stdout
    assert message in res.stderr
    assert "hunter2" not in res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""
    assert world.snapshot() == before


NO_SERVER = {
    "no server configured": ({"STAGEWALL_SERVER": ""}, "no stagewall server is configured"),
    "not a URL": ({"STAGEWALL_SERVER": "ftp://x"}, "must start with https://"),
    "unreachable server": (
        {"STAGEWALL_SERVER": "http://127.0.0.1:1"},
        "cannot reach the stagewall server at http://127.0.0.1:1",
    ),
    "not logged in": ({"STAGEWALL_TOKEN": ""}, "you are not logged in to"),
    "revoked or forged token": (
        {"STAGEWALL_TOKEN": "swt_forged"},
        "the login token is unknown, expired or revoked",
    ),
}


@pytest.mark.parametrize("broken", sorted(NO_SERVER))
@pytest.mark.parametrize("args", CLIENTS, ids=[" ".join(a[:2]) for a in CLIENTS])
def test_client_without_a_usable_server_or_login(
    world: World, tmp_path: Path, broken: str, args: tuple[str, ...]
) -> None:
    overrides, message = NO_SERVER[broken]
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), **overrides}
    before = world.snapshot()
    res = world.run(*args, env=env)
    assert res.exit_code == 2, res.stderr + res.stdout
    assert message in res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""
    assert world.snapshot() == before


def test_json_errors_are_problem_objects(world: World) -> None:
    import json

    res = world.run(
        "access", "request", "--as", "dana", "--role", "prod-read", "--for", "1h",
        "--reason", "x", "--format", "json",
    )  # fmt: skip
    assert res.exit_code == 1
    problem = json.loads(res.stderr)
    assert problem["status"] == 403 and problem["code"] == "SW400"
    assert "externals never hold production" in problem["detail"]
