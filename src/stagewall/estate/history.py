"""Every change of the estate file's effective content, recorded in the audit log.

The *effective content* is the validated estate (``Estate.model_dump``), so a
comment or a reformatting is not a change, while any change of access rules,
tiers, affiliations, resources, stages, ... is. Whenever the control plane opens
an estate (every CLI command through ``AccessContext.open`` and the gate, and the
server when it reloads ``stagewall.yaml``), :func:`record_estate` compares the
content hash with the last one recorded in the store; on a difference it stores
the new document and appends one ``estate.changed`` event with the old and new
content hashes, the old and new file digests (SHA-256 of the bytes), a summary of
what changed per section (added, removed, changed names and fields) and a list of
what *weakened* (lower approval counts, dropped group restrictions, an
environment that is no longer production, an external that became internal,
a re-enabled principal, widened eligibility, longer maximum durations, principals
added to ``segmentation.reporters`` or ``scan.reporters``, an alert webhook or audit
witness that now allows plain http, an audit witness removed, re-keyed or re-pointed,
a lower ``witness_quorum`` or a longer ``witness_max_age``).

Alert sink settings can hold secrets (a Slack webhook path): only their hash is
kept, and everything stored goes through :func:`stagewall.redact.redact_tree`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from stagewall.audit import AuditEvent, AuditLog, EventType, Status, register_event_type
from stagewall.errors import StagewallError
from stagewall.estate._duration import parse_duration
from stagewall.estate._tables import estate_versions
from stagewall.estate.loader import LoadedEstate
from stagewall.estate.models import Estate
from stagewall.redact import redact_tree
from stagewall.store import Store

EV_CHANGED = register_event_type(
    EventType(
        "estate.changed",
        6003,
        "API Activity",
        3,
        "Update",
        "the effective content of stagewall.yaml changed (details: hashes, summary, weakened)",
    )
)

_LOCK = "stagewall.estate.versions"
_MAX_VALUE = 200


def document(estate: Estate) -> dict[str, Any]:
    """The effective content as plain data (alert sinks by hash only)."""
    doc: dict[str, Any] = estate.model_dump(mode="json", exclude={"alerts"})
    alerts = json.dumps(
        [a.model_dump(mode="json") for a in estate.alerts], sort_keys=True, default=str
    )
    doc["alerts_sha256"] = hashlib.sha256(alerts.encode()).hexdigest()
    # Which webhooks accept plain http, by the SHA-256 of their URL (a Slack webhook's
    # path is a secret): only present when one does, so other estates hash as before.
    plain = _plaintext_webhooks(estate)
    if plain:
        doc["alerts_plaintext"] = plain
    redacted: dict[str, Any] = redact_tree(doc)
    return redacted


def _plaintext_webhooks(estate: Estate) -> list[dict[str, Any]]:
    from stagewall.estate.models import WebhookSink

    return [
        {
            "index": i,
            "url_sha256": hashlib.sha256(str(sink.url or sink.url_env).encode()).hexdigest(),
        }
        for i, sink in enumerate(estate.alerts)
        if isinstance(sink, WebhookSink) and sink.allow_plaintext
    ]


def content_hash(doc: Mapping[str, Any]) -> str:
    data = json.dumps(dict(doc), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(data.encode()).hexdigest()


def file_digest(loaded: LoadedEstate) -> str:
    try:
        return "sha256:" + hashlib.sha256(loaded.path.read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


def _short(value: Any) -> Any:
    text = json.dumps(value, sort_keys=True, default=str)
    return value if len(text) <= _MAX_VALUE else text[:_MAX_VALUE] + "…"


def _keyed(section: Any) -> dict[str, Any] | None:
    """A section as name → value (dicts as they are, lists of named items by name)."""
    if isinstance(section, dict):
        return section
    if isinstance(section, list) and all(isinstance(i, dict) and "name" in i for i in section):
        return {str(i["name"]): i for i in section}
    return None


def summary(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Per section: names added and removed, and the fields that changed (old → new)."""
    out: dict[str, Any] = {}
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        ka, kb = _keyed(a), _keyed(b)
        if ka is None or kb is None:
            out[key] = {"changed": [_short(a), _short(b)]}
            continue
        section: dict[str, Any] = {}
        if added := sorted(set(kb) - set(ka)):
            section["added"] = added
        if removed := sorted(set(ka) - set(kb)):
            section["removed"] = removed
        changed: dict[str, Any] = {}
        for name in sorted(set(ka) & set(kb)):
            x, y = ka[name], kb[name]
            if x == y:
                continue
            if isinstance(x, dict) and isinstance(y, dict):
                changed[name] = {
                    f: [_short(x.get(f)), _short(y.get(f))]
                    for f in sorted(set(x) | set(y))
                    if x.get(f) != y.get(f)
                }
            else:
                changed[name] = [_short(x), _short(y)]
        if changed:
            section["changed"] = changed
        out[key] = section
    return out


