"""A trap database of free text that holds its own row's personal data, in several
languages, on SQLite, PostgreSQL and MariaDB (made up for these tests).

``customers`` has names, e-mails, phones, streets and postcodes, notes and gift
messages that repeat them; ``orders`` reference customers and carry free text
about them. ``SENSITIVE``/``TEXTS``/``REFS`` describe it for the independent
checker in ``survivors.py``.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from urllib.parse import urlparse

FIRST = ["Yésica", "Ulla", "Jürgen", "Zoë", "Maarten", "Giulia", "Amélie", "Tomás", "Oksana"]
LAST = ["Carrasco", "Ganthriv", "Müller", "Okonkwo", "van der Berg", "Bianchi", "Lefèvre"]
LAST += ["Ñúñez", "Kowalczyk", "Thorvaldsen"]
STREETS = [
    "Calle Mayor 7",
    "222 Ganthriv Lane",
    "Hauptstraße 5",
    "Keizersgracht 123",
    "Via Roma 12",
    "3 rue de la Paix",
    "Rua das Flores 45",
    "14 Oak Street",
    "Lindenweg 8a",
]
NOTES = [
    "Spoke with {first} {last}; she moved to {street}",
    "Lives at {street}.",
    "{LAST} called from {phone} about the invoice",
    "Kundin {first} {last} wohnt jetzt in {street}, PLZ {postcode}",
    "Escribir a {email}: la cliente {first} vive en {street}",
    "Rappeler M. {last} au {phone}",
    "Klant {first} heeft gebeld, nieuw adres {street} {postcode}",
    "Will call back in May. Mark the account as reviewed.",
    "",
    None,
]
GIFTS = [
    "Happy birthday {first}! Love, mum",
    "Para {first} {last}, con cariño",
    "Alles Gute, {first}!",
    None,
]
ORDER_NOTES = [
    "Deliver to {first} {last} at {street}",
    "Customer {last} asked us to ring {phone} first",
    "Leave with the neighbour",
    "Paket für {first}, bitte bei {last} klingeln",
]
N = 45
SENSITIVE = {
    "first_name": "name",
    "last_name": "name",
    "email": "email",
    "phone": "phone",
    "street": "street",
    "postcode": "postcode",
}
TEXTS = {"customers": ["notes", "gift_message", "prefs"], "orders": ["note", "ship_to"]}
REFS = {"customers": "id", "orders": "customer_id"}


def customer(i: int) -> dict[str, Any]:
    first, last = FIRST[i % len(FIRST)], LAST[i % len(LAST)]
    plain = last.replace(" ", "").lower().encode("ascii", "ignore").decode()
    return {
        "id": i + 1,
        "first_name": first,
        "last_name": last,
        "email": f"{plain}.{i}@mail-{i % 4}.example.org",
        "phone": f"+34 6{i % 10}{(i * 7) % 10} {100 + i * 13:03d} {200 + i * 7:03d}",
        "street": STREETS[i % len(STREETS)],
        "postcode": f"{28000 + i * 37}",
    }


def _fill(template: str | None, c: dict[str, Any]) -> str | None:
    if template is None:
        return None
    return template.format(
        first=c["first_name"],
        last=c["last_name"],
        LAST=c["last_name"].upper(),
        street=c["street"],
        phone=c["phone"],
        email=c["email"],
        postcode=c["postcode"],
    )


def rows() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    customers, orders = [], []
    for i in range(N):
        c = customer(i)
        customers.append(
            (
                *c.values(),
                _fill(NOTES[i % len(NOTES)], c),
                _fill(GIFTS[i % len(GIFTS)], c),
                json.dumps(
                    {"channel": "web" if i % 2 else "app", "card_text": _fill(GIFTS[i % 3], c)},
                    ensure_ascii=False,
                ),
            )
        )
        for k in range(2):
            orders.append(
                (
                    i * 2 + k + 1,
                    i + 1,
                    _fill(ORDER_NOTES[(i + k) % len(ORDER_NOTES)], c),
                    c["street"],
                )
            )
    return customers, orders


def _ddl(text: str, vc: str, js: str) -> list[str]:
    return [
        f"""CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name {vc}(60),
        last_name {vc}(60), email {vc}(120) UNIQUE, phone {vc}(40), street {vc}(120),
        postcode {vc}(12), notes {text}, gift_message {vc}(200), prefs {js})""",
        f"""CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL
        REFERENCES customers(id), note {text}, ship_to {vc}(120))""",
    ]


Rows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def build(url: str, data: Rows | None = None) -> None:
    """The trap database at ``url`` (``data``: other customers and orders rows)."""
    customers, orders = rows() if data is None else data
    u = urlparse(url)
    if u.scheme == "sqlite":
        conn = sqlite3.connect(url[len("sqlite:///") :])
        for s in _ddl("TEXT", "VARCHAR", "JSON"):
            conn.execute(s)
        conn.executemany(f"INSERT INTO customers VALUES ({', '.join('?' * 10)})", customers)
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", orders)
        conn.commit()
        conn.close()
        return
    if u.scheme.startswith("postgres"):
        import psycopg

        with psycopg.connect(url, autocommit=True) as pg:
            for s in _ddl("text", "varchar", "jsonb"):
                pg.execute(s.encode())
            with pg.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO customers VALUES ({', '.join(['%s'] * 10)})".encode(), customers
                )
                cur.executemany(b"INSERT INTO orders VALUES (%s, %s, %s, %s)", orders)
        return
    import pymysql

    my = pymysql.connect(
        host=u.hostname,
        port=u.port or 3306,
        user=u.username or "root",
        password="",
        database=u.path.lstrip("/"),
        autocommit=True,
        charset="utf8mb4",
    )
    with my:
        cur = my.cursor()
        for s in _ddl("TEXT", "VARCHAR", "JSON"):
            cur.execute(s)
        cur.executemany(f"INSERT INTO customers VALUES ({', '.join(['%s'] * 10)})", customers)
        cur.executemany("INSERT INTO orders VALUES (%s, %s, %s, %s)", orders)
