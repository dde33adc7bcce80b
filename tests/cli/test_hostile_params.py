"""Targeted red-team findings on command-line values, each asserting the message.

The sweep (test_hostile_sweep.py) asks that hostile input fails cleanly; these ask that
it fails for the right reason with the right code: an explicit empty path or URL is
refused (it used to mean "the default"), a FIFO or symlink loop is refused before
anything blocks on it, names are bounded, and durations have documented bounds (and
options that only work with another one say so).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from stagewall.cli import root
from stagewall.cli._params import NameParam, PathParam
from stagewall.cli.estate import example_estate_text
from tests.cli.test_hostile_sweep import LEAVES, NOT_SWEPT, _files, _plausible


def _run(env: dict[str, str], *args: str) -> Result:
    res = CliRunner().invoke(root, list(args), env=env, catch_exceptions=True)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert "Traceback" not in res.output
    return res


def _params_of(kind: type[click.ParamType]) -> list[tuple[tuple[str, ...], click.Parameter]]:
    return [
        (path, p)
        for path, command in sorted(LEAVES.items())
        if path not in NOT_SWEPT
        for p in command.params
        if isinstance(p.type, kind)
    ]


def _invocation(
    path: tuple[str, ...], target: click.Parameter, value: str, files: dict[str, str], tmp: Path
) -> list[str]:
    """The command with its required parameters filled and ``target`` set to ``value``."""
    args = list(path)
    for p in LEAVES[path].params:
        if p is target:
            args += [p.opts[0], value] if isinstance(p, click.Option) else [value]
        elif p.required:
            plausible = _plausible(p, files, tmp)
            args += [p.opts[0], plausible] if isinstance(p, click.Option) else [plausible]
    return args


PATHS = _params_of(PathParam)
NAMES = _params_of(NameParam)


def _ids(items: list[tuple[tuple[str, ...], click.Parameter]]) -> list[str]:
    return [f"{' '.join(path)} {p.name}" for path, p in items]


def test_every_path_parameter_of_the_cli_is_checked() -> None:
    """A path option added later with plain click.Path would accept "" and FIFOs again."""
    plain = [
        f"{' '.join(path)} {p.name}"
        for path, command in LEAVES.items()
        for p in command.params
        if isinstance(p.type, click.Path) and not isinstance(p.type, PathParam)
    ]
    assert not plain
    assert len(PATHS) >= 25


@pytest.mark.parametrize(("path", "param"), PATHS, ids=_ids(PATHS))
def test_an_empty_path_is_refused(
    path: tuple[str, ...], param: click.Parameter, env: dict[str, str], tmp_path: Path
) -> None:
    files = _files(tmp_path / "files")
    res = _run(env, *_invocation(path, param, "", files, tmp_path))
    assert res.exit_code == 2, res.output
    label = param.opts[0] if isinstance(param, click.Option) else (param.name or "").upper()
    assert f"error[SW110]: {label} is empty; it must be a path" in res.stderr


@pytest.mark.parametrize("what", ["fifo", "symloop", "symlink-fifo"])
@pytest.mark.parametrize(("path", "param"), PATHS, ids=_ids(PATHS))
def test_a_fifo_or_symlink_loop_is_refused_before_anything_blocks(
    path: tuple[str, ...], param: click.Parameter, what: str, env: dict[str, str], tmp_path: Path
) -> None:
    files = _files(tmp_path / "files")
    res = _run(env, *_invocation(path, param, files[what], files, tmp_path))
    assert res.exit_code == 2, res.output
    assert "error[SW113]" in res.stderr
    assert ("symlink loop" if what == "symloop" else "is a FIFO (named pipe)") in res.stderr


def test_a_directory_where_a_file_is_needed_is_named(env: dict[str, str], tmp_path: Path) -> None:
    res = _run(env, "check", "--config", str(tmp_path))
    assert res.exit_code == 2
    assert f"error[SW113]: --config '{tmp_path}' is a directory; a file is needed" in res.stderr


def test_a_file_where_a_directory_is_needed_is_named(env: dict[str, str], tmp_path: Path) -> None:
    res = _run(env, "demo", "--dir", env["STAGEWALL_CONFIG"])
    assert res.exit_code == 2
    assert "is a file; a directory is needed here" in res.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--db", ""],
        ["audit", "verify", "--db", ""],
        ["keys", "init", "--db", ""],
        ["whoami", "--server", ""],
        ["audit", "tail", "--server", ""],
        ["access", "grants", "--server", ""],
    ],
    ids=lambda a: " ".join(a),
)
def test_an_empty_store_or_server_url_is_refused(args: list[str], env: dict[str, str]) -> None:
    res = _run(env, *args)
    assert res.exit_code == 2, res.output
    assert f"error[SW110]: {args[-2]} is empty" in res.stderr


def test_an_empty_config_in_json_is_a_problem_object(env: dict[str, str]) -> None:
    res = _run(env, "check", "--config", "", "--format", "json")
    assert res.exit_code == 2
    problem = json.loads(res.stderr)
    assert problem["code"] == "SW110" and problem["exit_code"] == 2
    assert problem["type"].endswith("/SW110") and "--config" in problem["detail"]


@pytest.mark.parametrize(("path", "param"), NAMES, ids=_ids(NAMES))
def test_a_huge_name_is_refused_without_echoing_it(
    path: tuple[str, ...], param: click.Parameter, env: dict[str, str], tmp_path: Path
) -> None:
    files = _files(tmp_path / "files")
    res = _run(env, *_invocation(path, param, "N" * 200_000, files, tmp_path))
    assert res.exit_code == 2, res.output[:300]
    assert "error[SW111]" in res.stderr and "is 200000 characters long" in res.stderr
    assert len(res.output) < 1000


def test_keys_init_refuses_a_200000_character_name_and_writes_no_key(
    env: dict[str, str], tmp_path: Path
) -> None:
    res = _run(env, "keys", "init", "--name", "k" * 200_000)
    assert res.exit_code == 2
    assert "--name is 200000 characters long; a key name has at most 128" in res.stderr
    assert not (tmp_path / "home" / "audit_signing.key").exists()
    ok = _run(env, "keys", "init", "--name", "k" * 128)
    assert ok.exit_code == 0, ok.output


@pytest.mark.parametrize(
    ("value", "why"),
    [("a b", "not a key name"), ("a+b", "not a key name"), ("a\u202eb", "'a\\u202eb'")],
)
def test_keys_init_refuses_names_a_note_cannot_carry(
    value: str, why: str, env: dict[str, str]
) -> None:
    res = _run(env, "keys", "init", "--name", value)
    assert res.exit_code == 2 and "error[SW111]" in res.stderr and why in res.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["access", "sweep", "--interval", "5s"],
        ["access", "sweep", "--interval", "99999d"],
        ["access", "sweep", "--max-iterations", "3"],
    ],
    ids=lambda a: " ".join(a),
)
def test_sweep_loop_options_without_loop_are_refused(args: list[str], env: dict[str, str]) -> None:
    res = _run(env, *args)
    assert res.exit_code == 2
    assert f"error[SW101]: {args[2]} only applies with --loop" in res.stderr


@pytest.mark.parametrize("interval", ["0s", "61m", "99999d", "9" * 30 + "d", "soon"])
def test_sweep_interval_outside_its_bounds_is_refused(interval: str, env: dict[str, str]) -> None:
    res = _run(env, "access", "sweep", "--loop", "--interval", interval, "--max-iterations", "1")
    assert res.exit_code == 2
    assert "error[SW112]: --interval" in res.stderr
    assert "between 1s and 1h" in res.stderr


def test_sweep_interval_at_its_bound_is_accepted(env: dict[str, str]) -> None:
    res = _run(env, "access", "sweep", "--loop", "--interval", "1h", "--max-iterations", "1")
    assert "SW112" not in res.stderr and "SW101" not in res.stderr
    assert res.stdout.startswith("expired 0"), res.output


@pytest.mark.parametrize(
    ("args", "bound"),
    [
        (["access", "request", "--role", "r", "--reason", "x", "--for"], "30d"),
        (["probe", "--from", "staging", "--no-report", "--timeout"], "10s"),
    ],
    ids=["request --for", "probe --timeout"],
)
@pytest.mark.parametrize("value", ["99999d", "9" * 40 + "d"])
def test_durations_beyond_their_bound_are_refused(
    args: list[str], bound: str, value: str, env: dict[str, str]
) -> None:
    res = _run(env, *args, value)
    assert res.exit_code == 2
    assert "error[SW112]" in res.stderr and f"and {bound}" in res.stderr


@pytest.mark.parametrize("poll", ["nan", "inf", "-inf", "0", "0.001", "1e9"])
def test_ingest_poll_outside_its_bounds_is_refused(poll: str, env: dict[str, str]) -> None:
    res = _run(env, "ingest", "pg", "--from", "-", "--follow", "--poll", poll)
    assert res.exit_code == 2
    assert "error[SW112]: --poll" in res.stderr


def test_ingest_poll_without_follow_is_refused(env: dict[str, str]) -> None:
    res = _run(env, "ingest", "pg", "--from", "-", "--poll", "5")
    assert res.exit_code == 2
    assert "error[SW101]: --poll only applies with --follow" in res.stderr


def test_an_estate_duration_too_large_for_python_is_a_config_error(
    env: dict[str, str], tmp_path: Path
) -> None:
    text = example_estate_text()
    assert "    max_duration: 2h\n" in text
    bad = tmp_path / "huge.yaml"
    bad.write_text(
        text.replace("    max_duration: 2h\n", "    max_duration: 99999999999999999999999d\n"),
        encoding="utf-8",
    )
    res = _run(env, "check", "--config", str(bad))
    assert res.exit_code == 2
    assert "error[SW100]" in res.stderr and "far too long a duration" in res.stderr


def test_stagewall_config_naming_a_fifo_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    fifo = tmp_path / "estate.fifo"
    os.mkfifo(fifo)
    res = _run({**env, "STAGEWALL_CONFIG": str(fifo)}, "check")
    assert res.exit_code == 2
    assert "is not a regular file" in res.stderr


@pytest.fixture
def store(env: dict[str, str], tmp_path: Path) -> str:
    """A store with keys and one signed checkpoint; its URL."""
    assert _run(env, "keys", "init").exit_code == 0
    assert _run(env, "audit", "checkpoint").exit_code == 0
    return f"sqlite:///{tmp_path / 'home' / 'stagewall.db'}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["audit", "tail", "-n", str(2**70)], "-n 1180591620717411303424 is more than 1000000"),
        (["audit", "proof", "0", "--size", str(2**70)], "--size 1180591620717411303424 is not a"),
        (["audit", "proof", "0", "--size", "-3"], "--size -3 is not a tree size"),
        (["audit", "proof", str(2**64)], "INDEX 18446744073709551616 is not an event index"),
    ],
    ids=["tail -n 2**70", "proof --size 2**70", "proof --size -3", "proof 2**64"],
)
def test_numbers_the_store_cannot_hold_are_refused(
    args: list[str], message: str, env: dict[str, str], store: str
) -> None:
    """They used to reach SQLite and come back as an OverflowError traceback."""
    res = _run(env, *args, "--db", store)
    assert res.exit_code == 2
    assert f"error[SW101]: {message}" in res.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["evidence", "checks", "--at", "0001-01-01"], "SW100"),
        (["evidence", "checks", "--at", "0001-01-01T00:00:00+01:00"], "SW100"),
        (["evidence", "checks", "--at", "9999-12-31T23:59:59-01:00"], "SW100"),
        (["answer", "--questionnaire", "caiq", "--out", "a.csv", "--at", "0001-01-02"], "SW100"),
        (
            [
                "evidence",
                "pack",
                "--from",
                "0001-01-01T00:00:00+01:00",
                "--to",
                "2026-01-01",
                "--out",
                "p.zip",
                "--no-pdf",
            ],
            "SW100",
        ),
        (["audit", "verify", "--as-of", "0001-01-01T00:00:00+01:00"], "SW101"),
    ],
    ids=[
        "checks --at 0001",
        "checks --at 0001+01",
        "checks --at 9999-01",
        "answer",
        "pack",
        "as-of",
    ],
)
def test_times_outside_1970_to_9000_are_refused(
    args: list[str], code: str, env: dict[str, str], store: str
) -> None:
    """Window arithmetic on them used to overflow into a traceback."""
    res = _run(env, *args)
    assert res.exit_code == 2, res.output
    assert f"error[{code}]" in res.stderr and "lies outside 1970-01-01..9000-01-01" in res.stderr


def test_a_huge_time_is_not_echoed_whole(env: dict[str, str]) -> None:
    res = _run(env, "audit", "verify", "--as-of", "T" * 100_000)
    assert res.exit_code == 2 and "(100000 characters)" in res.stderr
    assert len(res.output) < 1000


@pytest.mark.parametrize(
    ("args", "detail"),
    [
        (["check", "--nope"], "No such option '--nope'."),
        (["scan"], "Missing argument 'PATHS...'."),
        (["mask", "runs", "--limit", "0"], "Invalid value for '--limit': 0 is not in the range"),
        (["evidence", "checks", "--days", "-1"], "Invalid value for '--days': -1 is not in"),
    ],
    ids=["unknown option", "missing argument", "out of range", "negative"],
)
def test_click_usage_errors_are_problem_objects_in_json(
    args: list[str], detail: str, env: dict[str, str]
) -> None:
    """Click's own usage errors were plain text even with --format json."""
    res = _run(env, *args, "--format", "json")
    assert res.exit_code == 2
    problem = json.loads(res.stderr)
    assert problem["code"] == "SW101" and problem["title"] == "UsageError"
    assert problem["exit_code"] == 2 and problem["detail"].startswith(detail)
    assert "--help" in problem["hint"]
    text = _run(env, *args)
    assert text.exit_code == 2 and "Usage:" in text.stderr and "Error: " in text.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-file-size", str(2**70)], "is not in the range 1<=x<=1099511627776"),
        (["--file-time-budget", "inf"], "is not in the range 0.1<=x<=3600"),
        (["--file-time-budget", "nan"], "error[SW112]: --file-time-budget nan is not a number"),
    ],
    ids=["max-file-size 2**70", "budget inf", "budget nan"],
)
def test_scan_limits_are_bounded(
    args: list[str], message: str, env: dict[str, str], tmp_path: Path
) -> None:
    """2**70 and inf traced back (OverflowError); nan silently meant no budget at all."""
    res = _run(env, "scan", str(tmp_path), *args)
    assert res.exit_code == 2 and message in res.stderr


