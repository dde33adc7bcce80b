"""Every command of the CLI, walked from the click tree, with hostile input.

For each leaf command the sweep builds a plausible invocation (required options
filled, an unreachable ``--server``), then replaces one parameter at a time with
hostile values chosen by the parameter's type and name: empty, huge, NUL-carrying,
non-UTF-8 (surrogate-escaped, as Python hands such argv to click), numbers out of
range, odd durations, malformed URLs and URLs carrying a password; for paths a
directory, an unreadable file, binary junk, a YAML bomb, deep nesting and an estate
with duplicate keys. Every case must exit non-zero (or be listed as a documented
success), print no traceback and no Python exception class name, never echo the
password, and leave the estate file unchanged.

A command added later is swept automatically; one that cannot run in a test (it
serves forever) is listed in ``NOT_SWEPT`` with the reason.
"""

from __future__ import annotations

import json
import os
import re
import signal
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from stagewall import errors
from stagewall.cli import root
from stagewall.cli.estate import example_estate_text

PASSWORD = "Pa55w0rdXYZzy"
UNREACHABLE = "http://127.0.0.1:1"

# Commands that run until interrupted: swept by their own tests, not here.
NOT_SWEPT = {
    ("serve",): "serves until interrupted",
    ("witness", "serve"): "serves until interrupted",
}
# Flags that make a command loop or wait forever.
SKIPPED_FLAGS = {"--loop", "--follow", "--browser", "--wait"}

# Our own error class names may appear (the problem object's title); Python's may not.
OWN_ERRORS = {cls.__name__ for cls in errors.ALL_ERRORS} | {"StagewallError"}
EXC_NAME = re.compile(r"\b([A-Z][A-Za-z0-9_]*(?:Error|Exception|Warning))\b|\bTraceback\b")

BILLION_LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    + "version: *i\n"
)


@dataclass(frozen=True)
class Case:
    command: tuple[str, ...]
    args: tuple[str, ...]
    what: str
    secret: bool = False
    env: tuple[tuple[str, str], ...] = ()  # hostile environment: it may or may not matter


