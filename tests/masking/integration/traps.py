"""A small database of stagewall's own making with the traps of well-known sample databases.

Modelled on what real sample databases do (not copied from them): reference tables
(countries such as "Chad", languages such as "German", genres such as "Bossa Nova"),
narrow ``varchar``/``char`` columns, a ``password`` column, ``ship_*`` columns of
orders copying the customer's address, a ``district``/``state``/``country`` in
people's addresses, IPs from one /24 documentation block, a status column with a
fixed list (MySQL ``enum``, a ``CHECK … IN`` elsewhere), photos and photo paths
holding surnames, hire dates and composers' names in a catalogue.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from stagewall.masking.db import DatabaseURL

COUNTRIES = ["Chad", "Chile", "China", "Germany", "Brazil", "Canada", "Peru", "India"]
LANGUAGES = ["English", "Italian", "Japanese", "Mandarin", "French", "German"]
GENRES = ["Rock", "Jazz", "Bossa Nova", "Latin", "Blues", "Classical", "Reggae"]
FIRST = ["Mary", "Patricia", "Linda", "Barbara", "Elizabeth", "Jennifer", "Maria", "Susan"]
LAST = ["Smith", "Johnson", "Williams", "Jones", "Brown", "Davis", "Miller", "Wilson"]
CITIES = ["Lethbridge", "Woodridge", "Aurora", "Sasebo", "Tanza", "Ife", "Kamyin", "Lima"]
REGIONS = ["Alberta", "QLD", "Buenos Aires", "Nagasaki", "WA", "SP", "BC", "Lima"]
N = 40

_TYPES = {
    "sqlite": {"pk": "INTEGER PRIMARY KEY", "blob": "BLOB", "status": "VARCHAR(8)"},
    "postgresql": {"pk": "integer PRIMARY KEY", "blob": "bytea", "status": "varchar(8)"},
    "mysql": {"pk": "INT PRIMARY KEY", "blob": "BLOB", "status": "ENUM('active','closed')"},
}


def ddl(backend: str) -> list[str]:
    t = _TYPES[backend]
    check = "" if backend == "mysql" else ", CHECK (status IN ('active', 'closed'))"
    return [
        f"CREATE TABLE country (country_id {t['pk']}, country VARCHAR(50) NOT NULL)",
        f"CREATE TABLE language (language_id {t['pk']}, name CHAR(20) NOT NULL)",
        f"CREATE TABLE genre (genre_id {t['pk']}, name VARCHAR(120))",
        f"CREATE TABLE city (city_id {t['pk']}, city VARCHAR(50) NOT NULL, "
        "country_id INT NOT NULL REFERENCES country (country_id))",
        f"CREATE TABLE customers (customer_id {t['pk']}, first_name VARCHAR(9) NOT NULL, "
        "last_name VARCHAR(12) NOT NULL, email VARCHAR(50) UNIQUE, password VARCHAR(64), "
        "address VARCHAR(30), city VARCHAR(12), district VARCHAR(20), state CHAR(2), "
        "country VARCHAR(15), postal_code VARCHAR(10), phone VARCHAR(24), "
        f"status {t['status']} NOT NULL, last_ip VARCHAR(15), "
        "city_id INT REFERENCES city (city_id), preferred_language INT REFERENCES "
        f"language (language_id){check})",
        f"CREATE TABLE employees (employee_id {t['pk']}, first_name VARCHAR(10), "
        f"last_name VARCHAR(20), hire_date DATE, photo {t['blob']}, photo_path VARCHAR(255))",
        f"CREATE TABLE orders (order_id {t['pk']}, "
        "customer_id INT REFERENCES customers (customer_id), "
        "employee_id INT REFERENCES employees (employee_id), "
        "ship_name VARCHAR(40), ship_address VARCHAR(60), ship_city VARCHAR(15), "
        "ship_region VARCHAR(15), ship_country VARCHAR(15))",
        f"CREATE TABLE track (track_id {t['pk']}, name VARCHAR(200) NOT NULL, "
        "genre_id INT REFERENCES genre (genre_id), composer VARCHAR(60))",
    ]


def rows() -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    customers = []
    for i in range(1, N + 1):
        first, last = FIRST[i % 8], LAST[(i * 3) % 8]
        customers.append(
            (
                i, first, last, f"{first}.{last}{i}@sakilacustomer.org".upper(),
                f"$2b$12$abcdefghijklmnopqrstuv{i:04d}", f"{100 + i} Main Street",
                CITIES[i % 8], REGIONS[i % 8], ["CA", "WA", "NY", "TX"][i % 4],
                COUNTRIES[i % 8], f"{10000 + i * 7}", f"+1 555 {100 + i:03d} {1000 + i}",
                "active" if i % 3 else "closed", f"192.0.2.{i}", (i % 8) + 1, (i % 6) + 1,
            )
        )  # fmt: skip
    employees = [
        (
            i, FIRST[i % 8], LAST[i % 8], f"199{i % 10}-0{1 + i % 9}-1{i % 10}",
            b"\x89PNG" + bytes([i]), f"http://intranet/photos/{LAST[i % 8].lower()}.bmp",
        )
        for i in range(1, 9)
    ]  # fmt: skip
    orders = []
    for i in range(1, 3 * N + 1):
        c = customers[i % N]
        orders.append(
            (i, c[0], 1 + i % 8, f"{c[1]} {c[2]}", c[5], c[6], c[7], c[9])  # copies
        )
    tracks = [
        (
            i, f"{['Blue', 'Summer', 'Night', 'Road'][i % 4]} {['Song', 'Dance', 'Train'][i % 3]}",
            1 + i % 7, f"{FIRST[i % 8]} {LAST[i % 8]}, {FIRST[(i + 1) % 8]} {LAST[(i + 2) % 8]}",
        )
        for i in range(1, N + 1)
    ]  # fmt: skip
    return {
        "country": (["country_id", "country"], [(i + 1, c) for i, c in enumerate(COUNTRIES)]),
        "language": (["language_id", "name"], [(i + 1, n) for i, n in enumerate(LANGUAGES)]),
        "genre": (["genre_id", "name"], [(i + 1, g) for i, g in enumerate(GENRES)]),
        "city": (
            ["city_id", "city", "country_id"],
            [(i + 1, c, i + 1) for i, c in enumerate(CITIES)],
        ),
        "customers": (
            [
                "customer_id",
                "first_name",
                "last_name",
                "email",
                "password",
                "address",
                "city",
                "district",
                "state",
                "country",
                "postal_code",
                "phone",
                "status",
                "last_ip",
                "city_id",
                "preferred_language",
            ],
            customers,
        ),
        "employees": (
            ["employee_id", "first_name", "last_name", "hire_date", "photo", "photo_path"],
            employees,
        ),
        "orders": (
            [
                "order_id",
                "customer_id",
                "employee_id",
                "ship_name",
                "ship_address",
                "ship_city",
                "ship_region",
                "ship_country",
            ],
            orders,
        ),
        "track": (["track_id", "name", "genre_id", "composer"], tracks),
    }


def _connect(url: str) -> tuple[Any, str]:
    parsed = DatabaseURL.parse(url)
    if parsed.backend == "sqlite":
        assert parsed.path is not None
        return sqlite3.connect(parsed.path), "?"
    if parsed.backend == "postgresql":
        import psycopg

        return psycopg.connect(url, autocommit=True), "%s"
    import pymysql

    conn = pymysql.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.user or "root",
        password=parsed.password or "",
        database=parsed.database,
        autocommit=True,
        charset="utf8mb4",
    )
    return conn, "%s"


def execute(url: str, *statements: str) -> None:
    """Run DDL/DML statements on the database at ``url``."""
    conn, _ = _connect(url)
    try:
        cur = conn.cursor()
        for s in statements:
            cur.execute(s)
        conn.commit()
    finally:
        conn.close()


def build(url: str) -> None:
    """Create the trap tables and rows in the (empty) database at ``url``."""
    backend = DatabaseURL.parse(url).backend
    conn, ph = _connect(url)
    try:
        cur = conn.cursor()
        for s in ddl(backend):
            cur.execute(s)
        for table, (cols, data) in rows().items():
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join([ph] * len(cols))})"
            cur.executemany(sql, data)
        conn.commit()
    finally:
        conn.close()
