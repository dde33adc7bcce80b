"""The pages without a browser: sign-in, CSRF, headers, and each decision through the library."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.server.conftest import Person, World
from tests.web.conftest import Browser, field, open_invitation


def _last_request(world: World) -> str:
    made = [e for e in world.events() if e.code == "access.request.created"]
    return str(made[-1].resource).split(":")[1]


def _browser(world: World, person: Person) -> Browser:
    b = Browser(world, person)
    b.sign_in()
    return b


def test_pages_need_a_session_and_redirect_to_sign_in(world: World) -> None:
    b = Browser(world, Person(world, "nobody", "JBSWY3DPEHPK3PXP"))
    res = b.get("/access?x=1")
    assert res.status_code == 303
    assert res.headers["location"] == "/login?next=%2Faccess%3Fx%3D1"


def test_security_headers_on_every_page(world: World) -> None:
    b = Browser(world, Person(world, "nobody", "JBSWY3DPEHPK3PXP"))
    res = b.get("/login")
    csp = res.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert res.headers["x-frame-options"] == "DENY"
    assert res.headers["referrer-policy"] == "no-referrer"
    assert "<script>" not in res.text and " style=" not in res.text
    assert res.headers["cache-control"] == "no-store"


def test_login_needs_the_form_csrf_and_the_right_code(
    world: World, people: dict[str, Person]
) -> None:
    alice = people["alice"]
    b = Browser(world, alice)
    b.get("/login")
    res = b.client.post(
        "/login", data={"principal": "alice", "password": "x", "otp": "1", "csrf": "forged"}
    )
    assert res.status_code == 403 and "form expired" in res.text
    token = field(b.get("/login").text, "csrf")
    res = b.client.post(
        "/login",
        data={"principal": "alice", "password": "wrong", "otp": alice.otp(), "csrf": token},
    )
    assert res.status_code == 401
    assert "stagewall_session" not in res.cookies


def test_next_never_leaves_the_site(world: World, people: dict[str, Person]) -> None:
    alice = people["alice"]
    b = Browser(world, alice)
    token = field(b.get("/login?next=//evil.example/x").text, "csrf")
    assert field(b.get("/login?next=//evil.example/x").text, "next") == "/"
    token = field(b.get("/login").text, "csrf")
    from tests.server.conftest import PASSWORD

    res = b.client.post(
        "/login",
        data={
            "principal": "alice",
            "password": PASSWORD,
            "otp": alice.otp(),
            "csrf": token,
            "next": "https://evil.example/",
        },
    )
    assert res.status_code == 303 and res.headers["location"] == "/"


def test_a_form_without_the_session_csrf_is_refused(
    world: World, people: dict[str, Person]
) -> None:
    b = _browser(world, people["alice"])
    res = b.post("/request", {"role": "prod-read", "duration": "1h", "reason": "x"}, csrf=False)
    assert res.status_code == 403 and "CSRF" in res.text
    res = b.post(
        "/request",
        {"role": "prod-read", "duration": "1h", "reason": "x", "csrf": "nope"},
        csrf=False,
    )
    assert res.status_code == 403
    assert not [e for e in world.events() if e.code == "access.request.created"]


def test_request_then_approve_from_the_inbox(world: World, people: dict[str, Person]) -> None:
    alice = _browser(world, people["alice"])
    res = alice.post(
        "/request", {"role": "prod-read", "duration": "1h", "reason": "INC-7", "ticket": "T-1"}
    )
    assert res.status_code == 201, res.text
    assert "filed" in res.text
    rid = _last_request(world)
    bob = _browser(world, people["bob"])
    inbox = bob.get("/")
    assert rid in inbox.text and "INC-7" in inbox.text and "T-1" in inbox.text
    # A wrong code decides nothing.
    res = bob.post("/decide", {"item": f"access:{rid}", "decision": "approve", "otp": "000000"})
    assert res.status_code == 400 and "wrong or expired" in res.text
    res = bob.post(
        "/decide", {"item": f"access:{rid}", "decision": "approve", "otp": people["bob"].otp()}
    )
    assert res.status_code == 200, res.text
    assert "approved" in res.text
    review = [e for e in world.events() if e.code == "access.review.recorded"][-1]
    assert review.actor == "bob"
    mine = alice.get("/access")
    assert "prod-read" in mine.text and "left" in mine.text


def test_own_request_is_not_in_my_inbox_and_cannot_be_approved(
    world: World, people: dict[str, Person]
) -> None:
    alice = _browser(world, people["alice"])
    alice.post("/request", {"role": "prod-read", "duration": "1h", "reason": "INC-8"})
    rid = _last_request(world)
    assert f"access:{rid}" not in alice.get("/").text
    res = alice.post(
        "/decide", {"item": f"access:{rid}", "decision": "approve", "otp": people["alice"].otp()}
    )
    assert res.status_code == 400 and "own request" in res.text


def test_external_sees_why_production_cannot_be_requested(
    world: World, people: dict[str, Person]
) -> None:
    dana = _browser(world, people["dana"])
    page = dana.get("/request").text
    assert 'value="staging-write"' in page
    assert 'value="prod-read"' not in page
    assert "production cannot be requested" in page and "Externals never hold" in page
    # The page said why by naming every production role: an external learns none of them.
    assert "prod-read" not in page
    # Posting it anyway is refused by the library (and audited).
    res = dana.post("/request", {"role": "prod-read", "duration": "1h", "reason": "x"})
    assert res.status_code == 403 and "externals never" in res.text
    # The inbox decision route is not for externals at all.
    res = dana.post("/decide", {"item": "access:r1", "decision": "approve", "otp": "123456"})
    assert res.status_code == 403 and "may not call web.decide" in res.text


def test_external_cannot_open_another_persons_page(world: World, people: dict[str, Person]) -> None:
    dana = _browser(world, people["dana"])
    assert dana.get("/people/dana").status_code == 200
    res = dana.get("/people/alice")
    assert res.status_code == 403
    assert "may not see the page of 'alice'" in html.unescape(res.text)
    refused = [e for e in world.events() if e.code == "server.request.refused"]
    assert refused and refused[-1].actor == "dana"
    assert dana.get("/audit").status_code == 403


def test_auditor_reads_audit_and_downloads_a_bundle_that_verifies(
    world: World, people: dict[str, Person], tmp_path
) -> None:
    import io
    import zipfile

    from stagewall.audit._bundle import verify_bundle
    from stagewall.keys import load_public_key

    audrey = _browser(world, people["audrey"])
    page = audrey.get("/audit?type=identity")
    assert page.status_code == 200 and "identity." in page.text
    res = audrey.post("/audit/bundle", {})
    assert res.status_code == 200 and res.headers["content-type"] == "application/zip"
    zipfile.ZipFile(io.BytesIO(res.content)).extractall(tmp_path)
    (bundle,) = list(tmp_path.glob("stagewall-audit-*"))
    report = verify_bundle(bundle, public_key=load_public_key(world.home))
    assert report.size > 0
    # The auditor decides nothing.
    res = audrey.post("/decide", {"item": "access:r1", "decision": "approve", "otp": "123456"})
    assert res.status_code == 403


def test_evidence_page_shows_checks_answers_and_the_pack_to_auditors(
    world: World, people: dict[str, Person], tmp_path: Path
) -> None:
    import zipfile

    audrey = _browser(world, people["audrey"])
    # the page never evaluates on the request path: the first view queues the evaluation
    page = audrey.get("/evidence")
    assert page.status_code == 200, page.text
    assert "Evaluating…" in page.text and "No evaluation has been made yet" in page.text
    world.state.evaluate_in_background().result(timeout=300)
    page = audrey.get("/evidence")
    assert "Evaluating…" not in page.text
    api = people["audrey"].get("/api/v1/evidence/checks").json()
    # the page shows exactly the checks the API computes, with their statuses
    assert len(api["checks"]) >= 10
    for result in api["checks"]:
        assert result["check"] in page.text
    assert 'action="/api/v1/evidence/pack"' in page.text
    sig = audrey.get("/evidence?questionnaire=sig-lite")
    assert sig.status_code == 200 and "sig-lite, answered from the checks" in sig.text
    pack = audrey.get("/api/v1/evidence/pack?from=2026-01-01&to=2030-01-01&pdf=false")
    assert pack.status_code == 200, pack.text
    (tmp_path / "pack.zip").write_bytes(pack.content)
    assert "manifest.json" in " ".join(zipfile.ZipFile(tmp_path / "pack.zip").namelist())
    # internal staff see the checks but are not offered the pack; externals see nothing
    bob = _browser(world, people["bob"]).get("/evidence")
    assert bob.status_code == 200 and "/api/v1/evidence/pack" not in bob.text
    assert _browser(world, people["dana"]).get("/evidence").status_code == 403


def test_review_campaign_from_start_to_report(world: World, people: dict[str, Person]) -> None:
    alice = _browser(world, people["alice"])
    alice.post("/request", {"role": "prod-read", "duration": "1h", "reason": "INC-9"})
    rid = _last_request(world)
    bob = _browser(world, people["bob"])
    res = bob.post(
        "/decide", {"item": f"access:{rid}", "decision": "approve", "otp": people["bob"].otp()}
    )
    assert res.status_code == 200, res.text
    due = world.clock().date().isoformat()
    res = bob.post("/reviews", {"name": "Q4 review", "due": due})
    # one grant; the other items are the people's API tokens and the server.admins and
    # server.auditors members, which a review covers too
    assert res.status_code == 200 and "(1 grant(s), the rest tokens" in res.text, res.text
    assert re.search(r"0 of \d+ decided", res.text)
    inbox = bob.get("/").text
    item = re.search(r'value="review:([^"]+)"[^>]*aria-label="Pick alice prod-read"', inbox)
    assert item, "the review item is not in the approver's inbox"
    # The holder does not review her own access: the item is not in her inbox.
    assert item.group(0) not in alice.get("/").text
    # bob approved the grant: he may revoke it but not certify it
    keep = {"item": f"review:{item.group(1)}", "decision": "approve", "reason": "still on call"}
    res = bob.post("/decide", {**keep, "otp": people["bob"].otp()})
    assert res.status_code == 400 and "approved grant" in res.text, res.text
    carol = _browser(world, people["carol"])
    assert item.group(0) in carol.get("/").text
    res = carol.post("/decide", {**keep, "otp": people["carol"].otp()})
    assert res.status_code == 200, res.text
    cid = re.search(r'href="/reviews/(c[0-9a-f]+)"', bob.get("/reviews").text)
    assert cid
    report = bob.get(f"/reviews/{cid.group(1)}").text
    assert re.search(r"1 of \d+ decided", report) and "keep by carol" in report
    download = bob.get(f"/reviews/{cid.group(1)}/report.html")
    assert download.headers["content-disposition"].startswith("attachment")
    assert "alice" in download.text
    pdf = bob.get(f"/reviews/{cid.group(1)}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # An auditor reads the campaign but cannot start or close one.
    audrey = _browser(world, people["audrey"])
    assert audrey.get("/reviews").status_code == 200
    assert audrey.post("/reviews", {"name": "x", "due": due}).status_code == 403
    assert audrey.post(f"/reviews/{cid.group(1)}/close", {}).status_code == 403


def test_batch_decision_stops_at_the_first_refusal(world: World, people: dict[str, Person]) -> None:
    alice = _browser(world, people["alice"])
    alice.post("/request", {"role": "prod-read", "duration": "1h", "reason": "A"})
    first = _last_request(world)
    carol = _browser(world, people["carol"])
    carol.post("/request", {"role": "prod-read", "duration": "1h", "reason": "B"})
    second = _last_request(world)
    bob = _browser(world, people["bob"])
    res = bob.post(
        "/decide",
        {
            "item": ["access:nope", f"access:{first}", f"access:{second}"],
            "decision": "deny",
            "otp": people["bob"].otp(),
        },
    )
    assert res.status_code == 400
    page = html.unescape(res.text)
    assert "there is no request 'nope'" in page
    assert page.count("not tried: an earlier decision in this batch failed") == 2
    assert not [e for e in world.events() if e.code == "access.review.recorded"]


def test_one_code_decides_a_batch_through_the_step_up_window(
    world: World, people: dict[str, Person]
) -> None:
    alice = _browser(world, people["alice"])
    alice.post("/request", {"role": "prod-read", "duration": "1h", "reason": "A"})
    first = _last_request(world)
    alice.post("/request", {"role": "staging-write", "duration": "2h", "reason": "B"})
    second = _last_request(world)
    bob = _browser(world, people["bob"])
    res = bob.post(
        "/decide",
        {
            "item": [f"access:{first}", f"access:{second}"],
            "decision": "approve",
            "otp": people["bob"].otp(),
        },
    )
    assert res.status_code == 200, res.text
    assert res.text.count("approved (grant") == 2
    # The window is open on this login only: the inbox says so and needs no code ...
    assert "step-up is open until" in bob.get("/").text
    # ... and another login of the same person has no window.
    other = _browser(world, people["bob"])
    alice.post("/request", {"role": "prod-read", "duration": "1h", "reason": "C"})
    third = _last_request(world)
    res = other.post("/decide", {"item": f"access:{third}", "decision": "deny"})
    assert res.status_code == 400 and "no step-up window is open" in html.unescape(res.text)
    res = bob.post("/decide", {"item": f"access:{third}", "decision": "deny"})
    assert res.status_code == 200 and "denied" in res.text


def test_a_wrong_code_opens_no_window_and_decides_nothing(
    world: World, people: dict[str, Person]
) -> None:
    alice = _browser(world, people["alice"])
    alice.post("/request", {"role": "prod-read", "duration": "1h", "reason": "A"})
    first = _last_request(world)
    alice.post("/request", {"role": "staging-write", "duration": "2h", "reason": "B"})
    second = _last_request(world)
    bob = _browser(world, people["bob"])
    res = bob.post(
        "/decide",
        {"item": [f"access:{first}", f"access:{second}"], "decision": "approve", "otp": "000000"},
    )
    assert res.status_code == 400
    assert html.unescape(res.text).count("not tried") == 2
    assert not [e for e in world.events() if e.code == "access.review.recorded"]


def test_a_forged_passkey_answer_is_refused(world: World, people: dict[str, Person]) -> None:
    alice = _browser(world, people["alice"])
    alice.post("/request", {"role": "prod-read", "duration": "1h", "reason": "A"})
    rid = _last_request(world)
    bob = _browser(world, people["bob"])
    for forged in ("not json", "[1, 2]", '{"id": "x", "response": {}}'):
        res = bob.post(
            "/decide", {"item": f"access:{rid}", "decision": "approve", "webauthn": forged}
        )
        assert res.status_code in (400, 403, 409), res.text
        assert "approved" not in res.text
    assert not [e for e in world.events() if e.code == "access.review.recorded"]


def test_external_ends_their_own_grant_but_not_anothers(
    world: World, people: dict[str, Person]
) -> None:
    dana = _browser(world, people["dana"])
    res = dana.post("/request", {"role": "staging-write", "duration": "1h", "reason": "dev"})
    assert res.status_code == 201, res.text
    rid = _last_request(world)
    bob = _browser(world, people["bob"])
    res = bob.post(
        "/decide", {"item": f"access:{rid}", "decision": "approve", "otp": people["bob"].otp()}
    )
    assert res.status_code == 200, res.text
    gid = re.search(r"\(grant (g[0-9a-f]+)\)", res.text)
    assert gid
    alice = _browser(world, people["alice"])
    alice.post("/request", {"role": "staging-write", "duration": "1h", "reason": "x"})
    other = _last_request(world)
    res = bob.post(
        "/decide", {"item": f"access:{other}", "decision": "approve", "otp": people["bob"].otp()}
    )
    other_gid = re.search(r"\(grant (g[0-9a-f]+)\)", res.text)
    assert other_gid
    # Dana cannot end Alice's grant ...
    res = dana.post(
        f"/access/{other_gid.group(1)}/revoke", {"reason": "x", "otp": people["dana"].otp()}
    )
    assert res.status_code == 403
    # ... but ends her own.
    res = dana.post(
        f"/access/{gid.group(1)}/revoke", {"reason": "done", "otp": people["dana"].otp()}
    )
    assert res.status_code == 200, res.text
    assert f"Grant {gid.group(1)} revoked" in res.text


def test_company_sign_in_button_only_when_oidc_is_configured(world: World) -> None:
    b = Browser(world, Person(world, "nobody", "JBSWY3DPEHPK3PXP"))
    assert "company account" not in b.get("/login").text
    text = world.config.read_text(encoding="utf-8").replace(
        "server:\n",
        "server:\n  oidc:\n    issuer: https://idp.example.com\n    client_id: stagewall\n",
        1,
    )
    world.config.write_text(text, encoding="utf-8")
    world.state.refresh()
    page = b.get("/login").text
    assert 'href="/api/v1/oidc/login"' in page and "company account" in page


def test_enrolment_through_the_invitation_link(world: World) -> None:
    from tests.server.conftest import PASSWORD

    token = world.invite("alice")
    b = Browser(world, Person(world, "alice", ""))
    page = b.get(f"/invite?token={token}")
    assert page.status_code == 200 and field(page.text, "token") == token
    csrf = field(page.text, "csrf")
    # Without the form's own token nothing happens.
    res = b.client.post(
        "/invite", data={"token": token, "password": PASSWORD, "again": PASSWORD, "csrf": "x"}
    )
    assert res.status_code == 403
    res = b.client.post(
        "/invite", data={"token": "forged", "password": PASSWORD, "again": PASSWORD, "csrf": csrf}
    )
    assert res.status_code >= 400 and "totp-secret" not in res.text
    res, b.person.secret = open_invitation(b, token)
    # Opening the link alerts at once, naming who made it (whoever opened it holds alice's
    # first factor; she approves nothing for a day).
    [alert] = [a for a in world.alerts() if a["kind"] == "identity.invitation.accepted"]
    assert alert["details"]["principal"] == "alice"
    assert alert["details"]["invited_by"] == "server-operator"
    # Opening the link again does not show the secret a second time.
    again = b.client.post(
        "/invite",
        data={
            "token": token,
            "password": PASSWORD,
            "again": PASSWORD,
            "csrf": field(res.text, "csrf"),
        },
    )
    assert "totp-secret" not in again.text and "already opened" in again.text
    res = b.client.post(
        "/invite/confirm",
        data={"token": token, "otp": b.person.otp(), "csrf": field(again.text, "csrf")},
    )
    assert res.status_code == 200 and "is ready" in res.text, res.text
    b.sign_in()
    assert "Inbox" in b.get("/").text


def _break_glass(carol: Person, reason: str) -> dict[str, Any]:
    """carol (internal) breaks glass through the API; the server's answer."""
    res = carol.post(
        "/api/v1/access/break-glass",
        {"role": "prod-read", "reason": reason, "otp": carol.otp()},
    )
    assert res.status_code == 201, res.text
    answer: dict[str, Any] = res.json()
    return answer


