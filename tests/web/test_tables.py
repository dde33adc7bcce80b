"""The tables' filters (query parameters, a bad value is a clear 400) and each row's link
to exactly its own audit events."""

from __future__ import annotations

import html
import re
from pathlib import Path

from tests.server.conftest import Person, World
from tests.web.conftest import Browser
from tests.web.test_promotion_inbox import submitted_promotion


def _browser(world: World, person: Person) -> Browser:
    b = Browser(world, person)
    b.sign_in()
    return b


def _filed(world: World) -> str:
    made = [e for e in world.events() if e.code == "access.request.created"]
    return str(made[-1].resource).split(":")[1]


def _ids(page: str, prefix: str) -> set[str]:
    return set(re.findall(rf"<code>({prefix}[0-9a-f]+)</code>", page))


def _listed_events(page: str) -> list[int]:
    return [int(i) for i in re.findall(r"<tr class=\"[A-Za-z]+\">\s*<td>(\d+)</td>", page)]


def test_request_and_grant_filters_narrow_the_rows(world: World, people: dict[str, Person]) -> None:
    alice = _browser(world, people["alice"])
    alice.post("/request", {"role": "prod-read", "duration": "1h", "reason": "P"})
    prod = _filed(world)
    alice.post("/request", {"role": "staging-write", "duration": "1h", "reason": "S"})
    staging = _filed(world)
    carol = _browser(world, people["carol"])
    carol.post("/request", {"role": "staging-write", "duration": "1h", "reason": "C"})
    carols = _filed(world)
    bob = _browser(world, people["bob"])
    res = bob.post(
        "/decide", {"item": f"access:{staging}", "decision": "approve", "otp": people["bob"].otp()}
    )
    assert res.status_code == 200, res.text
    every = _ids(bob.get("/requests").text, "r")
    assert {prod, staging, carols} <= every
    assert _ids(bob.get("/requests?role=prod-read").text, "r") == {prod}
    assert _ids(bob.get("/requests?environment=staging").text, "r") == {staging, carols}
    assert _ids(bob.get("/requests?requester=carol").text, "r") == {carols}
    assert _ids(bob.get("/requests?status=approved").text, "r") == {staging}
    assert _ids(bob.get("/requests?status=pending&requester=alice").text, "r") == {prod}
    today = world.clock().date().isoformat()
    assert _ids(bob.get(f"/requests?from={today}&to={today}").text, "r") == every
    assert not _ids(bob.get("/requests?from=2020-01-01&to=2020-01-02").text, "r")
    # the form keeps what was asked
    page = bob.get("/requests?environment=staging").text
    assert '<option value="staging" selected>' in page
    grants = bob.get("/grants?environment=staging").text
    assert len(_ids(grants, "g")) == 1
    assert not _ids(bob.get("/grants?environment=production").text, "g")
    assert not _ids(bob.get("/grants?role=prod-read").text, "g")
    # an external sees only her own rows whatever she asks for
    dana = _browser(world, people["dana"])
    assert not _ids(dana.get("/requests?requester=alice").text, "r")


def test_each_row_links_to_exactly_its_audit_events(
    world: World, people: dict[str, Person]
) -> None:
    alice = _browser(world, people["alice"])
    alice.post("/request", {"role": "staging-write", "duration": "1h", "reason": "S"})
    rid = _filed(world)
    alice.post("/request", {"role": "prod-read", "duration": "1h", "reason": "other"})
    bob = _browser(world, people["bob"])
    res = bob.post(
        "/decide", {"item": f"access:{rid}", "decision": "approve", "otp": people["bob"].otp()}
    )
    gid = re.search(r"\(grant (g[0-9a-f]+)\)", res.text)
    assert gid
    requests_page = bob.get("/requests").text
    assert f'href="/audit?of=request%3A{rid}"' in requests_page
    page = bob.get(f"/audit?of=request%3A{rid}")
    assert page.status_code == 200, page.text
    want = [e.index for e in world.events() if e.resource == f"request:{rid}"]
    assert len(want) >= 2 and _listed_events(page.text) == want
    grants_page = bob.get("/grants").text
    assert f'href="/audit?of=grant%3A{gid.group(1)}"' in grants_page
    page = bob.get(f"/audit?of=grant:{gid.group(1)}")
    want = [e.index for e in world.events() if e.resource == f"grant:{gid.group(1)}"]
    assert want and _listed_events(page.text) == want
    assert "leaf hash matches the row" in page.text
    # a vendor's row links to the vendor's events (none yet: listed as none)
    assert 'href="/audit?of=vendor%3Adevshop"' in bob.get("/vendors").text
    assert "No events name this vendor" in bob.get("/audit?of=vendor:devshop").text


def test_a_promotions_filters_and_its_events(
    world: World, people: dict[str, Person], tmp_path: Path
) -> None:
    pid, _sha = submitted_promotion(world, tmp_path)
    bob = _browser(world, people["bob"])
    assert pid in bob.get("/promotions?stage=production&status=pending").text
    assert pid not in bob.get("/promotions?status=approved").text
    assert pid in bob.get("/promotions?submitter=deploybot").text
    assert pid not in bob.get("/promotions?submitter=alice").text
    bob.post(
        "/decide", {"item": f"promotion:{pid}", "decision": "approve", "otp": people["bob"].otp()}
    )
    assert pid in bob.get("/promotions?status=approved").text
    page = bob.get(f"/audit?of=promotion:{pid}")
    assert page.status_code == 200, page.text
    events = world.events()
    submitted = [e.index for e in events if e.code == "gate.promotion.submitted"]
    approved = [e.index for e in events if e.resource == f"promotion:{pid}"]
    assert _listed_events(page.text) == submitted + approved
    assert "leaf hash matches the row" in page.text
    # the check report of the same commit is the stage's event, not the promotion's
    assert "gate.check.reported" not in page.text


def test_an_external_sees_only_their_own_promotions(
    world: World, people: dict[str, Person], tmp_path: Path
) -> None:
    pid, _sha = submitted_promotion(world, tmp_path)  # submitted by the pipeline deploybot
    dana = _browser(world, people["dana"])
    assert pid not in dana.get("/promotions").text
    assert pid not in dana.get("/promotions?submitter=deploybot").text
    assert pid in _browser(world, people["bob"]).get("/promotions").text


def test_bad_filter_values_are_a_clear_400(world: World, people: dict[str, Person]) -> None:
    bob = _browser(world, people["bob"])
    bad = {
        "/requests?status=bogus": "unknown request status 'bogus'",
        "/requests?environment=mars": "there is no environment 'mars'",
        "/requests?from=2026-13-01": "is not a date",
        "/requests?requester=a%20b": "is not a name",
        "/grants?status=bogus": "unknown grant status 'bogus'",
        "/grants?from=2026-12-05&to=2026-12-01": "after it ends",
        "/grants?page=-1": "the form is not valid",
        "/promotions?status=bogus": "unknown promotion state 'bogus'",
        "/promotions?stage=nowhere": "there is no stage 'nowhere'",
        "/break-glass?status=bogus": "unknown follow-up status 'bogus'",
        "/vendors?contract=bogus": "unknown contract filter 'bogus'",
        "/audit?of=nonsense": "does not name a grant, request, promotion or vendor",
    }
    for path, why in bad.items():
        res = bob.get(path)
        assert res.status_code == 400, (path, res.status_code)
        assert why in html.unescape(res.text), (path, res.text)
    res = bob.get("/audit?of=grant:g0000")
    assert res.status_code == 404 and "there is no grant 'g0000'" in html.unescape(res.text)
