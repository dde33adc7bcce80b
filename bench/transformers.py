"""Throughput of the masking transformers, in values per second of CPU time on one core.

Prints JSON: for each transformer, values/s and the ratio against two baselines
measured in the same process on the same input (``list(values)`` and
``[str(v) for v in values]``). Run: ``.venv/bin/python bench/transformers.py [N]``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer


def _best(fn: Callable[[], Any], repeat: int = 3, before: Callable[[], Any] = list) -> float:
    """Best CPU time of this process over ``repeat`` calls (on a shared machine the
    wall clock measures the neighbours too); ``before`` runs untimed before each."""
    best = float("inf")
    for _ in range(repeat):
        before()
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def _cold() -> None:
    """Forget the known values' cached search patterns: a masking run sees most of a
    table's values once, so the free-text figures are for values not seen before."""
    from stagewall.masking.transformers import _known

    for cache in ("_MANY", "_PROBES"):  # _PROBES: before text11
        getattr(_known, cache, {}).clear()
    _known.patterns.cache_clear()


def free_text_rows(n: int) -> dict[str, tuple[list[Any], list[Any]]]:
    """The notes of ``bench/masking.py --free-text`` with each row's known values, as the
    engine hands them to text_scrub (customers' own; orders' own street and their
    customer's values) and the orders' JSON documents."""
    firsts = ["Anna", "Ben", "Chloe", "David", "Emma", "Felix"]
    lasts = ["Miller", "Schmidt", "Dubois", "Rossi", "Novak"]
    ibans = ["DE89370400440532013000", "GB82WEST12345698765432", "NL91ABNA0417164300"]
    customers = []
    for g in range(1, n // 5 + 1):
        first = firsts[g % 6] + ("" if g % 3 == 0 else chr(97 + g % 26) + str(g % 150))
        last = lasts[g % 5] + str(g * 7919 % 20000)
        email = f"user{g}@mail{g % 97}.example.org"
        phone = f"+49 30 {1000000 + g}"
        note = [
            f"Spoke with {first} {last} about the invoice; will call back next week.",
            f"Customer asked to be called on {phone} after 5pm.",
            f"Prefers e-mail. Mail {email} before shipping.",
            "Paid by transfer, no issues so far.",
            "",
            None,
        ][g % 6]
        known = (
            ("email", email),
            ("first_name", first),
            ("last_name", last),
            ("phone", phone),
            ("iban", ibans[g % 3]),
        )
        customers.append((note, known))
    notes, docs, order_known = [], [], []
    for g in range(1, n // 2 + 1):
        street = f"{g % 997} {['High', 'Mill', 'Elm', 'Oak'][g % 4]}{g * 31 % 250000} Street"
        notes.append(
            [
                f"Deliver to {street}, ring twice.",
                "Gift wrap please.",
                f"Leave with the neighbour at {street}",
                None,
            ][g % 4]
        )
        docs.append(
            {
                "channel": ["web", "app", "phone"][g % 3],
                "gift": "Happy birthday from Anna Miller!" if g % 5 == 0 else None,
            }
        )
        order_known.append((("street_address", street), *customers[g % len(customers)][1]))
    return {
        "text_scrub customers.notes": ([c[0] for c in customers], [c[1] for c in customers]),
        "text_scrub orders.note": (notes, order_known),
        "json_mask orders.meta": ([json.dumps(d) for d in docs], order_known),
    }


def _batches(t: Any, values: list[Any], known: list[Any], size: int = 5000) -> None:
    """``transform_known`` in the engine's batches (``--batch-rows`` 5000)."""
    for i in range(0, len(values), size):
        t.transform_known(values[i : i + size], known[i : i + size])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    key = MaskingKey("bench", b"\x01" * 32)
    emails = [f"user.{i}@mail{i % 97}.example.org" for i in range(n)]
    names = [f"Person {i}" for i in range(n)]
    inputs: dict[str, tuple[list[Any], dict[str, Any]]] = {
        "first_name": (names, {}),
        "last_name": (names, {}),
        "full_name": (names, {}),
        "email": (emails, {}),
        "username": (names, {}),
        "city": (names, {}),
        "company": (names, {}),
        "street_address": (names, {}),
        "hash": (emails, {}),
        "partial": (emails, {}),
        "redact": (emails, {}),
        "postcode": ([f"SW{i % 9}A {i % 10}AA" for i in range(n)], {}),
        "phone": ([f"+44 20 {i % 10000:04d} {i // 10000 % 10000:04d}" for i in range(n)], {}),
        "fpe_digits": ([f"{i:09d}" for i in range(n)], {}),
        "fpe_alnum": ([f"AB{i:07d}xy" for i in range(n)], {}),
        "fpe_integer": (list(range(1, n + 1)), {}),
        "fpe_uuid": ([uuid.UUID(int=i * 7919) for i in range(n)], {}),
        "iban": (["GB82WEST12345698765432"] * n, {}),
        "card_number": (["4111111111111111"] * n, {}),
        "ip_address": ([f"10.{i % 256}.{i // 256 % 256}.{i % 7}" for i in range(n)], {}),
        "date_shift": ([dt.date(2000, 1, 1) + dt.timedelta(days=i % 9000) for i in range(n)], {}),
        "numeric_noise": ([Decimal(i) / 100 for i in range(n)], {}),
        "text_scrub": ([f"ticket {i}: call jane{i}@corp.com re order" for i in range(n // 10)], {}),
        "json_mask": (
            [{"c": {"email": e, "qty": 1}} for e in emails[: n // 10]],
            {"paths": {"$.c.email": {"transformer": "email"}}, "keep": ["$.c.qty"]},
        ),
    }
    only = set(sys.argv[2:])
    results: dict[str, Any] = {}
    for name, (values, params) in inputs.items():
        if only and name not in only:
            continue
        t = build_transformer(name, params, key=key)
        t.transform(values[:1000])  # warm caches (dictionaries)
        secs = _best(lambda t=t, values=values: t.transform(values), repeat=2)
        copy = _best(lambda values=values: list(values))
        stringify = _best(lambda values=values: [str(v) for v in values])
        results[name] = {
            "values": len(values),
            "values_per_s": round(len(values) / secs),
            "ratio_vs_list_copy": round(secs / copy, 1),
            "ratio_vs_str_list": round(secs / stringify, 2),
        }
    params = {"json_mask": {"unknown_keys": "scrub"}}
    free = free_text_rows(n)
    for label, (values, known) in free.items():
        name = label.split(" ")[0]
        if only and name not in only and label not in only:
            continue
        t = build_transformer(name, params.get(name, {}), key=key)
        t.transform_known(values[:1000], known[:1000])  # type: ignore[attr-defined]
        secs = _best(lambda t=t, v=values, k=known: _batches(t, v, k), repeat=3, before=_cold)
        results[label] = {"values": len(values), "values_per_s": round(len(values) / secs)}
    if not only or "orders.note+meta" in only:
        results["orders.note+meta"] = _shared_batch(free, key)
    print(json.dumps({"n": n, "transformers": results}, indent=2))


def _shared_batch(free: dict[str, tuple[list[Any], list[Any]]], key: MaskingKey) -> dict[str, Any]:
    """An order's note and its JSON document in the engine's batches, both given the
    batch's known values as one KnownBatch (what the engine does for a table with
    several consumers: the values' probes are built once) and as a plain list (each
    consumer builds its own): rows/s of the pair and the ratio, in this process."""
    from stagewall.masking.transformers._known import KnownBatch

    notes, known = free["text_scrub orders.note"]
    docs, _ = free["json_mask orders.meta"]
    scrub = build_transformer("text_scrub", {}, key=key)
    mask = build_transformer("json_mask", {"unknown_keys": "scrub"}, key=key)

    def both(wrap: Callable[[list[Any]], list[Any]]) -> None:
        for i in range(0, len(notes), 5000):
            k = wrap(known[i : i + 5000])
            scrub.transform_known(notes[i : i + 5000], k)  # type: ignore[attr-defined]
            mask.transform_known(docs[i : i + 5000], k)  # type: ignore[attr-defined]

    both(list)  # warm
    apart, shared = float("inf"), float("inf")
    for _ in range(3):  # alternating, the best of each
        apart = min(apart, _best(lambda: both(list), repeat=1, before=_cold))
        shared = min(shared, _best(lambda: both(KnownBatch), repeat=1, before=_cold))
    return {
        "rows": len(notes),
        "rows_per_s_one_known_batch": round(len(notes) / shared),
        "rows_per_s_list_per_consumer": round(len(notes) / apart),
        "cpu_ratio_shared_over_apart": round(shared / apart, 3),
    }


if __name__ == "__main__":
    from stagewall.masking._parallel import fewer_collections

    with fewer_collections():  # the collector's threshold of mask run's workers
        main()
