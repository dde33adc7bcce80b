"""Migration devicereq_0001: device codes record who asked, and can be denied.

A code made before the upgrade has no requester (the page says so). Upgrading to the
heads also runs codebind_0001, which ends such a code (its digest is not keyed): using
it says to run ``stagewall login`` again (SW943). The downgrade drops the four columns.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, text

from stagewall.errors import CodeFromBeforeUpgrade
from stagewall.identity import device
from stagewall.identity._codes import fmt
from stagewall.identity.actor import LoginMethod
from stagewall.server._device_page import confirm_page
from stagewall.store import Store, open_store
from tests.store.test_instances_migration import _alembic

NEW = {"client_address", "client_user_agent", "client_hostname", "denied_at"}


def _columns(store: Store) -> set[str]:
    return {c["name"] for c in inspect(store.engine).get_columns("identity_device_codes")}


def test_codes_from_before_the_upgrade_have_no_requester(any_store_url: str) -> None:
    store = open_store(any_store_url)
    try:
        _alembic(store, "downgrade", "devicereq@base")
        assert not NEW & _columns(store)
        now = datetime.now(UTC)
        with store.transaction() as conn:
            for n, code in enumerate(("BCDF-GHJK", "LMNP-QRST")):
                conn.execute(
                    text(
                        "INSERT INTO identity_device_codes (id, device_hash, user_code, "
                        "created_at, expires_at, redeemed) VALUES (:i, :h, :u, :c, :e, :r)"
                    ),
                    {
                        "i": f"d-old{n}",
                        "h": f"{n:064x}",
                        "u": code,
                        "c": fmt(now),
                        "e": fmt(now + timedelta(minutes=5)),
                        "r": False,
                    },
                )
        _alembic(store, "upgrade", "heads")
        assert _columns(store) >= NEW
        for code in ("BCDF-GHJK", "LMNP-QRST"):
            with pytest.raises(CodeFromBeforeUpgrade, match=r"stagewall login. again"):
                device.pending(store, code, now=now)
            with pytest.raises(CodeFromBeforeUpgrade):
                device.approve(store, code, "alice", LoginMethod.LOCAL, now=now)
        # a requester nothing was recorded for (such a row): the page says so
        who = device.Requester("BCDF-GHJK", None, None, None, now, now + timedelta(minutes=5))
        page = confirm_page(who, now=now, viewer_address="198.51.100.7").body.decode()
        assert page.count("<em>not recorded</em>") == 3
        assert "another address" not in page  # nothing to compare with
        _alembic(store, "downgrade", "devicereq@base")
        assert not NEW & _columns(store)
    finally:
        store.dispose()
