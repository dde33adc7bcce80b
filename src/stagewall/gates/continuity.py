"""Gate continuity: hash the effective gate rules and spot any weakening.

The effective rules are the stages in order, the approval rules they reference and
the members of the groups those rules draw approvers from. Every gate command
compares their hash with the last one recorded; a change is written to the audit
log (``gate.rules.changed``), and a weakening as a warning finding
(``gate.rules.weakened``) that lists what weakened, so an auditor can show the
controls were in force for a whole period.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select

from stagewall.audit import AuditLog, Status
from stagewall.estate import Estate, format_duration
from stagewall.gates._events import RULES_CHANGED, RULES_WEAKENED, event
from stagewall.gates._tables import gate_rules
from stagewall.store import Store

_LOCK = "stagewall.gates.rules"


def rules_document(estate: Estate) -> dict[str, Any]:
    """The effective gate rules as plain, canonical-ready data."""
    stages: list[dict[str, Any]] = []
    rules: dict[str, Any] = {}
    groups: dict[str, list[str]] = {}
    for s in estate.stages:
        stages.append(
            {
                "name": s.name,
                "environment": s.environment,
                "production": estate.is_production(s.environment),
                "checks": sorted(set(s.checks)),
                "approval": s.approval,
                "wait_seconds": int(s.wait.total_seconds()) if s.wait else 0,
                "approval_valid_seconds": int(s.approval_valid_for.total_seconds()),
                "deployers": sorted(set(s.deployers)),
                "require_signed_commits": estate.signed_commits_required(s),
                # only when declared, so estates without it keep their rules hash
                **(
                    {"check_reporters": sorted(estate.expand(s.check_reporters))}
                    if s.check_reporters is not None
                    else {}
                ),
            }
        )
        if s.approval is not None and s.approval in estate.approval_rules:
            r = estate.approval_rules[s.approval]
            rules[s.approval] = {
                "approvals": r.approvals,
                "from_groups": sorted(set(r.from_groups)),
            }
            for g in r.from_groups:
                groups[g] = sorted(estate.group_members(g))
    return {"version": 1, "stages": stages, "approval_rules": rules, "groups": groups}


def canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def rules_hash(doc: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical(doc)).hexdigest()


def _approvers(doc: dict[str, Any], stage: dict[str, Any]) -> tuple[int, set[str] | None]:
    """(approvals needed, the approver pool or None when any internal principal may approve)."""
    rule = doc["approval_rules"].get(stage["approval"]) if stage["approval"] else None
    if rule is None:
        return 0, None
    if not rule["from_groups"]:
        return int(rule["approvals"]), None
    pool: set[str] = set()
    for g in rule["from_groups"]:
        pool |= set(doc["groups"].get(g, []))
    return int(rule["approvals"]), pool


def weakenings(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every way ``new`` is weaker than ``old`` (empty when it is not)."""
    out: list[str] = []
    new_stages = {s["name"]: s for s in new["stages"]}
    old_order = [s["name"] for s in old["stages"] if s["name"] in new_stages]
    new_order = [
        s["name"] for s in new["stages"] if s["name"] in {x["name"] for x in old["stages"]}
    ]
    if old_order != new_order:
        out.append(f"stage order changed from {' → '.join(old_order)} to {' → '.join(new_order)}")
    for o in old["stages"]:
        name = o["name"]
        n = new_stages.get(name)
        if n is None:
            out.append(f"stage {name}: removed")
            continue
        if o["production"] and not n["production"]:
            out.append(f"stage {name}: environment is no longer production")
        for check in sorted(set(o["checks"]) - set(n["checks"])):
            out.append(f"stage {name}: required check {check!r} removed")
        o_need, o_pool = _approvers(old, o)
        n_need, n_pool = _approvers(new, n)
        if n_need < o_need:
            out.append(f"stage {name}: approvals required lowered from {o_need} to {n_need}")
        if n_need > 0 and o_pool is not None:
            if n_pool is None:
                out.append(f"stage {name}: approvers no longer restricted to groups")
            elif n_pool - o_pool:
                added = ", ".join(sorted(n_pool - o_pool))
                out.append(f"stage {name}: approver pool widened by {added}")
        if n["wait_seconds"] < o["wait_seconds"]:
            before = format_duration(timedelta(seconds=o["wait_seconds"]))
            after = (
                format_duration(timedelta(seconds=n["wait_seconds"]))
                if n["wait_seconds"]
                else "none"
            )
            out.append(f"stage {name}: wait time lowered from {before} to {after}")
        o_valid, n_valid = o.get("approval_valid_seconds"), n.get("approval_valid_seconds")
        if o_valid is not None and n_valid is not None and n_valid > o_valid:
            out.append(
                f"stage {name}: approvals count longer, "
                f"{format_duration(timedelta(seconds=o_valid))} → "
                f"{format_duration(timedelta(seconds=n_valid))}"
            )
        if o["require_signed_commits"] and not n["require_signed_commits"]:
            out.append(f"stage {name}: signed commits no longer required")
        for dep in sorted(set(n["deployers"]) - set(o["deployers"])):
            out.append(f"stage {name}: deployer {dep!r} added")
        if o["deployers"] and not n["deployers"]:
            out.append(f"stage {name}: deployer restriction removed")
        if "check_reporters" in o and "check_reporters" not in n:
            out.append(f"stage {name}: check reporter restriction removed")
        for rep in sorted(set(n.get("check_reporters", [])) - set(o.get("check_reporters", []))):
            if "check_reporters" in o:
                out.append(f"stage {name}: check reporter {rep!r} added")
    return out


def record_rules(store: Store, log: AuditLog, estate: Estate, now: str, actor: str) -> str:
    """Record the effective rules if they changed since the last record; return their hash.

    Runs on every gate command. A change is one ``gate.rules.changed`` event with the
    old and new hashes; a weakening adds a ``gate.rules.weakened`` warning listing what.
    """
    doc = rules_document(estate)
    digest = rules_hash(doc)
    with store.transaction() as conn:
        store.lock(conn, _LOCK)
        last = conn.execute(
            select(gate_rules.c.hash, gate_rules.c.document)
            .order_by(gate_rules.c.id.desc())
            .limit(1)
        ).first()
        if last is not None and last[0] == digest:
            return digest
        old = json.loads(last[1]) if last is not None else None
        conn.execute(
            insert(gate_rules).values(
                hash=digest, document=canonical(doc).decode(), recorded_at=now
            )
        )
        details = {"rules_hash": digest, "previous_hash": last[0] if last else None, "rules": doc}
        first = last is None
        log.append(
            event(
                RULES_CHANGED.code,
                Status.SUCCESS,
                actor,
                "gate rules recorded for the first time" if first else "gate rules changed",
                "gate:rules",
                details,
            ),
            conn=conn,
        )
        weak = weakenings(old, doc) if old is not None else []
        if weak:
            log.append(
                event(
                    RULES_WEAKENED.code,
                    Status.SUCCESS,
                    actor,
                    "gate rules weakened: " + "; ".join(weak),
                    "gate:rules",
                    {
                        "severity": "warning",
                        "weakened": weak,
                        "rules_hash": digest,
                        "previous_hash": last[0] if last else None,
                    },
                ),
                conn=conn,
            )
    return digest


__all__ = ["canonical", "record_rules", "rules_document", "rules_hash", "weakenings"]
