"""``stagewall mfa enroll|reset``: factors are managed through the server only."""

from __future__ import annotations

import click

from stagewall.cli._client import Client, server_option
from stagewall.cli._common import echo_json, format_option


@click.group("mfa")
def mfa_group() -> None:
    """Your second factor (TOTP), through the server."""


@mfa_group.command("enroll")
@server_option
@format_option("json")
def enroll_cmd(server: str | None, fmt: str) -> None:
    """Enrol a TOTP factor for yourself (the logged-in principal); the secret is shown once."""
    got = Client(server).request("POST", "/api/v1/mfa/totp")
    if fmt == "json":
        echo_json(
            {"principal": got["principal"], "secret": got["totp_secret"], "uri": got["totp_uri"]}
        )
    else:
        click.echo(f"secret: {got['totp_secret']}\nuri: {got['totp_uri']}")
        click.echo("add it to an authenticator app now; it is not shown again; log in again")


@mfa_group.command("reset")
@click.argument("principal")
@click.option("--otp", required=True, help="Your own current one-time code.")
@server_option
def reset_cmd(principal: str, otp: str, server: str | None) -> None:
    """Remove another person's factor (you: another internal person; alerts at once)."""
    from urllib.parse import quote

    Client(server).request(
        "POST", f"/api/v1/principals/{quote(principal, safe='')}/mfa/reset", json_body={"otp": otp}
    )
    click.echo(
        f"MFA factor of {principal} removed and their logins revoked; they enrol again after "
        "logging in with their password, and may approve nothing for 24 hours"
    )


COMMANDS = [mfa_group]