def test_scan_with_a_terabyte_file_limit_reads_small_files(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A read of max_file_size + 1 bytes allocated a terabyte up front (MemoryError)."""
    (tmp_path / "app.env").write_text("DATABASE_URL=postgres://db.internal/app\n")
    res = _run(env, "scan", str(tmp_path / "app.env"), "--max-file-size", str(1 << 40))
    assert "1 files scanned" in res.stdout, res.output


@pytest.mark.parametrize("where", ["/proc/self/x", "/etc/hostname/x"])
def test_demo_dir_that_cannot_be_created_is_named(where: str, env: dict[str, str]) -> None:
    res = _run(env, "demo", "--dir", where)
    assert res.exit_code == 2
    assert "error[SW100]: cannot create the demo directory" in res.stderr


@pytest.mark.parametrize(
    ("var", "args"),
    [
        ("STAGEWALL_TOKEN", ["whoami"]),
        ("STAGEWALL_DB", ["keys", "init"]),
        ("STAGEWALL_SERVER", ["access", "grants"]),
    ],
)
def test_a_stagewall_variable_that_is_not_utf8_is_refused(
    var: str, args: list[str], env: dict[str, str]
) -> None:
    """Bytes that are not UTF-8 (held as lone surrogates) traced back where the value was
    encoded: the token as a header (UnicodeEncodeError), the store URL as a path."""
    value = "sqlite:///\udcff\udcfe.db" if var == "STAGEWALL_DB" else "t0k\udcffen"
    res = _run({**env, var: value}, *args)
    assert res.exit_code == 2
    assert f"error[SW101]: environment variable {var} is not valid UTF-8" in res.stderr
    assert "t0k" not in res.output


def test_an_output_path_may_be_a_character_device_but_not_a_fifo(tmp_path: Path) -> None:
    # `--out /dev/null` or `/dev/stdout` is a usual place to write to; a FIFO without a
    # reader blocks the writer forever, and an input path stays refused either way
    from stagewall.cli._params import PathUnusable, check_path

    check_path("/dev/null", "--out", dir_okay=False, output=True)
    with pytest.raises(PathUnusable, match="character device"):
        check_path("/dev/null", "--from", dir_okay=False)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(PathUnusable, match="writing to it could block forever"):
        check_path(str(fifo), "--out", dir_okay=False, output=True)