def _leaves(
    group: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    if isinstance(group, click.Group):
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            sub = group.get_command(ctx, name)
            assert sub is not None, name
            yield from _leaves(sub, (*path, name))
    else:
        yield path, group


LEAVES = dict(_leaves(root))


def _files(base: Path) -> dict[str, str]:
    """Hostile files, by name."""
    base.mkdir(parents=True, exist_ok=True)
    estate = example_estate_text()
    made = {
        "junk": b"\xff\xfe\x00\x01binary\x00junk\x9c",
        "bomb": BILLION_LAUGHS.encode(),
        "deep": b"[" * 100_000 + b"]" * 100_000,
        "deepjson": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        "dupkeys": (estate + "\nversion: 1\n").encode(),
        "unreadable": b"\xff\x00 not: [valid",
        "empty": b"",
        "notmapping": b"- just\n- a list\n",
    }
    out: dict[str, str] = {}
    for name, data in made.items():
        p = base / f"{name}.yaml"
        p.write_bytes(data)
        out[name] = str(p)
    os.chmod(out["unreadable"], 0)
    fifo = base / "fifo.yaml"
    if not fifo.exists():
        os.mkfifo(fifo)  # opening it to read blocks until a writer comes: never, here
    out["fifo"] = str(fifo)
    for name, target in (("symloop", "symloop.yaml"), ("symlink-fifo", "fifo.yaml")):
        link = base / f"{name}.yaml"
        if not link.is_symlink():
            link.symlink_to(base / target)
        out[name] = str(link)
    (base / "adir").mkdir(exist_ok=True)
    out["dir"] = str(base / "adir")
    out["missing"] = str(base / "no" / "such" / "file.yaml")
    return out


TEXT_VALUES: dict[str, str] = {
    "emptystr": "",
    "nul": "a\x00b",
    "huge": "A" * 200_000,
    "non-utf8": "\udcff\udcfeab",
    "1e400": "1e400",
    "-1": "-1",
    "2**70": str(2**70),
    "0s": "0s",
    "-5m": "-5m",
    "99999d": "99999d",
    "pw-url": f"http://alice:{PASSWORD}@127.0.0.1:1/x",
    "bad-url": "http://[::1",
}
NUMBER_VALUES = {"1e400": "1e400", "-1": "-1", "2**70": str(2**70), "nan": "nan", "inf": "inf"}
URL_VALUES = {
    "unreachable": UNREACHABLE,
    "pw-url": f"https://alice:{PASSWORD}@127.0.0.1:1/",
    "pw-url-remote-http": f"http://alice:{PASSWORD}@stagewall.example.com/",
    "pw-url-ftp": f"ftp://alice:{PASSWORD}@127.0.0.1:1/",
    "bad-port": "https://127.0.0.1:99999999/",
    "bad-url": "http://[::1",
    "no-scheme": "localhost:8000",
    "emptystr": "",
    "nul": "http://127.0.0.1:1/\x00",
    "non-utf8": "http://\udcff.example/",
}
DB_VALUES = {
    "pg-pw": f"postgresql+psycopg://bob:{PASSWORD}@127.0.0.1:1/x",
    "garbage": "not a url",
    "sqlite-missing-dir": "sqlite:////no/such/dir/x.db",
    "unknown-driver": f"nosuchdb://bob:{PASSWORD}@h/x",
    "emptystr": "",
}


def _is_path(param: click.Parameter) -> bool:
    return isinstance(param.type, (click.Path, click.File))


def _is_number(param: click.Parameter) -> bool:
    return isinstance(param.type, (click.types.IntParamType, click.types.FloatParamType))


def _plausible(param: click.Parameter, files: dict[str, str], tmp: Path) -> str:
    """A value that lets the command get past click, for a required parameter."""
    name = (param.name or "").lower()
    if name == "server":
        return UNREACHABLE
    if isinstance(param.type, click.Choice):
        return str(param.type.choices[-1])
    if _is_number(param):
        return "1"
    if _is_path(param):
        ptype = param.type
        if isinstance(ptype, click.Path) and ptype.file_okay is False:
            return files["dir"]
        if isinstance(ptype, click.Path) and not ptype.exists:
            return str(tmp / f"out-{name}")
        return files["notmapping"]
    if name in {"source", "target", "db"}:
        return "sqlite:///" + str(tmp / "src.db")
    return "x"


def _hostile(param: click.Parameter, files: dict[str, str]) -> dict[str, str]:
    name = (param.name or "").lower()
    if name == "server":
        return URL_VALUES
    if name in {"db", "source", "target"}:
        return {**DB_VALUES, "nul": "sqlite:///a\x00b", "non-utf8": "sqlite:///\udcff.db"}
    if isinstance(param.type, click.Choice):
        return {"bad-choice": "nope", "emptystr": ""}
    if _is_number(param):
        return NUMBER_VALUES
    if _is_path(param):
        return files | {"nul": "a\x00b", "non-utf8": files["dir"] + "/\udcff", "emptystr": ""}
    return TEXT_VALUES


def _cases(files: dict[str, str], tmp: Path) -> Iterator[Case]:
    for path, command in sorted(LEAVES.items()):
        if path in NOT_SWEPT:
            continue
        params = [
            p
            for p in command.params
            if not (isinstance(p, click.Option) and (p.is_flag or p.name == "fmt"))
            and not (isinstance(p, click.Option) and p.opts[0] in {"--help"})
        ]
        base: dict[str, list[str]] = {}
        for p in params:
            if p.required or (p.name == "server"):
                value = _plausible(p, files, tmp)
                base[p.name or ""] = [p.opts[0], value] if isinstance(p, click.Option) else [value]
        for p in params:
            for what, value in _hostile(p, files).items():
                if path == ("demo",) and what in {"dir", "missing"}:
                    continue  # a usable directory builds the whole demo (tests/demo)
                args: list[str] = []
                for q in params:
                    if q is p:
                        args += [q.opts[0], value] if isinstance(q, click.Option) else [value]
                    else:
                        args += base.get(q.name or "", [])
                for fmt in (
                    ("text", "json")
                    if what in {"pw-url", "pg-pw", "junk", "bad-url", "-1", "2**70", "nan", "fifo"}
                    else ("text",)
                ):
                    extra = ["--format", "json"] if fmt == "json" and _has_format(command) else []
                    yield Case(
                        path, (*path, *args, *extra), f"{p.name}={what}/{fmt}", PASSWORD in value
                    )

        baseline = tuple(a for p in params for a in base.get(p.name or "", []))
        for var, kind in HOSTILE_ENV if path != ("demo",) else ():  # the demo sets its own
            value = files[kind]
            yield Case(path, (*path, *baseline), f"${var}={kind}/text", env=((var, value),))


def _has_format(command: click.Command) -> bool:
    return any(p.name == "fmt" for p in command.params)


# The estate and state directory come from the environment for commands without --config.
HOSTILE_ENV = (
    ("STAGEWALL_CONFIG", "bomb"),
    ("STAGEWALL_CONFIG", "dupkeys"),
    ("STAGEWALL_CONFIG", "junk"),
    ("STAGEWALL_CONFIG", "dir"),
    ("STAGEWALL_CONFIG", "fifo"),
    ("STAGEWALL_HOME", "junk"),
)


# Hostile-looking values that a command rightly accepts (exit 0), with the reason.
LIST_FILTERS = {
    ("server", "ingest-token", "list"): "source",
    ("server", "pipeline-token", "list"): "principal",
}


# Hostile-looking text values that are valid C2SP key names (and so valid --name values).
VALID_NOTE_NAMES = {"1e400", "-1", "2**70", "0s", "-5m", "99999d"}


def documented_success(case: Case) -> str | None:
    """Why exit 0 is right for ``case``, or None when it must fail."""
    param, what = case.what.split("=", 1)
    what = what.split("/")[0]
    if case.command == ("scan",) and param == "paths":
        return "scan reads any file it is given and reports what it found in it"
    if LIST_FILTERS.get(case.command) == param:
        return "a list filter that matches nothing lists nothing"
    if case.command in LIST_FILTERS and param == "config":
        return "token lists read the store, not the estate (--config only locates the state)"
    if case.command == ("keys", "init") and param == "name" and what in VALID_NOTE_NAMES:
        return "a key name is any text without spaces, '+' or control characters (C2SP)"
    if case.command == ("witness", "init") and what in {"dir", "missing"}:
        return "a witness is created in an empty or new directory"
    return None


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


class _Hung(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise _Hung


def run_case(case: Case, env: dict[str, str]) -> list[str]:
    """The problems with one case (empty: it behaved)."""
    runner = CliRunner()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(20)
    try:
        res = runner.invoke(
            root, list(case.args), env={**env, **dict(case.env)}, catch_exceptions=True
        )
    except _Hung:
        return ["hung for 20 s"]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    problems: list[str] = []
    out = res.stdout + res.stderr
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        tb = "".join(traceback.format_exception(res.exception))[-600:]
        problems.append(f"uncaught {type(res.exception).__name__}: {tb}")
    elif res.exit_code == 0 and not case.env and documented_success(case) is None:
        problems.append("exit 0 on hostile input")
    if (
        case.args[-2:] == ("--format", "json")
        and res.exit_code != 0
        and not (res.exit_code == 1 and _is_json(res.stdout))  # a report of findings
    ):
        try:
            problem = json.loads(res.stderr)
        except ValueError:
            problem = None
        if not (
            isinstance(problem, dict)
            and {"type", "title", "detail", "code"} <= set(problem)
            and problem.get("exit_code", res.exit_code) == res.exit_code
        ):
            problems.append("--format json: stderr is not an RFC 9457 problem object")
    leaked = {m.group(0) for m in EXC_NAME.finditer(out)} - OWN_ERRORS
    if leaked:
        problems.append(f"exception names leaked: {sorted(leaked)}")
    if case.secret and PASSWORD in out:
        problems.append("password echoed")
    return [
        f"{' '.join(case.command)} [{case.what}]: {p}\n  output: {out[:300]!r}" for p in problems
    ]


def isolated_env(tmp: Path) -> dict[str, str]:
    """An estate (the example) in ``tmp``, its state there, no store, an unreachable server."""
    estate = tmp / "stagewall.yaml"
    estate.write_text(example_estate_text(), encoding="utf-8")
    return {
        "STAGEWALL_HOME": str(tmp / "home"),
        "STAGEWALL_CONFIG": str(estate),
        "STAGEWALL_DB": "",
        "STAGEWALL_SERVER": UNREACHABLE,
        "STAGEWALL_TOKEN": "",
        "HOME": str(tmp / "userhome"),
        "NO_COLOR": "1",
    }


@pytest.fixture(scope="module")
def sweep_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Path]]:
    tmp = tmp_path_factory.mktemp("sweep")
    yield isolated_env(tmp), tmp


COMMAND_IDS = sorted(" ".join(p) for p in LEAVES if p not in NOT_SWEPT)


@pytest.mark.parametrize("command", COMMAND_IDS)
def test_hostile_input(
    command: str, sweep_env: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    env, tmp = sweep_env
    estate = Path(env["STAGEWALL_CONFIG"])
    before = estate.read_bytes()
    files = _files(tmp_path / "files")  # fresh: a command may create what it is given
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        problems = [
            p
            for case in _cases(files, tmp_path)
            if " ".join(case.command) == command
            for p in run_case(case, env)
        ]
    finally:
        os.chdir(cwd)
    assert estate.read_bytes() == before, "the estate file was changed"
    assert not problems, "\n".join(problems)


def test_every_command_is_swept_or_excused() -> None:
    assert set(NOT_SWEPT) <= set(LEAVES)
    assert len(COMMAND_IDS) + len(NOT_SWEPT) == len(LEAVES)
