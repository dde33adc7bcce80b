"""``stagewall evidence`` (checks, pack, verify) and ``stagewall answer``: local commands
over the library in :mod:`stagewall.evidence` (the server calls the same functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from stagewall.cli._common import (
    F,
    config_option,
    db_option,
    echo_json,
    format_option,
    pinned_public_key,
)
from stagewall.cli._params import PathParam
from stagewall.errors import EXIT_FINDING, IntegrityError
from stagewall.evidence import CheckStatus, evaluate, make_window, open_local, parse_time_arg
from stagewall.evidence.evaluate import DEFAULT_WINDOW
from stagewall.keys import load_signing_key

_MARK = {
    CheckStatus.PASS: "pass",
    CheckStatus.FAIL: "FAIL",
    CheckStatus.NOT_VERIFIABLE: "not verifiable",
    CheckStatus.MANUAL: "manual",
    CheckStatus.NOT_APPLICABLE: "n/a",
}


def _attestations_option(f: F) -> F:
    return click.option(
        "--attestations",
        type=PathParam(dir_okay=False),
        default=None,
        help="Attestations file (default: evidence-attestations.yaml next to stagewall.yaml).",
    )(f)


def _witness_option(f: F) -> F:
    return click.option(
        "--witness-key",
        "witness_keys",
        multiple=True,
        type=PathParam(dir_okay=False),
        help="File holding a witness verifier key (vkey, as `stagewall witness init` prints "
        "it), counted on top of audit.witnesses in stagewall.yaml (repeatable).",
    )(f)


@click.group("evidence")
def evidence_group() -> None:
    """Control checks, the auditor's pack and its offline verification."""


@evidence_group.command("checks")
@config_option
@db_option
@click.option("--at", "at", default=None, help="As-of time (default: now); date or ISO 8601.")
@click.option(
    "--days",
    type=click.IntRange(1, 3660),
    default=DEFAULT_WINDOW.days,
    show_default=True,
    help="Length of the window ending at --at.",
)
@_attestations_option
@_witness_option
@format_option("json")
def checks_cmd(
    config: str | None,
    db: str | None,
    at: str | None,
    days: int,
    attestations: str | None,
    witness_keys: tuple[str, ...],
    fmt: str,
) -> None:
    """Every control check, its status, figures and why. Exit 1 when a check fails."""
    end = parse_time_arg(at, what="--at") if at else datetime.now(UTC)
    window = make_window(end - timedelta(days=days), end)
    inputs = open_local(
        config=config, db=db, window=window, attestations=attestations, witness_keys=witness_keys
    )
    ev = evaluate(inputs)
    if fmt == "json":
        echo_json(ev.to_json())
    else:
        w = ev.window.to_json()
        click.echo(f"evidence as of {w['to']} (window from {w['from']}, {ev.log_size} events)")
        for name in sorted(ev.results):
            r = ev.results[name]
            click.echo(f"{_MARK[r.status]:>15}  {name}: {r.summary}")
            if r.why:
                click.echo(f"{'':>17}why: {r.why}")
        click.echo(", ".join(f"{n} {s}" for s, n in ev.counts().items()))
    inputs.store.dispose()
    if any(r.status is CheckStatus.FAIL for r in ev.results.values()):
        raise SystemExit(EXIT_FINDING)


@evidence_group.command("pack")
@config_option
@db_option
@click.option("--from", "start", required=True, help="First day of the window (YYYY-MM-DD).")
@click.option("--to", "end", required=True, help="Last day of the window (YYYY-MM-DD).")
@click.option(
    "--out", required=True, type=PathParam(dir_okay=False, output=True), help="The pack (.zip)."
)
@click.option("--no-pdf", is_flag=True, help="Leave out report.pdf (the HTML stays).")
@_attestations_option
@_witness_option
def pack_cmd(
    config: str | None,
    db: str | None,
    start: str,
    end: str,
    out: str,
    no_pdf: bool,
    attestations: str | None,
    witness_keys: tuple[str, ...],
) -> None:
    """Write the auditor's pack for an observation window, signed with the audit key."""
    from stagewall.evidence.pack import build_pack

    window = make_window(
        parse_time_arg(start, what="--from"), parse_time_arg(end, end_of_day=True, what="--to")
    )
    key = load_signing_key()
    inputs = open_local(
        config=config, db=db, window=window, attestations=attestations, witness_keys=witness_keys
    )
    res = build_pack(inputs, Path(out), signing_key=key, pdf=not no_pdf)
    inputs.store.dispose()
    counts = res.evaluation.counts()
    click.echo(
        f"wrote {res.path}: {res.files} files, {res.events} events proven against checkpoint "
        f"{res.tree_size}; checks: " + ", ".join(f"{n} {s}" for s, n in counts.items())
    )


