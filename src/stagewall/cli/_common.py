"""Shared CLI plumbing: error handling, output formats, common options."""

from __future__ import annotations

import json
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

    ``standalone_mode`` is kept so click handles its own usage errors (exit 2).
    """
    kwargs.setdefault("standalone_mode", True)
    try:
        argv = kwargs.get("args")
        check_argv(list(argv) if argv is not None else sys.argv[1:])
        return fn(*args, **kwargs)
    except StagewallError as exc:
        argv = kwargs.get("args")
        if _wants_json(list(argv) if argv is not None else sys.argv[1:]):
            click.echo(json.dumps(problem_of(exc), sort_keys=True), err=True)
        else:
            click.echo(exc.render(), err=True)
        sys.exit(exc.exit_code)


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
    return click.option(
        "--config",
        "config",
        type=click.Path(dir_okay=False),
        default=None,
        callback=_use_estate,
        help="Estate file (default: $STAGEWALL_CONFIG, then ./stagewall.yaml). The default "
        "store and keys live in .stagewall beside it unless STAGEWALL_HOME is set.",
    )(f)


def db_option(f: F) -> F:
    return click.option(
        "--db",
        "db",
        default=None,
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
