"""Migration instances_0001: shared attempt counters and per-source newest events.

The newest event times the saved baselines kept (``monitoring_state``) are carried
over into ``monitoring_source_seen``, so a source that went silent before the upgrade
is still alerted after it; the downgrade gives back ``identity_attempts``.
"""

from __future__ import annotations

import json

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from stagewall.store import _MIGRATIONS, Store, open_store


def _alembic(store: Store, action: str, target: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    with store.transaction() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, target)


def test_saved_gap_times_are_carried_over_and_the_downgrade_restores(
    any_store_url: str,
) -> None:
    store = open_store(any_store_url)
    try:
        _alembic(store, "downgrade", "instances@base")
        tables = set(inspect(store.engine).get_table_names())
        assert "identity_attempts" in tables and "monitoring_source_seen" not in tables
        saved = {"gaps": {"last": {"pg-prod": 1764900000.5, "bastion": 1764800000.0}}}
        with store.transaction() as conn:
            conn.execute(
                text("INSERT INTO monitoring_state (key, value) VALUES ('baselines', :v)"),
                {"v": json.dumps(saved)},
            )
        _alembic(store, "upgrade", "heads")
        tables = set(inspect(store.engine).get_table_names())
        assert "identity_attempts" not in tables and "identity_rate_limits" in tables
        with store.read() as conn:
            rows = conn.execute(
                text("SELECT source, last_event, alerted_last FROM monitoring_source_seen")
            ).all()
        assert sorted(tuple(r) for r in rows) == [
            ("bastion", 1764800000.0, None),
            ("pg-prod", 1764900000.5, None),
        ]
    finally:
        store.dispose()
