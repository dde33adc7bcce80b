"""``stagewall review start|decide|close|report``: access-review campaigns, through the server."""

from __future__ import annotations

from urllib.parse import quote

import click

from stagewall.access import render_html
from stagewall.cli._client import Client, server_option
from stagewall.cli._common import echo_json, format_option
from stagewall.cli._params import record_id, title
from stagewall.errors import UsageError


@click.group("review")
def review_group() -> None:
    """Access-review campaigns (recertification)."""


@review_group.command("start")
@click.option("--name", required=True, type=title("campaign name"), help="At most 200 characters.")
@click.option("--due", required=True, help="Due date, YYYY-MM-DD.")
@server_option
@format_option("json")
def start_cmd(name: str, due: str, server: str | None, fmt: str) -> None:
    """Snapshot every live grant into a new campaign; prints the item ids."""
    camp = Client(server).request("POST", "/api/v1/reviews", json_body={"name": name, "due": due})
    if fmt == "json":
        echo_json(camp)
        return
    click.echo(f"campaign {camp['id']} started with {camp['items']} item(s), due {due}")
    report = Client(server).request("GET", f"/api/v1/reviews/{quote(str(camp['id']), safe='')}")
    for it in report["items"]:
        click.echo(f"  item {it['id']}: {it['principal']} {it['role']}")


@review_group.command("decide")
@click.argument("item_id", type=record_id("review item id"))
@click.option("--keep/--revoke", "keep", default=None)
@click.option("--otp", required=True, help="Your current one-time code.")
@click.option("--note", default="")
@server_option
@format_option("json")
def decide_cmd(
    item_id: str, keep: bool | None, otp: str, note: str, server: str | None, fmt: str
) -> None:
    """Keep or revoke one item as yourself (any revoke wins)."""
    if keep is None:
        raise UsageError("say --keep or --revoke")
    res = Client(server).request(
        "POST",
        f"/api/v1/review-items/{quote(item_id, safe='')}/decision",
        json_body={"keep": keep, "otp": otp, "note": note},
    )
    if fmt == "json":
        echo_json(res)
        return
    click.echo(f"item {item_id}: {res['decision']} (outcome {res['outcome']})")
    if res.get("finding"):
        click.echo(f"finding: {res['finding']}")


@review_group.command("close")
@click.argument("campaign_id", type=record_id("campaign id"))
@server_option
@format_option("json")
def close_cmd(campaign_id: str, server: str | None, fmt: str) -> None:
    """Close a campaign; after the due date every undecided item is revoked."""
    res = Client(server).request("POST", f"/api/v1/reviews/{quote(campaign_id, safe='')}/close")
    if fmt == "json":
        echo_json(res)
        return
    click.echo(
        f"campaign {campaign_id} closed; {len(res['revoked_undecided'])} undecided item(s) revoked"
    )
    for f in res.get("findings", []):
        click.echo(f"finding on item {f['item']} ({f['principal']}): {f['finding']}")


@review_group.command("report")
@click.argument("campaign_id", type=record_id("campaign id"))
@server_option
@format_option("json", "html")
def report_cmd(campaign_id: str, server: str | None, fmt: str) -> None:
    """Every item and decision of a campaign."""
    rep = Client(server).request("GET", f"/api/v1/reviews/{quote(campaign_id, safe='')}")
    if fmt == "json":
        echo_json(rep)
    elif fmt == "html":
        click.echo(render_html(rep), nl=False)
    else:
        for it in rep["items"]:
            click.echo(
                f"{it['id']} {it['principal']} {it['role']} {it['outcome'] or 'undecided'} "
                f"last activity {it['last_activity'] or '-'} [{it.get('kind') or 'grant'}"
                + (f" {it['subject']}" if it.get("subject") else "")
                + "]"
                + (f" finding: {it['finding']}" if it.get("finding") else "")
            )


COMMANDS = [review_group]
