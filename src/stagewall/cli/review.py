"""``stagewall review start|decide|close|report``: access-review campaigns."""

from __future__ import annotations

from datetime import date

import click

from stagewall.access import (
    AccessContext,
    campaign_report,
    close_campaign,
    decide,
    render_html,
    start_campaign,
)
from stagewall.cli._common import config_option, db_option, echo_json, format_option
from stagewall.errors import UsageError


@click.group("review")
def review_group() -> None:
    """Access-review campaigns (recertification)."""


@review_group.command("start")
@click.option("--name", required=True)
@click.option("--due", required=True, help="Due date, YYYY-MM-DD.")
@config_option
@db_option
@format_option("json")
def start_cmd(name: str, due: str, config: str | None, db: str | None, fmt: str) -> None:
    """Snapshot every live grant into a new campaign."""
    try:
        due_date = date.fromisoformat(due)
    except ValueError:
        raise UsageError(f"--due {due!r} is not a date; use YYYY-MM-DD") from None
    ctx = AccessContext.open(config, db)
    camp = start_campaign(ctx, name=name, due=due_date)
    if fmt == "json":
        echo_json(camp)
    else:
        click.echo(f"campaign {camp['id']} started with {camp['items']} item(s), due {due}")


@review_group.command("decide")
@click.argument("item_id")
@click.option("--as", "reviewer", required=True)
@click.option("--keep/--revoke", "keep", default=None)
@click.option("--otp", required=True)
@click.option("--note", default="")
@config_option
@db_option
def decide_cmd(
    item_id: str,
    reviewer: str,
    keep: bool | None,
    otp: str,
    note: str,
    config: str | None,
    db: str | None,
) -> None:
    """Keep or revoke one item (any revoke wins)."""
    if keep is None:
        raise UsageError("say --keep or --revoke")
    ctx = AccessContext.open(config, db)
    res = decide(ctx, item_id, reviewer=reviewer, keep=keep, otp=otp, note=note)
    click.echo(f"item {item_id}: {res['decision']} (outcome {res['outcome']})")


@review_group.command("close")
@click.argument("campaign_id")
@config_option
@db_option
def close_cmd(campaign_id: str, config: str | None, db: str | None) -> None:
    """Close a campaign; after the due date every undecided item is revoked."""
    ctx = AccessContext.open(config, db)
    res = close_campaign(ctx, campaign_id)
    click.echo(
        f"campaign {campaign_id} closed; {len(res['revoked_undecided'])} undecided item(s) revoked"
    )


@review_group.command("report")
@click.argument("campaign_id")
@config_option
@db_option
@format_option("json", "html")
def report_cmd(campaign_id: str, config: str | None, db: str | None, fmt: str) -> None:
    """Every item and decision of a campaign."""
    ctx = AccessContext.open(config, db)
    rep = campaign_report(ctx, campaign_id)
    if fmt == "json":
        echo_json(rep)
    elif fmt == "html":
        click.echo(render_html(rep), nl=False)
    else:
        for it in rep["items"]:
            click.echo(
                f"{it['id']} {it['principal']} {it['role']} {it['outcome'] or 'undecided'} "
                f"last activity {it['last_activity'] or '-'}"
            )


COMMANDS = [review_group]
