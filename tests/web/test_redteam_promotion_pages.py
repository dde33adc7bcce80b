"""Red team (gatelist): the web UI's promotion pages and the sweeper decide as `gate check`.

The promotions table and the approver's inbox read the store's rows as they were, and
the sweeper checked a new promotion approval only against its event's binding: an
approval row an insider bound to an event without the server's seal (appended with the
library, no key) made the promotion "approved" on the page, while `gate check`
refuses it (SW945) — and no alert was raised until someone ran `gate check`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from stagewall.access._core import fmt_time
from stagewall.server.sweeper import check_new_approvals
from tests.rows import forge_promotion_approval, insert_approval
from tests.server.conftest import Person, World
from tests.web.conftest import Browser
from tests.web.test_promotion_inbox import ART, submitted_promotion


def _browser(world: World, person: Person) -> Browser:
    b = Browser(world, person)
    b.sign_in()
    return b


def _forge_approval(world: World, pid: str, sha: str, who: str, home: Path) -> None:
    """As an insider with the store and the library, not the key (tests/rows.py)."""
    facts = {"sha": sha, "digest": ART, "stage": "production"}
    now = fmt_time(world.clock())
    forge_promotion_approval(world.state.ctx.store, home, pid, who, facts, now, outcome=True)


def _state_of(page: str, pid: str) -> str:
    row = re.search(rf"<code>{pid}</code>.*?</tr>", page, re.S)
    assert row, page
    found = re.search(r'<span class="state [a-z]+">([a-z]+)</span>', row.group(0))
    assert found, row.group(0)
    return found.group(1)


def _unbound(world: World, pid: str) -> list[Any]:
    return [
        e
        for e in world.events()
        if e.code == "gate.row.unbound"
        and (e.details.get("promotion") == pid or e.details.get("request") == pid)
    ]


def test_a_forged_approval_is_unverified_on_the_promotions_page(
    world: World, people: dict[str, Person], tmp_path: Path
) -> None:
    pid, sha = submitted_promotion(world, tmp_path)
    _forge_approval(world, pid, sha, "bob", tmp_path / "insider")
    carol = _browser(world, people["carol"])
    page = carol.get("/promotions").text
    assert _state_of(page, pid) == "unverified"
    assert "not sealed by this server" in page
    assert pid not in carol.get("/promotions?status=approved").text
    assert _state_of(carol.get("/promotions?status=unverified").text, pid) == "unverified"
    found = _unbound(world, pid)
    assert len(found) == 1 and found[0].details["found_by"] == "web promotions page"
    assert any(a.get("kind") == "gate.row.unbound" for a in world.alerts())


def test_a_promotion_with_a_forged_row_is_not_offered_in_the_inbox(
    world: World, people: dict[str, Person], tmp_path: Path
) -> None:
    """An approval row by bob written into the store (no event, no outcome: the
    promotion still looks pending): the inbox offered carol a promotion whose rows the
    log does not back, and that `gate check` refuses whoever approves it (SW945)."""
    pid, _sha = submitted_promotion(world, tmp_path)
    carol = _browser(world, people["carol"])
    assert f'value="promotion:{pid}"' in carol.get("/").text
    store = world.state.ctx.store
    insert_approval(store, pid, "bob", created_at=fmt_time(world.clock()))
    assert f'value="promotion:{pid}"' not in carol.get("/").text
    found = _unbound(world, pid)
    assert len(found) == 1 and found[0].details["found_by"] == "approver inbox"


def test_the_sweep_alerts_an_approval_bound_to_an_unsealed_event(
    world: World, tmp_path: Path
) -> None:
    pid, sha = submitted_promotion(world, tmp_path)
    _forge_approval(world, pid, sha, "bob", tmp_path / "insider")
    refused = check_new_approvals(world.state)
    assert len(refused) == 1
    found = _unbound(world, pid)
    assert found and "not sealed by this server" in found[-1].message
