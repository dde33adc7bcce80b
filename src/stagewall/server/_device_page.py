"""The ``/device`` pages of ``stagewall login`` (RFC 8628): enter a code, then decide.

Opening a link with the code in it (``verification_uri_complete``) only shows the
confirmation page: who asked (the address the server saw, the program's User-Agent,
the host name the terminal claims), how long ago, and a warning. Signed out, the page
offers two ways on: sign in (the identity provider, or the web sign-in) and come back
to the same page, or decide right here with a local account's password and one-time
code — *Approve* and *Deny* both need them, so a code cannot be voided by whoever
merely holds it. Signed in, the page is :mod:`stagewall.web._routes_device`'s.
Everything a client chose is HTML-escaped here (and was control-escaped when stored).
"""

from __future__ import annotations

import html
import secrets
from datetime import datetime

from fastapi.responses import HTMLResponse

from stagewall.identity._codes import fmt
from stagewall.identity.device import Requester
from stagewall.web._render import HEADERS, set_form_csrf

FORM_CSRF_COOKIE = "stagewall_device_csrf"
WARNING = "Only approve if you started this login yourself, just now, on this machine."


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def ago(then: datetime, now: datetime) -> str:
    """``42 seconds ago``, ``3 minutes ago`` (never negative)."""
    secs = max(0, int((now - then).total_seconds()))
    if secs < 60:
        return f"{secs} second{'' if secs == 1 else 's'} ago"
    mins = secs // 60
    if mins < 60:
        return f"{mins} minute{'' if mins == 1 else 's'} ago"
    hours = mins // 60
    return f"{hours} hour{'' if hours == 1 else 's'} ago"


def _page(
    title: str, inner: str, status: int, *, csrf: str | None = None, secure: bool = False
) -> HTMLResponse:
    body = f"""<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>stagewall: {_e(title)}</title>
<main><h1>{_e(title)}</h1>
{inner}
</main></html>"""
    resp = HTMLResponse(body, status_code=status, headers={**HEADERS, "cache-control": "no-store"})
    if csrf is not None:
        # over https a Secure __Host- cookie: a sibling subdomain cannot toss in a
        # value it knows and post the form in the person's browser
        set_form_csrf(resp, FORM_CSRF_COOKIE, csrf, path="/device", secure=secure)
    return resp


def _alert(message: str) -> str:
    return f'<p role="alert">{_e(message)}</p>' if message else ""


def entry_page(user_code: str, message: str = "", status: int = 200) -> HTMLResponse:
    """Step one: type the code shown in the terminal (looked up with a GET, nothing decided)."""
    inner = f"""{_alert(message)}
<form method="get" action="/device">
<p><label for="user_code">Code shown in the terminal</label>
<input id="user_code" name="user_code" value="{_e(user_code)}" maxlength="32" required
 autocomplete="off"></p>
<p><button type="submit">Continue</button></p>
</form>"""
    return _page("Sign in a terminal", inner, status)


def _row(label: str, value: str | None, missing: str = "not recorded") -> str:
    shown = f"<code>{_e(value)}</code>" if value else f"<em>{_e(missing)}</em>"
    return f"<dt>{_e(label)}</dt><dd>{shown}</dd>"


def confirm_page(
    who: Requester,
    *,
    now: datetime,
    viewer_address: str | None,
    message: str = "",
    status: int = 200,
    secure: bool = False,
    sign_in: str = "",
    oidc_sign_in: str | None = None,
) -> HTMLResponse:
    """Step two, signed out: who asked, the warning, the ways to sign in (``sign_in``:
    the web sign-in coming back here; ``oidc_sign_in``: the identity provider's, when the
    server has one), and Approve or Deny with a local account's credentials."""
    token = secrets.token_urlsafe(24)
    oidc = (
        f'<a href="{_e(oidc_sign_in)}">Sign in with your company account</a> or '
        if oidc_sign_in
        else ""
    )
    left = max(0, int((who.expires_at - now).total_seconds()))
    elsewhere = ""
    if who.address and viewer_address and who.address != viewer_address:
        elsewhere = (
            '<p role="alert"><strong>The terminal asked from another address than this '
            f"browser's ({_e(viewer_address)}).</strong> If you are not sure why, deny it.</p>"
        )
    inner = f"""{_alert(message)}
<p role="alert"><strong>{_e(WARNING)}</strong> Anyone can start a login and send you its
link or code: approving it gives them your access. If someone sent you this link or code,
deny it.</p>
{elsewhere}
<dl>
{_row("Code", who.user_code)}
<dt>Requested</dt><dd>{_e(ago(who.requested_at, now))} (<time>{_e(fmt(who.requested_at))}</time>);
the code expires in {left // 60} min {left % 60:02d} s</dd>
{_row("From address (as the server saw it)", who.address)}
{_row("Program (User-Agent)", who.user_agent)}
{_row("Host name (claimed by the terminal, not verified)", who.hostname)}
</dl>
<h2>Sign in, then decide</h2>
<p>{oidc}<a href="{_e(sign_in or "/login")}">Sign in</a> and this page comes back
with who asked; you then approve with your passkey or one-time code.</p>
<h2>Or decide with your local account</h2>
<form method="post" action="/device">
<input type="hidden" name="csrf" value="{_e(token)}">
<input type="hidden" name="user_code" value="{_e(who.user_code)}">
<p><label for="principal">Principal</label>
<input id="principal" name="principal" autocomplete="username" required></p>
<p><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><label for="otp">One-time code</label>
<input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" required></p>
<p><button type="submit" name="decision" value="approve">I started it: approve this
terminal</button>
<button type="submit" name="decision" value="deny">Deny: I did not start it</button></p>
<p><small>Approving and denying both need your password and one-time code.</small></p>
</form>"""
    return _page("Approve a terminal login?", inner, status, csrf=token, secure=secure)


def done_page(title: str, text: str) -> HTMLResponse:
    return _page(title, f"<p>{_e(text)}</p>", 200)


def decided_page(decision: str) -> HTMLResponse:
    """What the person sees once the code is approved or denied."""
    if decision == "deny":
        return done_page(
            "Login denied",
            "The terminal's login was refused and its code is void. If someone sent you "
            "this link or code, tell your security contact.",
        )
    return done_page("Signed in", "You can close this page and return to the terminal.")


__all__ = [
    "FORM_CSRF_COOKIE",
    "WARNING",
    "ago",
    "confirm_page",
    "decided_page",
    "done_page",
    "entry_page",
]
