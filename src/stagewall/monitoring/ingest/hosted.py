"""Hosted git and object storage audit logs: GitHub, GitLab and AWS CloudTrail (JSON).

Each accepts JSON lines, a JSON array, or a ``{"Records": [...]}`` document.

- GitHub organisation audit log export/stream: ``action`` (``git.clone``,
  ``git.push``, ``protected_branch.destroy``...), ``actor``, ``actor_ip``, ``repo``,
  ``@timestamp`` (ms) or ``created_at``.
- GitLab audit events (stored or streamed): ``author_name``/``details.author_name``,
  ``entity_path``, ``event_type``/``event_name``/``details``, ``ip_address``, ``created_at``.
- CloudTrail: S3 data events (GetObject with ``bytesTransferredOut``, PutObject,
  DeleteObject, ListObjects) as datastore activity on the bucket; other calls
  (``StopLogging``, ``PutBucketPolicy``...) as API activity.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from stagewall.estate.models import MonitoringSource
from stagewall.monitoring.events import (
    API_CREATE,
    API_DELETE,
    API_READ,
    API_UPDATE,
    CLS_API_ACTIVITY,
    CLS_DATASTORE_ACTIVITY,
    DS_DELETE,
    DS_LIST,
    DS_QUERY,
    DS_READ,
    DS_WRITE,
    FAILURE,
    SUCCESS,
    Event,
)
from stagewall.monitoring.ingest._base import JsonParser, LineError, parse_iso, register

_READ_WORDS = ("clone", "fetch", "download", "pull", "git-upload-pack")


def _api_activity(action: str) -> int:
    low = action.lower()
    if any(w in low for w in _READ_WORDS):
        return API_READ
    if low.endswith(("create", ".add", "_add", "added", "created")):
        return API_CREATE
    if low.endswith(("destroy", "delete", "remove", "removed", "deleted", "_destroyed")):
        return API_DELETE
    return API_UPDATE


def _text(value: Any) -> str:
    return "" if value is None else str(value)


@register
class GitHubParser(JsonParser):
    name = "github"

    def record(self, rec: dict[str, Any]) -> Event | None:
        action = _text(rec["action"])
        stamp = rec.get("@timestamp")
        if stamp is not None and not isinstance(stamp, str):
            ts = float(stamp) / 1000.0
        else:
            created = rec.get("created_at", stamp)
            ts = (
                float(created) / 1000.0
                if isinstance(created, int | float)
                else parse_iso(str(created))
            )
        operation = action
        return Event(
            ts,
            CLS_API_ACTIVITY,
            _api_activity(action),
            user=_text(rec.get("actor")),
            src_ip=_text(rec.get("actor_ip")),
            host="github.com",
            target=_text(rec.get("repo") or rec.get("repository") or rec.get("org")),
            object=_text(rec.get("user") or rec.get("branch") or ""),
            operation=operation,
            detail=_text(rec.get("programmatic_access_type") or rec.get("protocol_name") or ""),
        )


_GITLAB_OPS = ("event_type", "event_name")


@register
class GitLabParser(JsonParser):
    name = "gitlab"

    def record(self, rec: dict[str, Any]) -> Event | None:
        raw_details = rec.get("details")
        details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
        operation = ""
        for key in _GITLAB_OPS:
            operation = _text(rec.get(key) or details.get(key))
            if operation:
                break
        if not operation:
            for key in ("change", "add", "remove", "custom_message", "action"):
                if key in details:
                    operation = f"{key}:{_text(details[key])}"[:120]
                    break
        git_action = _text(details.get("action") or rec.get("action"))
        if git_action in ("git-upload-pack", "git-receive-pack"):
            operation = "git.fetch" if git_action == "git-upload-pack" else "git.push"
        if not operation:
            raise LineError("a GitLab audit event without event_type/event_name/details")
        return Event(
            parse_iso(_text(rec["created_at"])),
            CLS_API_ACTIVITY,
            _api_activity(operation),
            user=_text(rec.get("author_name") or details.get("author_name")),
            src_ip=_text(rec.get("ip_address") or details.get("ip_address")),
            host="gitlab",
            target=_text(rec.get("entity_path") or details.get("entity_path")),
            object=_text(rec.get("target_details") or details.get("target_details")),
            operation=operation,
        )


_S3_ACTIVITY = {
    "GetObject": DS_READ,
    "PutObject": DS_WRITE,
    "CopyObject": DS_WRITE,
    "CompleteMultipartUpload": DS_WRITE,
    "DeleteObject": DS_DELETE,
    "DeleteObjects": DS_DELETE,
    "ListObjects": DS_LIST,
    "ListObjectsV2": DS_LIST,
    "HeadObject": DS_QUERY,
}


def _role_of(issuer_arn: str, arn: str, principal_id: str) -> tuple[str, str]:
    """(the role or user ARN that issued a session, the session's name).

    Everything but the session name is AWS's: the issuer's ARN (``sessionContext.
    sessionIssuer.arn``, or the role in ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/NAME``)
    and the role id before the ``:`` of ``principalId``. The name after it is the
    caller's (AssumeRole's RoleSessionName, GetFederationToken's Name)."""
    head, _, session = principal_id.partition(":")
    # arn:aws:sts::111122223333:assumed-role/ROLE/SESSION, ...:federated-user/NAME
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "sts":
        kind, _, rest = parts[5].partition("/")
        if kind == "assumed-role" and "/" in rest:
            role, _, session = rest.partition("/")
            if not issuer_arn:
                issuer_arn = f"arn:{parts[1]}:iam::{parts[4]}:role/{role}"
        elif kind == "federated-user":
            session = rest
    return issuer_arn or head, session


_SESSIONS = frozenset({"AssumedRole", "FederatedUser"})


class _Roles:
    """Which role ARNs match a source's declared patterns (``*`` wildcards), cached:
    a trail has few roles."""

    def __init__(self, patterns: list[str]) -> None:
        self._re = (
            re.compile("|".join(fnmatch.translate(p.lower()) for p in patterns))
            if patterns
            else None
        )
        self._seen: dict[str, bool] = {}

    def __contains__(self, role: str) -> bool:
        if self._re is None:
            return False
        hit = self._seen.get(role)
        if hit is None:
            if len(self._seen) > 4096:
                self._seen.clear()
            hit = self._seen[role] = self._re.match(role.lower()) is not None
        return hit


@register
class CloudTrailParser(JsonParser):
    """CloudTrail records. The user is who AWS says acted: the IAM user, or for a
    session (an assumed role, a federated user) the role or user that issued it. The
    session name, which the caller chooses, is kept in ``session`` and never names the
    user, except for the roles a source declares (``session_name_roles``: names set by
    the identity provider; ``source_identity_roles``: the source identity)."""

    name = "cloudtrail"

    def __init__(self, *, year: int | None = None) -> None:
        super().__init__(year=year)
        self._by_session_name = _Roles([])
        self._by_source_identity = _Roles([])
        # (issuer ARN, ARN, principalId) -> (role, session name): sessions repeat
        self._sessions: dict[tuple[str, str, str], tuple[str, str]] = {}

    def configure(self, source: MonitoringSource) -> None:
        super().configure(source)
        self._by_session_name = _Roles(source.session_name_roles)
        self._by_source_identity = _Roles(source.source_identity_roles)

    def _identity(self, identity: dict[str, Any]) -> tuple[str, str]:
        """(user, session name) of a record's ``userIdentity``."""
        if identity.get("type") not in _SESSIONS:
            user = _text(identity.get("userName") or identity.get("arn"))
            if user:
                return user, ""
            # AWSAccount (a caller in another account): "AROA...:session" at most
            head, _, session = _text(identity.get("principalId")).partition(":")
            return head, session
        context = identity.get("sessionContext")
        issuer_arn = source_identity = ""
        if type(context) is dict:
            issuer = context.get("sessionIssuer")
            if type(issuer) is dict:
                issuer_arn = _text(issuer.get("arn"))
            source_identity = _text(context.get("sourceIdentity"))
        key = (issuer_arn, _text(identity.get("arn")), _text(identity.get("principalId")))
        known = self._sessions.get(key)
        if known is None:
            if len(self._sessions) > 65536:
                self._sessions.clear()
            known = self._sessions[key] = _role_of(*key)
        role, session = known
        if source_identity and role in self._by_source_identity:
            return source_identity, session
        if session and role in self._by_session_name:
            return session, session
        return role, session

    def record(self, rec: dict[str, Any]) -> Event | None:
        name = _text(rec["eventName"])
        ts = parse_iso(_text(rec["eventTime"]))
        identity = rec.get("userIdentity") or {}
        params = rec.get("requestParameters") or {}
        extra = rec.get("additionalEventData") or {}
        status = FAILURE if rec.get("errorCode") else SUCCESS
        user, session = self._identity(identity)
        arn = _text(identity.get("arn"))
        ip = _text(rec.get("sourceIPAddress"))
        if rec.get("eventSource") == "s3.amazonaws.com" and name in _S3_ACTIVITY:
            size = (
                extra.get("bytesTransferredOut")
                if name == "GetObject"
                else extra.get("bytesTransferredIn")
            )
            return Event(
                ts,
                CLS_DATASTORE_ACTIVITY,
                _S3_ACTIVITY[name],
                status=status,
                user=user,
                src_ip=ip,
                host=_text(rec.get("recipientAccountId")),
                target=_text(params.get("bucketName")),
                object=_text(params.get("key")),
                operation=name,
                bytes=int(float(size)) if isinstance(size, int | float | str) and size else 0,
                detail=arn,
                session=session,
            )
        return Event(
            ts,
            CLS_API_ACTIVITY,
            _api_activity(name if not name.startswith(("Get", "List", "Describe")) else "download"),
            status=status,
            user=user,
            src_ip=ip,
            host=_text(rec.get("recipientAccountId")),
            target=_text(params.get("bucketName") or params.get("name") or rec.get("eventSource")),
            operation=name,
            detail=arn,
            session=session,
        )


__all__ = ["CloudTrailParser", "GitHubParser", "GitLabParser"]
