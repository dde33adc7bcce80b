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


def _set_public_url(world: World, url: str) -> None:
    text = world.config.read_text(encoding="utf-8")
    world.config.write_text(text.replace("server:\n", f"server:\n  public_url: {url}\n", 1))
    world.state.refresh()


def test_an_https_public_url_written_in_capitals_still_secures_the_cookies(
    world: World,
) -> None:
    """URL schemes are case-insensitive: ``HTTPS://`` was taken for plain http, so the
    session and sign-in cookies lost ``Secure`` and ``__Host-`` and HSTS was not sent."""
    from fastapi.testclient import TestClient

    from stagewall.server import create_app

    _set_public_url(world, "HTTPS://stagewall.example.com")
    assert world.state.settings.public_url == "https://stagewall.example.com"
    client = TestClient(create_app(world.state, run_sweeper=False), base_url="https://sw.test")
    res = client.get("/login")
    assert "max-age=31536000" in res.headers.get("strict-transport-security", "")
    cookie = res.headers["set-cookie"]
    assert cookie.startswith("__Host-stagewall_login_csrf=") and "Secure" in cookie


def test_a_public_url_the_server_cannot_read_is_refused_not_taken_for_http() -> None:
    """``stagewall.example.com`` (no scheme) was accepted and served as plain http:
    no Secure cookie, no HSTS, links in notifications that go nowhere."""
    import pytest

    from stagewall.errors import StagewallError
    from stagewall.estate.loader import parse_estate

    base = "version: 1\nenvironments: {{staging: {{tier: non-production}}}}\nserver:\n  public_url: {}\n"
    for bad in ("stagewall.example.com", "ftp://x.example", "https://a@b.example/", "https://"):
        with pytest.raises(StagewallError, match="public_url"):
            parse_estate(base.format(bad))
    assert parse_estate(base.format("https://sw.example/base")).estate.server.public_url == (
        "https://sw.example/base"
    )


def test_a_cli_login_link_cannot_write_directives_into_the_pages_csp(
    world: World, people: dict[str, Person]
) -> None:
    """The listener's origin of ``/cli/login?redirect_uri=`` is copied into the page's
    CSP. An IPv6 zone passed as loopback (``ip_address`` accepts ``::1%<anything>``),
    so ``[::1%;frame-ancestors * ]`` put a ``frame-ancestors *`` ahead of the page's
    own ``'none'`` (the first one wins, and browsers then ignore X-Frame-Options)."""
    alice = _browser(world, people["alice"])
    params = {
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        "state": "s" * 24,
    }
    for uri in ("http://[::1%;frame-ancestors * ]:8080/cb", "http://[::1%25eth0]:8080/cb"):
        res = alice.get("/cli/login", params={**params, "redirect_uri": uri})
        assert res.status_code == 400, (uri, res.headers.get("content-security-policy"))
        csp = res.headers["content-security-policy"]
        assert csp.count("frame-ancestors") == 1 and "frame-ancestors 'none'" in csp
    ok = alice.get("/cli/login", params={**params, "redirect_uri": "http://127.0.0.1:8080/cb"})
    assert ok.status_code == 200
    assert "form-action 'self' http://127.0.0.1:8080;" in ok.headers["content-security-policy"]


# -- what held: cheap regression tests -------------------------------------------------

MARKUP = '"><img src=x onerror=alert(1)><script>alert(2)</script>'


def test_a_reason_with_markup_is_text_on_every_page_that_shows_it(
    world: World, people: dict[str, Person]
) -> None:
    dana = _browser(world, people["dana"])
    res = dana.post(
        "/request", {"role": "staging-write", "duration": "1h", "reason": MARKUP, "ticket": MARKUP}
    )
    assert res.status_code == 201, res.text
    bob = _browser(world, people["bob"])
    for who, path in ((bob, "/"), (bob, "/requests"), (dana, "/access"), (dana, "/requests")):
        page = who.get(path).text
        assert "<script>alert" not in page and "<img src=x" not in page, path
    assert "&lt;script&gt;alert(2)" in bob.get("/").text


def test_a_cookie_cannot_post_to_the_api_with_a_simple_content_type(
    world: World, people: dict[str, Person]
) -> None:
    """A cross-site form can send text/plain or form-encoded bodies without a preflight:
    with the session cookie and no CSRF token, the JSON routes refuse both."""
    dana = _browser(world, people["dana"])
    body = '{"role": "staging-write", "duration": "1h", "reason": "csrf"}'
    for ctype, data in (
        ("text/plain", body),
        ("application/x-www-form-urlencoded", "role=staging-write&duration=1h&reason=csrf"),
    ):
        res = dana.client.post(
            "/api/v1/access/requests", content=data, headers={"content-type": ctype}
        )
        assert res.status_code == 403 and "CSRF" in res.text, (ctype, res.text)
    assert not [e for e in world.events() if e.code == "access.request.created"]