def _production_envs(doc: Mapping[str, Any]) -> set[str]:
    envs = doc.get("environments") or {}
    return {n for n, e in envs.items() if e.get("tier") == "production"}


def _rule_of(doc: Mapping[str, Any], role: Mapping[str, Any]) -> tuple[int, tuple[str, ...]]:
    rule = (doc.get("approval_rules") or {}).get(role.get("approval") or "")
    if rule is None:
        return 0, ()
    return int(rule.get("approvals", 0)), tuple(sorted(rule.get("from_groups") or ()))


def weakenings(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Every way ``new`` lowers a bar ``old`` set, in words."""
    out: list[str] = []
    old_prod, new_prod = _production_envs(old), _production_envs(new)
    for env in sorted(old_prod - new_prod):
        if env in (new.get("environments") or {}):
            out.append(f"environment {env}: no longer production")
    old_p, new_p = old.get("principals") or {}, new.get("principals") or {}
    for name in sorted(set(old_p) & set(new_p)):
        a, b = old_p[name], new_p[name]
        if a.get("affiliation") != "internal" and b.get("affiliation") == "internal":
            out.append(f"principal {name}: {a.get('affiliation')} → internal")
        if a.get("disabled") and not b.get("disabled"):
            out.append(f"principal {name}: enabled again")
    old_r, new_r = old.get("roles") or {}, new.get("roles") or {}
    for name in sorted(set(old_r) & set(new_r)):
        a, b = old_r[name], new_r[name]
        if a.get("environment") in old_prod and b.get("environment") not in new_prod:
            out.append(f"role {name}: no longer production")
        (na, ga), (nb, gb) = _rule_of(old, a), _rule_of(new, b)
        if nb < na:
            out.append(f"role {name}: approvals required lowered from {na} to {nb}")
        if ga and not gb:
            out.append(f"role {name}: approvers no longer restricted to {', '.join(ga)}")
        elif ga and set(gb) - set(ga):
            out.append(
                f"role {name}: approver groups widened by {', '.join(sorted(set(gb) - set(ga)))}"
            )
        if wider := sorted(set(b.get("eligible") or ()) - set(a.get("eligible") or ())):
            out.append(f"role {name}: eligible widened by {', '.join(wider)}")
        if str(b.get("max_duration")) != str(a.get("max_duration")) and _seconds(
            b.get("max_duration")
        ) > _seconds(a.get("max_duration")):
            out.append(f"role {name}: max_duration raised")
        if b.get("create_objects") and not a.get("create_objects"):
            out.append(f"role {name}: holders may now create objects")
    old_g, new_g = old.get("groups") or {}, new.get("groups") or {}
    for name in sorted(set(old_g) & set(new_g)):
        added = set(new_g[name].get("members") or ()) - set(old_g[name].get("members") or ())
        if added:
            out.append(f"group {name}: members added: {', '.join(sorted(added))}")
    out += _reporter_and_plaintext_weakenings(old, new)
    return out


def _reporter_and_plaintext_weakenings(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """More principals whose reports the evidence counts; a sink or witness on plain http."""
    out: list[str] = []
    for section in ("segmentation", "scan"):
        a = set((old.get(section) or {}).get("reporters") or ())
        b = set((new.get(section) or {}).get("reporters") or ())
        if added := sorted(b - a):
            out.append(f"{section}.reporters: added {', '.join(added)}")
    was = {w.get("url_sha256") for w in old.get("alerts_plaintext") or ()}
    for w in new.get("alerts_plaintext") or ():
        if w.get("url_sha256") not in was:
            out.append(f"alerts[{w.get('index')}]: webhook now allows plain http")
    old_w = {str(w.get("public_key")): w for w in (old.get("audit") or {}).get("witnesses") or ()}
    for w in (new.get("audit") or {}).get("witnesses") or ():
        key = str(w.get("public_key"))
        if w.get("allow_plaintext") and not (old_w.get(key) or {}).get("allow_plaintext"):
            out.append(f"audit witness {key.split('+')[0]}: now allows plain http")
    return out + _witness_weakenings(old.get("audit") or {}, new.get("audit") or {})


def _witness_id(w: Mapping[str, Any]) -> str:
    """A witness by what makes it someone else's: its key (cosigning) or its name (e-mail)."""
    return str(w.get("public_key") or f"email:{w.get('name')}")


def _witness_weakenings(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Fewer or weaker witnesses: the auditor's check on truncation and rewrites.

    A witness removed or its key replaced, a smaller quorum, a longer witness_max_age, a
    git witness pointed at another repository (its key is held by the server, so only
    the repository that refuses rewrites makes it a witness), an e-mail witness that
    mails less often or to fewer auditors.
    """
    out: list[str] = []
    was = {_witness_id(w): w for w in old.get("witnesses") or ()}
    now = {_witness_id(w): w for w in new.get("witnesses") or ()}
    for wid in sorted(set(was) - set(now)):
        out.append(f"audit witness {wid.removeprefix('email:').split('+')[0]}: removed")
    for wid in sorted(set(was) & set(now)):
        a, b = was[wid], now[wid]
        name = wid.removeprefix("email:").split("+")[0]
        if a.get("type", "tlog") != "git" and b.get("type") == "git":
            out.append(f"audit witness {name}: now a git witness (its key is held by the server)")
        if a.get("type") == "git" and b.get("type") == "git":
            moved = [f for f in ("repository", "branch", "path") if a.get(f) != b.get(f)]
            if moved:
                out.append(f"audit witness {name}: {', '.join(moved)} changed")
        if a.get("type") == "email" and b.get("type") == "email":
            if _seconds(b.get("every")) > _seconds(a.get("every")):
                out.append(f"audit witness {name}: mails less often")
            gone = set((a.get("smtp") or {}).get("to") or ()) - set(
                (b.get("smtp") or {}).get("to") or ()
            )
            if gone:
                out.append(f"audit witness {name}: recipients removed: {', '.join(sorted(gone))}")
    if was and now and int(new.get("witness_quorum", 1)) < int(old.get("witness_quorum", 1)):
        out.append(
            f"audit.witness_quorum lowered from {old.get('witness_quorum')} "
            f"to {new.get('witness_quorum')}"
        )
    if now and _seconds(new.get("witness_max_age")) > _seconds(old.get("witness_max_age")):
        out.append(
            f"audit.witness_max_age raised from {old.get('witness_max_age')} "
            f"to {new.get('witness_max_age')}"
        )
    return out


def _seconds(value: Any) -> float:
    """A dumped duration ("2h", "30m", or seconds) in seconds; 0 when unreadable."""
    if isinstance(value, int | float):
        return float(value)
    try:
        return parse_duration(str(value)).total_seconds()
    except (ValueError, StagewallError):
        return 0.0


def record_estate(
    store: Store,
    loaded: LoadedEstate,
    *,
    actor: str = "stagewall",
    now: datetime | None = None,
    log: AuditLog | None = None,
) -> str:
    """Record ``loaded``'s effective content if it differs from the last record; its hash."""
    doc = document(loaded.estate)
    digest = content_hash(doc)
    with store.read() as conn:
        last = conn.execute(
            select(estate_versions.c.hash).order_by(estate_versions.c.id.desc()).limit(1)
        ).first()
    if last is not None and last[0] == digest:
        return digest  # the common case: one indexed read, no lock
    when = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    file_sha = file_digest(loaded)
    log = log or AuditLog(store)
    with store.transaction() as conn:
        store.lock(conn, _LOCK)
        prev = conn.execute(
            select(
                estate_versions.c.hash, estate_versions.c.file_sha256, estate_versions.c.document
            )
            .order_by(estate_versions.c.id.desc())
            .limit(1)
        ).first()
        if prev is not None and prev[0] == digest:
            return digest
        conn.execute(
            insert(estate_versions).values(
                hash=digest,
                file_sha256=file_sha,
                document=json.dumps(doc, sort_keys=True),
                recorded_at=when,
            )
        )
        old = json.loads(prev[2]) if prev is not None else None
        weak = weakenings(old, doc) if old is not None else []
        details: dict[str, Any] = {
            "path": str(loaded.path),
            "old_hash": prev[0] if prev is not None else None,
            "new_hash": digest,
            "old_file_sha256": prev[1] if prev is not None else None,
            "new_file_sha256": file_sha,
            "summary": summary(old, doc) if old is not None else {"first_record": True},
            "weakened": weak,
        }
        if weak:
            details["severity"] = "warning"
        message = (
            f"estate {loaded.path.name} recorded for the first time"
            if old is None
            else f"estate {loaded.path.name} changed: "
            + ", ".join(sorted(details["summary"]))
            + (f"; WEAKENED: {'; '.join(weak)}" if weak else "")
        )
        log.append(
            AuditEvent(
                EV_CHANGED.code,
                Status.SUCCESS,
                actor,
                message,
                resource=f"estate:{loaded.path.name}",
                details=redact_tree(details),
            ),
            conn=conn,
        )
    return digest


__all__ = ["EV_CHANGED", "content_hash", "document", "record_estate", "summary", "weakenings"]
