"""An independent survivor checker for the test suite: deliberately simple and slow.

It shares no code with ``stagewall.masking`` verify or text_scrub: it reads the
source and target with the plain drivers, pairs rows by primary key (the trap
database keeps its keys), and tests every source value of every listed column,
one by one, against every text cell of the same target row and of the target rows
that reference it. A value counts as found when its words appear, in order and
as whole words, in the cell after both are lower-cased and stripped of accents;
digits of phone numbers are also compared without separators.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from typing import Any
from urllib.parse import urlparse

PARTICLES = {"van", "der", "den", "de", "del", "la", "le", "da", "di", "von", "du"}


def plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    no_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " " + " ".join(re.findall(r"[^\W_]+", no_marks.lower())) + " "


def needles(kind: str, value: str) -> list[tuple[str, bool]]:
    """(needle, digits-only?) pairs for one source value."""
    words = plain(value).split()
    if not words:
        return []
    out = []
    if kind == "name":
        out += [(f" {w} ", False) for w in words if len(w) >= 3 and w not in PARTICLES]
    if kind == "phone":
        digits = "".join(ch for ch in value if ch.isdigit())
        if len(digits) >= 8:
            out.append((digits, True))
    out.append((" " + " ".join(words) + " ", False))
    return out


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    u = urlparse(url)
    if u.scheme == "sqlite":
        conn = sqlite3.connect(url[len("sqlite:///") :])
        try:
            return list(conn.execute(sql))
        finally:
            conn.close()
    if u.scheme.startswith("postgres"):
        import psycopg

        with psycopg.connect(url) as conn:
            return list(conn.execute(sql.encode()).fetchall())
    import pymysql

    conn2 = pymysql.connect(
        host=u.hostname,
        port=u.port or 3306,
        user=u.username or "root",
        password="",
        database=u.path.lstrip("/"),
        charset="utf8mb4",
    )
    with conn2:
        cur = conn2.cursor()
        cur.execute(sql.replace('"', "`"))
        return list(cur.fetchall())


def survivors(
    source: str,
    target: str,
    parent: str,
    sensitive: dict[str, str],
    texts: dict[str, list[str]],
    refs: dict[str, str],
    key: str = "id",
) -> dict[str, int]:
    """Cells per ``table.column`` of the target holding a value of their own row.

    ``parent``: the table with the personal data, keyed by ``key``; ``sensitive``:
    its columns → kind ("name", "email", "phone", "street", "postcode");
    ``texts``: table → its text columns to search; ``refs``: table → the column
    holding the parent's key (``key`` itself for the parent).
    """
    cols = list(sensitive)
    values: dict[Any, list[tuple[str, bool]]] = {}
    for row in _rows(
        source,
        f'SELECT "{key}", {", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)} FROM "{parent}"',
    ):
        found: list[tuple[str, bool]] = []
        for c, v in zip(cols, row[1:], strict=True):
            if isinstance(v, str) and v:
                found += needles(sensitive[c], v)
        values[str(row[0])] = found
    out: dict[str, int] = {}
    for table, tcols in texts.items():
        sel = ", ".join(f'"{c}"' for c in [refs[table], *tcols])
        for row in _rows(target, f'SELECT {sel} FROM "{table}"'):
            mine = values.get(str(row[0]), [])
            for c, cell in zip(tcols, row[1:], strict=True):
                if cell is None:
                    continue
                text = cell if isinstance(cell, str) else json.dumps(cell, ensure_ascii=False)
                words = plain(text)
                digits = "".join(ch for ch in text if ch.isdigit())
                if any((n in digits) if d else (n in words) for n, d in mine):
                    out[f"{table}.{c}"] = out.get(f"{table}.{c}", 0) + 1
    return out
