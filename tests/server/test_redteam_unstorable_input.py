"""Every route, every input, on a PostgreSQL store: a NUL byte or text that is not
Unicode (a lone surrogate, bytes that are not UTF-8) is a clean refusal, never a 500.

Red-team finding: ``%00`` in a masking plan request id reached psycopg (PostgreSQL
``text`` cannot hold NUL): a bare 500 and a traceback. The same held for every other
client string that reaches a query (access, grant, review ids, /decide, /withdraw,
principal names, cursors, filters). The routes are enumerated from the app, so a new
route is covered without touching this test.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.params import Form
from fastapi.routing import APIRoute
from pydantic import BaseModel

from tests.server.conftest import World, sign_up_people
from tests.web.conftest import Browser

# (what is sent in a path or query, in a form, in a JSON string)
BAD = {
    "nul": ("a%00b", "a\x00b", "a\x00b"),
    "not-unicode": ("a%C3%28b", None, "a\ud800b"),
}
BAD_FORM_BYTES = "a%C3%28b"  # a form value that is not UTF-8 must not crash either


def _params(dep: Dependant, kind: str) -> list[Any]:
    """The route's ``kind`` params (path_params, query_params, body_params), its
    dependencies' included, each name once."""
    out: dict[str, Any] = {}
    for sub in dep.dependencies:
        out.update((p.alias, p) for p in _params(sub, kind))
    out.update((p.alias, p) for p in getattr(dep, kind))
    return list(out.values())


def _body_fields(route: APIRoute) -> tuple[bool, list[str]]:
    """(is a form, the names of the body's fields)."""
    params = _params(route.dependant, "body_params")
    form = any(isinstance(p.field_info, Form) for p in params)
    if len(params) == 1 and not form:
        ann = params[0].field_info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            return False, [f.alias or n for n, f in ann.model_fields.items()]
    return form, [p.alias for p in params]


def _cases(world: World) -> Iterator[tuple[str, str, APIRoute, str, str]]:
    """(method, path template, route, where, field name) for every input of every route."""
    for route in world.app.routes:
        if not isinstance(route, APIRoute):
            continue
        form, body = _body_fields(route)
        for method in sorted(route.methods - {"HEAD"}):
            for p in _params(route.dependant, "path_params"):
                yield method, route.path_format, route, "path", p.alias
            for p in _params(route.dependant, "query_params"):
                yield method, route.path_format, route, "query", p.alias
            for name in body:
                yield method, route.path_format, route, "form" if form else "json", name


def _send(
    world: World,
    api: Any,
    browser: Browser,
    method: str,
    route: APIRoute,
    where: str,
    name: str,
    bad: tuple[str, str | None, str],
    form_bytes: bool = False,
) -> Any:
    url_bad, form_bad, json_bad = bad
    path = route.path_format
    for p in _params(route.dependant, "path_params"):
        path = path.replace(
            "{" + p.alias + "}", url_bad if (where, name) == ("path", p.alias) else "x"
        )
    if where == "query":
        path += f"?{name}={url_bad}"
    web = not path.startswith("/api/")
    client = browser.client if web else world.client
    headers = {} if web else dict(api.headers())
    kw: dict[str, Any] = {}
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        if where == "form":
            fields = {"csrf": browser.csrf}
            content = "&".join(f"{k}={v}" for k, v in fields.items() if k != name)
            value = BAD_FORM_BYTES if form_bytes else (form_bad or "").replace("\x00", "%00")
            kw["content"] = f"{content}&{name}={value}".encode()
            headers["content-type"] = "application/x-www-form-urlencoded"
        else:
            body = {name: json_bad} if where == "json" else {}
            kw["content"] = json.dumps(body).encode()  # ASCII: a lone surrogate as \\ud800
            headers["content-type"] = "application/json"
    return client.request(method, path, headers=headers, **kw)


def _code(res: Any) -> str:
    if "json" in res.headers.get("content-type", ""):
        return str(res.json().get("code", ""))
    m = re.search(r"Error code (SW\d+)", html.unescape(res.text))
    return m.group(1) if m else ""


@pytest.mark.parametrize("kind", sorted(BAD))
def test_every_input_of_every_route_refuses_unstorable_text_on_postgresql(
    pg_world: World, kind: str
) -> None:
    world = pg_world
    people = sign_up_people(world)
    admin = people["carol"]  # server admin, internal
    browser = Browser(world, admin)
    browser.sign_in()
    bad = BAD[kind]
    failures: list[str] = []
    cases = list(_cases(world))
    assert len(cases) > 100, len(cases)  # the enumeration found the app's inputs
    for method, template, route, where, name in cases:
        if where == "form" and bad[1] is None:
            res = _send(world, admin, browser, method, route, where, name, bad, form_bytes=True)
            if res.status_code >= 500:
                failures.append(f"{method} {template} form {name}: {res.status_code}")
            continue
        res = _send(world, admin, browser, method, route, where, name, bad)
        code = _code(res)
        if res.status_code != 400 or code != "SW101":
            failures.append(f"{method} {template} {where} {name}: {res.status_code} {code!r}")
            continue
        text = html.unescape(res.text)
        if name not in text:
            failures.append(f"{method} {template} {where} {name}: the message names no field")
    assert not failures, "\n".join(failures)
    # nothing of the refused requests reached the log
    assert not [e for e in world.events() if "\\x00" in repr(e)]
