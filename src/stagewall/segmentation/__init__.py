"""Network segmentation evidence: `stagewall probe` on a non-production host.

A probe agent tries a TCP connection to every production endpoint the estate
declares (and nothing else), with bounded attempts and timeouts, and reports
whether any is reachable from where it runs. The server records each report in
the audit log; `stagewall check --live` shows the newest report per environment
and fails when one found production reachable (ISO 27001 A.8.31).
"""

from stagewall.segmentation.probe import (
    EV_PROBE,
    ProbeReport,
    ProbeResult,
    Reach,
    Target,
    latest_reports,
    production_targets,
    record_probe,
    run_probe,
)

__all__ = [
    "EV_PROBE",
    "ProbeReport",
    "ProbeResult",
    "Reach",
    "Target",
    "latest_reports",
    "production_targets",
    "record_probe",
    "run_probe",
]
