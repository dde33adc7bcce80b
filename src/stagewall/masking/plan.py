"""The masking plan file: every column of every table, with a transformer or ``keep``.

The plan is YAML, sorted and stable so it diffs well in review::

    version: 1
    tables:
      public.customers:
        columns:
          email: {transformer: email, params: {}, reason: "name rule 'email' + 50/50 samples"}
          id: {transformer: keep, reason: "primary key, not sensitive"}

Foreign keys are kept consistent through the *consistency salt*: a column that
references another (directly or through a chain of foreign keys) is transformed
with the salt of the root key it points at, so equal inputs give equal outputs in
both places. :func:`consistency_salt` computes it; lint checks that the
transformer and params of both ends agree.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from stagewall.errors import ConfigError
from stagewall.masking.schema import Schema


class ColumnPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    transformer: str
    params: dict[str, Any] = Field(default_factory=dict)
    reason: str = ""


REFERENCE_REASON = "the table is marked as reference data (reference: true): copied as is"


class TablePlan(BaseModel):
    """One table's columns. ``reference: true`` (one line) marks the table as public
    reference data: every column is copied as is, whatever the entries below say.
    Its columns must still be listed, so a new column still stops the run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: bool = False
    reason: str = ""
    columns: dict[str, ColumnPlan]

    @model_validator(mode="before")
    @classmethod
    def _reference_keeps(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("reference") is True:
            cols = data.get("columns")
            if isinstance(cols, dict):
                data = {
                    **data,
                    "columns": {
                        name: {"transformer": "keep", "reason": REFERENCE_REASON} for name in cols
                    },
                }
        return data


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(default=1, ge=1, le=1)
    # The source schemas the plan covers (PostgreSQL); None = every table of the source.
    schemas: tuple[str, ...] | None = None
    tables: dict[str, TablePlan]
    # schema objects whose name or definition looks personal but is not, each with
    # the reason: ``{"partition public.orders_p_acme_corp": "a company, not a person"}``
    # (docs/masking.md, "Personal data in the schema")
    acknowledged: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _reasons_given(self) -> Plan:
        for label, reason in self.acknowledged.items():
            if not reason.strip():
                raise ValueError(f"acknowledged {label!r}: give the reason it is not personal")
        return self

    def column(self, table: str, column: str) -> ColumnPlan | None:
        t = self.tables.get(table)
        return t.columns.get(column) if t else None

    def canonical_bytes(self) -> bytes:
        """Stable serialisation used for the plan hash (ignores YAML formatting)."""
        import json

        data = self.model_dump(mode="json")
        if data.get("schemas") is None:
            data.pop("schemas", None)  # plans without a scope hash as before it existed
        if not data.get("acknowledged"):
            data.pop("acknowledged", None)  # likewise plans acknowledging nothing
        for table in data["tables"].values():  # likewise tables not marked as reference
            if not table.get("reference"):
                table.pop("reference", None)
            if not table.get("reason"):
                table.pop("reason", None)
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_bytes()).hexdigest()


def dump_plan(plan: Plan) -> str:
    """YAML text with tables and columns sorted."""
    data: dict[str, Any] = {"version": plan.version}
    if plan.schemas is not None:
        data["schemas"] = sorted(plan.schemas)
    data["tables"] = {}
    for tname in sorted(plan.tables):
        tplan = plan.tables[tname]
        cols = tplan.columns
        data["tables"][tname] = {
            **({"reference": True} if tplan.reference else {}),
            **({"reason": tplan.reason} if tplan.reason else {}),
            "columns": {
                cname: {
                    "transformer": cols[cname].transformer,
                    **(
                        {"params": dict(sorted(cols[cname].params.items()))}
                        if cols[cname].params
                        else {}
                    ),
                    "reason": cols[cname].reason,
                }
                for cname in sorted(cols)
            },
        }
    if plan.acknowledged:
        data["acknowledged"] = dict(sorted(plan.acknowledged.items()))
    header = (
        "# stagewall masking plan: every column has a transformer or an explicit keep.\n"
        "# Review it like code. A source column missing here stops `mask run` (fail closed).\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def load_plan(path: str | Path) -> Plan:
    """Read a plan file; ConfigError naming the file and field on any problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{p}: the plan file does not exist",
            hint="create one with `stagewall mask plan --source URL --out plan.yaml`",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read the plan file: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{p}{at}: the plan is not valid YAML") from None
    except RecursionError:
        raise ConfigError(
            f"{p}: the plan nests lists or mappings too deeply to be a plan",
            hint="check for unbalanced [ or { brackets",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: the plan must be a mapping with `version` and `tables`")
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:10]:
            loc = ".".join(str(x) for x in err["loc"])
            msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{loc}: {msg}")
        raise ConfigError(
            f"{p}: the plan is not valid:\n  " + "\n  ".join(problems),
            hint="fix the named fields, or regenerate with `stagewall mask plan`",
        ) from None
    check_transformers(plan, source=str(p))
    return plan


def check_transformers(plan: Plan, *, source: str = "the plan") -> None:
    """Every transformer name exists and its params validate; ConfigError otherwise.

    The message names the file, table and column of every bad entry.
    """
    from stagewall.masking.transformers import get_transformer_class

    problems: list[str] = []
    for tname in sorted(plan.tables):
        for cname, col in sorted(plan.tables[tname].columns.items()):
            where = f"tables.{tname}.columns.{cname}"
            try:
                cls = get_transformer_class(col.transformer)
                cls.Params.model_validate(col.params)
            except ConfigError as exc:
                problems.append(f"{where}: {exc.message}")
            except ValidationError as exc:
                detail = "; ".join(
                    f"params.{'.'.join(str(x) for x in e['loc'])}: "
                    + ("unknown field" if e["type"] == "extra_forbidden" else e["msg"])
                    for e in exc.errors()
                )
                problems.append(f"{where}: transformer {col.transformer!r}: {detail}")
    if problems:
        shown = problems[:20] + (
            [f"... and {len(problems) - 20} more"] if len(problems) > 20 else []
        )
        raise ConfigError(
            f"{source}: the plan is not valid:\n  " + "\n  ".join(shown),
            hint="fix the named transformers/params (see docs/transformers.md)",
        )


def root_key(schema: Schema, table: str, column: str) -> tuple[str, str]:
    """Follow foreign keys from ``table.column`` to the key at the root.

    Composite keys are followed column by column. When the references form a
    cycle, the root is the smallest (table, column) on the cycle, so every member
    of the cycle gets the same answer. Returns (qualified table, column).
    """
    path: list[tuple[str, str]] = []
    current = (table, column)
    while current not in path:
        path.append(current)
        t = schema.table(current[0])
        nxt = None
        for fk in t.foreign_keys if t is not None else ():
            if current[1] in fk.columns:
                pos = fk.columns.index(current[1])
                ref_table = f"{fk.ref_schema}.{fk.ref_table}" if fk.ref_schema else fk.ref_table
                nxt = (ref_table, fk.ref_columns[pos])
                break
        if nxt is None:
            return current
        current = nxt
    return min(path[path.index(current) :])


def consistency_salt(schema: Schema, table: str, column: str) -> str:
    """The salt under which ``table.column`` is transformed: that of its root key."""
    rt, rc = root_key(schema, table, column)
    return f"{rt}.{rc}"


__all__ = [
    "REFERENCE_REASON",
    "ColumnPlan",
    "Plan",
    "TablePlan",
    "check_transformers",
    "consistency_salt",
    "dump_plan",
    "load_plan",
    "root_key",
]
