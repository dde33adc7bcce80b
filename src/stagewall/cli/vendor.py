"""``stagewall vendor offboard``."""

from __future__ import annotations

import click

from stagewall.access import AccessContext, offboard_vendor
from stagewall.cli._common import config_option, db_option, echo_json, format_option


@click.group("vendor")
def vendor_group() -> None:
    """Vendor lifecycle."""


@vendor_group.command("offboard")
@click.argument("vendor")
@click.option("--as", "actor", required=True)
@click.option("--otp", required=True)
@config_option
@db_option
@format_option("json")
def offboard_cmd(
    vendor: str, actor: str, otp: str, config: str | None, db: str | None, fmt: str
) -> None:
    """Revoke every grant of VENDOR's principals and kill their sessions, in one step."""
    ctx = AccessContext.open(config, db)
    rep = offboard_vendor(ctx, vendor, actor=actor, otp=otp)
    if fmt == "json":
        echo_json(rep.as_dict())
    else:
        click.echo(
            f"vendor {vendor} offboarded: {len(rep.grants)} grant(s) ended; "
            f"verified: {'yes' if rep.verified else 'NO'}"
        )
    if not rep.verified:
        raise SystemExit(1)


COMMANDS = [vendor_group]
