"""Device login against remote phishing (RFC 8628 §5.4).

An attacker runs ``stagewall login`` on their own machine and sends the victim the
link. The victim's page must say which terminal asked (address, User-Agent, the host
name it claims, how long ago) with a warning; opening the link approves nothing; the
approval needs the form's CSRF token, the person's credentials and an explicit click;
the victim can deny; and the audit events name the requesting address.
"""

from __future__ import annotations

import html
import re
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from stagewall.identity import device
from tests.server.conftest import PASSWORD, Person, World

ATTACKER = ("203.0.113.9", 40000)
VICTIM = ("198.51.100.7", 50000)
GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _start(world: World, *, user_agent: str, hostname: str) -> tuple[TestClient, dict[str, Any]]:
    attacker = TestClient(world.app, client=ATTACKER)
    res = attacker.post(
        "/api/v1/device/code",
        data={"client_hostname": hostname},
        headers={"User-Agent": user_agent},
    )
    assert res.status_code == 200, res.text
    return attacker, res.json()


def _poll(client: TestClient, code: dict[str, Any]) -> dict[str, Any]:
    res = client.post(
        "/api/v1/device/token", data={"grant_type": GRANT, "device_code": code["device_code"]}
    )
    return dict(res.json())


def _link(code: dict[str, Any]) -> str:
    uri = str(code["verification_uri_complete"])
    return uri[uri.index("/device") :]


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def _events(world: World, code: str) -> list[Any]:
    return [e for e in world.events() if e.code == code]


def test_the_page_shows_which_terminal_asked_and_warns(people: dict[str, Person]) -> None:
    world = people["alice"].world
    attacker, code = _start(world, user_agent="curl/8.5.0", hostname="kali-box")
    assert code["expires_in"] == int(device.DEVICE_TTL.total_seconds()) == 300
    world.clock.advance(timedelta(seconds=42))
    victim = TestClient(world.app, client=VICTIM)
    res = victim.get(_link(code))
    assert res.status_code == 200, res.text
    page = res.text
    assert "203.0.113.9" in page and "curl/8.5.0" in page and "kali-box" in page
    assert "claimed by the terminal, not verified" in page
    assert "42 seconds ago" in page
    assert "Only approve if you started this login yourself, just now, on this machine." in page
    # The terminal asked from another address than the browser's: said at once.
    assert "another address than this browser's (198.51.100.7)" in page
    assert res.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in res.headers["content-security-policy"]
    # Opening the link decided nothing.
    assert _poll(attacker, code) == {"error": "authorization_pending"}


def test_a_prefilled_link_approves_nothing_without_the_confirm_post(
    people: dict[str, Person],
) -> None:
    alice = people["alice"]
    world = alice.world
    attacker, code = _start(world, user_agent="stagewall-cli", hostname="laptop")
    victim = TestClient(world.app, client=VICTIM)
    page = victim.get(_link(code)).text
    form = {
        "user_code": code["user_code"],
        "principal": "alice",
        "password": PASSWORD,
        "decision": "approve",
    }
    # No CSRF token, or a wrong one: refused before the credentials are looked at.
    assert victim.post("/device", data={**form, "otp": alice.otp()}).status_code == 422
    res = victim.post("/device", data={**form, "otp": alice.otp(), "csrf": "forged"})
    assert res.status_code == 403
    # A cross-site form post carries no cookie (SameSite=Strict): the same as no token.
    other = TestClient(world.app, client=VICTIM)
    res = other.post("/device", data={**form, "otp": alice.otp(), "csrf": _csrf(page)})
    assert res.status_code == 403
    # The token but no explicit decision: refused too.
    no_click = {k: v for k, v in form.items() if k != "decision"}
    res = victim.post("/device", data={**no_click, "otp": alice.otp(), "csrf": _csrf(page)})
    assert res.status_code == 422
    assert _poll(attacker, code) == {"error": "authorization_pending"}
    assert not _events(world, "identity.device.approved")
    # The click, with the token and the credentials: approved.
    res = victim.post("/device", data={**form, "otp": alice.otp(), "csrf": _csrf(page)})
    assert res.status_code == 200 and "Signed in" in res.text, res.text
    got = _poll(attacker, code)
    assert got["principal"] == "alice" and got["access_token"]
    [event] = _events(world, "identity.device.approved")
    assert event.actor == "alice"
    assert event.details["requester_address"] == "203.0.113.9"
    assert event.details["requester_user_agent"] == "stagewall-cli"
    assert event.details["requester_hostname_claimed"] == "laptop"
    assert event.details["decided_from_address"] == "198.51.100.7"
    assert "203.0.113.9" in event.message


