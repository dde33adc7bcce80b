"""``stagewall audit``: verify, export, prove, tail and checkpoint the audit log."""

from __future__ import annotations

import io
import json
import os
import sys
import tarfile
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from stagewall.audit import MAX_INDEX, AuditLog, WitnessPolicy, witness_checkpoints
from stagewall.audit._bundle import export_bundle, verify_bundle
from stagewall.audit._merkle import leaf_hash, verify_inclusion
from stagewall.audit._verify import VerifyReport, read_checkpoint_files, verify_store
from stagewall.cli._client import Client, refuse_empty_server
from stagewall.cli._common import (
    config_option,
    db_option,
    echo_json,
    format_option,
    one_line,
    pinned_public_key,
)
from stagewall.cli._params import PathParam
from stagewall.errors import (
    ChainBroken,
    ConfigError,
    IntegrityError,
    KeyMissing,
    TrustAnchorInBundle,
    UsageError,
    reason_of,
)
from stagewall.estate.loader import load_estate_optional
from stagewall.keys import load_public_key, load_signing_key
from stagewall.paths import config_path, existing_store_url, home
from stagewall.store import open_store


def _log(db: str | None) -> AuditLog:
    """The audit log of an existing store; never creates an empty store to read from."""
    return AuditLog(open_store(existing_store_url(db)))


def _remote(server: str | None, db: str | None) -> Client | None:
    """The server to read from: ``--server`` or STAGEWALL_SERVER, unless ``--db`` is given.

    Reading through the server needs no store and no key on this machine; ``--db`` reads
    a store directly (on the server host, or a copy an auditor was given).
    """
    if server and db:
        raise UsageError(
            "--server and --db name two different logs",
            hint="read through the server (--server) or a store you hold (--db), not both",
        )
    if db is None and (server or os.environ.get("STAGEWALL_SERVER")):
        return Client(server)
    return None


MAX_TAIL = 1_000_000

remote_option = click.option(
    "--server",
    "server",
    default=None,
    callback=refuse_empty_server,
    metavar="URL",
    help="Read through this stagewall server (default: $STAGEWALL_SERVER) instead of a store.",
)


def _policy(config: str | None) -> WitnessPolicy | None:
    """The witness policy of the estate file, if there is one and it names witnesses."""
    loaded = load_estate_optional(config)
    if loaded is None:
        return None
    return WitnessPolicy.from_settings(loaded.estate.audit, Path(loaded.path).parent)


def _within(path: Path, base: Path) -> bool:
    """Whether ``path`` is ``base`` or lies under it, as written or with links resolved
    (a link in the bundle to a directory shipped beside it counts as inside)."""
    pairs = (
        (Path(os.path.abspath(path)), Path(os.path.abspath(base))),
        (path.resolve(), base.resolve()),
    )
    return any(p == b or p.is_relative_to(b) for p, b in pairs)


def _trust_outside(bundle: str, public_key: str | None, config: str | None) -> None:
    """Refuse a pinned key or an estate file that comes from inside ``bundle``.

    With no ``--public-key`` the key is the one in the state directory, which is
    ``./.stagewall`` when nothing else is configured; run inside a forged bundle, that
    is the forger's key. The estate file (``./stagewall.yaml`` by default) names the
    witnesses whose cosignatures count: the forger's own, if it came with the bundle.
    """
    base = Path(bundle)
    if public_key:
        key_at = Path(public_key)
        what = f"--public-key {public_key}"
    else:
        key_at = home()
        what = f"the state directory {key_at} (no --public-key was given)"
    if _within(key_at, base):
        raise TrustAnchorInBundle(
            f"the public key to verify bundle {bundle} with comes from inside that bundle "
            f"({what}): a forged bundle would bring the key that vouches for it"
        )
    estate = config_path(config)
    if estate is not None and _within(estate, base):
        raise TrustAnchorInBundle(
            f"the estate file {estate} (its audit.witnesses decide whose cosignatures count) "
            f"lies inside bundle {bundle}: a forged bundle would bring its own witnesses"
        )


def _as_of(value: str | None) -> datetime | None:
    from stagewall.evidence.evaluate import parse_time_arg

    if value is None:
        return None
    return parse_time_arg(value, what="--as-of", error=UsageError)


