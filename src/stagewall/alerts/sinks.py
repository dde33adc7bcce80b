"""Alert sinks: webhook (JSON POST, optional Slack payload), SMTP e-mail, JSON-lines file.

A sink either delivers or raises :class:`AlertDeliveryError`; the
:class:`AlertDispatcher` catches that per sink so one failing sink never stops
the others, and never stops the action that raised the alert.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from stagewall._outbound import Unreachable, deadline, post
from stagewall.errors import ConfigError
from stagewall.estate.models import FileSink, SmtpSink, WebhookSink, plaintext_problem

_log = logging.getLogger("stagewall.alerts")


class AlertDeliveryError(Exception):
    """A sink could not deliver an alert (never raised out of the dispatcher)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Alert:
    """One alert. ``details`` must be JSON-safe and hold no secrets."""

    kind: str
    title: str
    text: str
    severity: Severity = Severity.WARNING
    details: Mapping[str, Any] = field(default_factory=dict)
    time: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))

    def __post_init__(self) -> None:
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "text": self.text,
            "severity": self.severity.value,
            "details": dict(self.details),
            "time": self.time,
            "source": "stagewall",
        }


class AlertSink(Protocol):
    """Somewhere alerts go. ``name`` is shown in failure messages (no secrets)."""

    @property
    def name(self) -> str: ...

    def send(self, alert: Alert) -> None: ...


SMTP_DEADLINE_S = 30.0  # a whole SMTP delivery (connect, STARTTLS, login, send)