def test_break_glass_follow_up_is_completed_from_the_inbox(
    world: World, people: dict[str, Person]
) -> None:
    carol = people["carol"]
    fid = _break_glass(carol, "INC-1 outage")["follow_up"]
    # The holder does not review her own break-glass.
    assert f"followup:{fid}" not in _browser(world, carol).get("/").text
    bob = _browser(world, people["bob"])
    inbox = bob.get("/").text
    assert f"followup:{fid}" in inbox and "used break-glass" in inbox
    res = bob.post(
        "/decide",
        {
            "item": f"followup:{fid}",
            "decision": "approve",
            "reason": "",
            "otp": people["bob"].otp(),
        },
    )
    assert res.status_code == 400 and "note on what was reviewed is required" in res.text
    res = bob.post(
        "/decide",
        {
            "item": f"followup:{fid}",
            "decision": "approve",
            "reason": "queries matched the incident",
            "otp": people["bob"].otp(),
        },
    )
    assert res.status_code == 200 and "completed" in res.text, res.text
    assert f"followup:{fid}" not in bob.get("/").text


def test_templates_have_no_inline_script_or_style() -> None:
    from pathlib import Path

    import stagewall.web

    root = Path(stagewall.web.__file__).parent / "templates"
    for path in root.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert " style=" not in text, path
        assert not re.search(r"\son[a-z]+\s*=", text), path  # no inline event handlers
        for tag in re.findall(r"<script[^>]*>", text):
            assert 'src="/static/' in tag, (path, tag)


