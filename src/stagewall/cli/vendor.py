"""``stagewall vendor offboard``."""

from __future__ import annotations

import click

from stagewall.cli._client import Client, server_option
from stagewall.cli._common import echo_json, format_option
from stagewall.cli._params import estate_name


@click.group("vendor")
def vendor_group() -> None:
    """Vendor lifecycle."""


@vendor_group.command("offboard")
@click.argument("vendor", type=estate_name("vendor name"))
@click.option("--otp", required=True, help="Your current one-time code.")
@server_option
@format_option("json")
def offboard_cmd(vendor: str, otp: str, server: str | None, fmt: str) -> None:
    """Revoke every grant of VENDOR's principals and kill their sessions, in one step."""
    from urllib.parse import quote

    rep = Client(server).request(
        "POST", f"/api/v1/vendors/{quote(vendor, safe='')}/offboard", json_body={"otp": otp}
    )
    if fmt == "json":
        echo_json(rep)
    else:
        click.echo(
            f"vendor {vendor} offboarded: {len(rep['grants'])} grant(s) ended; "
            f"verified: {'yes' if rep['verified'] else 'NO'}"
        )
    if not rep["verified"]:
        raise SystemExit(1)


COMMANDS = [vendor_group]
