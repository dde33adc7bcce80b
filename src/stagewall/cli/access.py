"""``stagewall access ...``: clients of the server, plus the operator's local ``sweep``.

Every command that acts for a person talks to ``stagewall serve`` with your token;
the server decides who you are. ``access sweep`` runs on the server host against the
store (the server also sweeps by itself every second).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import quote

import click

from stagewall.access import AccessContext, sweep, sweep_loop
from stagewall.cli._client import Client, server_option
from stagewall.cli._common import config_option, db_option, echo_json, format_option, one_line
from stagewall.cli._params import duration as parse_cli_duration
from stagewall.cli._params import estate_name, record_id
from stagewall.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])

# The longest access a role may allow (estate: roles.max_duration); the server applies
# the role's own maximum.
MAX_REQUEST = timedelta(days=30)
# The sweep loop's interval: expired grants must not outlive their end by much.
MAX_SWEEP_INTERVAL = timedelta(hours=1)


@click.group("access")
def access_group() -> None:
    """Just-in-time access: request, review with MFA, credentials, revocation."""


def ask_otp(otp: str | None, needed: bool = True) -> str | None:
    """The one-time code: --otp, else a prompt on a terminal."""
    if otp or not needed:
        return otp
    if sys.stdin.isatty():
        return str(click.prompt("one-time code", hide_input=True))
    raise UsageError("this act needs your current one-time code: pass --otp CODE")


@access_group.command("request")
@click.option("--role", required=True, type=estate_name("role name"))
@click.option("--for", "duration", required=True, help="How long, e.g. 30m or 2h.")
@click.option("--reason", required=True)
@click.option("--ticket", default=None)
@server_option
@format_option("json")
def request_cmd(
    role: str, duration: str, reason: str, ticket: str | None, server: str | None, fmt: str
) -> None:
    """File an access request as yourself; approvers are notified."""
    # a clear local message before anything is sent
    parse_cli_duration(duration, "--for", at_most=MAX_REQUEST)
    data = Client(server).request(
        "POST",
        "/api/v1/access/requests",
        json_body={"role": role, "duration": duration, "reason": reason, "ticket": ticket},
    )
    if fmt == "json":
        echo_json(data)
    else:
        click.echo(
            f"request {data['request']}: {role} for {data['duration']}, "
            f"pending until {data['pending_until']}"
        )


@access_group.command("pending")
@server_option
@format_option("json")
def pending_cmd(server: str | None, fmt: str) -> None:
    """Requests waiting for your review."""
    rows = Client(server).request(
        "GET", "/api/v1/access/requests", params={"mine_to_review": "true"}
    )
    if fmt == "json":
        echo_json(rows)
        return
    for r in rows:
        tier = "PRODUCTION" if r["production"] else "non-production"
        click.echo(
            f"{r['id']} {r['requester']} asks for {r['role']} ({tier}) for {r['duration']}: "
            f"{one_line(r['reason'])}"
        )
    if not rows:
        click.echo("nothing waits for your review")


def post_review(
    server: str | None, path: str, approve: bool | None, otp: str | None, reason: str
) -> dict[str, Any]:
    """POST your decision (--approve/--deny, required) with your one-time code to ``path``."""
    if approve is None:
        raise UsageError("say --approve or --deny")
    got: dict[str, Any] = Client(server).request(
        "POST", path, json_body={"approve": approve, "reason": reason, "otp": ask_otp(otp)}
    )
    return got


def post_withdrawal(server: str | None, path: str, otp: str | None, reason: str) -> dict[str, Any]:
    """POST the withdrawal of your own approval with your one-time code to ``path``."""
    got: dict[str, Any] = Client(server).request(
        "POST", path, json_body={"reason": reason, "otp": ask_otp(otp)}
    )
    return got


def _decision_options(f: F, *middle: Callable[[F], F], reason: str) -> F:
    """REQUEST_ID, ``middle``, --otp, --reason (``reason`` its help), --server, --format."""
    otp = click.option("--otp", default=None, help="Your current TOTP code (prompted if omitted).")
    options: tuple[Callable[[Any], Any], ...] = (
        click.argument("request_id", type=record_id("request id")),
        *middle,
        otp,
        click.option("--reason", default="", help=reason),
        server_option,
        format_option("json"),
    )
    for option in reversed(options):
        f = option(f)
    return f


def withdraw_options(f: F) -> F:
    """REQUEST_ID, --otp, --reason, --server and --format of a withdrawal."""
    return _decision_options(f, reason="Why you withdraw your approval.")


def review_options(f: F) -> F:
    """REQUEST_ID, --approve/--deny, --otp, --reason, --server and --format of a review."""
    return _decision_options(
        f, click.option("--approve/--deny", "approve", default=None), reason="Why you decide so."
    )


@access_group.command("review")
@review_options
def review_cmd(
    request_id: str,
    approve: bool | None,
    otp: str | None,
    reason: str,
    server: str | None,
    fmt: str,
) -> None:
    """Approve or deny a request as yourself (step-up MFA)."""
    path = f"/api/v1/access/requests/{quote(request_id, safe='')}/reviews"
    data = post_review(server, path, approve, otp, reason)
    if fmt == "json":
        echo_json(data)
    else:
        click.echo(
            f"request {request_id}: {data['outcome']}"
            + (f", grant {data['grant']}" if data.get("grant") else "")
        )


@access_group.command("withdraw")
@withdraw_options
def withdraw_cmd(
    request_id: str, otp: str | None, reason: str, server: str | None, fmt: str
) -> None:
    """Withdraw your own approval of a request (step-up MFA); its grant ends."""
    path = f"/api/v1/access/requests/{quote(request_id, safe='')}/reviews/withdrawal"
    data = post_withdrawal(server, path, otp, reason)
    if fmt == "json":
        echo_json(data)
    else:
        click.echo(
            f"approval of request {request_id} withdrawn"
            + (f"; grant {data['grant']} ended" if data.get("grant") else "")
        )


@access_group.command("credentials")
@click.argument("grant_id", type=record_id("grant id"))
@click.option("--otp", default=None, help="Required for production grants.")
@server_option
@format_option("json")
def credentials_cmd(grant_id: str, otp: str | None, server: str | None, fmt: str) -> None:
    """Create and print your grant's database logins. Shown once; nothing else keeps them."""
    creds = Client(server).request(
        "POST",
        f"/api/v1/access/grants/{quote(grant_id, safe='')}/credentials",
        json_body={"otp": otp},
    )
    if fmt == "json":
        echo_json(creds)
    else:
        for c in creds:
            click.echo(
                f"login {c['login']} password {c['password']} host {c['host']} port {c['port']} "
                f"database {c['database']} valid until {c['valid_until']}"
            )
        click.echo("the password is shown once and stored nowhere")


