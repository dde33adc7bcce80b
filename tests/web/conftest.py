"""The web UI's tests run in the server's world (estate, store, people with accounts)."""

from __future__ import annotations

import re
from typing import Any

from tests.server.conftest import PASSWORD, Person, World, people, pg_world, world

__all__ = [
    "PASSWORD",
    "Browser",
    "open_invitation",
    "people",
    "pg_world",
    "refused_without_csrf_or_factor",
    "world",
]


class Browser:
    """A person's browser without JavaScript: cookies, forms and their CSRF fields."""

    def __init__(self, world: World, person: Person) -> None:
        from fastapi.testclient import TestClient

        self.world = world
        self.person = person
        self.client = TestClient(world.app, follow_redirects=False)
        self.csrf = ""

    def sign_in(self) -> None:
        page = self.client.get("/login")
        token = field(page.text, "csrf")
        res = self.client.post(
            "/login",
            data={
                "principal": self.person.name,
                "password": PASSWORD,
                "otp": self.person.otp(),
                "csrf": token,
                "next": "/",
            },
        )
        assert res.status_code == 303, res.text
        home = self.client.get("/")
        assert home.status_code == 200, home.text
        self.csrf = field(home.text, "csrf")

    def get(self, path: str, **kw: object):  # type: ignore[no-untyped-def]
        return self.client.get(path, **kw)  # type: ignore[arg-type]

    def post(self, path: str, data: dict[str, object], *, csrf: bool = True):  # type: ignore[no-untyped-def]
        body = {"csrf": self.csrf, **data} if csrf else data
        return self.client.post(path, data=body)


def refused_without_csrf_or_factor(
    b: Browser, path: str, form: dict[str, object], otp: str
) -> None:
    """``form`` posted to ``path`` with a code but no CSRF token is refused before anything
    runs (403); with the token but no factor, the library refuses it (400)."""
    res = b.post(path, {**form, "otp": otp}, csrf=False)
    assert res.status_code == 403 and "CSRF" in res.text
    res = b.post(path, form)
    assert res.status_code == 400, res.text


def open_invitation(b: Browser, token: str) -> tuple[Any, str]:
    """Open the invitation ``token`` in ``b`` and set the password: the page (with the
    next form's CSRF field) and the TOTP secret it shows."""
    csrf = field(b.get(f"/invite?token={token}").text, "csrf")
    res = b.client.post(
        "/invite", data={"token": token, "password": PASSWORD, "again": PASSWORD, "csrf": csrf}
    )
    assert res.status_code == 200, res.text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', res.text)
    assert secret
    return res, secret.group(1)


def field(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no field {name} in page"
    return m.group(1)
