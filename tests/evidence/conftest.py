from __future__ import annotations

from pathlib import Path

import pytest

from tests.evidence.history import History, build_history


@pytest.fixture
def history(tmp_path: Path) -> History:
    return build_history(tmp_path)
