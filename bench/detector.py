"""CPU time of the free-text detector (``classify.detect_many``) per text, in batches of
5 000 as text_scrub and verify hand them over: the notes of ``bench/masking.py
--free-text``, longer notes of prose with one personal value in half of them, and the
short values of structured columns verify runs it on (first names, e-mails, phones,
streets, statuses). Prints JSON (microseconds per text, best of 3).
Run: ``PYTHONPATH=src .venv/bin/python bench/detector.py`` (alternately with another
source tree to compare)."""

from __future__ import annotations

import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from transformers import free_text_rows

from stagewall.masking.classify import detect_many


def _sets() -> dict[str, list[str]]:
    rows = free_text_rows(200_000)
    rng = random.Random(5)
    prose = (
        "The customer called about order 42 and asked for a refund of 3 items. "
        "Shipping was delayed by 2 days because of the holiday in December. "
        "We offered a voucher worth 15 EUR, which was accepted on Monday. "
    )
    pii = ["Call back on +49 30 1234567.", "Mail anna.miller@example.org.",
           "Lives at 12 High Street.", "Spoke with Anna Miller.", "", "", "", ""]  # fmt: skip
    firsts = ["Anna", "Ben", "Chloe", "David", "Emma", "Felix", "Jürgen", "José"]
    n = 50_000
    ar = str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")
    return {
        # text that is not ASCII: German (umlauts, nothing the detector reads otherwise),
        # French with no-break spaces, Arabic with Arabic-Indic digits (every text's
        # view differs from it)
        "german notes": [
            f"Rückruf von Frau Müller wegen Bestellung {i}; sie wünscht die Lieferung "
            f"in die Hauptstraße {i % 200} und zahlt {i % 90} € später."
            for i in range(20_000)
        ],
        "french notes (nbsp)": [
            f"Commande n\u00b0\u00a0{i}\u00a0: livraison prévue, total\u00a0{i % 90}\u00a0€ ; "
            f"rappeler au +33\u00a06\u00a012\u00a034\u00a0{i % 100:02d}\u00a0{i % 89:02d}."
            for i in range(20_000)
        ],
        "arabic notes": [
            f"اتصل العميل بخصوص الطلب رقم {i} ويرغب في معاودة الاتصال على "
            f"+34 612 {i % 1000:03d} {i % 997:03d} بعد الساعة 5".translate(ar)
            for i in range(20_000)
        ],
        "customers.notes": [v for v in rows["text_scrub customers.notes"][0] if v],
        "orders.note": [v for v in rows["text_scrub orders.note"][0] if v],
        "prose notes": [
            prose[: rng.randint(80, 240)] + " " + rng.choice(pii) + f" Ticket {i}."
            for i in range(20_000)
        ],
        "first names": [rng.choice(firsts) + str(i % 50 if i % 3 else "") for i in range(n)],
        "e-mails": [f"user{i}@mail{i % 97}.example.org" for i in range(n)],
        "phones": [f"+49 30 {1000000 + i}" for i in range(n)],
        "streets": [f"{i % 997} High{i * 31 % 25000} Street" for i in range(n)],
        "statuses": [rng.choice(["paid", "open", "shipped"]) + str(i) for i in range(n)],
    }


def main() -> None:
    out = {}
    for name, texts in _sets().items():
        batches = [texts[i : i + 5000] for i in range(0, len(texts), 5000)]
        best = float("inf")
        for _ in range(3):
            t = time.process_time()
            for b in batches:
                detect_many(b)
            best = min(best, time.process_time() - t)
        out[name] = {
            "texts": len(texts),
            "chars_per_text": round(sum(map(len, texts)) / len(texts)),
            "us_per_text": round(best / len(texts) * 1e6, 2),
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
