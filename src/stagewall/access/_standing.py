"""Access-review items beyond grants: every other standing access path.

A campaign reviews what lets someone act today, not only live grants:

* ``pipeline_token`` — a live per-pipeline token (up to 366 days);
* ``api_token`` — a live personal API token (CLI, script);
* ``admin`` / ``auditor`` — membership of ``server.admins`` / ``server.auditors``;
* ``pending_login`` — a database login of an *ended* grant whose removal has not yet
  verified (it may still let its holder in).

Browser sessions, enrolment tokens and CI job sessions are not items: they live hours
at most (``server.token_ttl``, 15 minutes, one hour) and end with the account or binding.

Revoking a token revokes it, in the transaction that records it. Revoking a login
retries its removal with proof. A membership is declared in stagewall.yaml, which the
server never edits: revoking it records a *finding* on the item (an audit event with
status failure and a critical alert) and the evidence check ``access.review_campaigns``
fails for as long as the estate still lists the principal. That is the honest outcome:
the review decided, a person must carry it out in git.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select, update

from stagewall.access import _events as ev
from stagewall.access._context import AccessContext
from stagewall.access._core import fmt_time
from stagewall.access._tables import access_campaign_items, access_credentials, access_grants
from stagewall.alerts import Alert, Severity
from stagewall.audit import Status
from stagewall.identity._codes import fmt
from stagewall.identity._tables import identity_tokens
from stagewall.identity.tokens import TokenKind, revoke_on


class ItemKind(enum.StrEnum):
    GRANT = "grant"
    PIPELINE_TOKEN = "pipeline_token"  # noqa: S105 - an item kind, not a secret
    API_TOKEN = "api_token"  # noqa: S105 - an item kind, not a secret
    ADMIN = "admin"
    AUDITOR = "auditor"
    PENDING_LOGIN = "pending_login"


TOKEN_KINDS = {ItemKind.PIPELINE_TOKEN: TokenKind.PIPELINE, ItemKind.API_TOKEN: TokenKind.API}
MEMBERSHIPS = {ItemKind.ADMIN: "server.admins", ItemKind.AUDITOR: "server.auditors"}


def item_kind(item: Mapping[str, Any]) -> ItemKind:
    return ItemKind(item.get("kind") or ItemKind.GRANT.value)


def item_resource(item: Mapping[str, Any]) -> str:
    """The audit resource of an item's events (what the decision is about)."""
    kind = item_kind(item)
    if kind in TOKEN_KINDS:
        return f"token:{item['subject']}"
    if kind in MEMBERSHIPS:
        return f"principal:{item['principal']}"
    return f"grant:{item['grant_id']}"


def members(ctx: AccessContext, kind: ItemKind) -> set[str]:
    """The principals stagewall.yaml lists (groups expanded) under the membership ``kind``."""
    server = ctx.estate.server
    return ctx.estate.expand(server.admins if kind is ItemKind.ADMIN else server.auditors)


def standing_items(ctx: AccessContext, conn: Connection) -> list[dict[str, Any]]:
    """Every standing access path that is not a live grant, as campaign item values."""
    now = fmt_time(ctx.now())
    out: list[dict[str, Any]] = []
    for kind, token_kind in TOKEN_KINDS.items():
        rows = conn.execute(
            select(identity_tokens.c.id, identity_tokens.c.principal, identity_tokens.c.expires_at)
            .where(identity_tokens.c.kind == token_kind.value)
            .where(identity_tokens.c.revoked_at.is_(None))
            .order_by(identity_tokens.c.principal, identity_tokens.c.id)
        ).all()
        for r in rows:
            if r.expires_at <= fmt(ctx.now()):
                continue
            role = "pipeline token" if kind is ItemKind.PIPELINE_TOKEN else "personal API token"
            out.append(
                {
                    "kind": kind.value,
                    "principal": r.principal,
                    "role": role,
                    "source": "token",
                    "subject": r.id,
                    "ends_at": r.expires_at,
                    "grant_id": None,
                }
            )
    for kind, listing in MEMBERSHIPS.items():
        for principal in sorted(members(ctx, kind)):
            out.append(
                {
                    "kind": kind.value,
                    "principal": principal,
                    "role": listing,
                    "source": "estate",
                    "subject": None,
                    "ends_at": None,
                    "grant_id": None,
                }
            )
    pending = conn.execute(
        select(
            access_credentials.c.grant_id,
            access_credentials.c.resource,
            access_grants.c.principal,
            access_grants.c.role,
            access_grants.c.ends_at,
        )
        .select_from(
            access_credentials.join(
                access_grants, access_grants.c.id == access_credentials.c.grant_id
            )
        )
        .where(access_credentials.c.state != "revoked")
        .order_by(access_credentials.c.grant_id, access_credentials.c.resource)
    ).all()
    live = {
        g
        for (g,) in conn.execute(
            select(access_grants.c.id)
            .where(access_grants.c.status == "active")
            .where(access_grants.c.ends_at > now)
        ).all()
    }
    for p in pending:
        if p.grant_id in live:
            continue  # a live grant is its own item
        out.append(
            {
                "kind": ItemKind.PENDING_LOGIN.value,
                "principal": p.principal,
                "role": p.role,
                "source": "login",
                "subject": p.resource,
                "ends_at": p.ends_at,
                "grant_id": p.grant_id,
            }
        )
    return out


