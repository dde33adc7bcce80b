"""Malformed input never crashes the scanner: random bytes and truncations per reader."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagewall.scan import scan_paths

from .helpers import FIXTURES

NAMES = [
    "main.tf",
    "x.tfvars",
    "a.yaml",
    ".env",
    "c.json",
    "d.toml",
    "e.ini",
    "plan.json",
    ".gitlab-ci.yml",
    "s.sh",
]
SAMPLES = [p.read_bytes() for p in sorted(FIXTURES.rglob("*")) if p.is_file()]


def _scan(name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / ".github" / "workflows" if name == "wf.yml" else Path(tmp)
        target.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(data)
        result = scan_paths([Path(tmp)])
        assert not [f for f in result.findings if "internal error" in f.message]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([*NAMES, "wf.yml"]), st.binary(max_size=400))
def test_random_bytes(name: str, data: bytes) -> None:
    _scan(name, data)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([*NAMES, "wf.yml"]), st.sampled_from(SAMPLES), st.floats(0, 1))
def test_truncated_real_files(name: str, sample: bytes, cut: float) -> None:
    _scan(name, sample[: int(len(sample) * cut)])


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([*NAMES, "wf.yml"]),
    st.text(alphabet="{}[]:=\"'#&*<>-\n ${}.abc:/@", max_size=200),
)
def test_syntax_soup(name: str, text: str) -> None:
    _scan(name, text.encode())


def test_billion_laughs_is_a_parse_error(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n")
    result = scan_paths([tmp_path])
    assert [f.rule_id for f in result.findings] == ["SW-SCAN-012"]


def _plain_ip(text: str) -> object:
    import ipaddress

    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


@given(
    st.one_of(
        st.ip_addresses().map(str),
        st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
        st.ip_addresses(v=6).map(lambda ip: f"{ip}%eth0"),
        st.text(alphabet="0123456789abcdefABCDEF:.[]%x/ -", max_size=45),
        st.text(max_size=30),
    )
)
@settings(max_examples=400, deadline=None)
def test_the_ip_prefilter_never_changes_what_is_an_address(text: str) -> None:
    from stagewall.scan._refs import _as_ip

    assert _as_ip(text) == _plain_ip(text)


@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                ["AKIA", "asia", "GhP_", "github_PAT_", "GLPAT-", "Xoxb-", "sk_LIVE_",
                 "Private Key", "://", "PASS", "pwd", "Secret", "TOKEN", "kEy", "Auth", "\n"]
            ),
            st.text(alphabet=st.characters(max_codepoint=127), max_size=8),
        ),
        max_size=12,
    ).map("".join)
)  # fmt: skip
@settings(max_examples=400, deadline=None)
def test_the_secret_trigger_on_lower_cased_text_finds_the_same_places(text: str) -> None:
    from stagewall.scan.rules.secrets import _TRIGGER, _TRIGGER_LOWER

    assert [m.span() for m in _TRIGGER_LOWER.finditer(text.lower())] == [
        m.span() for m in _TRIGGER.finditer(text)
    ]


@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                ["DB_PASSWORD", "Api-Key", "client_SECRET", "Token", "auth", " = ", ": ", "'",
                 '"', ",", ";", "AbCdEf123456", "xY9-zZ.qq", " "]
            ),
            st.text(alphabet=st.characters(max_codepoint=127), max_size=6),
        ),
        max_size=10,
    ).map("".join)
)  # fmt: skip
@settings(max_examples=400, deadline=None)
def test_assignments_on_lower_cased_text_are_the_same(text: str) -> None:
    from stagewall.scan.rules.secrets import _ASSIGN, assignments

    line = text.replace("\n", " ")
    assert list(assignments(line)) == [
        (m.group("key"), m.group("value"), m.start("value")) for m in _ASSIGN.finditer(line)
    ]
