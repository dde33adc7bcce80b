"""Everything an access operation needs: estate, store, audit log, alerts, issuers, clock."""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select

from stagewall.access import _events as ev
from stagewall.access._tables import access_meta, access_offboarded
from stagewall.access.issuers import CredentialIssuer, ServerIdentity
from stagewall.access.issuers.postgres import PostgresIssuer
from stagewall.alerts import Alert, AlertDispatcher, AlertSink, Severity, sinks_from_config
from stagewall.audit import AuditEvent, AuditLog, EventRef, Status
from stagewall.errors import AccessDenied, ConfigError, StagewallError
from stagewall.estate import Estate, LoadedEstate, ResourceKind, load_estate
from stagewall.identity.actor import StepUp
from stagewall.identity.stepup import factor_of, verify_step_up
from stagewall.paths import home as state_home
from stagewall.paths import store_url
from stagewall.redact import redact, redact_tree
from stagewall.store import Store, open_store

IssuerFactory = Callable[[str], CredentialIssuer]

_log = logging.getLogger("stagewall.access")
_OFFBOARDED = select(access_offboarded.c.vendor)


@dataclass
class AccessContext:
    """Handles for one run of an access operation. Build it with :meth:`open`."""

    loaded: LoadedEstate
    store: Store
    audit: AuditLog
    alerts: AlertDispatcher
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    home: str | os.PathLike[str] | None = None
    issuer_factory: IssuerFactory | None = None
    _issuers: dict[str, CredentialIssuer] = field(default_factory=dict)
    _keep_admin_sessions: bool = False
    alerted_unattributed: set[tuple[str, str]] = field(default_factory=set)
    _instance: str | None = None
    # resource -> its pinned server identity, as read from the store. A pin is written
    # once and never changed or removed (stagewall.access.identity), so one read per
    # resource and process is the pin; a row edited in the store afterwards cannot
    # move it for this process.
    pins: dict[str, ServerIdentity] = field(default_factory=dict)

    @classmethod
    def open(
        cls,
        config: str | os.PathLike[str] | None = None,
        db: str | None = None,
        *,
        sinks: list[AlertSink] | None = None,
        clock: Callable[[], datetime] | None = None,
        home: str | os.PathLike[str] | None = None,
    ) -> AccessContext:
        loaded = load_estate(config)
        store = open_store(store_url(db, estate=loaded.path))  # the store follows the estate
        store.key_home = state_home(home, estate=loaded.path)  # its token key lives there
        if sinks is None:
            sinks = sinks_from_config(loaded.estate.alerts, Path(loaded.path).parent)
        ctx = cls(
            loaded=loaded,
            store=store,
            audit=AuditLog(store),
            alerts=AlertDispatcher(sinks),
            home=home,
        )
        if clock is not None:
            ctx.clock = clock
        ctx.record_estate()
        return ctx

    def record_estate(self) -> None:
        """An ``estate.changed`` event if stagewall.yaml's effective content changed."""
        from stagewall.estate.history import record_estate

        record_estate(self.store, self.loaded, now=self.now(), log=self.audit)

    @property
    def estate(self) -> Estate:
        return self.loaded.estate

    def now(self) -> datetime:
        return self.clock()

    def step_up(
        self,
        principal: str,
        otp: str | None,
        webauthn: str | Mapping[str, Any] | None = None,
        *,
        purpose: str,
    ) -> StepUp:
        """The one step-up check of every privileged act (TOTP, passkey or open window)."""
        return verify_step_up(
            self.store,
            principal,
            factor_of(otp, webauthn),
            purpose=purpose,
            now=self.now(),
            settings=self.estate.server,
            home=self.home,
        )

    # -- identity of this deployment ---------------------------------------

    def instance_id(self) -> str:
        """A random id of this store, written into every login marker it creates."""
        if self._instance is None:
            with self.store.transaction() as conn:
                self.store.lock(conn, "stagewall.access.meta")
                value = conn.execute(
                    select(access_meta.c.value).where(access_meta.c.key == "instance_id")
                ).scalar()
                if value is None:
                    value = secrets.token_hex(8)
                    conn.execute(insert(access_meta).values(key="instance_id", value=value))
            self._instance = str(value)
        return self._instance

    def offboarded(self, conn: Connection) -> set[str]:
        """Offboarded vendors: the store's rows and every offboarding the log holds."""
        from stagewall.access.binding import logged_offboarded

        return {str(v) for v in conn.execute(_OFFBOARDED).scalars()} | logged_offboarded(conn)

    # -- issuers -------------------------------------------------------------

    def issuer(self, resource: str) -> CredentialIssuer:
        if resource not in self._issuers:
            if self.issuer_factory is not None:
                self._issuers[resource] = self.issuer_factory(resource)
            else:
                res = self.estate.resources.get(resource)
                if res is None:
                    raise ConfigError(f"resource {resource!r} is not declared")
                if res.kind is not ResourceKind.POSTGRESQL:
                    raise ConfigError(
                        f"resource {resource!r} is {res.kind.value}; stagewall issues "
                        "credentials for postgresql resources only"
                    )
                self._issuers[resource] = PostgresIssuer.from_resource(resource, res)
            keep = getattr(self._issuers[resource], "keep_sessions", None)
            if keep is not None and self._keep_admin_sessions:
                keep(True)
        return self._issuers[resource]

    def keep_admin_sessions(self, keep: bool) -> None:
        """Issuers keep their admin sessions between issuances (the server, while it
        serves) or close them (when it stops); see PostgresIssuer.keep_sessions."""
        self._keep_admin_sessions = keep
        for issuer in list(self._issuers.values()):
            hook = getattr(issuer, "keep_sessions", None)
            if hook is not None:
                hook(keep)

    def credential_resources(self, role: str) -> list[str]:
        """Resources of ``role`` stagewall issues logins for (postgresql + admin env)."""
        r = self.estate.roles.get(role)
        if r is None:
            return []
        out = []
        for name in r.resources:
            res = self.estate.resources.get(name)
            if res and res.kind is ResourceKind.POSTGRESQL and res.admin_connection_env:
                out.append(name)
        return out

    # -- audit and alerts ----------------------------------------------------

    def record(
        self,
        code: str,
        actor: str,
        message: str,
        *,
        status: Status = Status.SUCCESS,
        resource: str | None = None,
        details: Mapping[str, Any] | None = None,
        conn: Connection | None = None,
    ) -> EventRef:
        """Append one event; returns its index and leaf hash (to bind a row to it)."""
        return self.audit.append_refs(
            [
                AuditEvent(
                    code,
                    status,
                    actor,
                    redact(message),
                    resource=resource,
                    details=redact_tree(dict(details or {})),
                )
            ],
            conn=conn,
        )[0]

    def alert(self, alert: Alert) -> None:
        """Send to every sink; failures become audit events, never exceptions."""
        alert = dataclasses.replace(
            alert,
            title=redact(alert.title),
            text=redact(alert.text),
            details=redact_tree(dict(alert.details)),
        )
        for failure in self.alerts.send(alert):
            try:
                self.record(
                    ev.ALERT_FAILED.code,
                    "stagewall",
                    f"alert {alert.kind} not delivered to {failure.sink}: {failure.error}",
                    status=Status.FAILURE,
                    details={"alert": alert.kind, "sink": failure.sink, "error": failure.error},
                )
            except StagewallError as exc:
                # The audit store is down too. Alerting must never raise, so say it in the
                # log (the dispatcher already logged the delivery failure itself).
                _log.error(
                    "alert %s: delivery failure to %s could not be audited: %s",
                    alert.kind,
                    failure.sink,
                    exc.message,
                )

    def refuse(
        self,
        code: str,
        actor: str,
        message: str,
        *,
        resource: str | None = None,
        details: Mapping[str, Any] | None = None,
        loud: bool = False,
        hint: str | None = None,
    ) -> AccessDenied:
        """Record a refused attempt (own transaction), alert if ``loud``; return the error."""
        try:
            self.record(
                code, actor, message, status=Status.FAILURE, resource=resource, details=details
            )
        except StagewallError as exc:
            # Refusing is already the safe outcome; the caller still raises the refusal,
            # so only the record of it is lost, and the log says so.
            _log.error("refusal %s by %s could not be audited: %s", code, actor, exc.message)
        if loud:
            self.alert(
                Alert(
                    kind=code,
                    title=f"refused: {message[:120]}",
                    text=message,
                    severity=Severity.CRITICAL,
                    details={"actor": actor, **(dict(details) if details else {})},
                )
            )
        return AccessDenied(message, hint=hint)
