"""Red team: the page a login returns to never leaves the server's origin.

A browser parses every URL (a ``Location`` header, a ``<meta http-equiv=refresh>``
target, an ``href``) with the WHATWG URL parser, which first removes every ASCII tab
and newline inside the string. ``/<TAB>/evil.example`` is therefore the
protocol-relative URL ``//evil.example`` to a browser, another origin, although it
starts with a single ``/`` when the server looks at it.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from stagewall.web._render import safe_next
from tests.identity.conftest import OidcProvider
from tests.identity.conftest import browser as browser
from tests.identity.conftest import oidc_provider as oidc_provider
from tests.server.conftest import World
from tests.server.test_oidc_login import _callback
from tests.server.test_oidc_login import oidc_world as oidc_world

ORIGIN = "https://stagewall.example.com/"

# Each starts with one "/" and no "\r", "\n" or "\\"; each leaves the origin in a browser.
ESCAPES = [
    "/\t/evil.example/",
    "/\t\t/evil.example",
    "/\x0c/evil.example",  # form feed: not removed by browsers; must stay harmless either way
    "/\x0b/evil.example",
    "/\x00/evil.example",
    "/\x1f/evil.example",
    "/\x7f/evil.example",
]


def as_browser(url: str) -> str:
    """Where a browser on ``ORIGIN`` goes for ``url`` (WHATWG: tab/newline removed,
    leading and trailing C0 controls and spaces trimmed, backslash as slash)."""
    cleaned = re.sub(r"[\t\n\r]", "", url).strip("".join(chr(c) for c in range(0x21)))
    cleaned = cleaned.replace("\\", "/")
    return urljoin(ORIGIN, cleaned)


def stays_home(url: str) -> bool:
    return urlsplit(as_browser(url)).netloc == urlsplit(ORIGIN).netloc


@pytest.mark.parametrize("target", ESCAPES)
def test_safe_next_never_gives_a_target_that_leaves_the_origin(target: str) -> None:
    got = safe_next(target)
    assert stays_home(got), (target, got)
    # and the control characters themselves are not passed on to a page or a header
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in got), repr(got)


def test_as_browser_models_the_bypass() -> None:
    """The helper is the browser's view: the tab form does leave the origin."""
    assert not stays_home("/\t/evil.example/")
    assert stays_home("/reviews?x=1")


def test_a_tab_in_next_does_not_send_the_signed_in_browser_elsewhere(
    oidc_world: World,
    oidc_provider: OidcProvider,
    browser: httpx.Client,
) -> None:
    """Reproduced: ``/api/v1/oidc/login?next=/%09/evil.example`` signed the person in
    and the page's refresh (and its link) took them to https://evil.example/."""
    world = oidc_world
    res = world.client.get(
        "/api/v1/oidc/login", params={"next": "/\t/evil.example/"}, follow_redirects=False
    )
    assert res.status_code == 303, res.text
    query = oidc_provider.login(browser, res.headers["location"], "alice")
    page = _callback(world, query)
    assert page.status_code == 200, page.text
    refresh = re.search(r'content="0;url=([^"]*)"', page.text)
    link = re.search(r'<a href="([^"]*)"', page.text)
    assert refresh and link, page.text
    for found in (refresh.group(1), link.group(1)):
        target = html.unescape(found)
        assert stays_home(target), repr(target)
