"""Run every registered check over explicit inputs; read attestations; open inputs locally."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from stagewall.audit import AuditLog, WitnessPublicKey, parse_witness_key
from stagewall.errors import ConfigError, KeyMissing, StagewallError, reason_of
from stagewall.estate import Estate, load_estate
from stagewall.evidence._inputs import EvidenceInputs
from stagewall.evidence._model import Attestation, CheckResult, Evaluation, Window
from stagewall.evidence._registry import registered_checks
from stagewall.evidence.checks.oversight import _Attested
from stagewall.keys import PublicKey, load_public_key
from stagewall.paths import existing_store_url
from stagewall.store import Store, open_store

DEFAULT_WINDOW = timedelta(days=90)
ATTESTATIONS_FILE = "evidence-attestations.yaml"


def evaluate(inputs: EvidenceInputs) -> Evaluation:
    """Every check's result over ``inputs`` (one pass, store rows read once)."""
    results: dict[str, CheckResult] = {}
    for name, cls in registered_checks().items():
        results[name] = cls().run(inputs)
    return Evaluation(inputs.window, results, inputs.log_size)


# Times an evidence window may name: before 1970 no audit log exists, and the bounds
# leave room for the window arithmetic (--days, the default window) on either side.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def parse_time_arg(
    text: str,
    *,
    end_of_day: bool = False,
    what: str = "time",
    error: type[StagewallError] = ConfigError,
) -> datetime:
    """A date (``2026-12-01``) or an ISO 8601 time between 1970 and 9000; naive times
    are UTC. Anything else raises ``error``."""
    raw = text.strip()
    shown = repr(text) if len(text) <= 60 else f"{text[:40]!r}... ({len(text)} characters)"
    try:
        if len(raw) == 10:
            d = date.fromisoformat(raw)
            t = datetime(d.year, d.month, d.day, tzinfo=UTC)
            value = t + timedelta(days=1, microseconds=-1) if end_of_day else t
        else:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            value = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except ValueError:
        raise error(
            f"{what} {shown} is not a date or an ISO 8601 time",
            hint="use e.g. 2026-12-01 or 2026-12-01T10:00:00Z",
        ) from None
    except OverflowError:  # in UTC it falls before year 1 or after year 9999
        value = LATEST + timedelta(days=1)
    if not EARLIEST <= value <= LATEST:
        raise error(
            f"{what} {shown} lies outside {EARLIEST:%Y-%m-%d}..{LATEST:%Y-%m-%d}",
            hint="give a time within the life of the audit log",
        )
    return value


def make_window(start: datetime | None, end: datetime | None) -> Window:
    finish = end or datetime.now(UTC)
    begin = start or finish - DEFAULT_WINDOW
    if begin > finish:
        raise ConfigError(
            f"the window starts ({begin:%Y-%m-%d}) after it ends ({finish:%Y-%m-%d})",
            hint="give --from before --to",
        )
    return Window(begin, finish)


def attestable() -> set[str]:
    return {n for n, c in registered_checks().items() if issubclass(c, _Attested)}


def load_attestations(path: str | os.PathLike[str], estate: Estate) -> list[Attestation]:
    """Read an attestations file; each entry names an attestable check and an internal person."""
    source = Path(path)
    try:
        data: Any = yaml.safe_load(source.read_text("utf-8"))
    except RecursionError:
        raise ConfigError(
            f"cannot read attestations file {source}: it nests too deeply to be attestations"
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read attestations file {source}: {reason_of(exc)}") from None
    entries = (data or {}).get("attestations") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(
            f"attestations file {source} has no 'attestations:' list",
            hint="write attestations: [{check: policy.access_control, by: alice, "
            "date: 2026-11-02, statement: ...}]",
        )
    allowed = attestable()
    out = []
    for n, item in enumerate(entries, 1):
        if not isinstance(item, dict) or set(item) != {"check", "by", "date", "statement"}:
            raise ConfigError(
                f"attestations file {source}: entry {n} must have exactly check, by, date "
                "and statement"
            )
        check, by = str(item["check"]), str(item["by"])
        if check not in allowed:
            raise ConfigError(
                f"attestations file {source}: entry {n}: {check!r} is not an attestable check",
                hint="attestable checks: " + ", ".join(sorted(allowed)),
            )
        if not estate.is_internal(by):
            raise ConfigError(
                f"attestations file {source}: entry {n}: {by!r} is not an internal, enabled "
                "principal of the estate; only they can attest"
            )
        on = item["date"]
        if not isinstance(on, date):
            raise ConfigError(f"attestations file {source}: entry {n}: date is not YYYY-MM-DD")
        if not str(item["statement"]).strip():
            raise ConfigError(f"attestations file {source}: entry {n}: statement is empty")
        out.append(Attestation(check, by, on, str(item["statement"]).strip()))
    return out


def load_witness_key(path: str | os.PathLike[str]) -> WitnessPublicKey:
    """A witness verifier key (vkey, as `stagewall witness init` prints it) from a file."""
    source = Path(path)
    try:
        text = source.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read witness key {source}: {exc}") from None
    return parse_witness_key(text.strip(), source=f"witness key {source}")


def server_inputs(
    store: Store,
    estate: Estate,
    *,
    home: str | os.PathLike[str],
    config_dir: str | os.PathLike[str],
    window: Window,
) -> EvidenceInputs:
    """Inputs as the server holds them: its store and estate, the log key in its home,
    the attestations file next to stagewall.yaml, the store's pinned identities and the
    estate's witnesses."""
    try:
        key: PublicKey | None = load_public_key(home)
    except KeyMissing:
        key = None
    attested = Path(config_dir) / ATTESTATIONS_FILE
    return EvidenceInputs(
        store=store,
        audit=AuditLog(store, home=home),
        estate=estate,
        window=window,
        public_key=key,
        attestations=tuple(load_attestations(attested, estate)) if attested.is_file() else (),
    )


def open_local(
    *,
    config: str | None,
    db: str | None,
    window: Window,
    attestations: str | None = None,
    public_key: str | None = None,
    witness_keys: Sequence[str] = (),
) -> EvidenceInputs:
    """Inputs for local (server-less) use: estate file, existing store, keys in STAGEWALL_HOME."""
    loaded = load_estate(config)
    store: Store = open_store(existing_store_url(db))  # never an empty new one
    key: PublicKey | None
    try:
        key = load_public_key(path=public_key) if public_key else load_public_key()
    except KeyMissing:
        key = None
    found: list[Attestation] = []
    default = loaded.path.parent / ATTESTATIONS_FILE
    if attestations is not None:
        found = load_attestations(attestations, loaded.estate)
    elif default.is_file():
        found = load_attestations(default, loaded.estate)
    return EvidenceInputs(
        store=store,
        audit=AuditLog(store),
        estate=loaded.estate,
        window=window,
        public_key=key,
        attestations=tuple(found),
        witness_keys=tuple(load_witness_key(w) for w in witness_keys),
    )


__all__ = [
    "ATTESTATIONS_FILE",
    "DEFAULT_WINDOW",
    "attestable",
    "evaluate",
    "load_attestations",
    "load_witness_key",
    "make_window",
    "open_local",
    "parse_time_arg",
    "server_inputs",
]
