"""``stagewall keys``: create and export the audit signing key and the masking keyring."""

from __future__ import annotations

from pathlib import Path

import click

from stagewall.cli._common import db_option, echo_json, format_option
from stagewall.cli._params import PathParam, note_name
from stagewall.keys import init_keys, load_public_key, load_signing_key, masking_key_ids


@click.group("keys")
def keys_group() -> None:
    """Signing and masking keys in STAGEWALL_HOME (files with mode 0600)."""


@keys_group.command("init")
@click.option(
    "--name",
    default=None,
    type=note_name("key name"),
    help="Key name / log origin, at most 128 characters (default: random).",
)
@click.option("--rotate-masking", is_flag=True, help="Add a new masking key and make it current.")
@db_option
@format_option("json")
def init_cmd(name: str | None, rotate_masking: bool, db: str | None, fmt: str) -> None:
    """Create the audit signing key and the masking keyring; never overwrites.

    What was created (key name and masking key ids, never secrets) is recorded in
    the audit log of the store (--db, $STAGEWALL_DB, or the default in STAGEWALL_HOME).
    """
    from stagewall.keys.record import record_init
    from stagewall.store import open_store

    store = open_store(db)  # a store out of reach stops here, before any key is written
    try:
        res = init_keys(name=name, rotate_masking=rotate_masking)
        record_init(res, store)
    finally:
        store.dispose()
    if fmt == "json":
        echo_json(
            {
                "home": str(res.home),
                "signing_key_created": res.signing_created,
                "masking_keyring_created": res.masking_created,
                "rotated_to": res.rotated_to,
                "key_name": res.key_name,
                "current_masking_key": res.current_masking_key,
            }
        )
        return
    if res.signing_created:
        click.echo(f"created audit signing key {res.key_name} in {res.home}")
    else:
        click.echo(
            f"audit signing key {res.key_name} already exists in {res.home}; not overwritten"
        )
    if res.masking_created:
        click.echo(f"created masking keyring with key {res.current_masking_key}")
    elif res.rotated_to:
        click.echo(f"added masking key {res.rotated_to}; it is now current")
    else:
        click.echo(
            f"masking keyring already exists (current key {res.current_masking_key}); "
            "not overwritten (use --rotate-masking to add a new key)"
        )


@keys_group.command("export-public")
@click.option(
    "--out", type=PathParam(dir_okay=False, output=True), default=None, help="Write to FILE."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["vkey", "pem"]),
    default="vkey",
    show_default=True,
    help="C2SP vkey text or PEM SubjectPublicKeyInfo.",
)
def export_public_cmd(out: str | None, fmt: str) -> None:
    """Print (or write) the audit public key that auditors pin."""
    key = load_public_key()
    text = key.vkey() + "\n" if fmt == "vkey" else key.pem()
    if out:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"wrote the public key of {key.name} to {out}", err=True)
    else:
        click.echo(text, nl=False)


@keys_group.command("list")
@format_option("json")
def list_cmd(fmt: str) -> None:
    """Show the signing key name and the masking key ids (never the secrets)."""
    signing = load_signing_key()
    ids, current = masking_key_ids()
    if fmt == "json":
        echo_json({"signing_key": signing.public.vkey(), "masking_keys": ids, "current": current})
        return
    click.echo(f"signing key: {signing.public.vkey()}")
    for key_id in ids:
        click.echo(f"masking key: {key_id}{'  (current)' if key_id == current else ''}")


COMMANDS: list[click.Command] = [keys_group]
