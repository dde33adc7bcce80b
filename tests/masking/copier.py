"""A deliberately simple masked copier for verify's tests (not the engine): the source
masked with a plan, row by row, so each test plants its leaks exactly where it says."""

from __future__ import annotations

from typing import Any

from stagewall.keys import MaskingKey
from stagewall.masking.db import open_database
from stagewall.masking.plan import Plan, consistency_salt
from stagewall.masking.transformers import build_transformer
from stagewall.masking.transformers._known import kind_of


def masked_rows(
    plan: Plan, source: str, key: MaskingKey, raw: dict[str, set[Any]] | None = None
) -> dict[str, list[list[Any]]]:
    """Every table of ``source`` masked with ``plan``, as rows by table name.
    ``raw`` = {"table.col": first-column values of the rows left unmasked there}."""
    raw = raw or {}
    out: dict[str, list[list[Any]]] = {}
    with open_database(source, role="source") as db:
        schema = db.introspect()
        db.begin_read()
        for table in schema.tables:
            cols = [c.name for c in table.columns]
            rows = [list(r) for batch in db.iter_rows(table, cols, None, 1000) for r in batch]
            # text_scrub gets each row's own known values, as the engine hands them
            own = [
                (j, p.transformer)
                for j, c in enumerate(cols)
                if (p := plan.column(table.qualified, c)) is not None and kind_of(p.transformer)
            ]
            known = [tuple((t, r[j]) for j, t in own if isinstance(r[j], str)) for r in rows]
            for i, c in enumerate(cols):
                cp = plan.column(table.qualified, c)
                assert cp is not None
                tr = build_transformer(
                    cp.transformer,
                    cp.params,
                    key=key,
                    salt=consistency_salt(schema, table.qualified, c),
                )
                values = [r[i] for r in rows]
                wants = getattr(tr, "wants_known", False)
                res = tr.transform_known(values, known) if wants else tr.transform(values)
                keep = raw.get(f"{table.qualified}.{c}", set())
                for r, o in zip(rows, res, strict=True):
                    if r[0] not in keep:
                        r[i] = o
            out[table.name] = rows
    return out
