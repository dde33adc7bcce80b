"""Monitoring: ingest the logs of databases, servers and repositories; alert on the unusual.

    from stagewall.monitoring import IngestContext, ingest_lines
    ctx = IngestContext(estate, store, sinks=sinks)
    report = ingest_lines("pg-prod", lines, ctx)

See docs/monitoring.md.
"""

from stagewall.monitoring.detect import Detector, Finding
from stagewall.monitoring.enrich import EstateIndex, GrantIndex, GrantWindow
from stagewall.monitoring.events import Event, OcsfClass
from stagewall.monitoring.follow import Follower
from stagewall.monitoring.log import MonitorLog
from stagewall.monitoring.pipeline import (
    IngestContext,
    IngestReport,
    check_gaps,
    finding_event,
    ingest_lines,
)
from stagewall.monitoring.rules import RuleSet, load_rules

__all__ = [
    "Detector",
    "EstateIndex",
    "Event",
    "Finding",
    "Follower",
    "GrantIndex",
    "GrantWindow",
    "IngestContext",
    "IngestReport",
    "MonitorLog",
    "OcsfClass",
    "RuleSet",
    "check_gaps",
    "finding_event",
    "ingest_lines",
    "load_rules",
]
