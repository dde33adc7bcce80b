"""``stagewall access ...``: request, review, credentials, grants, revoke, sweep, break-glass."""

from __future__ import annotations

import click

from stagewall.access import (
    AccessContext,
    break_glass,
    complete_follow_up,
    issue_credentials,
    list_grants,
    request_access,
    review_request,
    revoke_grant,
    sweep,
    sweep_loop,
)
from stagewall.access._core import fmt_time
from stagewall.cli._common import config_option, db_option, echo_json, format_option
from stagewall.errors import UsageError
from stagewall.estate import format_duration, parse_duration


def _duration(text: str, what: str) -> float:
    try:
        return parse_duration(text).total_seconds()
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{what}: {exc}") from None


@click.group("access")
def access_group() -> None:
    """Just-in-time access: request, review with MFA, credentials, revocation."""


@access_group.command("request")
@click.option("--as", "principal", required=True, help="The requesting principal.")
@click.option("--role", required=True)
@click.option("--for", "duration", required=True, help="How long, e.g. 30m or 2h.")
@click.option("--reason", required=True)
@click.option("--ticket", default=None)
@config_option
@db_option
@format_option("json")
def request_cmd(
    principal: str,
    role: str,
    duration: str,
    reason: str,
    ticket: str | None,
    config: str | None,
    db: str | None,
    fmt: str,
) -> None:
    """File an access request; approvers are notified."""
    from datetime import timedelta

    ctx = AccessContext.open(config, db)
    req = request_access(
        ctx,
        requester=principal,
        role=role,
        duration=timedelta(seconds=_duration(duration, "--for")),
        reason=reason,
        ticket=ticket,
    )
    data = {
        "request": req.id,
        "role": role,
        "requester": principal,
        "duration": format_duration(req.requested),
        "pending_until": fmt_time(req.expires_at),
    }
    if fmt == "json":
        echo_json(data)
    else:
        click.echo(
            f"request {req.id}: {role} for {data['duration']}, "
            f"pending until {data['pending_until']}"
        )


@access_group.command("review")
@click.argument("request_id")
@click.option("--as", "reviewer", required=True)
@click.option("--approve/--deny", "approve", default=None)
@click.option("--otp", required=True, help="The reviewer's current TOTP code.")
@click.option("--reason", default="")
@config_option
@db_option
@format_option("json")
def review_cmd(
    request_id: str,
    reviewer: str,
    approve: bool | None,
    otp: str,
    reason: str,
    config: str | None,
    db: str | None,
    fmt: str,
) -> None:
    """Approve or deny a request (MFA-checked)."""
    if approve is None:
        raise UsageError("say --approve or --deny")
    ctx = AccessContext.open(config, db)
    res = review_request(
        ctx, request_id, reviewer=reviewer, approve=approve, otp=otp, reason=reason
    )
    data = {"request": request_id, "outcome": res.outcome.value, "grant": res.result_ref}
    if fmt == "json":
        echo_json(data)
    else:
        click.echo(
            f"request {request_id}: {res.outcome.value}"
            + (f", grant {res.result_ref}" if res.result_ref else "")
        )


@access_group.command("credentials")
@click.argument("grant_id")
@click.option("--as", "holder", required=True)
@click.option("--otp", default=None, help="Required for production grants.")
@config_option
@db_option
@format_option("json")
def credentials_cmd(
    grant_id: str, holder: str, otp: str | None, config: str | None, db: str | None, fmt: str
) -> None:
    """Create and print the grant's database logins. Shown once; nothing else keeps the password."""
    ctx = AccessContext.open(config, db)
    creds = issue_credentials(ctx, grant_id, holder=holder, otp=otp)
    if fmt == "json":
        echo_json([{**c.public(), "password": c.password} for c in creds])
    else:
        for c in creds:
            click.echo(
                f"login {c.login} password {c.password} host {c.host} port {c.port} "
                f"database {c.database} valid until {c.valid_until}"
            )
        click.echo("the password is shown once and stored nowhere")