@evidence_group.command("verify")
@click.argument("pack", type=PathParam(dir_okay=False))
@click.option(
    "--public-key",
    type=PathParam(dir_okay=False),
    default=None,
    help="The log's public key, obtained independently (pin); default: the one in "
    "STAGEWALL_HOME. Never the pack's own.",
)
@_witness_option
@click.option(
    "--witness-quorum",
    type=click.IntRange(min=1),
    default=None,
    help="How many of the --witness-key witnesses must have cosigned the window (default: all).",
)
@format_option("json")
def verify_cmd(
    pack: str,
    public_key: str | None,
    witness_keys: tuple[str, ...],
    witness_quorum: int | None,
    fmt: str,
) -> None:
    """Verify a pack offline (no database). Exit 1 when it was altered or is incomplete."""
    from stagewall.evidence.evaluate import load_witness_key
    from stagewall.evidence.verify import verify_pack

    key = pinned_public_key(public_key)
    witnesses = [load_witness_key(w) for w in witness_keys]
    try:
        report = verify_pack(
            pack, public_key=key, witness_keys=witnesses, witness_quorum=witness_quorum
        )
    except IntegrityError as exc:
        if fmt == "json":
            echo_json({"ok": False, "error": exc.code, "message": exc.message})
        raise
    if fmt == "json":
        echo_json(report.to_json())
    else:
        click.echo(
            f"ok: {pack} verified: {report.files} files match the signed manifest, "
            f"{report.events} events proven against checkpoint {report.tree_size} "
            f"(root {report.root}), {report.rows_bound} population rows bound to their events"
        )
        for w in report.witnessed:
            if w["verified"]:
                click.echo(
                    f"witnessed: {w['witness']} cosigned the log at {w['size']} events"
                    + (" (covers the window)" if w["covers_window"] else "")
                )
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)


@click.command("answer")
@config_option
@db_option
@click.option(
    "--questionnaire",
    required=True,
    help="caiq-v4, sig-lite, or a customer's FILE.xlsx / FILE.csv.",
)
@click.option(
    "--out",
    required=True,
    type=PathParam(dir_okay=False),
    help="The answered file (.xlsx, or .csv).",
)
@click.option("--at", "at", default=None, help="As-of time (default: now).")
@_attestations_option
@format_option("json")
def answer_cmd(
    config: str | None,
    db: str | None,
    questionnaire: str,
    out: str,
    at: str | None,
    attestations: str | None,
    fmt: str,
) -> None:
    """Answer a security questionnaire from measured state; unmatched questions are flagged."""
    from stagewall.evidence.questionnaire import answer_questionnaire

    target = Path(out)
    if target.suffix.lower() not in (".xlsx", ".csv"):
        from stagewall.errors import UsageError

        raise UsageError(f"--out {out} must end in .xlsx or .csv")
    window = make_window(None, parse_time_arg(at, what="--at") if at else None)
    inputs = open_local(config=config, db=db, window=window, attestations=attestations)
    filled = answer_questionnaire(questionnaire, evaluate(inputs), target)
    inputs.store.dispose()
    unmatched = [f for f in filled if f.topic is None]
    if fmt == "json":
        echo_json({"out": str(target), "answers": [f.to_json() for f in filled]})
    else:
        click.echo(
            f"wrote {target}: {len(filled) - len(unmatched)} answered, "
            f"{len(unmatched)} flagged for a human"
        )
        for f in unmatched:
            click.echo(f"  row {f.row}: {f.question[:80]} ({f.reason})")


COMMANDS = [evidence_group, answer_cmd]
