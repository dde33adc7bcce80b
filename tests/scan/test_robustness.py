"""Requirement 4 of issue 13: no file can crash or hang the scan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stagewall.scan import ScanOptions, Severity, render, scan_paths, to_sarif
from stagewall.scan import engine as scan_engine
from stagewall.scan.readers import LineFinder, Parsed
from stagewall.scan.readers.jsonfile import read_json

from .helpers import by_rule

PROD_URL = "postgres://app@db.prod.example.com:5432/shop"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("config.staging.json", '{"url": "%s", "n": %s}'),
        ("staging.toml", 'url = "%s"\nn = %s\n'),
        ("staging.tfvars", 'url = "%s"\nn = %s\n'),
        ("values-staging.yaml", "url: %s\nn: %s\n"),
    ],
)
def test_integers_over_4300_digits_neither_crash_nor_hide_the_file(
    tmp_path: Path, name: str, content: str
) -> None:
    (tmp_path / name).write_text(content % (PROD_URL, "7" * 5000))
    result = scan_paths([tmp_path])
    assert [f.file for f in by_rule(result, "SW-SCAN-001")] == [name]
    assert not by_rule(result, "SW-SCAN-012")


def test_invalid_utf8_is_decoded_with_replacement_and_scanned(tmp_path: Path) -> None:
    (tmp_path / ".env.staging").write_bytes(
        f"DATABASE_URL={PROD_URL}\nNAME=caf\xe9 \xff\xfe\n".encode("latin-1")
    )
    result = scan_paths([tmp_path])
    assert result.stats.skipped == []
    assert [(f.file, f.line) for f in by_rule(result, "SW-SCAN-001")] == [(".env.staging", 1)]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_bom_are_text(tmp_path: Path, codec: str) -> None:
    bom = {"utf-16": b"", "utf-16-be": b"\xfe\xff", "utf-32": b""}[codec]
    (tmp_path / ".env.staging").write_bytes(bom + f"DATABASE_URL={PROD_URL}\n".encode(codec))
    result = scan_paths([tmp_path])
    assert result.stats.skipped == []
    assert len(by_rule(result, "SW-SCAN-001")) == 1


def test_real_binary_is_still_skipped(tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)) * 4)
    (tmp_path / "blob.env").write_bytes(bytes(range(128, 256)) * 8)
    result = scan_paths([tmp_path])
    assert sorted((s.file, s.reason) for s in result.stats.skipped) == [
        ("blob.env", "binary"),
        ("logo.png", "binary"),
    ]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000),
        ("deep.yaml", "[" * 100_000 + "]" * 100_000),
        ("deep.toml", "a = " + "[" * 50_000 + "]" * 50_000 + "\n"),
        ("deep.tf", "a = " + "[" * 50_000 + "]" * 50_000 + "\n"),
        ("deep.tfvars", "a = " + "{x = " * 400 + "1" + "}" * 400 + "\n"),
    ],
)
def test_deep_nesting_is_a_parse_error_not_a_hang(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    result = scan_paths([tmp_path], options=ScanOptions(file_time_budget=60))
    assert [f.rule_id for f in result.findings] == ["SW-SCAN-012"]
    assert "nesting" in result.findings[0].message or "recursion" in result.findings[0].message


def test_a_long_yaml_list_is_not_an_alias_bomb(tmp_path: Path) -> None:
    (tmp_path / "hosts.yaml").write_text("- a\n" * 250_000)
    result = scan_paths([tmp_path], options=ScanOptions(file_time_budget=600))
    assert result.stats.skipped == []
    assert not by_rule(result, "SW-SCAN-012")


def test_alias_bombs_are_still_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n")
    result = scan_paths([tmp_path])
    assert [f.rule_id for f in result.findings] == ["SW-SCAN-012"]


class _CountingFinder(LineFinder):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.scanned = 0

    def _search(self, needle: str, start: int, end: int | None = None) -> int:
        before = self._budget
        found = super()._search(needle, start, end)
        self.scanned += before - self._budget
        return found


def test_line_mapping_is_linear_for_escaped_json() -> None:
    """1.78 MB of ``\\u``-escaped strings took 62 s: each value, absent from the raw
    text as written, was searched for over the whole file."""
    values = [f"\\u00e9\\u00e8 caf\\u00e9 {i}" for i in range(45_000)]
    text = "{\n" + ",\n".join(f'"k{i}": "{v}"' for i, v in enumerate(values)) + "\n}"
    assert len(text) > 1_780_000
    finder = _CountingFinder(text)
    data = json.loads(text)
    lines = [finder.find(value) for value in data.values()]
    assert finder.scanned <= 10 * len(text)
    assert lines[0] >= 1
    parsed = read_json('{"a": "x",\n "b": "\\u00e9",\n "c": "y"}')
    assert isinstance(parsed, Parsed)
    assert [e.line for e in parsed.entries] == [1, 2, 3]


def test_per_file_time_budget_gives_a_too_slow_finding(tmp_path: Path) -> None:
    (tmp_path / ".env.staging").write_text(f"DATABASE_URL={PROD_URL}\n")
    (tmp_path / "notes.txt").write_text("nothing\n")
    result = scan_paths([tmp_path], options=ScanOptions(file_time_budget=0))
    slow = by_rule(result, "SW-SCAN-014")
    assert sorted(f.file for f in slow) == [".env.staging", "notes.txt"]
    assert all(f.message.startswith("skipped: too slow") for f in slow)
    assert ("notes.txt", "too slow") in [(s.file, s.reason) for s in result.stats.skipped]
    assert slow[0].environment == "staging"


def test_a_reader_stuck_in_one_call_is_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.yaml").write_text("a: 1\n")
    (tmp_path / "b.txt").write_text("nothing\n")

    def stuck(path: Path, rel: str, text: str, tf: object) -> Parsed:
        if rel == "a.yaml":
            while True:
                pass
        return Parsed(scan_engine.Kind.TEXT)

    monkeypatch.setattr(scan_engine, "read_file", stuck)
    result = scan_paths([tmp_path], options=ScanOptions(file_time_budget=0.3, workers=1))
    assert [(f.file, f.rule_id) for f in result.findings] == [("a.yaml", "SW-SCAN-014")]


def test_a_reader_bug_becomes_a_parse_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env.staging").write_text(f"DATABASE_URL={PROD_URL}\n")

    def broken(path: Path, rel: str, text: str, tf: object) -> Parsed:
        raise ValueError("boom")

    monkeypatch.setattr(scan_engine, "read_file", broken)
    result = scan_paths([tmp_path])
    assert [f.message for f in by_rule(result, "SW-SCAN-012")] == [
        "could not read this file: ValueError"
    ]


NASTY = "staging/app\u202eyaml.\x1b[31mred\x07.env"


def test_control_and_bidi_characters_are_escaped_in_text_and_valid_in_sarif(
    tmp_path: Path,
) -> None:
    (tmp_path / "staging").mkdir()
    (tmp_path / NASTY).write_text(f"DATABASE_URL={PROD_URL}\n")
    result = scan_paths([tmp_path])
    assert by_rule(result, "SW-SCAN-001")
    text = render(result, "text", Severity.MEDIUM)
    assert "\u202e" not in text and "\x1b" not in text and "\x07" not in text
    assert "staging/app\\u202eyaml.\\u001b[31mred\\u0007.env" in text
    junit = render(result, "junit", Severity.MEDIUM)
    assert "\x1b" not in junit and "\u202e" not in junit
    sarif = to_sarif(result, Severity.MEDIUM)
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    ]
    assert uris == ["staging/app%E2%80%AEyaml.%1B%5B31mred%07.env"] * len(uris)
    from urllib.parse import unquote

    assert unquote(uris[0]) == NASTY


def test_a_scan_restores_the_garbage_collector_thresholds(tmp_path: Path) -> None:
    import gc

    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n')
    before = gc.get_threshold()
    scan_paths([tmp_path])
    assert gc.get_threshold() == before
