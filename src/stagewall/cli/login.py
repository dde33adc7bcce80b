"""``stagewall login``, ``logout``, ``whoami`` and ``account accept``: a personal token."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta

import click

from stagewall.cli._browser import browser_login
from stagewall.cli._client import Client, forget_login, resolve_server, save_login, server_option
from stagewall.cli._common import echo_json, format_option
from stagewall.errors import NotAuthenticated, UsageError


@click.command("login")
@server_option
@click.option(
    "--password",
    "use_password",
    is_flag=True,
    help="Log in here with password and one-time code instead of in a browser.",
)
@click.option(
    "--browser",
    "use_browser",
    is_flag=True,
    help="Sign in with this computer's browser (local account or your identity provider); "
    "the terminal receives the token on a loopback port (RFC 8252).",
)
@click.option(
    "--no-open", is_flag=True, help="With --browser: only print the URL, open no browser."
)
def login_cmd(server: str | None, use_password: bool, use_browser: bool, no_open: bool) -> None:
    """Get a personal, short-lived token from the server (RFC 8628 device login)."""
    client = Client(server, anonymous=True)
    if use_password and use_browser:
        raise UsageError("give --password or --browser, not both")
    if use_browser:
        answer = browser_login(client, open_browser=not no_open)
        who = answer["principal"]
        path = save_login(client.server, answer["token"], who, answer["expires_at"])
        click.echo(f"logged in to {client.server} as {who} ({answer['method']}); token in {path}")
        return
    if use_password:
        principal = click.prompt("principal")
        password = click.prompt("password", hide_input=True)
        otp = click.prompt("one-time code")
        got = client.request(
            "POST",
            "/api/v1/session",
            json_body={"principal": principal, "password": password, "otp": otp},
        )
        if got.get("enrol_only"):
            save_login(client.server, got["token"], principal, got["expires_at"])
            click.echo("logged in without a second factor: run `stagewall mfa enroll` now")
            return
        path = save_login(client.server, got["token"], principal, got["expires_at"])
        click.echo(f"logged in to {client.server} as {principal}; token in {path}")
        return
    host = socket.gethostname()
    # The page shows this name (as the terminal's claim) next to the address the server
    # sees, so the person approving can tell a login sent to them by someone else.
    code = client.request("POST", "/api/v1/device/code", form={"client_hostname": host})
    click.echo(
        f"Open {code['verification_uri']} and enter the code {code['user_code']}\n"
        f"(or open {code['verification_uri_complete']})\n"
        f"The page will show this computer as {host!r}; approve only a login you started."
    )
    interval = float(code.get("interval", 2))
    deadline = time.monotonic() + float(code.get("expires_in", 600))
    while time.monotonic() < deadline:
        time.sleep(interval)
        got = _poll(client, str(code["device_code"]))
        if got is None:
            continue
        if got == "slow_down":
            interval += 5
            continue
        if isinstance(got, str):
            raise NotAuthenticated(f"the login was not approved ({got})")
        expires = datetime.now(UTC) + timedelta(seconds=int(got["expires_in"]))
        path = save_login(client.server, got["access_token"], got["principal"], expires.isoformat())
        click.echo(f"logged in to {client.server} as {got['principal']}; token in {path}")
        return
    raise NotAuthenticated("the login code expired before it was approved")


def _poll(client: Client, device_code: str) -> dict[str, str] | str | None:
    """The token response, an RFC 8628 error code, or None while pending."""
    import httpx

    res = httpx.post(
        client.server + "/api/v1/device/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": device_code,
        },
        timeout=30,
    )
    body = res.json()
    if res.status_code == 200:
        return dict(body)
    error = str(body.get("error", "error"))
    if error == "authorization_pending":
        return None
    why = body.get("error_description")  # e.g. a code the server's upgrade ended (SW943)
    return f"{error}: {why}" if isinstance(why, str) and why else error


@click.command("logout")
@server_option
def logout_cmd(server: str | None) -> None:
    """Revoke this token on the server and forget it here."""
    client = Client(server)
    client.request("DELETE", "/api/v1/session")
    forget_login(client.server)
    click.echo(f"logged out of {client.server}")


@click.command("whoami")
@server_option
@format_option("json")
def whoami_cmd(server: str | None, fmt: str) -> None:
    """Who the server says you are, and how you logged in."""
    got = Client(server).request("GET", "/api/v1/whoami")
    if fmt == "json":
        echo_json(got)
    else:
        click.echo(f"{got['principal']} ({', '.join(got['classes'])}) via {got['method']}")


@click.group("account")
def account_group() -> None:
    """Your local account on the server."""


@account_group.command("accept")
@server_option
def accept_cmd(server: str | None) -> None:
    """Open an invitation: set a password, add the TOTP secret to an authenticator, confirm."""
    client = Client(server, anonymous=True)
    token = click.prompt("invitation token", hide_input=True)
    password = click.prompt("new password (12+ characters)", hide_input=True)
    again = click.prompt("repeat the password", hide_input=True)
    if password != again:
        raise UsageError("the two passwords differ; nothing was changed")
    got = client.request(
        "POST", "/api/v1/invitations/accept", json_body={"token": token, "password": password}
    )
    click.echo(f"add this to your authenticator app (shown once):\n{got['totp_uri']}")
    code = click.prompt("one-time code from the authenticator")
    client.request("POST", "/api/v1/invitations/confirm", json_body={"token": token, "otp": code})
    url = resolve_server(server)
    click.echo(f"account of {got['principal']} ready; run `stagewall login --server {url}`")


COMMANDS = [login_cmd, logout_cmd, whoami_cmd, account_group]
