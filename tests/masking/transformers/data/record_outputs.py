"""Recorded outputs of the transformers on a varied, deterministic corpus.

``corpus()`` builds the inputs (free text with the row's own values in several
languages and spellings, unicode case folding, "-_"-joined phrases, empty, blank
and NULL values, very long texts, JSON documents, e-mails, phones, IBANs, cards,
IPs, dates...). Run as a script it writes ``recorded_outputs.json.gz`` with every
transformer's output under a fixed test key; tests/masking/transformers/
test_recorded.py checks that the current code gives exactly those outputs, so a
speed-up that changes any pseudonym or any scrubbed text fails.

The recording was made from the code before the text11 speed-ups (commit
8573244) and made again on 2026-12-07 for one intended change: a row's own
two-letter name parts (``Ng``, ``Li``, ``Jo``) are searched alone (``_known.name_parts``);
every output that changed had such a name among its row's known values.
Regenerate only for an intended change of outputs:

    PYTHONPATH=src python tests/masking/transformers/data/record_outputs.py
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
from pathlib import Path
from typing import Any

from stagewall.errors import MaskingError
from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer

HERE = Path(__file__).parent
OUT = HERE / "recorded_outputs.json.gz"
KEY = MaskingKey("recorded-key", bytes(range(32)))

FIRST = [
    "Yésica",
    "José",
    "Ángel",
    "Anna",
    "Ben",
    "Chloe",
    "Émilie",
    "Søren",
    "Łukasz",
    "İlkay",
    "Straße",
    "Zoë",
    "Mary-Jane",
    "O'Neil",
    "Björn",
    "Nuñez",
    "Ανδρέας",
    "Ivy",
    "Mark",
    "Jo",
    "Al",
    "Do",
    "María José",
    "Jean_Luc",
]
LAST = [
    "Carrasco",
    "García",
    "Müller",
    "Dubois",
    "Rossi",
    "Novak",
    "Thorvaldsen",
    "Ganthriv",
    "van der Berg",
    "de la Cruz",
    "O'Brien",
    "Smith-Jones",
    "Øster",
    "ŁOSZ",
    "Straße",
    "Miller",
    "Schmidt",
    "Ng",
    "Li",
    "Kowalski",
    "Petrović",
    "Çelik",
    "İnce",
]
STREETS = [
    "Calle Mayor 7",
    "222 Ganthriv Lane",
    "Hauptstraße 5",
    "12 High Street",
    "Rue de la Paix 3",
    "Ulica Długa 44",
    "1 Main St",
    "Via Roma 10b",
    "Oak_Avenue-9",
    "77 Elm Road",
]
PHONES = [
    "+34 612 345 678",
    "+49 30 1234567",
    "(555) 123-4567",
    "0044 20 7946 0958",
    "030/1234567",
    "+1 212-555-0199",
    "612345678",
    "+44 (0)20 7946 0000",
]
# valid IBANs of eight countries, two also in their printed form (split on "|")
IBANS = (  # noqa: SIM905  (a pair of IBANs per line, not one per line)
    "DE89370400440532013000|GB82WEST12345698765432|NL91ABNA0417164300|"
    "FR1420041010050500013M02606|ES9121000418450200051332|IT60X0542811101000000123456|"
    "BE68539007547034|AT611904300234573201|DE89 3704 0044 0532 0130 00|"
    "GB82 WEST 1234 5698 7654 32"
).split("|")
CARDS = ["4111111111111111", "4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005"]
IPS = [
    "10.1.2.3",
    "192.168.0.1",
    "8.8.8.8",
    "2001:db8::1",
    "::1",
    "172.16.254.1",
    "203.0.113.9",
    "fe80::1ff:fe23:4567:890a",
]
IDS = ["123-45-6789", "AB 12 34 56 C", "QQ123456C", "X1234567Z", "ID-0042-xyz"]
POSTCODES = ["28013", "SW1A 1AA", "10115", "75001", "1012 AB"]
FILLERS = [
    "Spoke with {n} about the invoice.",
    "{n} rang from {p}, call back.",
    "Mail {e} before shipping.",
    "Deliver to {s}, ring twice.",
    "IBAN {i} confirmed; card {c}.",
    "Login from {ip} flagged.",
    "Para {f}, con cariño",
    "Kundin {N} wohnt jetzt in {s}, PLZ {z}",
    "ticket: {ID} / {n}",
    "Gift wrap please.",
    "THE CUSTOMER {N} ({e}) SAID: {p}",
    "{f_}{l_} rang",
    "{f}-{l} and {l}_{f}",
    "Mr {l} and Dr {l} met {f}",
    "Paid by transfer, no issues so far.",
    "",
    "   ",
    "{n}\n{s}\n{p}\t{e}",
    "Zoë's note: {f}{l}",
    "chad German Bossa Nova",
]


def _person(rng: random.Random) -> dict[str, str]:
    f, l_ = rng.choice(FIRST), rng.choice(LAST)
    user = f"{f}.{l_}".lower().replace(" ", "")
    return {
        "f": f,
        "l": l_,
        "n": f"{f} {l_}",
        "N": f"{f} {l_}".upper(),
        "f_": f.lower() + rng.choice(["-", "_", "-_", " "]),
        "l_": l_.swapcase(),
        "e": f"{user}@{rng.choice(['corp.com', 'mail.example.org', 'gmx.de'])}",
        "p": rng.choice(PHONES),
        "s": rng.choice(STREETS),
        "i": rng.choice(IBANS),
        "c": rng.choice(CARDS),
        "ip": rng.choice(IPS),
        "z": rng.choice(POSTCODES),
        "ID": rng.choice(IDS),
    }


def _known(rng: random.Random, p: dict[str, str]) -> list[list[str]]:
    pairs = [
        ["first_name", p["f"]],
        ["last_name", p["l"]],
        ["email", p["e"]],
        ["phone", p["p"]],
        ["street_address", p["s"]],
        ["iban", p["i"]],
        ["postcode", p["z"]],
        ["fpe_alnum", p["ID"]],
        ["full_name", p["n"]],
        ["card_number", p["c"]],
        ["ip_address", p["ip"]],
        ["city", "Madrid"],
    ]
    rng.shuffle(pairs)
    return pairs[: rng.randint(0, len(pairs))]


def free_text(rng: random.Random, n: int) -> tuple[list[Any], list[list[list[str]]]]:
    texts: list[Any] = []
    known: list[list[list[str]]] = []
    for i in range(n):
        p = _person(rng)
        k = rng.random()
        if k < 0.04:
            texts.append(None)
        elif k < 0.08:
            texts.append(rng.choice(["", " ", "\t"]))
        elif k < 0.1:  # very long text: many fillers, many people
            parts = []
            for _ in range(rng.randint(50, 300)):
                parts.append(rng.choice(FILLERS).format(**_person(rng)))
            parts.append(rng.choice(FILLERS).format(**p))
            texts.append(" ".join(parts))
        else:
            m = rng.randint(1, 3)
            texts.append(" ".join(rng.choice(FILLERS).format(**p) for _ in range(m)))
        known.append(_known(rng, p) if i % 7 else [])
    return texts, known


def documents(rng: random.Random, n: int) -> list[Any]:
    docs: list[Any] = []
    for i in range(n):
        p = _person(rng)
        d: dict[str, Any] = {
            "channel": rng.choice(["web", "app", "phone"]),
            "c": {"email": p["e"], "qty": rng.randint(0, 9)},
            "items": [
                {"name": p["n"], "note": rng.choice(FILLERS).format(**p)}
                for _ in range(rng.randint(0, 3))
            ],
        }
        if i % 5 == 0:
            d["gift"] = f"Happy birthday from {p['n']}!"
        if i % 11 == 0:
            d["c"]["email"] = None
        docs.append(json.dumps(d, ensure_ascii=bool(i % 2)) if i % 3 else d)
    return docs


def corpus() -> dict[str, tuple[str, dict[str, Any], list[Any], list[Any] | None]]:
    """label → (transformer, params, values, known or None)."""
    rng = random.Random(20261205)
    people = [_person(rng) for _ in range(600)]
    blanks: list[Any] = [None, "", " "]

    def mix(values: list[Any]) -> list[Any]:
        out = list(values)
        for b in blanks:
            out.insert(rng.randrange(len(out) + 1), b)
        return out

    names = mix(
        [p["f"] for p in people]
        + [p["l"] for p in people]
        + [p["n"] for p in people]
        + [p["N"] for p in people[:50]]
        + [f"Person {i}" for i in range(200)]
    )
    emails = mix(
        [p["e"] for p in people]
        + [f"user.{i}@mail{i % 97}.example.org" for i in range(300)]
        + [
            "a@b.co",
            "weird+tag@sub.domain.example",
            "ÜNICODE@exämple.de",
            "x" * 70 + "@long.example.com",
        ]
    )
    phones = mix(
        PHONES * 20
        + [f"+44 20 {i % 10000:04d} {i * 7 % 10000:04d}" for i in range(300)]
        + [f"+49 30 {1000000 + i}" for i in range(200)]
    )
    ibans = mix(IBANS * 30)
    ips = mix(
        IPS * 10
        + [f"10.{i % 256}.{i * 3 % 256}.{i % 7}" for i in range(300)]
        + ["192.168.0.0/24", "2001:db8::/32"]
    )
    base = dt.datetime(2024, 3, 30, 23, 30, tzinfo=dt.UTC)
    stamps = [base + dt.timedelta(hours=7 * i, microseconds=i % 5 * 1000) for i in range(300)]
    iso = [s.replace(tzinfo=None).isoformat(sep=" ") + "+00" for s in stamps]
    dates = [dt.date(1990, 1, 1) + dt.timedelta(days=37 * i) for i in range(300)]
    ft_texts, ft_known = free_text(rng, 1500)
    docs = documents(rng, 400)
    json_params = {
        "paths": {
            "$.c.email": {"transformer": "email"},
            "$.items[*].name": {"transformer": "full_name"},
        },
        "keep": ["$.c.qty", "$.channel"],
        "unknown_keys": "scrub",
    }
    c: dict[str, tuple[str, dict[str, Any], list[Any], list[Any] | None]] = {
        "text_scrub": ("text_scrub", {}, ft_texts, None),
        "text_scrub known": ("text_scrub", {}, ft_texts, ft_known),
        "text_scrub max_length": ("text_scrub", {"max_length": 40}, ft_texts, ft_known),
        "text_scrub kinds": ("text_scrub", {"kinds": ["email", "phone"]}, ft_texts, ft_known),
        "json_mask scrub": ("json_mask", {"unknown_keys": "scrub"}, docs, None),
        "json_mask paths": ("json_mask", json_params, docs, None),
        "json_mask paths known": ("json_mask", json_params, docs, ft_known[: len(docs)]),
        "email": ("email", {}, emails, None),
        "email domain": ("email", {"domain": "test.invalid"}, emails, None),
        "phone": ("phone", {}, phones, None),
        "iban": ("iban", {}, ibans, None),
        "iban null": ("iban", {"on_invalid": "null"}, [*ibans, "DE00123", "nonsense"], None),
        "card_number": ("card_number", {}, mix(CARDS * 20), None),
        "ip_address": ("ip_address", {}, ips, None),
        "date_shift text": ("date_shift", {"max_days": 30}, mix(iso), None),
        "date_shift native": ("date_shift", {}, stamps + dates, None),
        "date_shift salt": ("date_shift", {"per": "salt"}, stamps, None),
        "fpe_alnum": ("fpe_alnum", {}, mix(IDS * 10), None),
        "postcode": ("postcode", {}, mix(POSTCODES * 10), None),
    }
    for name in (
        "first_name",
        "last_name",
        "full_name",
        "username",
        "street_address",
        "city",
        "company",
    ):
        c[name] = (name, {}, names if name != "street_address" else mix(STREETS * 10 + names), None)
    return c


def jsonable(v: Any) -> Any:
    if isinstance(v, dt.datetime | dt.date):
        return {"$dt": v.isoformat()}
    return v


def outputs() -> dict[str, Any]:
    """label → the transformer's output (JSON-able) or ``{"$error": message}``."""
    out: dict[str, Any] = {}
    for label, (name, params, values, known) in corpus().items():
        t = build_transformer(name, params, key=KEY, salt="recorded")
        try:
            if known is None:
                got = t.transform(values)
            else:
                rows = [tuple(tuple(p) for p in k) for k in known]
                got = t.transform_known(values, rows)  # type: ignore[attr-defined]
        except MaskingError as exc:
            out[label] = {"$error": exc.message}
            continue
        out[label] = [jsonable(v) for v in got]
    return out


def main() -> None:
    data = json.dumps(outputs(), ensure_ascii=False, sort_keys=True)
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as f:
        f.write(data)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
