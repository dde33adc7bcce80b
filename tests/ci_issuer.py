"""A local CI platform for gate tests: an OIDC issuer (discovery + JWKS) over HTTP that
also plays the GitHub Actions runner's token endpoint (``ACTIONS_ID_TOKEN_REQUEST_URL``).

Tokens are signed with keys the test controls, with GitHub- or GitLab-shaped claims
for a job of ``acme/shop`` on ``refs/heads/main`` in a given environment.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

AUDIENCE = "https://stagewall.test"
RUNNER_SECRET = "runner-request-token"


@dataclass
class CiPlatform:
    url: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))

    def sign(self, claims: dict[str, Any], *, key: RSAKey | None = None, alg: str = "RS256") -> str:
        k = key or self.key
        return jwt.encode({"alg": alg, "kid": k.kid, "typ": "JWT"}, claims, k, algorithms=[alg])

    def github(self, environment: str | None = "staging", **over: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": f"repo:acme/shop:environment:{environment}",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": secrets.token_hex(8),
            "repository": "acme/shop",
            "repository_id": "4242",
            "repository_owner": "acme",
            "ref": "refs/heads/main",
            "environment": environment,
            "workflow_ref": "acme/shop/.github/workflows/promote.yml@refs/heads/main",
            "event_name": "push",
            "run_id": "1001",
            "sha": "0" * 40,
        }
        claims.update(over)
        return {k: v for k, v in claims.items() if v is not None}

    def gitlab(self, environment: str | None = "staging", **over: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "project_path:acme/shop:ref_type:branch:ref:main",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "project_id": "77",
            "project_path": "acme/shop",
            "ref": "main",
            "ref_type": "branch",
            "ref_path": "refs/heads/main",
            "ref_protected": "true",
            "environment": environment,
            "pipeline_source": "push",
            "pipeline_id": "555",
            "ci_config_ref_uri": "gitlab.test/acme/shop//.gitlab-ci.yml@refs/heads/main",
        }
        claims.update(over)
        return {k: v for k, v in claims.items() if v is not None}


def send_json(handler: BaseHTTPRequestHandler, body: Any) -> None:
    """Answer 200 with ``body`` as JSON (the test issuers' discovery and JWKS documents)."""
    data = json.dumps(body).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _handler(platform: CiPlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/.well-known/openid-configuration":
                body: dict[str, Any] = {"issuer": platform.url, "jwks_uri": platform.url + "/jwks"}
            elif parts.path == "/jwks":
                body = {"keys": [platform.key.as_dict(private=False)]}
            elif parts.path == "/runner-token":
                # GitHub's runner: Bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN, ?audience=...
                if self.headers.get("authorization") != f"Bearer {RUNNER_SECRET}":
                    self.send_error(401)
                    return
                claims = platform.github(query.get("environment", "staging"))
                claims["aud"] = query.get("audience", "")
                body = {"value": platform.sign(claims)}
            else:
                self.send_error(404)
                return
            send_json(self, body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def ci_platform() -> Iterator[CiPlatform]:
    platform = CiPlatform()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(platform))
    platform.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield platform
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def ci_estate(base: str, issuer: str, platform: str) -> str:
    """``base`` with a CI issuer and ci bindings: ci-bot (staging), deploy-bot (production)."""
    workflow = "promote.yml" if platform == "github" else ".gitlab-ci.yml"
    repo_id = "4242" if platform == "github" else "77"

    def binding(env: str) -> str:
        return (
            f"[{{issuer: {platform}, repository: acme/shop, repository_id: '{repo_id}', "
            f"ref: refs/heads/main, environment: {env}, workflow: {workflow}}}]"
        )

    text = base.replace(
        "  ci-bot: {kind: service, affiliation: internal}",
        f"  ci-bot: {{kind: service, affiliation: internal, ci: {binding('staging')}}}",
    ).replace(
        "  deploy-bot: {kind: service, affiliation: internal}",
        f"  deploy-bot: {{kind: service, affiliation: internal, ci: {binding('production')}}}",
    )
    return text + f"ci_issuers:\n  {platform}: {{issuer: '{issuer}', audience: '{AUDIENCE}'}}\n"


__all__ = ["AUDIENCE", "RUNNER_SECRET", "CiPlatform", "ci_estate", "ci_platform"]
