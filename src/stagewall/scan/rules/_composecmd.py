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
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from stagewall.scan._env import EXAMPLE_ENV
from stagewall.scan._model import Attribution, Tier
from stagewall.scan.readers import DOCUMENTATION, Kind
from stagewall.scan.readers.text import COMMENT_PREFIXES
from stagewall.scan.rules._base import FileContext
from stagewall.scan.rules.ci import job_environments, jobs, workflow

_COMPOSE = re.compile(r"\bdocker(?:\s+|-)compose\b")
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
_MAKE_TARGET = re.compile(r"^([A-Za-z0-9_.%/-]+(?:\s+[A-Za-z0-9_.%/-]+)*)\s*::?(?!=)")


@dataclass(frozen=True)
class ComposeCommand:
    """One ``docker compose`` invocation: its global options, and where its
    ``--env-file`` values are written (the line of each)."""

    files: tuple[str, ...]
    project: str
    env_files: tuple[tuple[str, int], ...]


def _tokens(text: str) -> list[str]:
    text = text.replace("\x00", " ")
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:  # an unbalanced quote (a YAML-folded command, a template)
        return text.split()


def parse(text: str, first_line: int) -> Iterator[ComposeCommand]:
    """Each compose command of ``text`` (shell, ``\\``-continued lines joined), whose first
    line is ``first_line``."""
    joined = text.replace("\r\n", "\n").replace("\\\n", "\x00\n")
    for match in _COMPOSE.finditer(joined):
        start = max((m.end() for m in _SEPARATOR.finditer(joined, 0, match.start())), default=0)
        end_match = _SEPARATOR.search(joined, match.end())
        end = end_match.start() if end_match else len(joined)
        prefix, rest = joined[start : match.start()], joined[match.end() : end]
        files: list[str] = []
        project = ""
        for token in _tokens(prefix):
            name, _, value = token.partition("=")
            if name == "COMPOSE_FILE":
                files += [f for f in re.split(r"[:;]", value) if f]
            elif name == "COMPOSE_PROJECT_NAME":
                project = value
        env_files: list[tuple[str, int]] = []
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
            elif flag == "--env-file" and value:
                where = joined.find(value, match.end(), end)
                line = first_line + joined.count("\n", 0, where if where >= 0 else match.start())
                env_files.append((value, line))
            i += 1
        if env_files:
            yield ComposeCommand(tuple(files), project, tuple(env_files))


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
                yield "\n".join(block), start, ("make-target", target) if target else ()
                block = []
        if block:
            yield "\n".join(block), start, ()
        return
    for entry in parsed.entries:
        if "compose" in entry.value and "--env-file" in entry.value and _is_command(entry.path):
            yield entry.value, entry.line, entry.path


_COMMAND_KEYS = re.compile(r"(?:^|_)(?:run|shell|exec|args|entrypoint)$|(?:command|cmd|script)s?$")


def _is_command(path: tuple[str, ...]) -> bool:
    """A value written to be run: a CI step's ``run``, GitLab ``script``, a
    ``package.json`` script, Ansible ``shell``/``command``, compose ``command``, a
    devcontainer ``postCreateCommand``, Taskfile ``cmds``; not a description or a note
    that quotes a command."""
    keys = [p.lower() for p in path if p and not p.isdigit()]
    return bool(keys) and (keys[0] == "scripts" or any(_COMMAND_KEYS.search(k) for k in keys))


def commands(ctx: FileContext) -> Iterator[tuple[ComposeCommand, tuple[str, ...]]]:
    """Every compose command with an ``--env-file`` in the file, with the key path of the
    value it is written in (a CI job's step, a ``package.json`` script, a Make target)."""
    if not ctx.text or "--env-file" not in ctx.text or "compose" not in ctx.text:
        return
    if ctx.rel.lower().endswith(DOCUMENTATION) or ctx.attribution is EXAMPLE_ENV:
        return
    for text, line, path in _lines(ctx):
        if "--env-file" in text:
            for command in parse(text, line):
                yield command, path


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


def crossings(ctx: FileContext) -> Iterator[tuple[str, int, Attribution, Attribution]]:
    """(env file, its line, the env file's production attribution, the non-production
    project's attribution) of each compose command in ``ctx`` that starts a
    non-production project with a production ``--env-file``."""
    for command, path in commands(ctx):
        prod = [(n, line, a) for n, line, a in
                ((n, line, _file_attribution(ctx, n)) for n, line in command.env_files)
                if a is not None and a.tier is Tier.PRODUCTION]  # fmt: skip
        if not prod:
            continue
        tiers: dict[Tier, Attribution] = {}
        for name in command.files:
            att = _file_attribution(ctx, name)
            if att is not None and att.tier is not Tier.UNKNOWN:
                tiers.setdefault(att.tier, Attribution(
                    att.environment, att.tier, f"compose file {name} on the command line "
                    f"({att.reason})"))  # fmt: skip
        if Tier.PRODUCTION in tiers:
            continue  # production's project (or mixed): not a crossing of this kind
        project = tiers.get(Tier.NON_PRODUCTION)
        if project is None and command.project:
            named = ctx.env.from_words(command.project, f"compose project {command.project}")
            project = named if named is not None and named.tier is not Tier.UNKNOWN else None
        if project is None:
            runners = _runner_environments(ctx, path)
            project = next((a for a in runners if a.tier is Tier.NON_PRODUCTION), None)
        if project is None or project.tier is not Tier.NON_PRODUCTION:
            continue
        for name, line, att in prod:
            yield name, line, att, project


__all__ = ["ComposeCommand", "commands", "crossings", "parse"]
