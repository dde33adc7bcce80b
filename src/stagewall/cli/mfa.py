"""``stagewall mfa enroll|reset|step-up``: factors are managed through the server only."""

from __future__ import annotations

import click

from stagewall.cli._browser import browser_step_up
from stagewall.cli._client import Client, server_option
from stagewall.cli._common import echo_json, format_option
from stagewall.cli._params import estate_name
from stagewall.errors import UsageError


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
@click.argument("principal", type=estate_name("principal name"))
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


@mfa_group.command("step-up")
@click.option("--otp", default=None, help="Your current one-time code.")
@click.option(
    "--browser",
    "use_browser",
    is_flag=True,
    help="Confirm with a passkey in a browser signed in as you (the CLI cannot talk to "
    "an authenticator itself).",
)
@click.option("--no-open", is_flag=True, help="With --browser: only print the URL.")
@server_option
@format_option("json")
def step_up_cmd(
    otp: str | None, use_browser: bool, no_open: bool, server: str | None, fmt: str
) -> None:
    """Open a step-up window on this login: privileged commands need no factor while it lasts."""
    if bool(otp) == use_browser:
        raise UsageError("give either --otp CODE or --browser")
    client = Client(server)
    if use_browser:
        got = browser_step_up(client, open_browser=not no_open)
        until = got["window_until"]
    else:
        until = client.request("POST", "/api/v1/step-up", json_body={"otp": otp})["expires_at"]
    if fmt == "json":
        echo_json({"window_until": until})
    else:
        click.echo(f"step-up window open until {until}")


COMMANDS = [mfa_group]
