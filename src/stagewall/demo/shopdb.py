"""A small but realistic production shop database full of fake personal data.

Customers, orders, payments and support tickets, with foreign keys, unique
e-mails, IBANs and card numbers with valid checksums, free-text tickets that
mention e-mails and phone numbers, and JSON metadata holding names. Generated
with Faker under a fixed seed so every demo run sees the same data.
"""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from faker import Faker

SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    phone TEXT,
    birth_date DATE,
    street TEXT,
    city TEXT,
    postcode TEXT,
    country TEXT NOT NULL,
    iban TEXT,
    signup_ip TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    ordered_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('new', 'paid', 'shipped', 'returned')),
    total_cents INTEGER NOT NULL,
    shipping_address TEXT
);
CREATE INDEX orders_customer ON orders(customer_id);
CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    card_number TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    paid_at TIMESTAMP NOT NULL
);
CREATE TABLE support_tickets (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES customers(id),
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    metadata TEXT
);
"""


@dataclass(frozen=True)
class ShopSize:
    customers: int = 400
    orders_per_customer: int = 3
    tickets: int = 200


def _iban_de(rng: random.Random) -> str:
    bban = f"{rng.randrange(10**7, 10**8)}{rng.randrange(10**9, 10**10)}"
    rearranged = bban + "1314" + "00"  # D=13 E=14, check digits 00
    check = 98 - int(rearranged) % 97
    return f"DE{check:02d}{bban}"


def _luhn_card(rng: random.Random, prefix: str = "4") -> str:
    digits = [int(c) for c in prefix] + [rng.randrange(10) for _ in range(15 - len(prefix))]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def build_shop_db(path: Path, size: ShopSize | None = None, seed: int = 20261121) -> dict[str, int]:
    """Create the database at ``path`` (replacing it) and return rows per table."""
    size = size or ShopSize()
    fake = Faker(["en_GB", "de_DE"])
    fake.seed_instance(seed)
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    base = datetime(2025, 1, 1, tzinfo=UTC)
    conn = sqlite3.connect(path)
    try:
        conn.executescript(SCHEMA)
        customers = []
        emails: set[str] = set()
        for cid in range(1, size.customers + 1):
            first, last = fake.first_name(), fake.last_name()
            email = f"{first}.{last}{cid}@{fake.free_email_domain()}".lower().replace(" ", "")
            emails.add(email)
            customers.append(
                (
                    cid,
                    first,
                    last,
                    email,
                    fake.phone_number(),
                    fake.date_of_birth(minimum_age=18, maximum_age=90).isoformat(),
                    fake.street_address(),
                    fake.city(),
                    fake.postcode(),
                    rng.choice(["GB", "DE"]),
                    _iban_de(rng),
                    fake.ipv4_public(),
                    (base + timedelta(minutes=rng.randrange(500_000))).isoformat(),
                )
            )
        conn.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", customers)
        orders, payments = [], []
        oid = 0
        for c in customers:
            for _ in range(rng.randrange(1, 2 * size.orders_per_customer)):
                oid += 1
                status = rng.choice(["new", "paid", "shipped", "returned"])
                total = rng.randrange(500, 50_000)
                at = base + timedelta(minutes=rng.randrange(600_000))
                orders.append(
                    (
                        oid,
                        c[0],
                        at.isoformat(),
                        status,
                        total,
                        f"{c[1]} {c[2]}, {c[6]}, {c[8]} {c[7]}",
                    )
                )
                if status != "new":
                    payments.append(
                        (oid, oid, _luhn_card(rng), total, (at + timedelta(minutes=5)).isoformat())
                    )
        conn.executemany("INSERT INTO orders VALUES (?,?,?,?,?,?)", orders)
        conn.executemany("INSERT INTO payments VALUES (?,?,?,?,?)", payments)
        tickets = []
        for tid in range(1, size.tickets + 1):
            c = customers[rng.randrange(len(customers))]
            body = (
                f"Hello, this is {c[1]} {c[2]}. My order has not arrived. "
                f"Please call me on {c[4]} or write to {c[3]}. Thanks!"
            )
            meta = json.dumps(
                {
                    "channel": rng.choice(["email", "phone", "chat"]),
                    "customer": {"name": f"{c[1]} {c[2]}", "email": c[3]},
                    "priority": rng.randrange(1, 4),
                }
            )
            tickets.append((tid, c[0], fake.sentence(nb_words=5), body, meta))
        conn.executemany("INSERT INTO support_tickets VALUES (?,?,?,?,?)", tickets)
        conn.commit()
    finally:
        conn.close()
    return {
        "customers": len(customers),
        "orders": len(orders),
        "payments": len(payments),
        "support_tickets": len(tickets),
    }
