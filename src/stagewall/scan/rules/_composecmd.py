"""``docker compose --env-file`` on a command line: which compose project it starts.

``docker compose -f docker-compose.staging.yml --env-file .env.production up`` (or
``docker-compose``) in a Makefile, a script, a ``package.json`` script or a CI step
interpolates the staging project from production's file, whatever file the command is
written in. The project is non-production when a ``-f``/``--file`` (or ``COMPOSE_FILE``)
compose file is, when its ``-p``/``--project-name`` (``COMPOSE_PROJECT_NAME``) names a
non-production environment, or when what runs the command does: the CI job's
environment, the ``package.json`` script's or the Makefile target's name
(``stack:staging``, ``staging-up:``). A production compose file among the ``-f`` files
makes it production's (no crossing). Only the global options before the subcommand are
read, and ``run``'s own ``--env-file`` (it loads the file into the container); ``run -p
8080:80`` publishes a port. The commands are read, never run.

Where the env files come from: ``--env-file`` (its value perhaps a variable the same file
sets, ``ENV_FILE=.env.production`` then ``--env-file "$ENV_FILE"``, or a Makefile's
``$(ENV_FILE)``; see _shellvars), else ``COMPOSE_ENV_FILES`` (comma-separated; compose
2.24+) set before the command (``COMPOSE_ENV_FILES=... docker compose``), exported
earlier in the file or in the CI job's ``env:``/``variables:``, else the ``.env`` of the
project directory (``--project-directory ../prod`` or ``COMPOSE_PROJECT_DIRECTORY``,
relative to the file), attributed by its path (``deploy/prod/.env``: the directory's name
or an estate path glob). ``COMPOSE_FILE`` and ``COMPOSE_PROJECT_NAME`` are read from the
same places.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from stagewall.scan._env import EXAMPLE_ENV
from stagewall.scan._model import Attribution, Tier
from stagewall.scan.readers import DOCUMENTATION, Kind
from stagewall.scan.readers.text import COMMENT_PREFIXES
from stagewall.scan.rules._base import FileContext
from stagewall.scan.rules._shellvars import (
    Assignment,
    make_assignments,
    make_references,
    resolve,
    shell_assignments,
)
from stagewall.scan.rules.ci import job_environments, jobs, workflow

# the command (``/usr/local/bin/docker-compose`` too), not a file named after it
# (``-f docker-compose.yml``, ``docker-compose.override.yml``)
_COMPOSE = re.compile(r"(?<![\w.-])docker(?:\s+|-)compose\b(?![.\w-])")
# a command ends at a shell operator or an end of line that is not continued (``\``,
# marked NUL below)
_SEPARATOR = re.compile(r"&&|\|\||[;|]|(?<!\x00)\n|\$\(|`")
_WITH_VALUE = frozenset(
    {"-f", "--file", "-p", "--project-name", "--env-file", "--project-directory", "--profile",
     "--ansi", "--progress", "--parallel"}
)  # fmt: skip
# options of ``docker compose run`` that take a value (``-p`` publishes a port there)
_RUN_WITH_VALUE = frozenset(
    {"-p", "--publish", "-e", "--env", "-v", "--volume", "-u", "--user", "-w", "--workdir",
     "--name", "--entrypoint", "-l", "--label", "--cap-add", "--cap-drop", "--env-file"}
)  # fmt: skip
# variables compose reads from its environment, as a command's prefix may set them
_COMPOSE_VARS = ("COMPOSE_ENV_FILES", "COMPOSE_PROJECT_DIRECTORY")
_TRIGGERS = ("--env-file", "--project-directory", *_COMPOSE_VARS)
_MAKE_TARGET = re.compile(r"^([A-Za-z0-9_.%/-]+(?:\s+[A-Za-z0-9_.%/-]+)*)\s*::?(?!=)")


@dataclass(frozen=True)
class ComposeCommand:
    """One ``docker compose`` invocation: its global options, and where its
    ``--env-file`` and ``--project-directory`` values are written (the line of each), the
    compose variables its prefix sets (name, value, line) and the line and column it
    starts on."""

    files: tuple[str, ...]
    project: str
    env_files: tuple[tuple[str, int], ...]
    project_dirs: tuple[tuple[str, int], ...] = ()
    env: tuple[tuple[str, str, int], ...] = ()
    line: int = 0
    column: int = 0


def _tokens(text: str) -> list[str]:
    text = text.replace("\x00", " ")
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:  # an unbalanced quote (a YAML-folded command, a template)
        return text.split()


def parse(text: str, first_line: int, *, every: bool = False) -> Iterator[ComposeCommand]:
    """Each compose command of ``text`` (shell, ``\\``-continued lines joined), whose first
    line is ``first_line``, that names an env file or a project directory (``every``: each
    one, for a variable set elsewhere)."""
    joined = text.replace("\r\n", "\n").replace("\\\n", "\x00\n")
    for match in _COMPOSE.finditer(joined):
        start = max((m.end() for m in _SEPARATOR.finditer(joined, 0, match.start())), default=0)
        end_match = _SEPARATOR.search(joined, match.end())
        end = end_match.start() if end_match else len(joined)
        prefix, rest = joined[start : match.start()], joined[match.end() : end]
        files: list[str] = []
        project = ""
        line = first_line + joined.count("\n", 0, match.start())
        column = match.start() - joined.rfind("\n", 0, match.start()) - 1
        env: list[tuple[str, str, int]] = []
        for token in _tokens(prefix):
            name, _, value = token.partition("=")
            if name == "COMPOSE_FILE":
                files += [f for f in re.split(r"[:;]", value) if f]
            elif name == "COMPOSE_PROJECT_NAME":
                project = value
            elif name in _COMPOSE_VARS and value:
                where = joined.rfind(token.partition("=")[0] + "=", start, match.start())
                env.append((name, value, first_line + joined.count("\n", 0, max(where, 0))))
        env_files: list[tuple[str, int]] = []
        project_dirs: list[tuple[str, int]] = []
        tokens = _tokens(rest)
        with_value, i = _WITH_VALUE, 0
        while i < len(tokens):
            word = tokens[i]
            if not word.startswith("-"):
                if word != "run" or with_value is _RUN_WITH_VALUE:
                    break  # the subcommand (or run's service): what follows is its own
                with_value = _RUN_WITH_VALUE  # run --env-file loads into the container
                i += 1
                continue
            flag, eq, value = word.partition("=")
            if flag in with_value and not eq:
                value = tokens[i + 1] if i + 1 < len(tokens) else ""
                i += 1
            global_option = with_value is _WITH_VALUE
            if global_option and flag in ("-f", "--file"):
                files.append(value)
            elif global_option and flag in ("-p", "--project-name"):
                project = value
            elif (flag == "--env-file" or (global_option and flag == "--project-directory")) and (
                value
            ):
                where = joined.find(value, match.end(), end)
                at = first_line + joined.count("\n", 0, where if where >= 0 else match.start())
                (env_files if flag == "--env-file" else project_dirs).append((value, at))
            i += 1
        if env_files or project_dirs or env or every:
            yield ComposeCommand(
                tuple(files),
                project,
                tuple(env_files),
                tuple(project_dirs),
                tuple(env),
                line,
                column,
            )


def _lines(ctx: FileContext) -> Iterator[tuple[str, int, tuple[str, ...]]]:
    """(text, first line, key path) of each place a command may be written."""
    parsed = ctx.parsed
    if parsed is None:
        return
    if parsed.kind is Kind.TEXT:
        make = posixpath.basename(ctx.rel).lower() in ("makefile", "gnumakefile") or (
            ctx.rel.endswith(".mk")
        )
        target = ""
        block: list[str] = []
        start = 0
        for number, line in enumerate(ctx.text.splitlines(), start=1):
            if make and line.strip() and not line.startswith("\t"):
                found = _MAKE_TARGET.match(line)
                target = found.group(1) if found else ""
            stripped = line.strip()
            if not block and (not stripped or stripped.startswith(COMMENT_PREFIXES)):
                continue
            if not block:
                start = number
            block.append(line)
            if not line.endswith("\\"):
                text = "\n".join(block)
                yield (
                    make_references(text) if make else text,
                    start,
                    (("make-target", target) if target else ()),
                )
                block = []
        if block:
            yield "\n".join(block), start, ()
        return
    lines = ctx.text.splitlines()
    for entry in parsed.entries:
        if "compose" in entry.value and _is_command(entry.path):
            yield entry.value, _first_line(lines, entry.line), entry.path


_BLOCK_SCALAR = re.compile(r":\s*[|>][-+0-9]*\s*(?:#.*)?$")


def _first_line(lines: list[str], line: int) -> int:
    """The line a YAML value's text starts on: a block scalar (``run: |``) starts on the
    line after its key."""
    return line + 1 if 0 < line <= len(lines) and _BLOCK_SCALAR.search(lines[line - 1]) else line


_COMMAND_KEYS = re.compile(r"(?:^|_)(?:run|shell|exec|args|entrypoint)$|(?:command|cmd|script)s?$")


def _is_command(path: tuple[str, ...]) -> bool:
    """A value written to be run: a CI step's ``run``, GitLab ``script``, a
    ``package.json`` script, Ansible ``shell``/``command``, compose ``command``, a
    devcontainer ``postCreateCommand``, Taskfile ``cmds``; not a description or a note
    that quotes a command."""
    keys = [p.lower() for p in path if p and not p.isdigit()]
    return bool(keys) and (keys[0] == "scripts" or any(_COMMAND_KEYS.search(k) for k in keys))


def _is_make(rel: str) -> bool:
    return posixpath.basename(rel).lower() in ("makefile", "gnumakefile") or rel.endswith(".mk")


def commands(
    ctx: FileContext,
) -> Iterator[tuple[ComposeCommand, tuple[str, ...], _Scope]]:
    """Every compose command in the file that may read an env file it names, with the
    key path of the value it is written in (a CI job's step, a ``package.json`` script,
    a Make target) and the assignments in force when it runs (see _shellvars)."""
    text = ctx.text
    if not text or "compose" not in text or not any(t in text for t in _TRIGGERS):
        return
    if ctx.rel.lower().endswith(DOCUMENTATION) or ctx.attribution is EXAMPLE_ENV:
        return
    parsed = ctx.parsed
    structured = parsed is not None and parsed.kind is not Kind.TEXT
    every = any(v in text for v in _COMPOSE_VARS)
    lines = text.splitlines() if structured else []
    make = _is_make(ctx.rel)
    written = _Scope(partial(make_assignments if make else shell_assignments, text))
    for block, line, path in _lines(ctx):
        if not _COMPOSE.search(block):
            continue
        for command in parse(block, line, every=every):
            if make:
                scope = written  # make reads every assignment before a recipe runs
            else:  # the assignments before the command (a CI job's env: line 0)
                load = partial(_ci_scope, ctx, path, lines) if structured else written.get
                scope = _Scope(partial(_before, load, command.line, command.column))
            yield command, path, scope


def _before(load: Callable[[], list[Assignment]], line: int, column: int) -> list[Assignment]:
    """What was assigned before ``line`` or earlier on it (``export X=... && docker
    compose``)."""
    return [a for a in load() if (a.line, a.column) < (line, column)]


class _Scope:
    """The assignments a command runs with, read only once a value needs them (most
    commands name their files plainly)."""

    def __init__(self, load: Callable[[], list[Assignment]]) -> None:
        self._load = load
        self._found: list[Assignment] | None = None

    def get(self) -> list[Assignment]:
        if self._found is None:
            self._found = self._load()
        return self._found

    def resolve(self, written: str) -> list[str]:
        return resolve(written, self.get()) if "$" in written else [written]

    def exported(self, name: str) -> list[str]:
        """Each value ``name`` is exported with; ``"$"`` for one that is not a plain word."""
        return list(
            dict.fromkeys(a.value or "$" for a in self.get() if a.name == name and a.exported)
        )


def _ci_scope(ctx: FileContext, path: tuple[str, ...], lines: list[str]) -> list[Assignment]:
    """The assignments a command written at ``path`` of a structured file runs with: the
    shell assignments written before it in the same GitHub step (the same GitLab job),
    and the CI ``env:``/``variables:`` of its step, job and workflow (exported)."""
    parsed = ctx.parsed
    if parsed is None:
        return []
    doc = workflow(parsed)
    prefix = path
    job: dict[str, Any] = {}
    if doc is not None:
        for _job_id, body, job_path in jobs(parsed):
            if path[: len(job_path)] == job_path:
                job = body
                steps = len(job_path) + 1 < len(path) and path[len(job_path)] == "steps"
                prefix = path[: len(job_path) + 2] if steps else job_path
                break
    out: list[Assignment] = []
    for entry in parsed.entries:
        if entry.path[: len(prefix)] == prefix and _is_command(entry.path):
            out += shell_assignments(entry.value, _first_line(lines, entry.line))
    scopes: list[Any] = []
    if doc is not None and job:
        scopes = [doc.get("env"), doc.get("variables"), job.get("env"), job.get("variables")]
        rules = job.get("rules")
        scopes += [r.get("variables") for r in rules if isinstance(r, dict)] if (
            isinstance(rules, list)
        ) else []  # fmt: skip
        steps_list = job.get("steps")
        if len(prefix) > 2 and prefix[-2] == "steps" and isinstance(steps_list, list):
            index = int(prefix[-1]) if prefix[-1].isdigit() else -1
            step = steps_list[index] if 0 <= index < len(steps_list) else None
            scopes.append(step.get("env") if isinstance(step, dict) else None)
    for scope in scopes:
        for name, value in scope.items() if isinstance(scope, dict) else ():
            if isinstance(value, dict):  # GitLab {value: ..., description: ...}
                value = value.get("value")
            if isinstance(name, str) and isinstance(value, (str, int)):
                plain = str(value) if "$" not in str(value) and str(value).strip() else None
                out.append(Assignment(name, plain, 0, True))
    return out


def _file_attribution(ctx: FileContext, name: str) -> Attribution | None:
    """The environment of a file a command names: relative to the file the command is
    written in, to the scanned tree (commands often run from the repository's root), or
    by its name."""
    if "$" in name:
        return None
    base = posixpath.dirname(ctx.rel)
    target = posixpath.normpath(posixpath.join(base, name)) if base else posixpath.normpath(name)
    return (
        ctx.env.attribute_path(target.lstrip("./"))
        or ctx.env.attribute_path(posixpath.normpath(name).lstrip("./"))
        or ctx.env.attribute_path(posixpath.basename(name))
    )


def _runner_environments(ctx: FileContext, path: tuple[str, ...]) -> list[Attribution]:
    """The environments of what runs a command written at ``path``: a CI job, a
    ``package.json`` script or a Make target, by its environment or its name."""
    parsed = ctx.parsed
    doc = workflow(parsed)
    if parsed is not None and doc is not None:
        for job_id, job, job_path in jobs(parsed):
            if path[: len(job_path)] == job_path:
                return job_environments(ctx.env, job, job_id, doc)
        return []
    if len(path) == 2 and path[0] in ("scripts", "make-target"):
        what = "package.json script" if path[0] == "scripts" else "Make target"
        att = ctx.env.from_words(path[1], f"{what} {path[1]}")
        return [att] if att is not None else []
    return []


@dataclass(frozen=True)
class Crossing:
    """A non-production compose project started with a production env file: how the
    file is given (``--env-file``, ``COMPOSE_ENV_FILES``, ``--project-directory``,
    ``COMPOSE_PROJECT_DIRECTORY``), as written, the file it resolves to, on which line."""

    how: str
    written: str
    name: str
    line: int
    prod: Attribution
    project: Attribution


def _sources(command: ComposeCommand, scope: _Scope) -> list[tuple[str, str, str, int]]:
    """(how, written, file, line) of each env file the command may read: its
    ``--env-file``s, else ``COMPOSE_ENV_FILES``, else the project directory's ``.env``."""
    out: list[tuple[str, str, str, int]] = []
    for written, line in command.env_files:
        out += [("--env-file", written, name, line) for name in scope.resolve(written)]
    if command.env_files:
        return out
    prefix = {name: (value, line) for name, value, line in command.env}
    for var, flag in (
        ("COMPOSE_ENV_FILES", ""),
        ("COMPOSE_PROJECT_DIRECTORY", "--project-directory"),
    ):
        given = [(v, line) for v, line in command.project_dirs] if flag else []
        if not given and var in prefix:
            given = [prefix[var]]
        if not given:
            given = [(v, command.line) for v in scope.exported(var)]
        how = flag if flag and command.project_dirs else var
        for written, line in given:
            for value in scope.resolve(written):
                if flag:
                    out.append((how, written, posixpath.join(value, ".env"), line))
                else:
                    out += [(how, written, f.strip(), line) for f in value.split(",") if f.strip()]
        if given:  # compose reads these instead of the project directory's .env
            return out
    return out


def crossings(ctx: FileContext) -> Iterator[Crossing]:
    """Each env file a compose command in ``ctx`` that starts a non-production project
    reads and that is production's."""
    for command, path, scope in commands(ctx):
        prod = [
            (how, written, n, line, a)
            for how, written, n, line in _sources(command, scope)
            if (a := _file_attribution(ctx, n)) is not None and a.tier is Tier.PRODUCTION
        ]
        if not prod:
            continue
        files = [v for f in command.files for v in scope.resolve(f)]
        if not files:
            files = [f for v in scope.exported("COMPOSE_FILE") for f in re.split(r"[:;]", v) if f]
        names = scope.resolve(command.project) if command.project else []
        names = [n for n in names or scope.exported("COMPOSE_PROJECT_NAME") if "$" not in n]
        tiers: dict[Tier, Attribution] = {}
        for name in files:
            att = _file_attribution(ctx, name)
            if att is not None and att.tier is not Tier.UNKNOWN:
                tiers.setdefault(att.tier, Attribution(
                    att.environment, att.tier, f"compose file {name} on the command line "
                    f"({att.reason})"))  # fmt: skip
        if Tier.PRODUCTION in tiers:
            continue  # production's project (or mixed): not a crossing of this kind
        project = tiers.get(Tier.NON_PRODUCTION)
        if project is None and len(names) == 1:
            named = ctx.env.from_words(names[0], f"compose project {names[0]}")
            project = named if named is not None and named.tier is not Tier.UNKNOWN else None
        if project is None:
            runners = _runner_environments(ctx, path)
            project = next((a for a in runners if a.tier is Tier.NON_PRODUCTION), None)
        if project is None and ctx.tier is Tier.NON_PRODUCTION:
            project = ctx.attribution  # a script of staging's (``deploy/staging/up.sh``)
        if project is None or project.tier is not Tier.NON_PRODUCTION:
            continue
        seen: set[tuple[str, int]] = set()
        for how, written, name, line, att in prod:
            if (name, line) not in seen:
                seen.add((name, line))
                yield Crossing(how, written, name, line, att, project)


__all__ = ["ComposeCommand", "Crossing", "commands", "crossings", "parse"]
