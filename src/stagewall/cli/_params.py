"""Parameter types that refuse hostile command-line values before a command runs.

Paths: an explicit empty value is refused (never "the default"), and so is a path that
is a FIFO, socket, device or symlink loop (reading it would block or never end) or a
directory where a file is needed (and the reverse). Names: estate names, key and witness
names and campaign names are bounded and refused with a message that shows at most the
start of the value. Durations: each option has documented bounds.
"""

from __future__ import annotations

import errno
import math
import os
import re
import stat
from datetime import timedelta
from typing import Any

import click

from stagewall.cli._common import one_line
from stagewall.errors import (
    ArgumentTooLong,
    DurationOutOfRange,
    EmptyArgument,
    PathUnusable,
)

# The estate's own name rule (stagewall.estate.models.Name).
ESTATE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}")
MAX_NAME = 128
PATH_SHOWN = 400  # a path in a message is shown whole up to this length


def shown(value: str, limit: int = 40) -> str:
    """``value`` for a message: on one line, and only its start when it is long."""
    if len(value) <= limit:
        return f"'{one_line(value)}'"
    return f"'{one_line(value[:limit])}'... ({len(value)} characters)"


def param_label(param: click.Parameter | None) -> str:
    if param is None:
        return "the value"
    if isinstance(param, click.Option):
        return param.opts[0]
    return (param.human_readable_name or param.name or "argument").upper()


def refuse_empty(value: Any, param: click.Parameter | None, what: str) -> None:
    if isinstance(value, str) and value == "":
        raise EmptyArgument(
            f"{param_label(param)} is empty; it must be {what}",
            hint="give a value, or leave the option out to use its default",
        )


_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def check_path(
    text: str,
    label: str,
    *,
    file_okay: bool = True,
    dir_okay: bool = True,
    output: bool = False,
) -> None:
    """Refuse ``text`` when it is empty, a FIFO, socket, device or symlink loop, or a
    directory where a file is needed (or the reverse). A missing path passes: the command
    creates it or says it is missing. ``output``: the command only writes the file, so a
    character device (``/dev/null``, ``/dev/stdout``) is a fine place to write to; a FIFO
    without a reader would still block the command forever."""
    if text == "":
        raise EmptyArgument(
            f"{label} is empty; it must be a path",
            hint="give a path, or leave the option out to use its default",
        )
    try:
        st = os.stat(text)
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        if exc.errno == errno.EACCES:
            return  # the command says what it could not read
        why = "it is a symlink loop" if exc.errno == errno.ELOOP else exc.strerror
        raise PathUnusable(f"{label} {shown(text, PATH_SHOWN)} cannot be used: {why}") from None
    except ValueError:  # a path the operating system cannot take at all
        raise PathUnusable(f"{label} {shown(text, PATH_SHOWN)} is not a usable path") from None
    if stat.S_ISDIR(st.st_mode):
        if not dir_okay:
            raise PathUnusable(
                f"{label} {shown(text, PATH_SHOWN)} is a directory; a file is needed here",
                hint="name a file (inside that directory, perhaps)",
            )
    elif stat.S_ISREG(st.st_mode):
        if not file_okay:
            raise PathUnusable(
                f"{label} {shown(text, PATH_SHOWN)} is a file; a directory is needed here",
                hint="name a directory (or a new path, where the command creates one)",
            )
    elif output and file_okay and stat.S_ISCHR(st.st_mode):
        return
    else:
        kind = next((k for test, k in _KINDS if test(st.st_mode)), "not a file")
        raise PathUnusable(
            f"{label} {shown(text, PATH_SHOWN)} is {kind}, not a regular "
            + (
                "file or directory"
                if dir_okay and file_okay
                else "file"
                if file_okay
                else "directory"
            )
            + (
                ": writing to it could block forever"
                if output
                else ": reading it could block forever or never end"
            ),
            hint="give a regular file"
            if output
            else "give a regular file (copy the data into one first)",
        )


