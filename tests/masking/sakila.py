"""Load the vendored Sakila sample database (data/sakila) into PostgreSQL or MariaDB.

PostgreSQL: jOOQ's port of Sakila (the schema Pagila grew from) with its COPY data,
run by ``psql``. MariaDB: jOOQ's MySQL schema, run by ``mysql``, and the same rows
converted from the PostgreSQL COPY data (jOOQ's MySQL data file is the same data
set; only one copy is vendored): arrays become ``SET`` lists, ``bytea`` hex, the
PostgreSQL-only columns ``fulltext`` and ``activebool`` are dropped and ``payment``
rows go to the single MySQL ``payment`` table.
"""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path
from urllib.parse import urlparse

from tests.masking.pagila import without_public_create

DATA = Path(__file__).parent / "data" / "sakila"
PG_ONLY = {"fulltext", "activebool"}


def _read(name: str) -> str:
    return gzip.decompress((DATA / name).read_bytes()).decode("utf-8")


def load_postgres(url: str) -> None:
    for name in ["postgres-sakila-schema.sql.gz", "postgres-sakila-insert-data-using-copy.sql.gz"]:
        subprocess.run(
            ["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", "-d", url],
            input=without_public_create(_read(name).encode()),
            check=True,
            capture_output=True,
        )


def _unescape(field: str) -> str | None:
    """A COPY text-format field as its value (None for ``\\N``)."""
    if field == "\\N":
        return None
    out, i = [], 0
    while i < len(field):
        ch = field[i]
        if ch == "\\" and i + 1 < len(field):
            nxt = field[i + 1]
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _mysql_literal(column: str, value: str | None) -> str:
    if value is None:
        return "NULL"
    if column == "special_features":  # {Trailers,"Deleted Scenes"} -> SET literal
        value = ",".join(p.strip('"') for p in value.strip("{}").split(",") if p)
    if column in {"active"} and value in {"t", "f"}:
        return "1" if value == "t" else "0"
    if value.startswith("\\x") and column == "picture":
        return "0x" + value[2:]
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def mysql_inserts() -> str:
    """The PostgreSQL COPY data as MySQL INSERT statements (batches of 500 rows)."""
    out = ["SET FOREIGN_KEY_CHECKS=0;", "SET UNIQUE_CHECKS=0;"]
    table = ""
    columns: list[str] = []
    keep: list[int] = []
    rows: list[str] = []

    def flush() -> None:
        for i in range(0, len(rows), 500):
            cols = ", ".join(f"`{c}`" for c in columns if c not in PG_ONLY)
            vals = ",\n".join(rows[i : i + 500])
            out.append(f"INSERT INTO `{table}` ({cols}) VALUES\n{vals};")

    copying = False
    for line in _read("postgres-sakila-insert-data-using-copy.sql.gz").splitlines():
        if line.startswith("COPY "):
            head, cols = line[5:].split(" (", 1)
            table = head.split(".")[-1]
            table = "payment" if table.startswith("payment") else table
            columns = [c.strip() for c in cols.split(")")[0].split(",")]
            keep = [i for i, c in enumerate(columns) if c not in PG_ONLY]
            rows, copying = [], True
        elif copying and line == "\\.":
            flush()
            copying = False
        elif copying:
            fields = line.split("\t")
            rows.append(
                "("
                + ", ".join(_mysql_literal(columns[i], _unescape(fields[i])) for i in keep)
                + ")"
            )
    out += ["SET FOREIGN_KEY_CHECKS=1;", "SET UNIQUE_CHECKS=1;"]
    return "\n".join(out) + "\n"


def load_mysql(url: str) -> None:
    u = urlparse(url)
    schema = _read("mysql-sakila-schema.sql.gz")
    for drop in ["DROP SCHEMA IF EXISTS sakila;", "CREATE SCHEMA sakila;", "USE sakila;"]:
        schema = schema.replace(drop, "")
    schema = schema.replace("sakila.", "")  # actor_info names its tables sakila.actor, ...
    cmd = ["mysql", "-h", u.hostname or "127.0.0.1", "-P", str(u.port or 3306)]
    cmd += ["-u", u.username or "root", "--default-character-set=utf8mb4", u.path.lstrip("/")]
    for script in [schema, mysql_inserts()]:
        subprocess.run(cmd, input=script.encode(), check=True, capture_output=True)
