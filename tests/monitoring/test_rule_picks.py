"""The detector evaluates only the rules whose necessary conditions an event passes.

``CompiledRule.needs`` are tests of one field each that every matched event passes;
the detector keeps, per combination of an event's text values, which rules pass them.
Skipping the others must never change a verdict: checked on random events (text fields
holding non-text values too) against rules with AND, OR, NOT and wildcards, and on the
labelled month against a detector that evaluates every rule in full.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.estate.models import RuleSettings
from stagewall.monitoring import detect
from stagewall.monitoring.detect import Detector
from stagewall.monitoring.events import Event, OcsfClass
from stagewall.monitoring.rules import RuleSet, load_rules
from tests.monitoring.test_rule_order import _month_events

PROBES = """
title: Probe one
id: 11111111-0000-4000-8000-000000000001
name: probe_not_or
status: test
logsource:
  product: stagewall
detection:
  verb:
    operation:
      - ALTER*
      - drop
  who:
    affiliation: external
  quiet:
    tier: production
    status: failure
  condition: (verb or who) and not quiet
level: high
---
title: Probe two
id: 11111111-0000-4000-8000-000000000002
name: probe_or_same_field
status: test
logsource:
  product: stagewall
  category: datastore
detection:
  a:
    operation|startswith: sel
    tier: production
  b:
    operation|endswith: ete
    vendor|contains: acme
  c:
    operation: '1'
  condition: a or b or c
level: high
---
title: Probe three
id: 11111111-0000-4000-8000-000000000003
name: probe_not_alone
status: test
logsource:
  product: stagewall
detection:
  sel:
    principal_kind: service
  flag:
    off_hours: true
  condition: not sel and flag
level: low
---
title: Probe four
id: 11111111-0000-4000-8000-000000000004
name: probe_null_and_exists
status: test
logsource:
  product: stagewall
detection:
  empty:
    vendor: null
  some:
    environment|exists: true
  word:
    status: 'true'
  condition: 1 of them
level: low
"""

TEXT_FIELDS = ("operation", "affiliation", "tier", "status", "vendor", "principal_kind")
values = st.sampled_from(
    [
        "",
        "ALTER SYSTEM",
        "alter role",
        "DROP",
        "drop",
        "select",
        "SELECT",
        "delete",
        "external",
        "internal",
        "production",
        "failure",
        "success",
        "service",
        "human",
        "acme-dev",
        "true",
        "True",
        "1",
    ]
) | st.sampled_from([None, 1, True, 1.0, 0, False])  # wrong types must not share a verdict


def _rules(tmp_path: Path) -> RuleSet:
    (tmp_path / "probes.yml").write_text(PROBES)
    return load_rules(rules_dir=tmp_path)


@st.composite
def events(draw: st.DrawFn) -> Event:
    ev = Event(
        1.8e9 + draw(st.integers(0, 10_000)),
        draw(st.sampled_from([int(c) for c in OcsfClass if c != 2004])),
        draw(st.integers(1, 3)),
        product=draw(st.sampled_from(["postgresql", "github"])),
        off_hours=draw(st.none() | st.booleans()),
        first_seen_network=draw(st.none() | st.booleans()),
        grant_active=draw(st.none() | st.booleans()),
    )
    for name in TEXT_FIELDS:
        setattr(ev, name, draw(values))
    return ev


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    return _rules(tmp_path_factory.mktemp("probes"))


def test_the_probes_have_necessary_conditions(probes: RuleSet) -> None:
    needs = {r.name: [f for f, _t in r.needs] for r in probes.rules}
    assert needs["probe_not_or"] == []  # verb or who: no field common to both
    assert needs["probe_or_same_field"] == ["operation"]
    assert needs["probe_not_alone"] == ["off_hours", "principal_kind"]
    assert needs["external_production_access"] == ["affiliation", "tier"]


@settings(max_examples=300, deadline=None)
@given(st.lists(events(), min_size=1, max_size=40))
def test_a_matched_event_passes_every_necessary_condition(
    probes: RuleSet, batch: list[Event]
) -> None:
    for ev in batch:
        for rule in probes.rules:
            if rule.match(ev):
                assert all(test(ev) for _f, test in rule.needs), (rule.name, ev)


def _findings(
    rules: RuleSet, batch: list[Event], *, picked: bool, dedup: bool = True
) -> list[dict[str, Any]]:
    # without dedup every match of a rule is a finding: the findings are the verdicts
    settings = {} if dedup else {n: RuleSettings(dedup=timedelta(0)) for n in rules.names()}
    with pytest.MonkeyPatch.context() as m:
        if not picked:
            m.setattr(detect, "SELECT_FIELDS", ())  # every candidate rule in full
        detector = Detector(rules, settings)
        return [f.to_json() for f in detector.process(batch)]


@settings(max_examples=300, deadline=None)
@given(st.lists(events(), min_size=1, max_size=60))
def test_picked_rules_give_the_findings_of_all_rules(probes: RuleSet, batch: list[Event]) -> None:
    for i, ev in enumerate(batch):
        ev.index = i
    fast = _findings(probes, batch, picked=True, dedup=False)
    assert fast == _findings(probes, batch, picked=False, dedup=False)
    every = [
        (ev.index, r.name)
        for ev in batch
        for r in probes.rules
        if r.name in probes.emitting
        and (r.classes is None or ev.class_uid in r.classes)
        and (r.products is None or ev.product in r.products)
        and r.match(ev)
    ]
    assert [(f["evidence"][0]["index"], f["rule"]) for f in fast if f["count"] == 1] == every


def test_same_findings_on_the_month(tmp_path: Path) -> None:
    events = _month_events(tmp_path)
    for i, ev in enumerate(events):
        ev.index = i
    rules = load_rules()
    fast = _findings(rules, events, picked=True)
    assert fast == _findings(rules, events, picked=False)
    assert len(fast) >= 10  # not vacuous
    for ev in events:
        for rule in rules.rules:
            if rule.match(ev):
                assert all(test(ev) for _f, test in rule.needs), (rule.name, ev)


def test_picks_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detect, "_MAX_PICKS", 50)
    detector = Detector(load_rules())
    for i in range(500):  # a new operation name every event
        ev = Event(1.8e9 + i, 6005, 2, operation=f"op{i}", product="postgresql")
        detector.process([ev])
        assert detector._picks <= 50
    assert sum(len(p.picks) for p in detector._candidates.values()) <= 50


def test_equal_values_of_other_types_do_not_share_a_verdict(probes: RuleSet) -> None:
    # 1 == True == 1.0, but the rule `operation: '1'` matches 1 and "1" only
    from itertools import permutations

    for order in permutations([True, 1, 1.0, "1", "true"]):
        batch = [
            Event(1.8e9 + i, 6005, 2, operation=op, product="postgresql")  # type: ignore[arg-type]
            for i, op in enumerate(order)
        ]
        for i, ev in enumerate(batch):
            ev.index = i
        fast = _findings(probes, batch, picked=True, dedup=False)
        hits = [
            order[f["evidence"][0]["index"]] for f in fast if f["rule"] == "probe_or_same_field"
        ]
        assert sorted(map(repr, hits)) == ["'1'", "1"], order