def test_the_person_denies_a_code_they_did_not_start(people: dict[str, Person]) -> None:
    world = people["alice"].world
    attacker, code = _start(world, user_agent="curl/8.5.0", hostname="kali-box")
    victim = TestClient(world.app, client=VICTIM)
    page = victim.get(_link(code)).text
    deny = {"user_code": code["user_code"], "csrf": _csrf(page), "decision": "deny"}
    # Holding the code (and the page) is not enough to void it: deny needs the person's
    # sign-in, like approve (else anyone who sees a code can kill the login).
    res = victim.post("/device", data=deny)
    assert res.status_code == 400 and "principal, password and one-time code" in res.text
    deny["csrf"] = _csrf(res.text)  # the page shown again has a new form token
    res = victim.post("/device", data={**deny, "principal": "alice", "password": "wrong"})
    assert res.status_code == 400, res.text
    deny["csrf"] = _csrf(res.text)
    res = victim.post(
        "/device", data={**deny, "principal": "alice", "password": "wrong", "otp": "123456"}
    )
    assert res.status_code == 401, res.text
    assert _poll(attacker, code) == {"error": "authorization_pending"}
    assert not _events(world, "identity.device.denied")
    res = victim.post(
        "/device",
        data={**deny, "principal": "alice", "password": PASSWORD, "otp": people["alice"].otp()},
    )
    assert res.status_code == 200 and "Login denied" in res.text, res.text
    assert _poll(attacker, code) == {"error": "access_denied"}
    [event] = _events(world, "identity.device.denied")
    assert event.actor == "alice" and event.status.value == "Failure"
    assert event.details["requester_address"] == "203.0.113.9"
    assert event.details["decided_from_address"] == "198.51.100.7"
    # A denied code cannot be approved afterwards, on the page or through the API.
    assert victim.get(_link(code)).status_code == 400
    res = people["bob"].post(
        "/api/v1/device/approve", {"user_code": code["user_code"], "otp": people["bob"].otp()}
    )
    assert res.status_code == 400 and "unknown, already used or expired" in res.text
    assert _poll(attacker, code) == {"error": "access_denied"}


def test_posting_codes_to_the_form_is_rate_limited_like_looking_them_up(
    people: dict[str, Person],
) -> None:
    """The form's POST looks the code up too (and shows its requester): unknown codes
    count against the browser's address there as on the GET, so nobody pages through
    codes by posting them."""
    world = people["alice"].world
    _, code = _start(world, user_agent="curl/8.5.0", hostname="kali-box")
    prober = TestClient(world.app, client=ATTACKER)
    token = _csrf(prober.get(_link(code)).text)
    guesses = [f"BBBB-BC{c}{d}" for c in "DFGH" for d in "JKLM"]
    answers = []
    for guess in guesses[:6]:
        res = prober.post("/device", data={"user_code": guess, "csrf": token, "decision": "deny"})
        answers.append(res.status_code)
    assert answers[:4] == [400] * 4 and 429 in answers, answers
    # Past the limit even a real code shows nothing to this address.
    res = prober.post(
        "/device", data={"user_code": code["user_code"], "csrf": token, "decision": "deny"}
    )
    assert res.status_code == 429 and "kali-box" not in res.text


