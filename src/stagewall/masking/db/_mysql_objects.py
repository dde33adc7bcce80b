"""MySQL/MariaDB → MySQL/MariaDB: functions, procedures, views and triggers of the source,
recreated over the masked tables.

Definitions come from ``SHOW CREATE …``; the ``DEFINER`` clause is dropped (the
target's user owns them) and references qualified with the source database name
are unqualified. Routines go first (views and triggers may call them), then views
in passes (a view over a view waits for it), then triggers, after the data so they
never fired while the masked rows were loaded. A definition that holds what looks
like personal data is refused by the run (SW520) unless the plan acknowledges it;
one that still looks so (outside its literals) is skipped and reported, as on
PostgreSQL; so is one that fails.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

_DEFINER = re.compile(r"\s+DEFINER\s*=\s*(`[^`]*`|'[^']*'|\S+?)@(`[^`]*`|'[^']*'|\S+)", re.I)


@dataclass
class MySQLObjects:
    routines: list[tuple[str, str]] = field(default_factory=list)  # (label, definition)
    views: list[tuple[str, str]] = field(default_factory=list)
    triggers: list[tuple[str, str]] = field(default_factory=list)


def _clean(definition: str, database: str) -> str:
    text = _DEFINER.sub("", definition, count=1)
    quoted = "`" + database.replace("`", "``") + "`."
    return text.replace(quoted, "")


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def read_objects(db: Any) -> MySQLObjects:
    """The source's routines, views and triggers (``db``: an open MySQLDatabase)."""
    database = db.url.database or ""
    out = MySQLObjects()
    for name, kind in db.select(
        "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES "
        "WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY ROUTINE_NAME"
    ):
        what = "FUNCTION" if str(kind).upper() == "FUNCTION" else "PROCEDURE"
        rows = db.select(f"SHOW CREATE {what} {_q(str(name))}")
        if rows and rows[0][2]:
            out.routines.append((f"{what.lower()} {name}", _clean(str(rows[0][2]), database)))
    for (name,) in db.select(
        "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() "
        "ORDER BY TABLE_NAME"
    ):
        rows = db.select(f"SHOW CREATE VIEW {_q(str(name))}")
        if rows:
            out.views.append((f"view {name}", _clean(str(rows[0][1]), database)))
    for (name,) in db.select(
        "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS "
        "WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY TRIGGER_NAME"
    ):
        rows = db.select(f"SHOW CREATE TRIGGER {_q(str(name))}")
        if rows:
            out.triggers.append((f"trigger {name}", _clean(str(rows[0][2]), database)))
    return out


def create_objects(
    tgt: Any, objects: MySQLObjects, acknowledged: Collection[str] = ()
) -> tuple[list[str], list[tuple[str, str]]]:
    """Create ``objects`` on the target; ``(created, [(object, reason), …])``. One
    the plan ``acknowledged`` is created whatever its definition holds (the run
    refused it otherwise, SW520, before any row moved)."""
    from stagewall.errors import BackendError
    from stagewall.masking.classify import detect_in_text

    created: list[str] = []
    skipped: list[tuple[str, str]] = []

    def attempt(label: str, definition: str) -> str | None:
        try:
            tgt._execute(definition)
        except BackendError as exc:
            return exc.message
        created.append(label)
        return None

    def safe(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
        ok = []
        for label, definition in items:
            if label not in acknowledged and detect_in_text(definition):
                skipped.append((label, "its definition contains what looks like personal data"))
            else:
                ok.append((label, definition))
        return ok

    for label, definition in safe(objects.routines):
        error = attempt(label, definition)
        if error is not None:
            skipped.append((label, f"cannot be created on the target: {error}"))
    pending = safe(objects.views)
    errors: dict[str, str] = {}
    progress = True
    while pending and progress:
        progress, left = False, []
        for label, definition in pending:
            error = attempt(label, definition)
            if error is None:
                progress = True
            else:
                errors[label] = error
                left.append((label, definition))
        pending = left
    skipped += [
        (label, f"cannot be created on the target: {errors[label]}") for label, _ in pending
    ]
    for label, definition in safe(objects.triggers):
        error = attempt(label, definition)
        if error is not None:
            skipped.append((label, f"cannot be created on the target: {error}"))
    return created, skipped


__all__ = ["MySQLObjects", "create_objects", "read_objects"]
