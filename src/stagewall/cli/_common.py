"""Shared CLI plumbing: error handling, output formats, common options."""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from stagewall.errors import EXIT_USAGE, StagewallError
from stagewall.paths import use_estate

if TYPE_CHECKING:
    from stagewall.keys import PublicKey

F = TypeVar("F", bound=Callable[..., Any])


def run_guarded(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a click entry point, turning StagewallError into message + exit code.

    Click's own usage errors (a missing option, a bad choice, a number out of range) are
    handled here too rather than inside click, so that with ``--format json`` they are an
    RFC 9457 problem object on stderr like every other error (exit code unchanged).
    """
    standalone = kwargs.pop("standalone_mode", True)
    argv_arg = kwargs.get("args")
    argv = [str(a) for a in argv_arg] if argv_arg is not None else sys.argv[1:]
    try:
        check_argv(argv)
        check_environment()
        rv = fn(*args, standalone_mode=False, **kwargs)
    except StagewallError as exc:
        if _wants_json(argv):
            click.echo(json.dumps(problem_of(exc), sort_keys=True), err=True)
        else:
            click.echo(exc.render(), err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        if not standalone:
            raise
        if _wants_json(argv):
            click.echo(json.dumps(_usage_problem(exc), sort_keys=True), err=True)
        else:
            exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        if not standalone:
            raise
        click.echo("Aborted!", err=True)
        sys.exit(1)
    if not standalone:
        return rv
    # click returns the code of a ctx.exit(code); a command itself returns None
    sys.exit(rv if type(rv) is int else 0)


def _usage_problem(exc: click.ClickException) -> dict[str, Any]:
    from stagewall.errors import ConfigError, UsageError

    cls = UsageError if isinstance(exc, click.UsageError) else ConfigError
    command = exc.ctx.command_path if isinstance(exc, click.UsageError) and exc.ctx else None
    return {
        "type": f"https://stagewall.dev/errors/{cls.code}",
        "title": cls.__name__,
        "detail": exc.format_message(),
        "code": cls.code,
        "hint": f"run `{command} --help` for its options" if command else cls.default_hint,
        "exit_code": exc.exit_code,
    }


def check_argv(argv: list[str]) -> None:
    """Refuse an argument no command can use: one with a NUL byte, or bytes that are not
    UTF-8 (Python hands those over as lone surrogates, which fail later wherever the value
    is encoded: a path, a URL, a database row). The value is not echoed: it may be a secret."""
    from stagewall.errors import UsageError

    for i, arg in enumerate(argv):
        arg = str(arg)
        prev = str(argv[i - 1]) if i else ""
        if arg.startswith("--") and "=" in arg:
            of = f" (the value of {arg.split('=', 1)[0]})"
        elif prev.startswith("-") and "=" not in prev:
            of = f" (the value of {prev})"
        else:
            of = ""
        if "\x00" in arg:
            raise UsageError(
                f"argument {i + 1}{of} contains a NUL byte",
                hint="remove the NUL byte; no name, path or URL stagewall takes can contain one",
            )
        if any("\udc80" <= ch <= "\udcff" for ch in arg):
            raise UsageError(
                f"argument {i + 1}{of} is not valid UTF-8",
                hint="pass UTF-8 text (rename a file whose name is in another encoding, or "
                "set a UTF-8 locale such as LANG=C.UTF-8)",
            )


def check_environment() -> None:
    """Refuse a STAGEWALL_* variable whose bytes are not UTF-8 (Python holds them as lone
    surrogates, which fail wherever the value is encoded: a store URL, a token header).
    The value is not echoed: STAGEWALL_TOKEN is a secret."""
    from stagewall.errors import UsageError

    for name, value in sorted(os.environ.items()):
        if name.startswith("STAGEWALL_") and any("\udc80" <= ch <= "\udcff" for ch in value):
            raise UsageError(
                f"environment variable {name} is not valid UTF-8",
                hint=f"set {name} to UTF-8 text, or unset it",
            )


def _wants_json(argv: list[str]) -> bool:
    for i, arg in enumerate(argv):
        if arg == "--format=json" or (arg == "--format" and argv[i + 1 : i + 2] == ["json"]):
            return True
    return False


def problem_of(exc: StagewallError) -> dict[str, Any]:
    """The RFC 9457 problem object of an error (the server's own, when it sent one)."""
    remote = getattr(exc, "problem", None)
    if isinstance(remote, dict):
        return remote
    return {
        "type": f"https://stagewall.dev/errors/{exc.code}",
        "title": type(exc).__name__,
        "detail": exc.message,
        "code": exc.code,
        "hint": exc.hint,
        "exit_code": exc.exit_code,
    }


def format_option(*choices: str) -> Callable[[F], F]:
    """``--format`` with ``text`` first and the given machine formats."""
    all_choices = ("text", *choices) if "text" not in choices else choices
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(all_choices),
        default="text",
        show_default=True,
        help="Output format.",
    )


def _use_estate(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    # The state directory (and the default store in it) follows the estate file.
    use_estate(value)
    return value


def config_option(f: F) -> F:
    from stagewall.cli._params import PathParam

    return click.option(
        "--config",
        "config",
        type=PathParam(dir_okay=False),
        default=None,
        callback=_use_estate,
        help="Estate file (default: $STAGEWALL_CONFIG, then ./stagewall.yaml). The default "
        "store and keys live in .stagewall beside it unless STAGEWALL_HOME is set.",
    )(f)


def _not_empty_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from stagewall.cli._params import refuse_empty

    refuse_empty(value, param, "a store URL")
    return value


def db_option(f: F) -> F:
    return click.option(
        "--db",
        "db",
        default=None,
        callback=_not_empty_url,
        help="Control-plane store URL (default: $STAGEWALL_DB, then SQLite in STAGEWALL_HOME).",
    )(f)


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: Any) -> str:
    """``text`` for one terminal line: control and format characters (newlines, escape
    sequences, bidirectional overrides) written as escapes, so that what someone else typed
    (a reason, a note) cannot forge a line on the reader's screen, hide one or reorder it."""
    out = []
    for ch in str(text):
        if unicodedata.category(ch) in ("Cc", "Cf"):
            code = ord(ch)
            out.append(_ESCAPES.get(ch) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"))
        else:
            out.append(ch)
    return "".join(out)


def pinned_public_key(path: str | None) -> PublicKey | None:
    """The trusted audit key: ``path`` (``--public-key``), else the one in STAGEWALL_HOME,
    else None (which the verifiers refuse: never a key shipped with what is verified)."""
    from stagewall.errors import KeyMissing
    from stagewall.keys import load_public_key

    if path:
        return load_public_key(path=path)
    try:
        return load_public_key()
    except KeyMissing:
        return None


def echo_json(data: Any) -> None:
    """Print ``data`` as stable, indented JSON."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def fail(exc: StagewallError) -> None:
    """Print a StagewallError and exit with its code (for use inside commands)."""
    click.echo(exc.render(), err=True)
    sys.exit(exc.exit_code if exc.exit_code else EXIT_USAGE)
