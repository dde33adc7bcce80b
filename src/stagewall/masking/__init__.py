"""Masked staging data: classify → plan → lint → run → verify → record.

The public API (see docs/masking.md)::

    from stagewall.masking import build_plan, load_plan, lint_plan, run
    from stagewall.masking.verify import verify   # (the name `verify` is also the module)

Submodules load lazily so ``import stagewall.masking`` stays cheap and the
database drivers are only imported when used.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # plan file
    "ColumnPlan": "stagewall.masking.plan",
    "Plan": "stagewall.masking.plan",
    "TablePlan": "stagewall.masking.plan",
    "consistency_salt": "stagewall.masking.plan",
    "dump_plan": "stagewall.masking.plan",
    "load_plan": "stagewall.masking.plan",
    "root_key": "stagewall.masking.plan",
    # schema contract
    "Column": "stagewall.masking.schema",
    "ColumnKind": "stagewall.masking.types",
    "ColumnRef": "stagewall.masking.types",
    "ForeignKey": "stagewall.masking.schema",
    "Index": "stagewall.masking.schema",
    "Schema": "stagewall.masking.schema",
    "Table": "stagewall.masking.schema",
    # planning and lint
    "DEFAULT_SAMPLE": "stagewall.masking.planner",
    "PlanResult": "stagewall.masking.planner",
    "build_plan": "stagewall.masking.planner",
    "plan_from_schema": "stagewall.masking.planner",
    "LintProblem": "stagewall.masking.lint",
    "Rule": "stagewall.masking.lint",
    "Severity": "stagewall.masking.lint",
    "ensure_plan_ok": "stagewall.masking.lint",
    "lint_plan": "stagewall.masking.lint",
    # classification and transformers
    "Finding": "stagewall.masking.classify",
    "classify_column": "stagewall.masking.classify",
    "detect_in_text": "stagewall.masking.classify",
    "Transformer": "stagewall.masking.transformers",
    "build_transformer": "stagewall.masking.transformers",
    "get_transformer_class": "stagewall.masking.transformers",
    "transformer_names": "stagewall.masking.transformers",
    # databases and the run
    "open_database": "stagewall.masking.db",
    "read_completion_marker": "stagewall.masking.db",
    "RunOptions": "stagewall.masking.engine",
    "RunResult": "stagewall.masking.engine",
    "parse_subset": "stagewall.masking.engine",
    "run": "stagewall.masking.engine",
    "SchemaComparison": "stagewall.masking.compare",
    "compare_schemas": "stagewall.masking.compare",
    # verification and the record
    "VerifyOutcome": "stagewall.masking.verify",
    "VerifyReport": "stagewall.masking.verify",
    "MaskingRecord": "stagewall.masking.record",
    "RunStatus": "stagewall.masking.record",
    "Verification": "stagewall.masking.record",
    "list_runs": "stagewall.masking.record",
    "record_run": "stagewall.masking.record",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'stagewall.masking' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
