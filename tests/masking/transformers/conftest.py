from __future__ import annotations

import pytest

from stagewall.keys import MaskingKey


@pytest.fixture
def key() -> MaskingKey:
    return MaskingKey("test-key", b"\x11" * 32)


@pytest.fixture
def other_key() -> MaskingKey:
    return MaskingKey("other-key", b"\x22" * 32)
