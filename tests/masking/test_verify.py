"""verify on SQLite: a correct masked copy passes; planted leaks are caught and counted.

The targets here are written by a deliberately simple copier in this file (not
the engine), so each leak is planted exactly where the test says.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from stagewall.errors import MaskingError
from stagewall.keys import MaskingKey
from stagewall.masking.db import Marker, MarkerStatus, open_database
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
from stagewall.masking.verify import VerifyOutcome, verify
from tests.masking.copier import masked_rows

KEY = MaskingKey("mk-test", bytes(range(32)))
FIRST = ["Anna", "Jan", "Zofia", "Pieter", "Maria", "Lukas", "Elena", "Tomasz", "Ines", "Oskar"]
LAST = ["Kowalska", "de Vries", "Schmidt", "Novak", "Rossi", "Dubois", "Jensen", "Horvat"]
DDL = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT,
  status TEXT, meta TEXT, notes TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
  contact_email TEXT, amount INTEGER);
"""
N = 60


def _source(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.executescript(DDL)
    for i in range(N):
        name = f"{FIRST[i % len(FIRST)]} {LAST[i % len(LAST)]}"
        email = f"{name.split()[0].lower()}.{i}@corp-mail.example"
        meta = {"email": email, "plan": "gold" if i % 3 else "silver"}
        if i % 4 == 0:
            meta["contact"] = name
        notes = (
            f"Call back {name}, mail {email}, re invoice {1000 + i}" if i % 5 == 0 else "no notes"
        )
        conn.execute(
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)",
            (i + 1, email, name, "active" if i % 2 else "closed", json.dumps(meta), notes),
        )
        conn.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?)",
            (i + 1, i + 1, email if i % 2 else None, 100 + i),
        )
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def _cp(t: str, **p: Any) -> ColumnPlan:
    return ColumnPlan(transformer=t, params=p, reason="test")


def _plan(**override: ColumnPlan) -> Plan:
    meta = _cp(
        "json_mask",
        paths={"$.email": {"transformer": "email"}, "$.contact": {"transformer": "full_name"}},
        keep=["$.plan"],
    )
    customers = {
        "id": _cp("keep"),
        "email": _cp("email"),
        "name": _cp("full_name"),
        "status": _cp("keep"),
        "meta": meta,
        "notes": _cp("text_scrub"),
    }
    orders = {
        "id": _cp("keep"),
        "customer_id": _cp("keep"),
        "contact_email": _cp("email"),
        "amount": _cp("keep"),
    }
    for k, v in override.items():
        table, col = k.split("__")
        (customers if table == "customers" else orders)[col] = v
    return Plan(
        tables={"customers": TablePlan(columns=customers), "orders": TablePlan(columns=orders)}
    )


def _copy(
    plan: Plan,
    source: str,
    target: Path,
    *,
    verbatim: dict[str, set[int]] | None = None,
    drop_rows: int = 0,
    marker: MarkerStatus | None = MarkerStatus.COMPLETE,
) -> str:
    """Mask source into target with ``plan``; ``verbatim`` = {"table.col": row ids copied raw}."""
    masked = masked_rows(plan, source, KEY, verbatim)
    conn = sqlite3.connect(target)
    conn.executescript(DDL.replace("REFERENCES customers(id)", ""))
    for name, rows in masked.items():
        rows = rows[: len(rows) - drop_rows] if name == "orders" else rows
        ph = ", ".join("?" * len(rows[0]))
        conn.executemany(f"INSERT INTO {name} VALUES ({ph})", rows)
    conn.commit()
    conn.close()
    url = f"sqlite:///{target}"
    if marker is not None:
        with open_database(url, role="target", read_only=False) as t:
            t.write_marker(Marker("run1", marker, plan.sha256(), KEY.key_id, "t0", "t1", "{}"))
    return url


def _hits(report: Any) -> dict[str, int]:
    return {f"{h.table}.{h.column}": h.hits for h in report.hits}


@pytest.mark.parametrize("jobs", [1, 2])  # 2: source and target parts in workers
def test_correct_masked_copy_passes(tmp_path: Path, jobs: int) -> None:
    src = _source(tmp_path / "src.db")
    plan = _plan()
    tgt = _copy(plan, src, tmp_path / "tgt.db")
    report = verify(plan, src, tgt, KEY, jobs=jobs)
    assert _hits(report) == {}
    assert report.outcome is VerifyOutcome.PASSED, report.to_json()
    assert report.sensitive_hashes > N * 3
    assert all(c.ok for c in report.counts)


