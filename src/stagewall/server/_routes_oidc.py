"""Routes of browser login through the company's OpenID provider (code + PKCE).

``GET /api/v1/oidc/login`` redirects to the provider; the state, nonce and PKCE
verifier stay in the store, and the browser gets only a random binding cookie.
``GET /api/v1/oidc/callback`` finishes the login, creates a browser session exactly
like a local login (HttpOnly, SameSite session cookie plus the CSRF token) and
moves on to ``/`` (or the ``next`` path the login was started with).
"""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations.

import html
import threading
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from stagewall.identity import oidc_login
from stagewall.identity.actor import LoginMethod
from stagewall.identity.oidc import OidcRelyingParty, OidcSettings
from stagewall.identity.tokens import TokenKind, issue_token
from stagewall.server._auth import (
    end_browser_session,
    https,
    refuse_offboarded,
    set_csrf_cookie,
    set_session_cookie,
    source_address,
)
from stagewall.server._state import ServerState
from stagewall.web._render import pre_session_cookie, safe_next

BINDING_COOKIE = "stagewall_oidc"
_COOKIE_PATH = "/api/v1/oidc"


class _Parties:
    """One relying party per configuration (rebuilt when stagewall.yaml changes)."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self._lock = threading.Lock()
        self._current: tuple[OidcSettings, OidcRelyingParty] | None = None

    def get(self) -> OidcRelyingParty:
        base = Path(self.state.ctx.loaded.path).parent
        wanted = oidc_login.relying_party_settings(self.state.settings, base)
        with self._lock:
            if self._current is None or self._current[0] != wanted:
                if self._current is not None:
                    self._current[1].close()
                self._current = (wanted, OidcRelyingParty(wanted, clock=self.state.now))
            return self._current[1]

    def close(self) -> None:
        """Close the relying party's HTTP client (the app is stopping)."""
        with self._lock:
            if self._current is not None:
                self._current[1].close()
                self._current = None


NEXT_COOKIE = "stagewall_oidc_next"
_SIGNED_IN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0;url={next}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Signed in - stagewall</title></head>
<body><main><p>Signed in. <a href="{next}">Continue</a>.</p></main></body></html>
"""


def register(r: FastAPI, state: ServerState) -> None:
    store = state.ctx.store
    parties = _Parties(state)
    state.closers.append(parties.close)

    def secure() -> bool:
        return https(state)

    def _cookie(name: str) -> str:
        """The name a login cookie has here (``__Host-`` over https)."""
        return pre_session_cookie(name, _COOKIE_PATH, secure())[0]

    @r.get("/api/v1/oidc/login", name="oidc.login", status_code=303)
    def login(
        request: Request, next: Annotated[str, Query(max_length=2000)] = "/"
    ) -> RedirectResponse:
        """Start a login at the OpenID provider (303 to its authorization endpoint);
        ``next``, a path on this server, is where the browser goes once signed in."""
        state.refresh()
        conf = oidc_login.settings_for(state.settings)
        state.starts.admit(
            source_address(request, state), "device codes or identity-provider logins"
        )
        now = state.now()
        started = oidc_login.begin(
            store, parties.get(), now=now, ttl=timedelta(seconds=conf.login_ttl_seconds)
        )
        resp = RedirectResponse(started.url, status_code=303)
        resp.headers["Cache-Control"] = "no-store"
        # Lax: the cookie must come back on the provider's top-level redirect to the callback.
        for name, value in ((BINDING_COOKIE, started.binding), (NEXT_COOKIE, safe_next(next))):
            cookie, path = pre_session_cookie(name, _COOKIE_PATH, secure())
            resp.set_cookie(
                cookie,
                value,
                max_age=conf.login_ttl_seconds,
                path=path,
                httponly=True,
                secure=secure(),
                samesite="lax",
            )
        return resp

    @r.get("/api/v1/oidc/callback", name="oidc.callback", response_class=HTMLResponse)
    def callback(
        request: Request,
        code: Annotated[str, Query(max_length=2048)] = "",
        login_state: Annotated[str, Query(alias="state", max_length=512)] = "",
        iss: Annotated[str | None, Query(max_length=512)] = None,
        error: Annotated[str | None, Query(max_length=256)] = None,
    ) -> HTMLResponse:
        """Finish the login: a session cookie and a page that moves on to ``/``, or a 401.

        Not a 303: the provider's redirect here is a cross-site navigation, and a
        redirect chain that starts cross-site does not carry a SameSite=Strict cookie,
        so ``/`` would not see the new session. The page's own refresh is a same-site
        navigation, which does."""
        state.refresh()
        now = state.now()
        source = source_address(request, state)
        principal = oidc_login.complete(
            store,
            state.estate,
            parties.get(),
            code=code,
            state=login_state,
            binding=request.cookies.get(_cookie(BINDING_COOKIE), "")[:256],
            iss=iss,
            error=error,
            now=now,
            source=source,
            refuse=lambda who: refuse_offboarded(state, who),
        )
        # complete() bound the name's declaration and pinned the IdP account signing in
        end_browser_session(request, state)
        ttl = state.settings.token_ttl
        new = issue_token(
            store,
            principal,
            kind=TokenKind.BROWSER,
            method=LoginMethod.OIDC,
            now=now,
            ttl=ttl,
            source_address=source,
            user_agent=request.headers.get("user-agent"),
        )
        back = html.escape(
            safe_next(request.cookies.get(_cookie(NEXT_COOKIE), "/")[:2000]), quote=True
        )
        resp = HTMLResponse(_SIGNED_IN.format(next=back), headers={"Cache-Control": "no-store"})
        set_session_cookie(resp, state, new.secret, int(ttl.total_seconds()))
        set_csrf_cookie(resp, state, new.info.csrf, int(ttl.total_seconds()))
        for name in (BINDING_COOKIE, NEXT_COOKIE):
            cookie, path = pre_session_cookie(name, _COOKIE_PATH, secure())
            resp.delete_cookie(cookie, path=path, secure=secure(), httponly=True, samesite="lax")
        return resp
