"""Red team: a person found by e-mail stays the IdP account that first signed in as them.

OpenID Connect Core §5.7: only ``iss`` + ``sub`` identify an end-user; an e-mail address
can be re-assigned (an account deleted and re-created, a departed person's address
handed to a newcomer, an address edited at the provider). A principal declared by
``emails`` alone used to let *any* provider account carrying that verified address in
as them, with the previous holder's factors, passkeys and grants waiting. Now the first
identity-provider login pins (issuer, subject) to the principal's binding; another
subject with the same address is refused (SW844, recorded) until an administrator
declares the new ``oidc_subject`` — which retires the old state.
"""

from __future__ import annotations

import httpx

from tests.identity.conftest import OidcProvider
from tests.identity.conftest import browser as browser
from tests.identity.conftest import oidc_provider as oidc_provider
from tests.server.conftest import World
from tests.server.test_oidc_login import _callback, _logins, _refused, _start
from tests.server.test_oidc_login import oidc_world as oidc_world


def _sign_in(world: World, provider: OidcProvider, account: str) -> httpx.Response:
    with httpx.Client(follow_redirects=False, timeout=10) as fresh:  # its own IdP session
        query = provider.login(fresh, _start(world), account)
    return _callback(world, query)  # type: ignore[no-any-return]


def test_a_recreated_idp_account_with_the_same_email_is_refused(
    oidc_world: World, oidc_provider: OidcProvider
) -> None:
    world = oidc_world
    res = _sign_in(world, oidc_provider, "bob")
    assert res.status_code == 200, res.text
    assert world.client.get("/api/v1/whoami").json()["principal"] == "bob"
    world.client.cookies.clear()

    # Another account at the provider, same verified address, another subject.
    _refused(_sign_in(world, oidc_provider, "bob-recreated"), "another account")
    assert world.client.get("/api/v1/whoami").status_code == 401
    failed = _logins(world)[-1]
    assert failed.status.value == "Failure"
    assert failed.details["subject"] == "bob-recreated"

    # The account that signed in first still does.
    world.client.cookies.clear()
    assert _sign_in(world, oidc_provider, "bob").status_code == 200

    # The administrator declares the new account: the old state is retired, and the
    # new subject signs in (and is pinned in turn).
    world.client.cookies.clear()
    text = world.config.read_text().replace(
        "emails: [bob@example.test]}", "emails: [bob@example.test], oidc_subject: bob-recreated}"
    )
    world.config.write_text(text)
    assert _sign_in(world, oidc_provider, "bob-recreated").status_code == 200
    assert world.client.get("/api/v1/whoami").json()["principal"] == "bob"
    retired = [e for e in world.events() if e.code == "identity.account.retired"]
    assert retired and retired[-1].details["changed"] == ["oidc_subject"]


def test_a_callback_without_iss_from_a_provider_that_sends_it_is_refused(
    oidc_world: World, oidc_provider: OidcProvider
) -> None:
    """RFC 9207 §2.4: a provider that announces ``authorization_response_iss_parameter_
    supported`` always sends ``iss``; a response without it did not come from it as sent
    (a mix-up, or a response rewritten on the way) and is refused."""
    world = oidc_world
    meta = httpx.get(f"{oidc_provider.issuer}/.well-known/openid-configuration").json()
    assert meta["authorization_response_iss_parameter_supported"] is True
    with httpx.Client(follow_redirects=False, timeout=10) as fresh:
        query = oidc_provider.login(fresh, _start(world), "alice")
    assert query.pop("iss") == oidc_provider.issuer
    _refused(_callback(world, query), "without the iss parameter")
    assert _logins(world)[-1].status.value == "Failure"