@pytest.mark.parametrize("jobs", [1, 2])  # 2: source and target parts in workers
def test_keep_on_an_email_column_is_caught(tmp_path: Path, jobs: int) -> None:
    src = _source(tmp_path / "src.db")
    plan = _plan(orders__contact_email=_cp("keep"))
    tgt = _copy(plan, src, tmp_path / "tgt.db")
    report = verify(plan, src, tgt, KEY, jobs=jobs)
    assert report.outcome is VerifyOutcome.FAILED
    assert _hits(report) == {"orders.contact_email": N // 2}


@pytest.mark.parametrize("jobs", [1, 2])  # 2: source and target parts in workers
def test_name_inside_json_is_caught(tmp_path: Path, jobs: int) -> None:
    src = _source(tmp_path / "src.db")
    leaky = _plan(
        customers__meta=_cp(
            "json_mask", paths={"$.email": {"transformer": "email"}}, keep=["$.plan", "$.contact"]
        )
    )
    tgt = _copy(leaky, src, tmp_path / "tgt.db")
    report = verify(leaky, src, tgt, KEY, jobs=jobs)
    assert _hits(report) == {"customers.meta": N // 4}
    text = json.dumps(report.to_json())
    assert "Kowalska" not in text and "kowalska" not in text  # counts only, never values


@pytest.mark.parametrize("jobs", [1, 2])  # 2: source and target parts in workers
def test_email_inside_free_text_copied_verbatim_is_caught(tmp_path: Path, jobs: int) -> None:
    src = _source(tmp_path / "src.db")
    plan = _plan()
    raw_rows = {1, 6, 11, 2}  # rows 1, 6, 11 have notes with an e-mail; row 2 says "no notes"
    tgt = _copy(plan, src, tmp_path / "tgt.db", verbatim={"customers.notes": raw_rows})
    report = verify(plan, src, tgt, KEY, jobs=jobs)
    assert _hits(report) == {"customers.notes": 3}


def test_unmarked_or_failed_target_is_refused(tmp_path: Path) -> None:
    src = _source(tmp_path / "src.db")
    plan = _plan()
    tgt = _copy(plan, src, tmp_path / "tgt.db", marker=None)
    with pytest.raises(MaskingError, match="has no completion marker"):
        verify(plan, src, tgt, KEY)
    tgt2 = _copy(plan, src, tmp_path / "tgt2.db", marker=MarkerStatus.RUNNING)
    with pytest.raises(MaskingError, match="is running: it is not a complete masked copy"):
        verify(plan, src, tgt2, KEY)


def test_row_counts_and_foreign_keys(tmp_path: Path) -> None:
    src = _source(tmp_path / "src.db")
    plan = _plan()
    tgt = _copy(plan, src, tmp_path / "tgt.db", drop_rows=2)
    report = verify(plan, src, tgt, KEY)
    bad = [c for c in report.counts if not c.ok]
    assert [(c.table, c.source_rows, c.target_rows) for c in bad] == [("orders", N, N - 2)]
    assert verify(plan, src, tgt, KEY, subset=True).passed
    conn = sqlite3.connect(tmp_path / "tgt.db")
    conn.execute("UPDATE orders SET customer_id = 999 WHERE id IN (3, 4)")
    conn.commit()
    conn.close()
    report = verify(plan, src, tgt, KEY, subset=True)
    assert [(f.table, f.columns, f.ref_table, f.orphans) for f in report.fk_problems] == [
        ("orders", ("customer_id",), "customers", 2)
    ]
    assert report.outcome is VerifyOutcome.FAILED


def test_wrong_key_never_hides_a_leak(tmp_path: Path) -> None:
    src = _source(tmp_path / "src.db")
    plan = _plan(orders__contact_email=_cp("keep"))
    tgt = _copy(plan, src, tmp_path / "tgt.db")
    other = MaskingKey("mk-other", bytes(32))
    report = verify(plan, src, tgt, other)
    assert _hits(report).get("orders.contact_email") == N // 2
    assert any("mk-test" in n for n in report.notes)


@pytest.mark.postgres
def test_postgres_integration_schema(pg_url_factory: Any) -> None:
    """The engine's copy of the integration schema verifies clean; a kept JSONB of e-mails does not."""
    from stagewall.masking.engine import run
    from tests.masking.integration import schemas

    source = pg_url_factory()
    schemas.build(source)
    with open_database(source) as db:
        schema = db.introspect()
    json_mask = ("json_mask", {"paths": {"$.email": {"transformer": "email"}}, "keep": ["$.vip"]})
    good = schemas.plan_for(schema, {("customers", "profile"): json_mask})
    target = pg_url_factory()
    run(good, source, target, KEY)
    report = verify(good, source, target, KEY)
    assert report.passed, report.to_json()
    assert {c.table: c.target_rows for c in report.counts}[
        "public.customers"
    ] == schemas.N_CUSTOMERS

    leaky = schemas.plan_for(schema)  # keeps customers.profile: JSONB with an e-mail in each row
    target2 = pg_url_factory()
    run(leaky, source, target2, KEY)
    report = verify(leaky, source, target2, KEY)
    assert _hits(report) == {"public.customers.profile": schemas.N_CUSTOMERS}
    report = verify(leaky, source, target2, KEY, jobs=2)  # parts in the exported snapshot
    assert _hits(report) == {"public.customers.profile": schemas.N_CUSTOMERS}