@access_group.command("grants")
@click.option("--active", is_flag=True, help="Only grants in force now.")
@server_option
@format_option("json")
def grants_cmd(active: bool, server: str | None, fmt: str) -> None:
    """List grants (externals see only their own)."""
    grants = Client(server).request(
        "GET", "/api/v1/access/grants", params={"active": "true" if active else "false"}
    )
    if fmt == "json":
        echo_json(grants)
        return
    for g in grants:
        click.echo(
            f"{g['id']} {g['status']:8} {g['principal']} {g['role']} {g['source']} "
            f"{g['starts_at']} .. {g['ends_at']}"
            + (" REVOKE PENDING" if g.get("revocation") == "pending" else "")
        )
    if not grants:
        click.echo("no grants")


@access_group.command("revoke")
@click.argument("grant_id", type=record_id("grant id"))
@click.option("--reason", required=True)
@click.option("--otp", default=None)
@server_option
@format_option("json")
def revoke_cmd(grant_id: str, reason: str, otp: str | None, server: str | None, fmt: str) -> None:
    """Revoke a grant now: kill its sessions, drop its logins, verify."""
    rep = Client(server).request(
        "POST",
        f"/api/v1/access/grants/{quote(grant_id, safe='')}/revoke",
        json_body={"reason": reason, "otp": ask_otp(otp)},
    )
    if fmt == "json":
        echo_json(rep)
    else:
        click.echo(f"grant {grant_id} revoked; verified: {'yes' if rep['verified'] else 'NO'}")
    if not rep["verified"]:
        raise SystemExit(1)