def test_break_glass_table_with_follow_ups_in_an_observation_window(
    world: World, people: dict[str, Person]
) -> None:
    grant = _break_glass(people["carol"], "INC-7 outage")["grant"]["id"]
    audrey = _browser(world, people["audrey"])
    page = audrey.get("/break-glass")
    assert page.status_code == 200, page.text
    assert "carol" in page.text and "due by" in page.text and grant in page.text
    today = world.clock.now.date()
    inside = audrey.get(f"/break-glass?from={today}&to={today}")
    assert "carol" in inside.text
    past = audrey.get("/break-glass?from=2020-01-01&to=2020-12-31")
    assert "carol" not in past.text and "No break-glass use in this window" in past.text
    # once its follow-up is more than 24 h old and not done, the table says overdue
    world.clock.advance(timedelta(hours=25))
    audrey = _browser(world, people["audrey"])  # a day later: a new session
    assert "overdue" in audrey.get("/break-glass").text
    # the same window scopes the audit log
    events = audrey.get(f"/audit?type=access.&from={today}&to={today}")
    assert "access." in events.text and "Observation window" in events.text
    assert "No events match" in audrey.get("/audit?from=2020-01-01&to=2020-01-02").text
    # externals see neither page
    dana = _browser(world, people["dana"])
    assert dana.get("/break-glass").status_code == 403
    assert dana.get("/vendors").status_code == 403


def test_a_bad_observation_window_is_a_clear_error(world: World, people: dict[str, Person]) -> None:
    audrey = _browser(world, people["audrey"])
    bad = audrey.get("/audit?from=2026-13-01")
    assert bad.status_code == 400 and "is not a date" in html.unescape(bad.text)
    backwards = audrey.get("/break-glass?from=2026-12-05&to=2026-12-01")
    assert backwards.status_code == 400
    assert "starts (2026-12-05) after it ends (2026-12-01)" in html.unescape(backwards.text)


def test_vendors_table_lists_people_and_agreements(world: World, people: dict[str, Person]) -> None:
    page = _browser(world, people["bob"]).get("/vendors")
    assert page.status_code == 200, page.text
    assert "devshop" in page.text and "dana" in page.text
    assert "/grants?principal=dana" in page.text and "/audit?actor=dana" in page.text
