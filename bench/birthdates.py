"""Benchmark: text_scrub of notes holding the row's own date of birth (CPU seconds).

``--rows`` notes in batches of 5,000, each row's known value its ``birth_date``
(and, for comparison, none): a third of the notes write the date (the first
round's writings, ``--writings old``, or those and ordinals, two-digit years and
other languages' months, ``--writings new``, and those and a two-digit year first,
``1.º``, a day in words, ``--writings more``; the date written compact,
``19480906``, ``060948``, beside an order number, ``--writings compact``; ``both``:
old and new, ``all``: the four), a third hold other dates and
numbers, a third are empty. With ``--against SRC`` (another checkout's ``src``
directory, e.g. a worktree of main) both trees are imported into this one process
(each under its own ``sys.modules``) and run alternately ``--repeat`` times, so a
shared machine's drift hits both alike. Prints JSON: CPU seconds per run.

    python bench/birthdates.py --rows 100000 --against /tmp/main-worktree/src
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = str(Path(__file__).resolve().parents[1] / "src")
OLD: list[Callable[[dt.date], str]] = [
    lambda d: f"DOB {d:%d/%m/%Y}, called about the invoice",
    lambda d: f"Born {d.day} {d:%B} {d.year}; prefers e-mail",
    lambda d: f"Date of birth: {d.isoformat()}",
    lambda d: f"{d:%b} {d.day} {d.year} is the birthday",
]
NEW: list[Callable[[dt.date], str]] = [
    *OLD,
    lambda d: f"born on the {d.day}th of {d:%B} {d.year}",
    lambda d: f"DOB {d:%d/%m/%y}, called",
    lambda d: f"nació el {d.day} de septiembre de {d.year}",
    lambda d: f"geb. {d.day}. März {d:%y}",
]
OTHER = [
    "Customer asked to be called on +49 30 1004821 after 5pm, order 4812.",
    "Paid by transfer 14/04/23, no issues so far.",
    "Spoke with the customer about the invoice; will call back next week.",
]
# and the third round's: a two-digit year first, 1.º, an English day in words
_ONES = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
_TENS = ("tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth")
_TENS += ("seventeenth", "eighteenth", "nineteenth", "twentieth")


def _in_words(day: int) -> str:
    if day < 10:
        return _ONES[day - 1]
    if day <= 20 or day == 30:
        return _TENS[day - 10] if day <= 20 else "thirtieth"
    return f"{'twenty' if day < 30 else 'thirty'}-{_ONES[day % 10 - 1]}"


MORE: list[Callable[[dt.date], str]] = [
    *NEW,
    lambda d: f"DOB {d:%y-%m-%d} per the form",
    lambda d: f"nació el 1.º de septiembre de {d.year}",
    lambda d: f"born the {_in_words(d.day)} of {d:%B}, {d.year}",
]
# the fourth round's: compact, one run of digits (with an order number beside it)
COMPACT: list[Callable[[dt.date], str]] = [
    lambda d: f"born {d:%Y%m%d}, order 482913",
    lambda d: f"DOB {d:%d%m%Y} per the passport",
    lambda d: f"scan in export_{d:%Y%m%d}.pdf",
    lambda d: f"ref {d:%y%m%d} on the form, invoice 20231114",
]
BATCH = 5000


def load(src: str) -> Any:
    """A text_scrub transformer of the stagewall package under ``src``."""
    for name in [k for k in sys.modules if k == "stagewall" or k.startswith("stagewall.")]:
        del sys.modules[name]
    sys.path.insert(0, src)
    try:
        import stagewall
        from stagewall.keys import MaskingKey
        from stagewall.masking.transformers import build_transformer

        if not str(stagewall.__file__).startswith(src):
            raise SystemExit(f"imported {stagewall.__file__}, not from {src}")
    finally:
        sys.path.remove(src)
    return build_transformer("text_scrub", {}, key=MaskingKey("bench", b"k" * 32), salt="bench")


def notes(born: list[dt.date], writings: list[Callable[[dt.date], str]]) -> list[str]:
    out = []
    for i, d in enumerate(born):
        if i % 3 == 0:
            out.append(writings[i // 3 % len(writings)](d))
        else:
            out.append(OTHER[i % len(OTHER)] if i % 3 == 1 else "")
    return out


def scrub(t: Any, texts: list[str], known: list[Any]) -> float:
    c0 = time.process_time()
    for s in range(0, len(texts), BATCH):
        t.transform_known(texts[s : s + BATCH], known[s : s + BATCH])
    return time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--writings", choices=["old", "new", "more", "compact", "both", "all"], default="both"
    )
    ap.add_argument("--against", help="another checkout's src directory, run alternately")
    args = ap.parse_args()
    rng = random.Random(7)
    start = dt.date(1930, 1, 1)
    born = [start + dt.timedelta(days=rng.randrange(30000)) for _ in range(args.rows)]
    which = {"both": ["old", "new"], "all": ["old", "new", "more", "compact"]}.get(
        args.writings, [args.writings]
    )
    table = {"old": OLD, "new": NEW, "more": MORE, "compact": COMPACT}
    data = {w: notes(born, table[w]) for w in which}
    known = {
        "with DOB": [(("birth_date", d.isoformat()),) for d in born],
        "no DOB": [()] * args.rows,
    }
    trees = {"this": HERE}
    if args.against:
        trees["against"] = str(Path(args.against).resolve())
    scrubbers = {name: load(src) for name, src in trees.items()}
    runs: dict[str, list[float]] = {}
    for r in range(max(1, args.repeat)):
        order = list(scrubbers) if r % 2 == 0 else list(reversed(scrubbers))
        for w, texts in data.items():
            for k, kn in known.items():
                for name in order:
                    label = f"{w} writings, {k}, {name}"
                    runs.setdefault(label, []).append(round(scrub(scrubbers[name], texts, kn), 3))
    print(json.dumps({"rows": args.rows, "trees": trees, "cpu_seconds": runs}, indent=1))


if __name__ == "__main__":
    main()