def _report(report: VerifyReport, fmt: str, what: str) -> None:
    if fmt == "json":
        echo_json(report.to_json())
    else:
        click.echo(
            f"ok: {what} verified: {report.size} events, root {report.root.hex()}, "
            f"{len(report.checkpoints)} checkpoint(s) consistent"
        )
        for proof in report.consistency:
            click.echo(
                f"ok: consistent with {proof['checkpoint']} "
                f"(size {proof['old_size']} -> {proof['new_size']})"
            )
        if report.witnesses is not None:
            w = report.witnesses
            click.echo(
                f"ok: witnessed by {', '.join(w.fresh_witnesses)} (quorum {w.quorum}), "
                f"newest cosigned size {w.newest_cosigned_size}"
            )
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


@audit_group.command("verify")
@db_option
@click.option("--bundle", type=PathParam(), default=None, help="Verify an exported bundle offline.")
@click.option(
    "--checkpoint", "checkpoints", multiple=True, type=PathParam(), help="Older checkpoint file."
)
@click.option(
    "--public-key",
    type=PathParam(),
    default=None,
    help="Trusted public key (pin); default: the one in STAGEWALL_HOME.",
)
@config_option
@click.option(
    "--offline",
    is_flag=True,
    help="Do not ask the witnesses which size they cosigned last (store only).",
)
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="Judge witness freshness at this UTC time (e.g. when you received the bundle).",
)
@click.option(
    "--allow-uncheckpointed",
    "allow_uncheckpointed",
    is_flag=True,
    help="Store only: accept events after the newest signed checkpoint with a warning "
    "(default: they fail verification, SW977).",
)
@format_option("json")
def verify_cmd(
    db: str | None,
    bundle: str | None,
    checkpoints: tuple[str, ...],
    public_key: str | None,
    config: str | None,
    offline: bool,
    as_of: str | None,
    allow_uncheckpointed: bool,
    fmt: str,
) -> None:
    """Recompute chain and tree; check signatures, consistency and witness cosignatures.

    With witnesses in stagewall.yaml (audit.witnesses), a quorum of them must have
    cosigned recently and the log must hold every size they cosigned. Events no
    signed checkpoint covers fail (run `stagewall audit checkpoint` first, or pass
    --allow-uncheckpointed). Exit 1 names the bad index.
    """
    try:
        if bundle is not None and allow_uncheckpointed:
            raise UsageError(
                "--allow-uncheckpointed applies to a store, not to a bundle",
                hint="a bundle's events must all lie under a signed checkpoint; ask for a "
                "bundle exported by the server",
            )
        if bundle is not None:
            _trust_outside(bundle, public_key, config)
        policy = _policy(config)
        key = pinned_public_key(public_key)
        now = _as_of(as_of)
        if bundle is not None:
            report = verify_bundle(
                bundle,
                public_key=key,
                checkpoint_files=list(checkpoints),
                policy=policy,
                now=now,
            )
            _report(report, fmt, f"bundle {bundle}")
            return
        report = verify_store(
            _log(db),
            key,
            checkpoint_files=list(checkpoints),
            policy=policy,
            online=not offline,
            now=now,
            checkpointed=not allow_uncheckpointed,
        )
        _report(report, fmt, "audit log")
    except IntegrityError as exc:
        if fmt == "json":
            echo_json(
                {
                    "ok": False,
                    "error": exc.code,
                    "index": getattr(exc, "index", None),
                    "message": exc.message,
                }
            )
        raise


@audit_group.command("export")
@db_option
@remote_option
@click.option("--out", required=True, type=PathParam(file_okay=False), help="Bundle directory.")
def export_cmd(db: str | None, server: str | None, out: str) -> None:
    """Write a self-contained bundle an auditor verifies offline."""
    client = _remote(server, db)
    if client is not None:
        _download_bundle(client, Path(out))
        return
    log = _log(db)  # a missing store first: it is what the command reads
    try:
        signer = load_signing_key()
    except KeyMissing:
        signer = None
    public = signer.public if signer is not None else load_public_key()
    res = export_bundle(log, out, signing_key=signer, public_key=public)
    click.echo(f"exported {res.size} events and {res.checkpoints} checkpoint(s) to {res.out}")
    if signer is None:
        click.echo("warning: no signing key here; no fresh checkpoint was written", err=True)


