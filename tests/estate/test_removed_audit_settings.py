"""audit.origin and audit.checkpoint_every were accepted and never used: now refused.

A security product must not take a setting that silently does nothing: whoever wrote
``audit: {checkpoint_every: 10}`` believed checkpoints came every 10 events.
"""

from __future__ import annotations

import pytest

from stagewall.errors import ConfigError
from stagewall.estate import parse_estate
from stagewall.estate.models import Estate
from tests.estate.fixtures import EXAMPLE


@pytest.mark.parametrize(
    ("line", "name", "words"),
    [
        ("  origin: example.com/audit\n", "origin", "signing key"),
        ("  checkpoint_every: 10\n", "checkpoint_every", "audit checkpoint"),
    ],
)
def test_an_unused_audit_setting_is_refused_with_its_line(line: str, name: str, words: str) -> None:
    text = EXAMPLE.rstrip("\n") + "\naudit:\n" + line
    where = text.count("\n")  # the setting's line number
    with pytest.raises(ConfigError) as info:
        parse_estate(text, "est.yaml")
    err = info.value
    assert err.code == "SW976"
    assert f"est.yaml:{where}: audit.{name} is not a setting" in err.message
    assert words in err.message


def test_the_schema_no_longer_offers_them() -> None:
    audit = Estate.model_json_schema()["$defs"]["AuditSettings"]["properties"]
    assert "origin" not in audit and "checkpoint_every" not in audit


def test_an_audit_section_with_witness_settings_still_loads() -> None:
    loaded = parse_estate(EXAMPLE.rstrip("\n") + "\naudit:\n  witness_quorum: 1\n", "est.yaml")
    assert loaded.estate.audit.witness_quorum == 1
