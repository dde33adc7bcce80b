"""Consistency domains: columns whose equal source values must stay equal after masking.

A denormalised copy (an invoice's billing address copying the customer's address,
an order's ship fields copying the customer's) is only faithful when both columns
map a value to the same pseudonym. The planner proposes a domain for columns with
the same transformer whose sampled values overlap, and one domain for all e-mail
columns. Every member gets the same transformer and params, ``consistency``
included (see ``ParamsModel``), bounded by the narrowest member's length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stagewall.masking.plan import ColumnPlan
from stagewall.masking.schema import Schema

Ref = tuple[str, str]
# Share of the smaller column's distinct sampled values that must appear in both.
MIN_OVERLAP = 0.5
MIN_SHARED = 3
# Transformers whose equal inputs should give equal outputs across columns.
_DOMAINABLE = frozenset(
    {"email", "phone", "first_name", "last_name", "full_name", "username", "street_address",
     "city", "region", "country", "postcode", "company", "iban", "card_number"}
)  # fmt: skip
_EVERYWHERE = frozenset({"email"})


def _distinct(values: Sequence[object]) -> set[str]:
    return {v.strip().casefold() for v in values if isinstance(v, str) and v.strip()}


def _find(parent: dict[Ref, Ref], x: Ref) -> Ref:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def propose_domains(
    chosen: Mapping[Ref, ColumnPlan], samples: Mapping[Ref, Sequence[object]]
) -> list[tuple[str, list[Ref]]]:
    """``[(domain name, members)]`` for columns that should share pseudonyms."""
    candidates = sorted(r for r, cp in chosen.items() if cp.transformer in _DOMAINABLE)
    parent = {r: r for r in candidates}
    values = {r: _distinct(samples.get(r, ())) for r in candidates}
    for i, a in enumerate(candidates):
        for b in candidates[i + 1 :]:
            if a[0] == b[0] or chosen[a].transformer != chosen[b].transformer:
                continue
            same = chosen[a].transformer in _EVERYWHERE
            if not same:
                small = min(len(values[a]), len(values[b]))
                shared = len(values[a] & values[b])
                same = (
                    small > 0
                    and shared >= min(MIN_SHARED, small)
                    and (shared >= MIN_OVERLAP * small)
                )
            if same:
                parent[_find(parent, a)] = _find(parent, b)
    groups: dict[Ref, list[Ref]] = {}
    for r in candidates:
        groups.setdefault(_find(parent, r), []).append(r)
    out = []
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort()
        first = members[0]
        out.append((f"{chosen[first].transformer}@{first[0]}.{first[1]}", members))
    return sorted(out)


def apply_domains(
    schema: Schema,
    chosen: dict[Ref, ColumnPlan],
    domains: list[tuple[str, list[Ref]]],
) -> None:
    """Give every member of each domain the same transformer and params (in place)."""
    from stagewall.masking.classify import bound_params

    for name, members in domains:
        lengths = []
        for t, c in members:
            table = schema.table(t)
            col = table.column(c) if table is not None else None
            if col is not None and col.max_length is not None:
                lengths.append(col.max_length)
        base = chosen[members[0]]
        params: dict[str, Any] = {
            k: v for k, v in base.params.items() if k not in ("max_length", "consistency")
        }
        params = bound_params(base.transformer, params, min(lengths) if lengths else None)
        params["consistency"] = name
        others = ", ".join(f"{t}.{c}" for t, c in members)
        for ref in members:
            old = chosen[ref]
            chosen[ref] = ColumnPlan(
                transformer=base.transformer,
                params=params,
                reason=f"{old.reason}; consistency domain {name} ({others}): equal values "
                "stay equal",
            )


__all__ = ["MIN_OVERLAP", "apply_domains", "propose_domains"]
