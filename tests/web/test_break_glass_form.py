"""Breaking glass from the web form: internal people with a step-up; others see why not."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

from stagewall.access._core import parse_time
from stagewall.identity.pipeline import create_pipeline_token
from tests.server.conftest import Person, World
from tests.web.conftest import Browser


def _browser(world: World, person: Person) -> Browser:
    b = Browser(world, person)
    b.sign_in()
    return b


def _used(world: World) -> list[Any]:
    return [
        e
        for e in world.events()
        if e.code == "access.breakglass.used" and e.status.value == "Success"
    ]


def test_internal_person_breaks_glass_with_a_step_up(
    world: World, people: dict[str, Person]
) -> None:
    carol = _browser(world, people["carol"])
    form = carol.get("/break-glass/new")
    assert form.status_code == 200
    assert 'value="prod-read"' in form.text and "at most 1h" in form.text.replace("1 h", "1h")
    body = {"role": "prod-read", "duration": "30m", "reason": "INC-42 db down", "ticket": "INC-42"}
    # no CSRF token: refused before anything happens
    assert carol.post("/break-glass/new", body, csrf=False).status_code == 403
    # no step-up: refused by the library, as the API refuses it
    res = carol.post("/break-glass/new", body)
    assert res.status_code in (400, 401, 403), res.text
    assert not _used(world)
    # longer than the break-glass cap: the library's rule
    res = carol.post("/break-glass/new", {**body, "duration": "2h", "otp": people["carol"].otp()})
    assert res.status_code == 400 and "break-glass lasts at most" in html.unescape(res.text)
    res = carol.post("/break-glass/new", {**body, "otp": people["carol"].otp()})
    assert res.status_code == 201, res.text
    assert "You hold" in res.text and "prod-read" in res.text
    (used,) = _used(world)
    assert used.actor == "carol" and used.details["ticket"] == "INC-42"
    assert used.details["reason"] == "INC-42 db down"
    grant = used.details["grant"]
    page = carol.get("/access").text
    assert grant in page
    # the grant lasts the 30 minutes asked for, and its follow-up is in another's inbox
    from stagewall.access import grants_page

    (g,) = [x for x in grants_page(world.state.ctx, principal="carol").grants if x.id == grant]
    assert g.ends_at - g.starts_at == timedelta(minutes=30)
    assert f"followup:{used.details['follow_up']}" in _browser(world, people["bob"]).get("/").text
    assert parse_time(used.details["due"]) > world.clock()


def test_externals_and_pipelines_cannot_break_glass_and_see_why(
    world: World, people: dict[str, Person]
) -> None:
    dana = _browser(world, people["dana"])
    page = dana.get("/break-glass/new")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert 'action="/break-glass/new"' not in text
    assert "externals never hold production role 'prod-read'" in text
    res = dana.post(
        "/break-glass/new",
        {"role": "prod-read", "duration": "30m", "reason": "x", "otp": people["dana"].otp()},
    )
    assert res.status_code == 403 and "may not call web.breakglass.create" in res.text
    # a pipeline (service principal) is refused the form and the action
    token = create_pipeline_token(
        world.state.ctx.store, world.state.estate, world.state.ctx.audit, "deploybot",
        now=world.clock(),
    ).secret  # fmt: skip
    res = world.client.get(
        "/break-glass/new", headers={"Authorization": f"Bearer {token}"}, follow_redirects=False
    )
    assert res.status_code == 403 and "may not call web.breakglass.page" in res.text
    assert not _used(world)


def test_the_api_takes_the_same_ticket_and_duration(
    world: World, people: dict[str, Person]
) -> None:
    carol = people["carol"]
    res = carol.post(
        "/api/v1/access/break-glass",
        {
            "role": "prod-read",
            "reason": "INC-9",
            "ticket": "INC-9",
            "duration": "15m",
            "otp": carol.otp(),
        },
    )
    assert res.status_code == 201, res.text
    grant = res.json()["grant"]
    assert parse_time(grant["ends_at"]) - parse_time(grant["starts_at"]) == timedelta(minutes=15)
    (used,) = _used(world)
    assert used.details["ticket"] == "INC-9"
    res = carol.post(
        "/api/v1/access/break-glass",
        {"role": "prod-read", "reason": "x", "duration": "3h", "otp": carol.otp()},
    )
    assert res.status_code == 400 and "break-glass lasts at most" in res.json()["detail"]
