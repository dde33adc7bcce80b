"""Statement helpers: comments stripped in one pass, command words behind any comment."""

from __future__ import annotations

import pytest

from stagewall.monitoring.ingest._base import (
    command_word,
    first_word,
    settings_named,
    strip_comments,
)


@pytest.mark.parametrize(
    ("statement", "stripped"),
    [
        ("SELECT 1 -- note\nFROM t", "SELECT 1  \nFROM t"),
        ("SELECT /* a /* b */ c */ 1", "SELECT   1"),
        ("SELECT '/* not a comment */', '--' FROM t", "SELECT '/* not a comment */', '--' FROM t"),
        ("SELECT 'it''s' /* x */", "SELECT 'it''s'  "),
        ("SELECT E'\\' /* ' /* y */", "SELECT E'\\' /* '  "),
        ("SELECT '\\' /* z */", "SELECT '\\'  "),
        ('SELECT "a--b" /* q */ FROM t', 'SELECT "a--b"   FROM t'),
        ("SELECT $x$ -- $x$ -- c\n", "SELECT $x$ -- $x$  \n"),
        ("SELECT $1 /* p */", "SELECT $1  "),
        ("SELECT 1 /* never ends", "SELECT 1 /* never ends"),
        ("SELECT 'never ends /* x */", "SELECT 'never ends /* x */"),
        ("SELECT 1 /* a /* b */ still open", "SELECT 1 /* a /* b */ still open"),
    ],
)
def test_postgresql_comments(statement: str, stripped: str) -> None:
    assert strip_comments(statement) == stripped


@pytest.mark.parametrize(
    ("statement", "stripped"),
    [
        ("/* a /* b */ SET x=1", "  SET x=1"),
        ("/*!50000 SET GLOBAL general_log=0 */", "/*!50000 SET GLOBAL general_log=0 */"),
        ("SELECT 'a\\' /* b' /* c */", "SELECT 'a\\' /* b'  "),
        ("-- kept SET x=1", "-- kept SET x=1"),
        ("# kept", "# kept"),
    ],
)
def test_mariadb_comments(statement: str, stripped: str) -> None:
    assert strip_comments(statement, dialect="mariadb") == stripped


def test_many_comments_are_stripped_in_one_pass() -> None:
    """200,000 comments, nested 100,000 deep: linear (a pass per comment was not)."""
    assert strip_comments("/**/" * 200_000 + "SELECT 1").strip() == "SELECT 1"
    deep = "/*" * 100_000 + "*/" * 100_000
    assert strip_comments(deep + "SELECT 1").strip() == "SELECT 1"
    assert command_word("/**/ " * 200_000 + "set x=1") == ("SET", False)


@pytest.mark.parametrize(
    ("statement", "word"),
    [
        ("SET x=1", ("SET", False)),
        ("  ( SELECT 1)", ("SELECT", False)),
        ("/*!50000 SET GLOBAL general_log=0 */", ("SET", False)),
        ("/*M!100401 SET GLOBAL x=1 */", ("SET", False)),
        ("/* a /* b */ UPDATE t", ("UPDATE", False)),
        ("-- c SET x=1", ("", False)),
        ("--x SET", ("", False)),  # "--x" is not a comment in MariaDB: no word either
        ("# c", ("", False)),
        ("/* cut", ("", True)),
    ],
)
def test_mariadb_command_word(statement: str, word: tuple[str, bool]) -> None:
    assert command_word(statement) == word
    assert first_word(statement) == word[0]


def test_unicode_escapes_with_many_escape_characters_decode_in_one_pass() -> None:
    clauses = "".join(f"U&\"{chr(c)}0061\" UESCAPE '{chr(c)}' " for c in range(0x100, 0x1100))
    statement = clauses + "ALTER SYSTEM SET U&\"pg#0061udit.log\" UESCAPE '#' = 'none'"
    assert settings_named(statement, "") == " [names: pgaudit.log]"
