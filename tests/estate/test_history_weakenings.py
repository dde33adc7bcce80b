"""``estate.changed`` names more weakenings: a principal added to ``segmentation.reporters``
or ``scan.reporters`` (its reports now count as evidence), and an alert webhook or audit
witness that now allows plain http. Before, none of these was listed as weakened."""

from __future__ import annotations

from pathlib import Path

from stagewall.estate import parse_estate
from stagewall.estate.history import document, weakenings

BASE = """version: 1
environments:
  production: {{tier: production}}
principals:
  alice: {{affiliation: internal}}
  bob: {{affiliation: internal}}
segmentation:
  reporters: [{seg}]
scan:
  reporters: [{scan}]
alerts:
  - type: webhook
    url: {hook}
{hook_plain}audit:
  witnesses:
    - public_key: {key}
      url: {witness}
{witness_plain}"""


def _doc(key: str, **fmt: str) -> dict[str, object]:
    values = {
        "seg": "alice",
        "scan": "alice",
        "hook": "https://hooks.example.com/T0/secretpath",
        "hook_plain": "",
        "witness": "https://witness.example",
        "witness_plain": "",
        "key": key,
    }
    values.update(fmt)
    return document(parse_estate(BASE.format(**values)).estate)


def test_new_reporters_and_plain_http_are_weakenings(tmp_path: Path) -> None:
    from stagewall.witness._state import init_witness

    key = init_witness(tmp_path / "w", "witness.example/w1").key.public.vkey()
    old = _doc(key)
    assert weakenings(old, _doc(key)) == []
    plain = "    allow_plaintext: true\n"
    new = _doc(
        key,
        seg="alice, bob",
        scan="alice, bob",
        hook="http://hooks.example.com/T0/secretpath",
        hook_plain=plain,
        witness="http://witness.example",
        witness_plain="  " + plain,
    )
    weak = weakenings(old, new)
    assert "segmentation.reporters: added bob" in weak
    assert "scan.reporters: added bob" in weak
    assert "alerts[0]: webhook now allows plain http" in weak
    assert "audit witness witness.example/w1: now allows plain http" in weak
    assert "secretpath" not in repr(new)  # the webhook is still known by hash only
    # removing a reporter or turning plain http off again is not a weakening
    assert weakenings(new, old) == []