def keep_problem(ctx: AccessContext, item: Mapping[str, Any]) -> str | None:
    """Why an item beyond grants can never be kept (None: the general rules decide)."""
    if item_kind(item) is ItemKind.PENDING_LOGIN:
        return (
            f"grant {item['grant_id']} has ended; its login on {item['subject']} awaits "
            "removal and is nobody's to keep"
        )
    return None


def _set_finding(conn: Connection, item_id: str, finding: str | None) -> None:
    conn.execute(
        update(access_campaign_items)
        .where(access_campaign_items.c.id == item_id)
        .values(finding=finding)
    )


def carry_out(ctx: AccessContext, item: Mapping[str, Any], *, actor: str, reason: str) -> None:
    """Carry out a revoke outcome on an item that is not a live grant (idempotent)."""
    from stagewall.access.revoke import revoke_logins

    kind = item_kind(item)
    resource = item_resource(item)
    if kind in TOKEN_KINDS:
        with ctx.store.transaction() as conn:
            done = revoke_on(
                conn,
                identity_tokens.c.id == item["subject"],
                now=ctx.now(),
                by=actor,
                audit=ctx.audit,
                why=f"revoked by an access review: {reason}",
            )
            if len(done) == 1:
                ctx.record(
                    ev.CAMPAIGN_REVOKED.code,
                    actor,
                    f"{item['role']} {item['subject']} of {item['principal']} revoked: {reason}",
                    resource=resource,
                    details={
                        "item": item["id"],
                        "kind": kind.value,
                        "principal": item["principal"],
                    },
                    conn=conn,
                )
        return
    if kind is ItemKind.PENDING_LOGIN:
        report = revoke_logins(ctx, item["grant_id"], {item["subject"]}, actor=actor, reason=reason)
        unverified = [p for p in report.proofs if not p.verified]
        finding = (
            f"removal of {', '.join(p.login for p in unverified)} on {item['subject']} not "
            "verified; the sweeper retries"
            if unverified
            else None
        )
        with ctx.store.transaction() as conn:
            _set_finding(conn, item["id"], finding)
        return
    listing = MEMBERSHIPS[kind]
    if item["principal"] not in members(ctx, kind):
        with ctx.store.transaction() as conn:
            _set_finding(conn, item["id"], None)
        return  # already removed from stagewall.yaml: nothing left to carry out
    finding = (
        f"{item['principal']} is still listed under {listing} in stagewall.yaml; stagewall "
        "never edits the estate: remove the entry (or its group membership) in git"
    )
    with ctx.store.transaction() as conn:
        current = conn.execute(
            select(access_campaign_items.c.finding).where(access_campaign_items.c.id == item["id"])
        ).scalar()
        if current == finding:
            return  # recorded already (a retried close)
        _set_finding(conn, item["id"], finding)
        ctx.record(
            ev.CAMPAIGN_FINDING.code,
            actor,
            f"access review {item['campaign_id']} revoked {listing} membership of "
            f"{item['principal']}, which stagewall cannot carry out: {finding}",
            status=Status.FAILURE,
            resource=resource,
            details={"item": item["id"], "kind": kind.value, "reason": reason},
            conn=conn,
        )
    ctx.alert(
        Alert(
            kind="access.review.finding",
            title=f"review revoked {listing} membership of {item['principal']}",
            text=finding,
            severity=Severity.CRITICAL,
            details={"item": item["id"], "campaign": item["campaign_id"]},
        )
    )


__all__ = [
    "ItemKind",
    "carry_out",
    "item_kind",
    "item_resource",
    "keep_problem",
    "standing_items",
]