def _inside(name: str) -> bool:
    """Whether an archive member's path stays inside the bundle directory (no ``..``,
    no absolute path, no empty part): the archive is the server's word."""
    if not name:
        return True
    parts = name.rstrip("/").split("/")
    return "\\" not in name and all(p not in ("", ".", "..") for p in parts)


def _download_bundle(client: Client, out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(
            f"{out} exists and is not an empty directory", hint="choose a new directory"
        )
    data = client.download("/api/v1/audit/bundle")
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            members = tar.getmembers()
            prefix = "stagewall-audit/"
            if not members or any(
                not (m.isfile() or m.isdir())
                or not (m.name == prefix[:-1] or m.name.startswith(prefix))
                or not _inside(m.name[len(prefix) :])
                for m in members
            ):
                raise UsageError("the server's bundle has unexpected entries; nothing written")
            out.mkdir(parents=True, exist_ok=True)
            for m in members:
                if m.isfile():
                    target = out / m.name[len(prefix) :]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(m)
                    if source is None:
                        continue
                    target.write_bytes(source.read())
    except tarfile.TarError as exc:
        raise UsageError(f"the server's bundle is not a readable archive: {exc}") from None
    with (out / "events.jsonl").open("rb") as fh:
        events = sum(1 for _ in fh)
    click.echo(f"downloaded a bundle of {events} events from {client.server} to {out}")
    click.echo(
        "verify it against the public key you were given, not the one inside it: "
        f"stagewall audit verify --bundle {out} --public-key FILE",
        err=True,
    )


@audit_group.command("checkpoint")
@db_option
@format_option("json")
def checkpoint_cmd(db: str | None, fmt: str) -> None:
    """Sign and store a checkpoint of the current log."""
    cp = _log(db).checkpoint()
    if fmt == "json":
        echo_json({"size": cp.size, "root_hash": cp.root.hex(), "note": cp.note})
    else:
        click.echo(cp.note, nl=False)


@audit_group.command("witness")
@db_option
@config_option
@format_option("json")
def witness_cmd(db: str | None, config: str | None, fmt: str) -> None:
    """Checkpoint the log now and collect cosignatures from the configured witnesses."""
    policy = _policy(config)
    if policy is None:
        raise ConfigError(
            "no witnesses are configured",
            hint="add audit.witnesses to stagewall.yaml (see docs/audit.md, Witnesses)",
        )
    cosigs = witness_checkpoints(_log(db), policy.witnesses, git=policy.git)
    if fmt == "json":
        echo_json(
            [{"witness": c.witness, "size": c.size, "timestamp": c.timestamp} for c in cosigs]
        )
    else:
        for c in cosigs:
            click.echo(f"cosigned by {c.witness}: tree size {c.size} at {c.timestamp}")
    missing = len({w.name for w in policy.witnesses}) - len({c.witness for c in cosigs})
    if missing:
        click.echo(f"warning: {missing} witness(es) did not cosign", err=True)


@audit_group.command("proof")
@click.argument("index", type=int)
@click.option("--size", "tree_size", type=int, default=None, help="Tree size (default: current).")
@db_option
@remote_option
@format_option("json")
def proof_cmd(
    index: int, tree_size: int | None, db: str | None, server: str | None, fmt: str
) -> None:
    """Print an inclusion proof for event INDEX (verify with `audit verify-proof`)."""
    if not 0 <= index <= MAX_INDEX:
        raise UsageError(f"INDEX {index} is not an event index", hint="give 0 or more")
    if tree_size is not None and not 1 <= tree_size <= MAX_INDEX:
        raise UsageError(
            f"--size {tree_size} is not a tree size",
            hint="give 1 or more (at most the log's size), or leave --size out",
        )
    client = _remote(server, db)
    if client is not None:
        params = {} if tree_size is None else {"size": tree_size}
        data = client.request("GET", f"/api/v1/audit/proofs/{index}", params=params)
    else:
        log = _log(db)
        data = log.inclusion_proof(index, tree_size).to_json()
        data["event"] = log.events(index, 1)[0].raw.decode("utf-8")
    if fmt == "json":
        echo_json(data)
        return
    click.echo(f"leaf index: {data['leaf_index']}\ntree size:  {data['tree_size']}")
    click.echo(f"leaf hash:  {data['leaf_hash']}\nroot hash:  {data['root_hash']}")
    click.echo("audit path:")
    for h in data["audit_path"]:
        click.echo(f"  {h}")


def _load_proof(path: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        return data
    except RecursionError:
        raise UsageError(
            f"cannot read the proof {path}: it nests JSON too deeply to be a proof",
            hint="pass the output of `stagewall audit proof INDEX --format json`",
        ) from None
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"cannot read the proof {path}: {reason_of(exc)}",
            hint="pass the output of `stagewall audit proof INDEX --format json`",
        ) from exc


def _whole(value: Any, name: str) -> int:
    """A proof's index or size: a JSON integer (or its decimal text), never 1e400 or true."""
    if type(value) is int or (type(value) is str and value.isdecimal()):
        return int(value)
    raise ValueError(f"{name} {json.dumps(value)[:40]} is not a whole number")


@audit_group.command("verify-proof")
@click.argument("proof_file", type=PathParam())
@click.option("--checkpoint", type=PathParam(), default=None, help="Signed checkpoint to bind to.")
@click.option("--public-key", type=PathParam(), default=None, help="Key for --checkpoint.")
def verify_proof_cmd(proof_file: str, checkpoint: str | None, public_key: str | None) -> None:
    """Verify an inclusion proof offline (optionally against a signed checkpoint)."""
    data = _load_proof(proof_file)
    try:
        index = _whole(data["leaf_index"], "leaf_index")
        size = _whole(data["tree_size"], "tree_size")
        root = bytes.fromhex(data["root_hash"])
        path = [bytes.fromhex(h) for h in data["audit_path"]]
        leaf = bytes.fromhex(data["leaf_hash"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"the proof {proof_file} is malformed: {exc}") from exc
    if "event" in data and leaf_hash(str(data["event"]).encode("utf-8")) != leaf:
        raise ChainBroken(f"the event in {proof_file} does not hash to its leaf hash")
    if checkpoint is not None:
        key = load_public_key(path=public_key) if public_key else load_public_key()
        ((_source, cp),) = read_checkpoint_files([checkpoint], key)
        if cp.size != size or cp.root != root:
            raise ChainBroken(
                f"the proof is for tree size {size}, root {root.hex()[:16]}..., which is not "
                f"checkpoint {checkpoint} (size {cp.size})",
                hint="request the proof with --size equal to the checkpoint's tree size",
            )
    if not verify_inclusion(leaf, index, size, path, root):
        raise ChainBroken(f"the inclusion proof for index {index} does not verify")
    click.echo(f"ok: event {index} is included in the tree of size {size}")
    if checkpoint is None:
        click.echo(
            "warning: the root is the proof's own and NOT bound to a signed checkpoint: anyone "
            "can write a proof like this one; pass --checkpoint FILE (a checkpoint of tree size "
            f"{size} signed by the log key) and --public-key FILE",
            err=True,
        )


@audit_group.command("tail")
@click.option("-n", "count", type=int, default=10, show_default=True, help="Number of events.")
@db_option
@remote_option
@format_option("json")
def tail_cmd(count: int, db: str | None, server: str | None, fmt: str) -> None:
    """Show the newest events."""
    if count < 0:
        raise UsageError("-n must not be negative")
    if count > MAX_TAIL:
        raise UsageError(
            f"-n {count} is more than {MAX_TAIL} events",
            hint=f"give -n {MAX_TAIL} or fewer; `audit export` writes the whole log",
        )
    client = _remote(server, db)
    rows: list[dict[str, Any]]
    if client is not None:
        rows = []
        if count:
            limit = min(count, 1000)
            rows = client.request(
                "GET", "/api/v1/audit/events", params={"start": -limit, "limit": limit}
            )
        if fmt == "json":
            echo_json(rows)
            return
    else:
        events = _log(db).events(-count, count) if count else []
        if fmt == "json":
            echo_json([json.loads(e.raw) for e in events])
            return
        rows = [
            {"index": e.index, "time": e.time, "status": e.status.value, "code": e.code,
             "actor": e.actor, "resource": e.resource, "message": e.message}
            for e in events
        ]  # fmt: skip
    for e in rows:
        resource = f" {one_line(e['resource'])}" if e["resource"] else ""
        click.echo(
            f"{e['index']:>8} {e['time']} {e['status']:<7} {e['code']} {one_line(e['actor'])}"
            f"{resource}: {one_line(e['message'])}"
        )


COMMANDS: list[click.Command] = [audit_group]
