"""``stagewall gate``: promotion gates (submit, report, approve, check, verify, list, break-glass).

Exit codes: 0 allowed/done, 1 refused or failed verification, 2 usage or configuration.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import click

from stagewall.cli._client import Client, pipeline_client, pipeline_options, server_option
from stagewall.cli._common import echo_json, format_option
from stagewall.cli._params import PathParam, estate_name, record_id
from stagewall.errors import ConfigError, UsageError
from stagewall.estate._duration import parse_duration
from stagewall.gates import expect_subject, verify_envelope
from stagewall.keys import load_public_key, parse_public_key


def _print_promotion(p: dict[str, Any], fmt: str, verb: str) -> None:
    if fmt == "json":
        echo_json(p)
        return
    click.echo(f"{verb} {p['id']}: {p['sha'][:12]} ({p['digest'][:19]}…) → {p['stage']}")
    base = p["base"][:12] if p.get("base") else "the beginning"
    click.echo(f"  {p['commits']} commit(s) since {base}")
    for a in p["authors"]:
        name = a["principal"] or f"unmapped {a['identities'][0]} (counts as external)"
        click.echo(f"  touched by {name} [{a['affiliation']}]")


def _history(client: Client, repo: str, change: str, stage: str) -> tuple[str, dict[str, Any]]:
    """The change's full SHA and the objects a submission carries: its commits since the
    stage's last deployment, and the trees (and submodule commits) that show what they
    changed, read with the same walk the server repeats (gates/_trees.py)."""
    from stagewall.gates._bringin import brought_in
    from stagewall.gates._git import Repo, max_commits
    from stagewall.gates._trees import Recorder

    git = Repo(repo)
    sha = git.resolve(change)
    base = client.request("GET", "/api/v1/promotions/base", params={"stage": stage})["base"]
    if base is not None and not (git.has_commit(base) and git.is_ancestor(base, sha)):
        base = None
    shas = git.rev_list(sha, base, cap=max_commits())
    recorder = Recorder(git, git.raw_commits(shas))
    # Vendored directories need no extra objects (their paths are in the trees); the
    # server applies the estate's rules, the client only gathers what they read.
    brought_in(recorder, shas, [], lambda _c: [])
    return sha, recorder.payload()


@click.group("gate")
def gate_group() -> None:
    """Promotion gates: changes move stage by stage with independent internal approval."""


@gate_group.command("submit")
@click.option("--repo", required=True, type=PathParam(file_okay=False), help="Git repository.")
@click.option("--change", required=True, help="Commit SHA to promote.")
@click.option("--artifact", required=True, help="Artifact digest, sha256:<hex>.")
@click.option("--to", "stage", required=True, type=estate_name("stage name"), help="Target stage.")
@pipeline_options
@server_option
@format_option("json")
def submit_cmd(
    repo: str,
    change: str,
    artifact: str,
    stage: str,
    oidc_env: str | None,
    audience: str | None,
    server: str | None,
    fmt: str,
) -> None:
    """Submit a change (commit + artifact) for promotion to a stage, as yourself.

    The commit objects since the stage's last deployment are sent to the server,
    which checks their ids and that none is missing.
    """
    client = pipeline_client(server, oidc_env, audience)
    sha, objects = _history(client, repo, change, stage)
    p = client.request(
        "POST",
        "/api/v1/promotions",
        json_body={"stage": stage, "change": sha, "artifact": artifact, **objects},
    )
    _print_promotion(p, fmt, "submitted")


@gate_group.command("break-glass")
@click.option("--repo", required=True, type=PathParam(file_okay=False), help="Git repository.")
@click.option("--change", required=True, help="Commit SHA to promote.")
@click.option("--artifact", required=True, help="Artifact digest, sha256:<hex>.")
@click.option("--to", "stage", required=True, type=estate_name("stage name"), help="Target stage.")
@click.option("--reason", required=True, help="Why this cannot wait for approval.")
@click.option("--otp", required=True, help="Your current one-time code.")
@server_option
@format_option("json")
def break_glass_cmd(
    repo: str,
    change: str,
    artifact: str,
    stage: str,
    reason: str,
    otp: str,
    server: str | None,
    fmt: str,
) -> None:
    """Emergency promotion without approval, as yourself (an internal person): loud alert,
    follow-up review due in 24 hours."""
    client = Client(server)
    sha, objects = _history(client, repo, change, stage)
    p = client.request(
        "POST",
        "/api/v1/promotions/break-glass",
        json_body={
            "stage": stage,
            "change": sha,
            "artifact": artifact,
            **objects,
            "reason": reason,
            "otp": otp,
        },
    )
    _print_promotion(p, fmt, "BREAK-GLASS")
    if fmt != "json":
        click.echo(f"  follow-up review due within 24 hours: stagewall gate approve {p['id']} ...")
    for f in p.get("alert_failures", []):
        click.echo(f"warning: alert not delivered: {f}", err=True)


@gate_group.command("report")
@click.option("--change", required=True, help="Commit SHA the check ran on.")
@click.option(
    "--stage", required=True, type=estate_name("stage name"), help="Stage whose check this is."
)
@click.option("--check", "name", required=True, help="Check name (as declared on the stage).")
@click.option("--status", required=True, type=click.Choice(["pass", "fail"]))
@pipeline_options
@server_option
@format_option("json")
def report_cmd(
    change: str,
    stage: str,
    name: str,
    status: str,
    oidc_env: str | None,
    audience: str | None,
    server: str | None,
    fmt: str,
) -> None:
    """Report a CI check result for a commit at a stage (pipelines only)."""
    got = pipeline_client(server, oidc_env, audience).request(
        "POST",
        "/api/v1/checks",
        json_body={"change": change.strip(), "stage": stage, "check": name, "status": status},
    )
    if fmt == "json":
        echo_json(got)
        return
    click.echo(
        f"recorded: {name} {status} for {got['change'][:12]} at {stage} by {got['reporter']}"
    )


def _post_decision(
    server: str | None, promotion: str, path: str, otp: str, reason: str
) -> dict[str, Any]:
    """POST your MFA-checked decision (``path`` under the promotion) with its reason."""
    from urllib.parse import quote

    got: dict[str, Any] = Client(server).request(
        "POST",
        f"/api/v1/promotions/{quote(promotion, safe='')}/{path}",
        json_body={"otp": otp, "reason": reason},
    )
    return got


@gate_group.command("approve")
@click.argument("promotion", type=record_id("promotion id"))
@click.option("--otp", required=True, help="Your current one-time code.")
@click.option("--reason", default="", help="Why you approve.")
@server_option
@format_option("json")
def approve_cmd(promotion: str, otp: str, reason: str, server: str | None, fmt: str) -> None:
    """Approve a promotion as yourself (or review a break-glass one), MFA-checked by the server."""
    got = _post_decision(server, promotion, "approvals", otp, reason)
    if fmt == "json":
        echo_json(got)
        return
    what = "follow-up review recorded for" if got["break_glass_follow_up"] else "approved"
    click.echo(
        f"{what} {got['promotion']} ({got['sha'][:12]} → {got['stage']}) by {got['approver']}; "
        f"state: {got['state']}"
    )


@gate_group.command("withdraw")
@click.argument("promotion", type=record_id("promotion id"))
@click.option("--otp", required=True, help="Your current one-time code.")
@click.option("--reason", default="", help="Why you withdraw your approval.")
@server_option
@format_option("json")
def withdraw_cmd(promotion: str, otp: str, reason: str, server: str | None, fmt: str) -> None:
    """Withdraw your own approval of a promotion (MFA); `gate check` stops counting it."""
    got = _post_decision(server, promotion, "approvals/withdrawal", otp, reason)
    if fmt == "json":
        echo_json(got)
        return
    click.echo(f"approval of {got['promotion']} by {got['withdrawn_by']} withdrawn")


@gate_group.command("pending")
@server_option
@format_option("json")
def pending_cmd(server: str | None, fmt: str) -> None:
    """Promotions waiting for approval."""
    rows = Client(server).request("GET", "/api/v1/promotions", params={"pending": "true"})
    _print_rows(rows, fmt)


@gate_group.command("check")
@click.option("--change", required=True, help="Commit SHA about to be deployed.")
@click.option("--artifact", required=True, help="Digest of the artifact about to be deployed.")
@click.option(
    "--to",
    "stage",
    required=True,
    type=estate_name("stage name"),
    help="Stage being deployed to.",
)
@click.option(
    "--out",
    type=PathParam(dir_okay=False, output=True),
    default=None,
    help="Write the attestation here.",
)
@click.option(
    "--subject-name", default="artifact", show_default=True, help="Attestation subject name."
)
@pipeline_options
@server_option
@format_option("json")
def check_cmd(
    change: str,
    artifact: str,
    stage: str,
    out: str | None,
    subject_name: str,
    oidc_env: str | None,
    audience: str | None,
    server: str | None,
    fmt: str,
) -> None:
    """Ask the server whether this commit + artifact may be deployed now (pipelines only);
    exit 0 with the attestation the server signed."""
    target = Path(out) if out is not None else None
    if target is not None and not target.parent.is_dir():
        raise UsageError(
            f"--out {out}: the directory {target.parent} does not exist",
            hint="create it first or choose another path; nothing was checked or recorded",
        )
    got = pipeline_client(server, oidc_env, audience).request(
        "POST",
        "/api/v1/deployments",
        json_body={
            "change": change.strip(),
            "artifact": artifact.strip(),
            "stage": stage,
            "subject_name": subject_name,
        },
    )
    envelope = base64.b64decode(got["attestation"])
    if target is not None:
        try:
            target.write_bytes(envelope)
        except OSError as exc:
            raise UsageError(
                f"cannot write the attestation to {out}: {exc.strerror or exc}",
                hint="the deployment was allowed and recorded; `stagewall gate check` again "
                "returns a fresh attestation",
            ) from None
    pred = got["predicate"]
    if fmt == "json":
        echo_json({"allowed": True, "attestation": out, "predicate": pred})
    elif out is None:
        click.echo(envelope.decode(), nl=False)
    else:
        approvers = ", ".join(a["approver"] for a in pred["approvals"]) or "none"
        click.echo(
            f"allowed: {pred['sha'][:12]} → {pred['stage']} ({got['promotion']}); "
            f"approved by {approvers}; attestation written to {out}"
        )


@gate_group.command("verify")
@click.argument("attestation", type=PathParam(dir_okay=False))
@click.option("--public-key", type=PathParam(dir_okay=False), default=None, help="Pin this key.")
@click.option(
    "--stage",
    default=None,
    type=estate_name("stage name"),
    help="Fail unless the attestation is for this stage.",
)
@click.option(
    "--commit", default=None, help="Fail unless it is for this commit (its full SHA, not a prefix)."
)
@click.option("--digest", default=None, help="Fail unless it is for this artifact digest.")
@click.option(
    "--max-age",
    default=None,
    help="Fail unless it was signed at most this long ago (e.g. 15m, 1h).",
)
@format_option("json")
def verify_cmd(
    attestation: str,
    public_key: str | None,
    stage: str | None,
    commit: str | None,
    digest: str | None,
    max_age: str | None,
    fmt: str,
) -> None:
    """Verify an attestation offline and print its summary (exit 1 on any mismatch).

    Pass --stage, --commit and --digest of what is being deployed: a valid
    attestation for another change proves nothing about this one. Pass --max-age
    where attestations are stored and read later: one signed before an approval
    stopped counting or a check failed still verifies.
    """
    from stagewall.gates._git import check_full_sha

    if commit is not None:
        commit = check_full_sha(commit, "--commit")
    age = None
    if max_age is not None:
        try:
            age = parse_duration(max_age)
        except ValueError as exc:
            raise UsageError(f"--max-age: {exc}", hint="e.g. --max-age 15m") from None
    try:
        data = Path(attestation).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {attestation}: {exc.strerror}") from None
    if public_key is not None:
        try:
            text = Path(public_key).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read public key {public_key}: {exc}") from None
        key = parse_public_key(text, source=public_key)
    else:
        key = load_public_key()
    v = verify_envelope(data, key)
    expect_subject(v, stage=stage, commit=commit, digest=digest, max_age=age)
    if commit is None and digest is None:
        click.echo(
            "warning: neither --commit nor --digest was given: this only shows the "
            "attestation is genuine, not that it is for what you deploy",
            err=True,
        )
    pred = v.predicate
    if fmt == "json":
        echo_json(
            {
                "verified": True,
                "keyid": v.keyid,
                "subject": v.statement["subject"],
                "predicate": pred,
            }
        )
        return
    click.echo(f"verified: signed by key {v.keyid[:16]}…")
    click.echo(
        f"  {pred['sha']} ({pred['digest']}) → {pred['stage']} "
        f"[{pred['environment']}] at {pred['time']}"
    )
    for a in pred["authors"]:
        click.echo(f"  author: {a.get('principal') or a.get('identity')} [{a['affiliation']}]")
    for a in pred["approvals"]:
        click.echo(
            f"  approved by {a['approver']} at {a['time']} "
            f"(MFA {a['mfa']['method']} at {a['mfa']['time']})"
        )
    for c in pred["checks"]:
        click.echo(f"  check {c['name']}: {c['status']}")
    if pred.get("break_glass"):
        click.echo(f"  BREAK-GLASS: {pred.get('break_glass_reason', '')}")
    click.echo(f"  rules {pred['rules_hash']}")


@gate_group.command("list")
@server_option
@format_option("json")
def list_cmd(server: str | None, fmt: str) -> None:
    """List promotions with their state."""
    _print_rows(Client(server).request("GET", "/api/v1/promotions"), fmt)


def _print_rows(rows: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        echo_json(rows)
        return
    if not rows:
        click.echo("no promotions")
    for r in rows:
        flag = " BREAK-GLASS" if r["break_glass"] else ""
        approvers = (
            ", ".join(
                a["by"] + (" (withdrawn)" if a.get("withdrawn") else "") for a in r["approvals"]
            )
            or "-"
        )
        click.echo(
            f"{r['id']}  {r['stage']:<12} {r['sha'][:12]}  {r['state']:<9} by {r['submitter']}"
            f"  approvals: {approvers}{flag}"
        )
        for problem in r.get("problems") or []:
            # rows the audit log does not back: `gate check` refuses them too (SW945)
            click.echo(f"  NOT VERIFIED: {problem}")


COMMANDS: list[click.Command] = [gate_group]