class PathParam(click.Path):
    """``click.Path`` that refuses ``""`` and paths no command can read or write safely.
    ``output=True``: a file the command only writes (``--out``), which may be a character
    device such as ``/dev/null`` or ``/dev/stdout``."""

    def __init__(self, *args: Any, output: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.output = output

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, (str, os.PathLike)):
            check_path(
                str(os.fspath(value)),
                param_label(param),
                file_okay=self.file_okay,
                dir_okay=self.dir_okay,
                output=self.output,
            )
        return super().convert(value, param, ctx)


class NameParam(click.ParamType[str]):
    """A bounded name; ``pattern`` is the full-match rule, ``rule`` says it in words."""

    name = "name"

    def __init__(
        self,
        what: str = "name",
        *,
        pattern: re.Pattern[str] = ESTATE_NAME,
        max_len: int = MAX_NAME,
        rule: str = "letters, digits and _ . @ -, starting with a letter or digit, "
        "as in stagewall.yaml",
    ) -> None:
        self.what = what
        self.pattern = pattern
        self.max_len = max_len
        self.rule = rule

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        label = param_label(param)
        # Whitespace alone is no name either: refused as empty (the value is not shown).
        refuse_empty(value.strip(), param, f"a {self.what}")
        if len(value) > self.max_len:
            raise ArgumentTooLong(
                f"{label} is {len(value)} characters long; a {self.what} has at most "
                f"{self.max_len}",
                hint=f"give a shorter {self.what} ({self.rule})",
            )
        if not self.pattern.fullmatch(value):
            raise ArgumentTooLong(
                f"{label} {shown(value)} is not a {self.what}",
                hint=f"a {self.what} is 1 to {self.max_len} characters: {self.rule}",
            )
        return value


# a C2SP note key name or witness name: no spaces or '+', and nothing a terminal would
# act on (control or format characters)
NOTE_NAME = re.compile(r"[^\s+\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]+")
NOTE_RULE = "no spaces, '+' or control characters, e.g. example.com/audit"
FREE_TEXT = re.compile(r"[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]+")


def estate_name(what: str) -> NameParam:
    """A name declared in stagewall.yaml (role, principal, stage, job, source, ...)."""
    return NameParam(what)


def note_name(what: str) -> NameParam:
    return NameParam(what, pattern=NOTE_NAME, rule=NOTE_RULE)


def title(what: str, max_len: int = 200) -> NameParam:
    """A short free-form title on one line."""
    return NameParam(
        what, pattern=FREE_TEXT, max_len=max_len, rule="one line, without control characters"
    )


def record_id(what: str) -> NameParam:
    """An id the server gave out (``what``: "request id", ...), checked before anything
    else: empty or whitespace-only is refused (SW110) before credentials are read or a
    request is sent."""
    return NameParam(
        what,
        pattern=NOTE_NAME,
        max_len=200,
        rule="as the server printed it, without spaces or control characters",
    )


def duration(
    text: str, option: str, *, at_most: timedelta, at_least: timedelta = timedelta(seconds=1)
) -> timedelta:
    """``text`` as a duration within [at_least, at_most], else DurationOutOfRange."""
    from stagewall.estate import format_duration, parse_duration

    bounds = f"between {format_duration(at_least)} and {format_duration(at_most)}"
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise DurationOutOfRange(
            f"{option}: {str(exc)[:200]}", hint=f"write a duration {bounds}, e.g. 30s, 5m, 2h"
        ) from None
    if not at_least <= value <= at_most:
        raise DurationOutOfRange(
            f"{option} {shown(text)} is outside its bounds", hint=f"write a duration {bounds}"
        )
    return value


def seconds(value: float, option: str, *, at_least: float, at_most: float) -> float:
    """A number of seconds within [at_least, at_most] (NaN and infinity refused)."""
    if not math.isfinite(value) or not at_least <= value <= at_most:
        raise DurationOutOfRange(
            f"{option} {value} is not a number of seconds between {at_least:g} and {at_most:g}",
            hint=f"give {option} a number of seconds between {at_least:g} and {at_most:g}",
        )
    return value


__all__ = [
    "ESTATE_NAME",
    "NameParam",
    "PathParam",
    "check_path",
    "duration",
    "estate_name",
    "note_name",
    "param_label",
    "record_id",
    "refuse_empty",
    "seconds",
    "shown",
    "title",
]
