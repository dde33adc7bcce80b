"""Compiled rules evaluate the terms of an AND/OR cheapest first, with the same verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stagewall.estate.loader import parse_estate
from stagewall.monitoring import GrantIndex, IngestContext
from stagewall.monitoring.events import Event, OcsfClass
from stagewall.monitoring.rules import _compile, load_rules
from stagewall.monitoring.rules._compile import CHEAP, SCAN, cost
from stagewall.store import Store
from tests.monitoring.replay import SOURCES, generate

RULE = """
title: Audit settings changed
id: 0c7b6f2e-3c1d-4f8e-9a41-5d2b7e9c1a01
name: order_probe
status: test
logsource:
  product: stagewall
detection:
  statement:
    detail|contains: pgaudit
  verb:
    operation: ALTER SYSTEM
  condition: statement and verb
level: high
"""


class _NoDetail(Event):
    """An event whose statement must not be read (reading it fails the test)."""

    @property  # type: ignore[override]
    def detail(self) -> str:
        raise AssertionError("the statement was searched before the cheap term decided")

    @detail.setter
    def detail(self, _value: str) -> None:
        pass


def _rules(tmp_path: Path) -> Any:
    (tmp_path / "probe.yml").write_text(RULE)
    return {r.name: r for r in load_rules(rules_dir=tmp_path, builtin=False).rules}


def test_the_cheap_term_decides_first(tmp_path: Path) -> None:
    rule = _rules(tmp_path)["order_probe"]
    assert cost(rule.match) == CHEAP + SCAN
    select = _NoDetail(1.8e9, OcsfClass.DATASTORE_ACTIVITY, 2, operation="SELECT")
    assert rule.match(select) is False  # decided by the operation, the statement unread
    alter = Event(
        1.8e9,
        OcsfClass.DATASTORE_ACTIVITY,
        2,
        operation="ALTER SYSTEM",
        detail="ALTER SYSTEM SET pgaudit.log = ?",
    )
    assert rule.match(alter) is True
    alter.detail = "ALTER SYSTEM SET work_mem = ?"
    assert rule.match(alter) is False


def _month_events(tmp: Path) -> list[Event]:
    month = generate(7)
    estate = parse_estate(month.estate_yaml).estate
    store = Store(f"sqlite:///{tmp / 's.db'}")
    store.migrate()
    ctx = IngestContext(estate, store, grants=GrantIndex(month.grants), year=2026)
    out: list[Event] = []
    try:
        for source, lines in month.day_chunks():
            evs = []
            for line in lines:
                for ev in ctx.parser(source).feed(line):
                    ev.source, ev.product = source, SOURCES[source]
                    evs.append(ev)
            out += ctx._enrich(source, ctx.source(source), evs)
    finally:
        ctx.close()
        store.dispose()
    return out


def test_same_verdicts_as_the_rules_own_order_on_the_month(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fast = {r.name: r for r in load_rules().rules}
    with monkeypatch.context() as m:
        m.setattr(_compile, "_order", list)  # the terms in the order the rule writes them
        plain = {r.name: r for r in load_rules().rules}
    assert fast.keys() == plain.keys()
    events = _month_events(tmp_path)
    assert len(events) > 50_000
    hits = dict.fromkeys(fast, 0)
    for ev in events:
        for name, rule in fast.items():
            verdict = rule.match(ev)
            assert verdict == plain[name].match(ev), (name, ev)
            hits[name] += verdict
    # not vacuous: the rules with AND/OR terms do match events of the month
    assert hits["audit_config_change"] >= 3
    assert hits["production_login_without_grant"] >= 3
    assert hits["external_production_access"] >= 2