@access_group.command("sweep")
@click.option("--loop", is_flag=True, help="Keep sweeping until interrupted.")
@click.option(
    "--interval",
    default="1s",
    show_default=True,
    help="With --loop: time between sweeps, 1s to 1h.",
)
@click.option(
    "--max-iterations",
    type=click.IntRange(min=1),
    default=None,
    help="With --loop: stop after this many sweeps.",
)
@config_option
@db_option
@format_option("json")
def sweep_cmd(
    loop: bool,
    interval: str,
    max_iterations: int | None,
    config: str | None,
    db: str | None,
    fmt: str,
) -> None:
    """Operator: end expired grants now, on the server host (the server sweeps by itself)."""
    given = [
        opt
        for name, opt in (("interval", "--interval"), ("max_iterations", "--max-iterations"))
        if click.get_current_context().get_parameter_source(name)
        is not click.core.ParameterSource.DEFAULT
    ]
    if given and not loop:
        raise UsageError(
            f"{' and '.join(given)} only appl{'y' if len(given) > 1 else 'ies'} with --loop; "
            "without it access sweep runs once",
            hint="add --loop to keep sweeping, or drop " + " and ".join(given),
        )
    every = parse_cli_duration(interval, "--interval", at_most=MAX_SWEEP_INTERVAL)
    ctx = AccessContext.open(config, db)
    if loop:
        try:
            reports = sweep_loop(ctx, interval=every.total_seconds(), max_iterations=max_iterations)
        except KeyboardInterrupt:
            return
        rep = reports[-1]
    else:
        rep = sweep(ctx)
    if fmt == "json":
        echo_json(rep.as_dict())
    else:
        click.echo(
            f"expired {len(rep.expired)}, invalidated {len(rep.invalidated)}, "
            f"retried {len(rep.retried)}, orphans {len(rep.orphans)}, "
            f"unverified {len(rep.unverified)}, "
            f"overdue follow-ups {len(rep.overdue_follow_ups)}"
        )
        for err in rep.errors:
            click.echo(f"error: {err}", err=True)
    if not rep.ok:
        raise SystemExit(1)


@access_group.command("break-glass")
@click.option("--role", required=True, type=estate_name("role name"))
@click.option("--reason", required=True)
@click.option("--otp", default=None)
@server_option
@format_option("json")
def break_glass_cmd(role: str, reason: str, otp: str | None, server: str | None, fmt: str) -> None:
    """Emergency access for yourself (internal people only, at most 1 hour, alerted)."""
    got = Client(server).request(
        "POST",
        "/api/v1/access/break-glass",
        json_body={"role": role, "reason": reason, "otp": ask_otp(otp)},
    )
    data = {
        "grant": got["grant"]["id"],
        "ends_at": got["grant"]["ends_at"],
        "follow_up": got["follow_up"],
        "follow_up_due": got["follow_up_due"],
    }
    if fmt == "json":
        echo_json(data)
    else:
        click.echo(
            f"BREAK-GLASS grant {data['grant']} until {data['ends_at']}; "
            f"follow-up {data['follow_up']} due {data['follow_up_due']}"
        )


@access_group.command("follow-up")
@click.argument("follow_up_id", type=record_id("follow-up id"))
@click.option("--otp", default=None)
@click.option("--note", required=True)
@server_option
def follow_up_cmd(follow_up_id: str, otp: str | None, note: str, server: str | None) -> None:
    """Complete a break-glass follow-up review (another internal person)."""
    got = Client(server).request(
        "POST",
        f"/api/v1/access/follow-ups/{quote(follow_up_id, safe='')}",
        json_body={"note": note, "otp": ask_otp(otp)},
    )
    click.echo(f"follow-up {got['follow_up']} completed by {got['completed_by']}")


COMMANDS = [access_group]
