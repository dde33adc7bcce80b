from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.evidence.history import History, build_history


@pytest.fixture
def history(tmp_path: Path, _migrated_sqlite_store: Path) -> History:
    # The history's store starts as a copy of the store migrated once per test process
    # (tests/conftest.py): the same schema, without running every migration again.
    shutil.copyfile(_migrated_sqlite_store, tmp_path / "store.db")
    return build_history(tmp_path)
