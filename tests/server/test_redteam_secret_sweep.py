"""Red team: no secret of a real run reaches a log, an audit event, an alert, a problem
object or an evidence pack.

One run goes through what handles secrets — invitations (TOTP seeds), password
and code logins (right and wrong), step-up, a production credential issued with the
admin connection URL's password, its revocation, refusals, a factor reset, logout, the
auditor's pack — with every Python logger captured at DEBUG. Then every secret it saw
is looked for, raw and in the forms it may be printed in, everywhere except the one
response meant to carry it.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest

from tests.server.conftest import PASSWORD, Person, World

ADMIN_PASSWORD = "Adm1n-S3cret-pw"  # PostgreSQL on 127.0.0.1 trusts: any password works


def _request(p: Person) -> str:
    res = p.post("/api/v1/access/requests", {"role": "prod-read", "duration": "1h", "reason": "x"})
    assert res.status_code == 201, res.text
    return str(res.json()["request"])


def test_no_secret_reaches_logs_events_alerts_problems_or_the_pack(
    world: World,
    people: dict[str, Person],
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    user, rest = pg_url.split("://", 1)[1].split("@", 1)
    monkeypatch.setenv("SW_TEST_ADMIN_URL", f"postgresql://{user}:{ADMIN_PASSWORD}@{rest}")
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    secrets: set[str] = {PASSWORD, ADMIN_PASSWORD}
    problems: list[str] = []

    def refused(res: Any) -> None:
        assert res.status_code >= 400, res.text
        problems.append(res.text + json.dumps(dict(res.headers)))

    # wrong logins: a wrong password, a right password with a reused or wrong code
    refused(
        world.client.post(
            "/api/v1/session", json={"principal": "bob", "password": "Wr0ng-pw!", "otp": "1"}
        )
    )
    secrets.add("Wr0ng-pw!")
    code = bob.otp()
    assert (
        world.client.post(
            "/api/v1/session", json={"principal": "bob", "password": PASSWORD, "otp": code}
        ).status_code
        == 200
    )
    refused(
        world.client.post(
            "/api/v1/session", json={"principal": "bob", "password": PASSWORD, "otp": code}
        )
    )
    # a production credential, issued with the admin URL's password, then revoked
    rid = _request(alice)
    gid = bob.post(
        f"/api/v1/access/requests/{rid}/reviews", {"approve": True, "otp": bob.otp()}
    ).json()["grant"]
    res = alice.post(f"/api/v1/access/grants/{gid}/credentials", {"otp": alice.otp()})
    assert res.status_code == 200, res.text
    secrets.update(c["password"] for c in res.json())
    refused(bob.post(f"/api/v1/access/grants/{gid}/credentials", {"otp": bob.otp()}))
    res = alice.post(f"/api/v1/access/grants/{gid}/revoke", {"otp": alice.otp(), "reason": "done"})
    assert res.status_code < 500, res.text
    # a forged token and a token in the wrong place
    refused(world.client.get("/api/v1/whoami", headers={"Authorization": "Bearer swt_forged1"}))
    # a factor reset of bob by carol
    res = carol.post("/api/v1/principals/bob/mfa/reset", {"otp": carol.otp()})
    assert res.status_code in (200, 204), res.text
    for p in people.values():
        secrets.add(p.secret)
        if p.token:
            secrets.add(p.token)
    # logout
    assert world.client.delete("/api/v1/session", headers=alice.headers()).status_code == 204
    refused(alice.get("/api/v1/whoami"))
    # the auditor's evidence pack
    day = world.clock().date()
    res = people["audrey"].get(
        f"/api/v1/evidence/pack?from={day - timedelta(days=30)}&to={day}&pdf=false"
    )
    assert res.status_code == 200, res.text
    with zipfile.ZipFile(io.BytesIO(res.content)) as pack:
        pack_text = "\n".join(
            pack.read(name).decode("utf-8", "replace") for name in pack.namelist()
        )

    where = {
        "audit events": "\n".join(e.raw.decode() for e in world.events()),
        "python logs": "\n".join(
            r.getMessage() + repr(r.args) + (r.exc_text or "") for r in caplog.records
        ),
        "alerts": json.dumps(world.alerts()),
        "problem objects": "\n".join(problems),
        "evidence pack": pack_text,
    }
    forms = {s: {s, quote(s, safe=""), json.dumps(s)[1:-1]} for s in secrets if len(s) >= 6}
    leaks = [
        f"{name}: {secret[:4]}…"
        for name, text in where.items()
        for secret, shapes in forms.items()
        if any(shape in text for shape in shapes)
    ]
    assert not leaks, leaks
    assert len(forms) >= 10  # seeds, tokens, passwords: the sweep looked for something
