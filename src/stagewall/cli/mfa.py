"""``stagewall mfa enroll|reset``."""

from __future__ import annotations

import click

from stagewall import mfa
from stagewall.cli._common import config_option, db_option, echo_json, format_option
from stagewall.estate import load_estate
from stagewall.store import open_store


@click.group("mfa")
def mfa_group() -> None:
    """TOTP enrolment for principals."""


@mfa_group.command("enroll")
@click.argument("principal")
@config_option
@db_option
@format_option("json")
def enroll_cmd(principal: str, config: str | None, db: str | None, fmt: str) -> None:
    """Enrol PRINCIPAL for TOTP; the secret is printed once."""
    loaded = load_estate(config)
    enrolment = mfa.enroll(open_store(db), loaded.estate, principal)
    if fmt == "json":
        echo_json({"principal": principal, "secret": enrolment.secret, "uri": enrolment.uri})
    else:
        click.echo(f"secret: {enrolment.secret}\nuri: {enrolment.uri}")
        click.echo("add it to an authenticator app now; it is not shown again")


@mfa_group.command("reset")
@click.argument("principal")
@click.option("--as", "actor", required=True)
@click.option("--otp", required=True)
@config_option
@db_option
def reset_cmd(principal: str, actor: str, otp: str, config: str | None, db: str | None) -> None:
    """Remove PRINCIPAL's enrolment (by another enrolled internal principal)."""
    loaded = load_estate(config)
    mfa.reset(open_store(db), loaded.estate, principal, actor=actor, code=otp)
    click.echo(f"MFA enrolment of {principal} removed; they can enrol again")


COMMANDS = [mfa_group]