def test_client_chosen_values_are_escaped(people: dict[str, Person]) -> None:
    world = people["alice"].world
    agent = "<script>alert(1)</script>\x1b[2J" + "A" * 5000
    host = 'box"><img src=x onerror=alert(2)>\n\x1b]0;pwned\x07\u202eevil'
    _, code = _start(world, user_agent=agent, hostname=host)
    page = TestClient(world.app, client=VICTIM).get(_link(code)).text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[2J" in page
    assert (
        "box&quot;&gt;&lt;img src=x onerror=alert(2)&gt;\\x0a\\x1b]0;pwned\\x07\\u202eevil" in page
    )
    assert not any(ch in page for ch in "\x1b\x07\u202e")
    shown = device.pending(world.state.ctx.store, code["user_code"], now=world.clock())
    assert shown is not None and shown.user_agent is not None
    assert len(shown.user_agent) == device.MAX_USER_AGENT and shown.user_agent.endswith("…")


def test_the_api_approval_records_the_requesting_address(people: dict[str, Person]) -> None:
    bob = people["bob"]
    world = bob.world
    attacker, code = _start(world, user_agent="curl/8.5.0", hostname="kali-box")
    res = bob.post("/api/v1/device/approve", {"user_code": code["user_code"], "otp": bob.otp()})
    assert res.status_code == 204, res.text
    [event] = _events(world, "identity.device.approved")
    assert event.actor == "bob"
    assert event.details["requester_address"] == "203.0.113.9"
    assert event.details["requester_hostname_claimed"] == "kali-box"
    assert _poll(attacker, code)["principal"] == "bob"


def test_codes_are_short_lived_and_guessing_them_is_limited(people: dict[str, Person]) -> None:
    world = people["alice"].world
    _, code = _start(world, user_agent="curl/8.5.0", hostname="kali-box")
    victim = TestClient(world.app, client=VICTIM)
    world.clock.advance(device.DEVICE_TTL + timedelta(seconds=1))
    res = victim.get(_link(code))
    assert res.status_code == 400 and "unknown, used or expired" in res.text
    for _ in range(4):
        assert victim.get("/device?user_code=BBBB-BBBB").status_code == 400
    assert victim.get("/device?user_code=CCCC-CCCC").status_code == 429
    # Another address still looks its codes up.
    assert TestClient(world.app, client=ATTACKER).get("/device").status_code == 200


def test_the_cli_declares_its_host_name(world: World, tmp_path: Path) -> None:
    """``stagewall login`` (device flow) sends its host name; the page shows it as claimed."""
    from tests.live_server import serve
    from tests.server.test_cli_browser import Cli

    alice = world.onboard("alice")
    with serve(world.state, run_sweeper=False) as live:
        cli = Cli(tmp_path / "xdg", "login", "--server", live)
        try:
            assert cli.proc.stdout is not None
            lines = [cli.proc.stdout.readline() for _ in range(3)]
            user_code = re.search(r"enter the code (\S+)", lines[0])
            assert user_code, lines
            assert repr(socket.gethostname()) in lines[2]
            with httpx.Client(base_url=live) as browser:
                page = browser.get("/device", params={"user_code": user_code.group(1)})
                assert page.status_code == 200, page.text
                assert f"<code>{html.escape(socket.gethostname())}</code>" in page.text
                assert "<code>127.0.0.1</code>" in page.text
                assert "<code>stagewall-cli</code>" in page.text
                done = browser.post(
                    "/device",
                    data={
                        "user_code": user_code.group(1),
                        "csrf": _csrf(page.text),
                        "decision": "approve",
                        "principal": "alice",
                        "password": PASSWORD,
                        "otp": alice.otp(),
                    },
                )
                assert done.status_code == 200 and "Signed in" in done.text, done.text
            rc, out, err = cli.finish()
            assert rc == 0 and "as alice" in out, (out, err)
        finally:
            cli.stop()


def _approval(code: dict[str, Any], person: Person, csrf: str) -> dict[str, str]:
    return {
        "user_code": code["user_code"],
        "principal": person.name,
        "password": PASSWORD,
        "otp": person.otp(),
        "decision": "approve",
        "csrf": csrf,
    }


def test_a_tossed_device_form_cookie_approves_nothing(people: dict[str, Person]) -> None:
    """Over https the page's CSRF cookie is a Secure ``__Host-`` cookie: a sibling
    subdomain that sets ``stagewall_device_csrf=X; Domain=…`` in the person's browser
    cannot post the form with X (the cookie it tossed is not the one read)."""
    from tests.server.test_redteam_cookie_tossing import HOST, _https

    alice = people["alice"]
    world = alice.world
    client = _https(world)
    try:
        attacker, code = _start(world, user_agent="stagewall-cli", hostname="laptop")
        page = client.get(_link(code))
        [cookie] = [c for c in page.headers.get_list("set-cookie") if "device_csrf" in c]
        assert cookie.startswith("__Host-stagewall_device_csrf="), cookie
        assert "secure" in cookie.lower() and "path=/;" in cookie.lower() + ";", cookie
        victim = TestClient(client.app, base_url=HOST)
        tossed = "tossed-value-0123456789"
        for name in ("stagewall_device_csrf", "stagewall_form_csrf"):
            victim.cookies.set(name, tossed, domain="stagewall.example.com")
        res = victim.post("/device", data=_approval(code, alice, tossed))
        assert res.status_code == 403, res.text
        assert _poll(attacker, code) == {"error": "authorization_pending"}
        victim.close()
    finally:
        client.close()


def test_an_offboarded_persons_device_approval_is_recorded_as_refused(
    people: dict[str, Person],
) -> None:
    """dana's vendor is offboarded: her right password and code on the device page
    approve nothing, and the log has a failed login, never a successful one."""
    world = people["dana"].world
    carol = people["carol"]
    res = carol.post("/api/v1/vendors/devshop/offboard", {"otp": carol.otp()})
    assert res.status_code == 200, res.text
    dana = people["dana"]
    attacker, code = _start(world, user_agent="stagewall-cli", hostname="laptop")
    victim = TestClient(world.app, client=VICTIM)
    page = victim.get(_link(code)).text
    before = [e for e in world.events() if e.code == "identity.login" and e.actor == "dana"]
    res = victim.post("/device", data=_approval(code, dana, _csrf(page)))
    assert res.status_code == 401 and "offboarded" in res.text, res.text
    assert _poll(attacker, code) == {"error": "authorization_pending"}
    logins = [e for e in world.events() if e.code == "identity.login" and e.actor == "dana"]
    new = logins[len(before) :]
    assert [e.status.value for e in new] == ["Failure"], [(e.status, e.message) for e in new]
    assert not _events(world, "identity.device.approved")
