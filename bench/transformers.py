"""Throughput of the masking transformers, in values per second on one core.

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


def _best(fn: Callable[[], Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


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
    print(json.dumps({"n": n, "transformers": results}, indent=2))


if __name__ == "__main__":
    main()
