"""The one redaction function: no generated password survives in any message."""

from __future__ import annotations

from urllib.parse import quote

import psycopg
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from stagewall.access.issuers.postgres import PostgresIssuer
from stagewall.errors import ConfigError, StagewallError
from stagewall.redact import MASK, redact, secrets_of

PASSWORDS = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=8, max_size=40
)

SHAPES = (
    "postgres//user:{raw}@127.0.0.1:5432/db",
    "postgresql://user:{raw}@127.0.0.1:5432/db",
    "postgresql://user:{enc}@127.0.0.1:54x/db",
    "postgresql://user:{enc}@127.0.0.1:1/db?connect_timeout=1",
    "host=127.0.0.1 port=1 user=u password={raw} dbname=db connect_timeout=1",
    "host=127.0.0.1 port=1 user=u password='{esc}' dbname=db connect_timeout=1",
)


def _url(shape: str, pw: str) -> str:
    esc = pw.replace("\\", "\\\\").replace("'", "\\'")
    return shape.format(raw=pw, enc=quote(pw, safe=""), esc=esc)


@settings(max_examples=300, deadline=None)
@given(pw=PASSWORDS, shape=st.sampled_from(SHAPES))
def test_driver_messages_about_a_connection_string_never_show_its_password(
    pw: str, shape: str
) -> None:
    url = _url(shape, pw)
    try:
        psycopg.conninfo.conninfo_to_dict(url)
        message = f"cannot use {url}"
    except (psycopg.Error, UnicodeError) as exc:  # a %-escape that is not UTF-8
        message = str(exc)
    out = redact(message, secrets=secrets_of(url))
    assert pw not in out
    assert quote(pw, safe="") not in out


@settings(max_examples=300, deadline=None)
@given(pw=PASSWORDS, shape=st.sampled_from(SHAPES[:3]))
def test_errors_redact_urls_even_without_knowing_the_secret(pw: str, shape: str) -> None:
    assume(pw not in 'missing "=" after "" in connection info string postgres//user:')
    url = _url(shape, pw)
    err = StagewallError(f'missing "=" after "{url}" in connection info string', hint=url)
    assert pw not in err.render() and MASK in err.message


@settings(max_examples=40, deadline=None)
@given(pw=PASSWORDS, shape=st.sampled_from(SHAPES))
def test_the_issuer_never_puts_the_admin_password_in_an_error(pw: str, shape: str) -> None:
    issuer = PostgresIssuer("prod-db", _url(shape, pw))
    for call in (issuer.identity, issuer.managed_logins):
        try:
            call()
        except StagewallError as exc:  # BackendError, or ConfigError for a bad %-escape
            assert pw not in exc.render()
            assert quote(pw, safe="") not in exc.render()


def test_plain_text_is_left_alone() -> None:
    for text in (
        "grant g1 of alice ended at 2026-01-01T10:00:00Z; mail bob@example.com",
        "cannot connect to postgresql://postgres@127.0.0.1:1/prod: refused",
    ):
        assert redact(text) == text


def test_a_percent_escape_that_is_not_utf8_is_a_clear_error_not_a_traceback() -> None:
    """Issue 12: a ``%`` in a password crashed `access sweep` with a traceback."""
    issuer = PostgresIssuer("prod-db", "postgresql://admin:Secr3t%80x@127.0.0.1:1/db")
    try:
        issuer.managed_logins()
    except ConfigError as exc:
        assert "cannot be decoded" in exc.message and "Secr3t" not in exc.render()
    else:
        raise AssertionError("a malformed admin URL was accepted")
