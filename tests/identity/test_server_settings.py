"""``server.webauthn`` and ``server.oidc`` in stagewall.yaml: wrong values never load."""

from __future__ import annotations

import pytest

from stagewall.errors import ConfigError
from stagewall.estate import parse_estate

BASE = """
environments:
  production: {tier: production}
server:
"""


def _load(server: str) -> object:
    return parse_estate(BASE + server).estate.server


def test_a_valid_relying_party_and_provider_load() -> None:
    got = _load(
        "  webauthn:\n    rp_id: example.com\n"
        "    origins: [https://stagewall.example.com, https://example.com:8443]\n"
        "  oidc:\n    issuer: https://login.example.com/\n    client_id: sw\n"
        "    client_secret_env: SW_OIDC\n"
    )
    assert got.webauthn.rp_id == "example.com"  # type: ignore[attr-defined]
    assert got.oidc.client_id == "sw"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("rp_id", "origin", "words"),
    [
        ("https://example.com", "https://example.com", "bare lower-case domain"),
        ("example.com:443", "https://example.com", "bare lower-case domain"),
        ("Example.com", "https://example.com", "bare lower-case domain"),
        ("example.com", "http://example.com", "must use https"),
        ("example.com", "https://example.com.evil.test", "not on rp_id"),
        ("example.com", "https://notexample.com", "not on rp_id"),
        ("example.com", "https://example.com/login", "scheme://host"),
        ("stagewall.example.com", "https://example.com", "not on rp_id"),
    ],
)
def test_a_wrong_relying_party_is_refused(rp_id: str, origin: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        _load(f"  webauthn:\n    rp_id: '{rp_id}'\n    origins: ['{origin}']\n")


def test_localhost_may_use_http() -> None:
    got = _load("  webauthn:\n    rp_id: localhost\n    origins: ['http://localhost:8443']\n")
    assert got.webauthn.origins == ["http://localhost:8443"]  # type: ignore[attr-defined]


def test_oidc_settings_refuse_two_secret_sources_and_missing_openid() -> None:
    with pytest.raises(ConfigError, match="not both"):
        _load(
            "  oidc:\n    issuer: https://l.example.com\n    client_id: a\n"
            "    client_secret_env: X\n    client_secret_file: /x\n"
        )
    with pytest.raises(ConfigError, match="openid"):
        _load("  oidc:\n    issuer: https://l.example.com\n    client_id: a\n    scopes: [email]\n")
    with pytest.raises(ConfigError, match="client_secret"):
        _load(
            "  oidc:\n    issuer: https://l.example.com\n    client_id: a\n    client_secret: s\n"
        )