class WebhookAlertSink:
    """POST the alert as JSON; with ``slack`` the body is ``{"text": ...}``.

    ``timeout`` bounds the whole delivery (connect, send, answer), redirects are not
    followed, and certificates are verified.
    """

    def __init__(self, url: str, *, slack: bool = False, timeout: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError("the webhook URL must start with http:// or https://")
        self._url = url
        self.slack = slack
        self.timeout = timeout

    @property
    def name(self) -> str:
        # The path of a webhook URL is often its secret (Slack): show the host only.
        host = self._url.split("://", 1)[1].split("/", 1)[0]
        return f"webhook({host})"

    def send(self, alert: Alert) -> None:
        if self.slack:
            text = f"[{alert.severity.value}] {alert.title}\n{alert.text}"
            # Slack reads <...> as links and mentions (<https://x|label>, <!channel>) and
            # & as an entity; titles and texts carry monitored names a client chose.
            text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            body: dict[str, Any] = {"text": text}
        else:
            body = alert.as_dict()
        data = json.dumps(body, sort_keys=True).encode()
        try:
            answer = post(
                self._url, data, {"Content-Type": "application/json"}, self.timeout, read_limit=0
            )
        except Unreachable as exc:
            raise AlertDeliveryError(f"{self.name} is unreachable: {exc.reason}") from None
        status = answer.status
        if 300 <= status < 400:
            raise AlertDeliveryError(
                f"{self.name} answered HTTP {status} (a redirect, not followed)"
            )
        if not 200 <= status < 300:
            raise AlertDeliveryError(f"{self.name} answered HTTP {status}")


class _SMTP(smtplib.SMTP):
    """Not connected yet (so the deadline watches the greeting too), but knowing its host:
    STARTTLS checks the certificate against ``_host``, which only the constructor sets."""

    def __init__(self, host: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._host = host


class SmtpAlertSink:
    """Send the alert as a plain-text e-mail (STARTTLS unless switched off)."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        to: Sequence[str],
        *,
        starttls: bool = True,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.to = list(to)
        self.starttls = starttls
        self._username = username
        self._password = password
        self.timeout = timeout

    @property
    def name(self) -> str:
        return f"smtp({self.host}:{self.port})"

    def send(self, alert: Alert) -> None:
        msg = EmailMessage()
        # One line whatever the title holds: a CR/LF from a monitored login name would
        # otherwise make EmailMessage refuse the header, and the alert would be lost.
        title = "".join(ch if ch.isprintable() else " " for ch in alert.title)
        msg["Subject"] = f"[stagewall {alert.severity.value}] {title}"
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        details = json.dumps(dict(alert.details), indent=2, sort_keys=True, default=str)
        msg.set_content(f"{alert.text}\n\nkind: {alert.kind}\ntime: {alert.time}\n{details}\n")
        if self._username and self._password and not self.starttls:
            raise AlertDeliveryError(
                f"{self.name}: refusing to send SMTP credentials without STARTTLS "
                "(set starttls: true, or drop username_env/password_env for a local relay)"
            )
        smtp = _SMTP(self.host, self.timeout)
        try:
            with (
                deadline(max(SMTP_DEADLINE_S, self.timeout), lambda: [getattr(smtp, "sock", None)]),
                smtp,
            ):
                smtp.connect(self.host, self.port)
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username and self._password:
                    smtp.login(self._username, self._password)
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise AlertDeliveryError(
                f"{self.name} failed: {exc.__class__.__name__}: {str(exc)[:200]}"
            ) from None


class FileAlertSink:
    """Append the alert as one JSON line."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @property
    def name(self) -> str:
        return f"file({self.path})"

    def send(self, alert: Alert) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(alert.as_dict(), sort_keys=True) + "\n")
        except OSError as exc:
            raise AlertDeliveryError(f"{self.name} cannot be written: {exc.strerror}") from None


@dataclass(frozen=True)
class DeliveryFailure:
    sink: str
    error: str


class AlertDispatcher:
    """Send an alert to every sink; collect failures instead of raising."""

    def __init__(self, sinks: Sequence[AlertSink]) -> None:
        self.sinks = list(sinks)

    def send(self, alert: Alert) -> list[DeliveryFailure]:
        failures: list[DeliveryFailure] = []
        for sink in self.sinks:
            try:
                sink.send(alert)
            except Exception as exc:
                text = (
                    exc.message if isinstance(exc, AlertDeliveryError) else exc.__class__.__name__
                )
                _log.warning("alert %s not delivered to %s: %s", alert.kind, sink.name, text)
                failures.append(DeliveryFailure(sink.name, text))
        return failures


def _env(name: str | None, what: str) -> str | None:
    if name is None:
        return None
    value = os.environ.get(name)
    if not value:
        raise ConfigError(
            f"alert sink: environment variable {name} ({what}) is not set",
            hint=f"export {name}=... or remove the setting from alerts: in stagewall.yaml",
        )
    return value


def sinks_from_config(
    configs: Sequence[WebhookSink | SmtpSink | FileSink], base_dir: Path | None = None
) -> list[AlertSink]:
    """Build sinks from the estate's ``alerts:`` list (relative file paths: ``base_dir``)."""
    out: list[AlertSink] = []
    for cfg in configs:
        if isinstance(cfg, WebhookSink):
            url = cfg.url if cfg.url is not None else _env(cfg.url_env, "webhook URL")
            problem = None if cfg.allow_plaintext else plaintext_problem(url or "", "webhook URL")
            if problem is not None:
                raise ConfigError(
                    f"alerts: webhook (url_env {cfg.url_env}): {problem}",
                    hint=f"put an https:// URL in {cfg.url_env}, or add allow_plaintext: true "
                    "to that alerts: entry in stagewall.yaml",
                )
            out.append(WebhookAlertSink(url or "", slack=cfg.slack, timeout=cfg.timeout_seconds))
        elif isinstance(cfg, SmtpSink):
            out.append(
                SmtpAlertSink(
                    cfg.host,
                    cfg.port,
                    cfg.sender,
                    cfg.to,
                    starttls=cfg.starttls,
                    username=_env(cfg.username_env, "SMTP user"),
                    password=_env(cfg.password_env, "SMTP password"),
                )
            )
        else:
            path = Path(cfg.path)
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            out.append(FileAlertSink(path))
    return out
