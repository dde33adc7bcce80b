"""``stagewall witness``: run a C2SP tlog-witness for someone else's audit log.

The auditor (or another second party) runs this on a machine the log's operator
does not control. See docs/audit.md, "Witnesses".
"""

from __future__ import annotations

import click

from stagewall.cli._common import echo_json, format_option
from stagewall.cli._params import PathParam, note_name
from stagewall.errors import UsageError
from stagewall.keys import load_public_key
from stagewall.witness import Witness, WitnessState, init_witness, make_server


def _named_directory(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    # An empty DIRECTORY (an unset shell variable) would be the current directory: a
    # witness key and database written, or read, wherever the command happened to run.
    if not value.strip():
        raise UsageError(
            "DIRECTORY is empty",
            hint="name the witness's state directory, e.g. `stagewall witness status ./witness`",
        )
    return value


_DIR = click.argument("directory", type=PathParam(file_okay=False), callback=_named_directory)


@click.group("witness")
def witness_group() -> None:
    """Witness another stagewall's audit log (cosign consistent checkpoints)."""


@witness_group.command("init")
@_DIR
@click.option(
    "--name",
    required=True,
    type=note_name("witness name"),
    help="Witness name, e.g. witness.auditor.example/w1 (at most 128 characters).",
)
def init_cmd(directory: str, name: str) -> None:
    """Create a witness: a new key and empty state in DIRECTORY; print its public key."""
    state = init_witness(directory, name)
    click.echo(state.key.public.vkey())
    click.echo(
        f"witness {name} created in {directory}; give the key above to the log's operator "
        "(audit.witnesses[].public_key in stagewall.yaml)",
        err=True,
    )


@witness_group.command("add-log")
@_DIR
@click.option(
    "--public-key",
    "public_key",
    required=True,
    type=PathParam(dir_okay=False),
    help="The log's verifier key (vkey from `stagewall keys export-public`).",
)
def add_log_cmd(directory: str, public_key: str) -> None:
    """Trust a log's checkpoint key; its name is the log's origin."""
    origin = WitnessState(directory).add_log(load_public_key(path=public_key))
    click.echo(f"witnessing log {origin}")


@witness_group.command("status")
@_DIR
@format_option("json")
def status_cmd(directory: str, fmt: str) -> None:
    """The logs this witness knows and the newest checkpoint it cosigned for each."""
    state = WitnessState(directory)
    rows = [
        {
            "origin": origin,
            "size": latest.size if latest else 0,
            "updated": latest.updated if latest else None,
        }
        for origin, latest in state.all_latest()
    ]
    if fmt == "json":
        echo_json({"witness": state.key.name, "logs": rows, "refused": state.refused_count()})
        return
    click.echo(f"witness {state.key.name}")
    for row in rows:
        click.echo(f"  {row['origin']}: cosigned size {row['size']} ({row['updated'] or 'never'})")
    click.echo(f"refused submissions kept as evidence: {state.refused_count()}")


@witness_group.command("serve")
@_DIR
@click.option("--listen", default="127.0.0.1:7380", show_default=True, help="HOST:PORT.")
@click.option("--prefix", default="", help="URL prefix before /add-checkpoint.")
def serve_cmd(directory: str, listen: str, prefix: str) -> None:
    """Serve POST <prefix>/add-checkpoint until interrupted."""
    host, sep, port_text = listen.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise UsageError(f"--listen {listen!r} is not HOST:PORT")
    state = WitnessState(directory)
    try:
        server = make_server(Witness(state), host.strip("[]"), int(port_text), prefix=prefix)
    except OSError as exc:
        raise UsageError(f"cannot listen on {listen}: {exc.strerror or exc}") from exc
    click.echo(f"witness {state.key.name} listening on http://{listen}{prefix}/add-checkpoint")
    try:
        server.serve_forever()
    finally:
        server.server_close()


COMMANDS: list[click.Command] = [witness_group]
