"""Alerts: a small sink interface with webhook, SMTP and file sinks. See docs/alerts.md."""

from stagewall.alerts.sinks import (
    Alert,
    AlertDeliveryError,
    AlertDispatcher,
    AlertSink,
    DeliveryFailure,
    FileAlertSink,
    Severity,
    SmtpAlertSink,
    WebhookAlertSink,
    sinks_from_config,
)

__all__ = [
    "Alert",
    "AlertDeliveryError",
    "AlertDispatcher",
    "AlertSink",
    "DeliveryFailure",
    "FileAlertSink",
    "Severity",
    "SmtpAlertSink",
    "WebhookAlertSink",
    "sinks_from_config",
]