@access_group.command("grants")
@click.option("--active", is_flag=True, help="Only grants in force now.")
@config_option
@db_option
@format_option("json")
def grants_cmd(active: bool, config: str | None, db: str | None, fmt: str) -> None:
    """List grants (just-in-time, break-glass and standing)."""
    ctx = AccessContext.open(config, db)
    grants = list_grants(ctx, active_only=active)
    if fmt == "json":
        echo_json([g.as_dict() for g in grants])
        return
    for g in grants:
        click.echo(
            f"{g.id} {g.status.value:8} {g.principal} {g.role} {g.source.value} "
            f"{fmt_time(g.starts_at)} .. {fmt_time(g.ends_at)}"
            + (" REVOKE PENDING" if g.revocation == "pending" else "")
        )
    if not grants:
        click.echo("no grants")


@access_group.command("revoke")
@click.argument("grant_id")
@click.option("--as", "actor", required=True)
@click.option("--reason", required=True)
@click.option("--otp", required=True)
@config_option
@db_option
@format_option("json")
def revoke_cmd(
    grant_id: str, actor: str, reason: str, otp: str, config: str | None, db: str | None, fmt: str
) -> None:
    """Revoke a grant now: kill its sessions, drop its logins, verify."""
    ctx = AccessContext.open(config, db)
    rep = revoke_grant(ctx, grant_id, actor=actor, reason=reason, otp=otp)
    if fmt == "json":
        echo_json(rep.as_dict())
    else:
        click.echo(f"grant {grant_id} revoked; verified: {'yes' if rep.verified else 'NO'}")
    if not rep.verified:
        raise SystemExit(1)


@access_group.command("sweep")
@click.option("--loop", is_flag=True, help="Keep sweeping until interrupted.")
@click.option("--interval", default="1s", show_default=True)
@click.option("--max-iterations", type=click.IntRange(min=1), default=None)
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
    """End expired grants, re-check live ones, retry failed revocations, remove orphans."""
    ctx = AccessContext.open(config, db)
    if loop:
        seconds = _duration(interval, "--interval")
        try:
            reports = sweep_loop(ctx, interval=seconds, max_iterations=max_iterations)
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
@click.option("--as", "principal", required=True)
@click.option("--role", required=True)
@click.option("--reason", required=True)
@click.option("--otp", required=True)
@config_option
@db_option
@format_option("json")
def break_glass_cmd(
    principal: str, role: str, reason: str, otp: str, config: str | None, db: str | None, fmt: str
) -> None:
    """Emergency access (internal only, at most 1 hour, alerted, follow-up within 24 hours)."""
    ctx = AccessContext.open(config, db)
    grant, fu = break_glass(ctx, principal=principal, role=role, reason=reason, otp=otp)
    data = {
        "grant": grant.id,
        "ends_at": fmt_time(grant.ends_at),
        "follow_up": fu.id,
        "follow_up_due": fu.due_at,
    }
    if fmt == "json":
        echo_json(data)
    else:
        click.echo(
            f"BREAK-GLASS grant {grant.id} until {data['ends_at']}; "
            f"follow-up {fu.id} due {fu.due_at}"
        )


@access_group.command("follow-up")
@click.argument("follow_up_id")
@click.option("--as", "reviewer", required=True)
@click.option("--otp", required=True)
@click.option("--note", required=True)
@config_option
@db_option
def follow_up_cmd(
    follow_up_id: str, reviewer: str, otp: str, note: str, config: str | None, db: str | None
) -> None:
    """Complete a break-glass follow-up review (another internal principal)."""
    ctx = AccessContext.open(config, db)
    fu = complete_follow_up(ctx, follow_up_id, reviewer=reviewer, otp=otp, note=note)
    click.echo(f"follow-up {fu.id} completed by {fu.completed_by}")


COMMANDS = [access_group]
