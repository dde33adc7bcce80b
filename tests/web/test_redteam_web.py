"""Red team of the web UI (issue 10): what a signed-in person, an auditor or an outsider
can make the pages do beyond what they are for. Each test reproduces one attempt."""

from __future__ import annotations

from tests.server.conftest import Person, World
from tests.web.conftest import Browser


def _browser(world: World, person: Person) -> Browser:
    b = Browser(world, person)
    b.sign_in()
    return b


def test_an_audit_page_cursor_beyond_any_index_is_a_clear_400(
    world: World, people: dict[str, Person]
) -> None:
    """``/audit?before=`` with a number no store column holds was a 500 (the driver's
    OverflowError); it is refused as a bad form value, and the largest index works."""
    audrey = _browser(world, people["audrey"])
    res = audrey.get("/audit", params={"before": "9" * 30})
    assert res.status_code == 400, res.text
    assert "before" in res.text
    assert audrey.get("/audit", params={"before": str(2**63 - 1)}).status_code == 200
