"""Round 7: what round 6 left open.

Precision: names with "live" in them that are not production (``LIVE_CHAT_TOKEN``,
``LIVERELOAD_PORT``, ``DELIVERY_API_KEY``, ``OLIVER_...``) while ``STRIPE_LIVE_KEY``,
``sk_live_`` and ``envs/live/`` stay production. Recall: a compose service's ``env_file``
(a name, a list, the ``path:`` long syntax) in no environment is read as the service's
environment; a ``path:`` to a production-named file from a staging compose file.
Each case has its near miss that must stay quiet.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewall.scan._model import Severity
from tests.scan.test_written_forms import _hits, _scan

# a made-up credential shape (mixed case and digits), never a real one
_VALUE = "Zq8vN2rT5wK9pL3xM7bC4"


def _workflow(secret: str) -> str:
    return (
        "name: staging\non:\n  push:\n    branches: [main]\njobs:\n  smoke:\n"
        "    environment: staging\n    runs-on: ubuntu-latest\n    steps:\n"
        f"      - run: ./smoke.sh\n        env:\n          T: ${{{{ secrets.{secret} }}}}\n"
    )


@pytest.mark.parametrize(
    "secret",
    [
        "LIVE_CHAT_TOKEN",
        "LIVE_RELOAD_TOKEN",
        "LIVESTREAM_KEY",
        "LIVERELOAD_PORT",
        "DELIVERY_API_KEY",
        "OLIVER_SIGNING_KEY",
        "GO_LIVE_WEBHOOK_TOKEN",
        "LIVE_STREAM_KEY",
    ],
)
def test_secret_named_live_something_is_not_production(tmp_path: Path, secret: str) -> None:
    result = _scan(tmp_path, {".github/workflows/staging.yml": _workflow(secret)})
    assert _hits(result, "SW-SCAN-015") == []


@pytest.mark.parametrize(
    "secret", ["STRIPE_LIVE_KEY", "LIVE_DB_PASSWORD", "PAYPAL_SECRET_LIVE", "DB_PROD_PASSWORD"]
)
def test_secret_for_the_live_environment_is_still_production(tmp_path: Path, secret: str) -> None:
    result = _scan(tmp_path, {".github/workflows/staging.yml": _workflow(secret)})
    assert _hits(result, "SW-SCAN-015") == [(".github/workflows/staging.yml", 7)]


@pytest.mark.parametrize(
    ("line", "production"),
    [
        (f"LIVE_CHAT_TOKEN={_VALUE}", False),
        (f"LIVERELOAD_SECRET={_VALUE}", False),
        (f"DELIVERY_API_KEY={_VALUE}", False),
        (f"OLIVER_TOKEN={_VALUE}", False),
        (f"STRIPE_LIVE_SECRET_KEY={_VALUE}", True),
        (f"LIVE_API_KEY={_VALUE}", True),
        (f"PROD_API_KEY={_VALUE}", True),
    ],
)
def test_secret_severity_follows_live_only_as_an_environment(
    tmp_path: Path, line: str, production: bool
) -> None:
    result = _scan(tmp_path, {"app/settings.env": line + "\n"})
    found = [f for f in result.active if f.rule_id == "SW-SCAN-004"]
    assert len(found) == 1
    assert found[0].message.startswith("production ") is production
    assert (found[0].severity is Severity.HIGH) is production


def test_host_named_live_chat_is_not_production(tmp_path: Path) -> None:
    compose = (
        "services:\n  web:\n    image: acme/web:1\n    environment:\n"
        "      CHAT_URL: https://live-chat.acme.example/widget\n"
        "      SHOP_URL: https://shop-live.acme.example/\n"
    )
    result = _scan(tmp_path, {"docker-compose.staging.yml": compose}, estate=False)
    assert _hits(result, "SW-SCAN-001") == [("docker-compose.staging.yml", 6)]


STAGING_COMPOSE = """\
services:
  web:
    image: acme/web:1
    env_file: .env
  worker:
    image: acme/web:1
    env_file:
      - common.env
      - path: ./worker.env
        required: false
  reports:
    image: acme/reports:1
    env_file:
      - path: .env.production
  quiet:
    image: acme/web:1
    env_file: [.env.quiet, .env.staging]
"""


def test_compose_env_file_values_are_the_services(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {
            "docker-compose.staging.yml": STAGING_COMPOSE,
            ".env": "DATABASE_URL=postgres://app@pg-main.acme.internal:5432/shop\n",
            "common.env": "TZ=UTC\n",
            "worker.env": "DB_HOST=pg-main.acme.internal\n",
            ".env.production": "LOG_LEVEL=warn\n",
            ".env.quiet": "DB_HOST=pg-stg.acme.internal\nLIVERELOAD_PORT=35729\n",
            ".env.staging": "DB_HOST=pg-stg.acme.internal\n",
        },
    )
    assert _hits(result, "SW-SCAN-001") == [
        ("docker-compose.staging.yml", 4),  # .env: production database
        ("docker-compose.staging.yml", 9),  # path: ./worker.env
        ("docker-compose.staging.yml", 14),  # path: .env.production
    ]


def test_compose_env_file_in_production_compose_is_not_a_crossing(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {
            "docker-compose.prod.yml": "services:\n  web:\n    image: a/b:1\n    env_file: .env\n",
            ".env": "DATABASE_URL=postgres://app@pg-main.acme.internal:5432/shop\n",
        },
    )
    assert _hits(result, "SW-SCAN-001") == []


def test_compose_env_file_outside_the_scanned_tree_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "secrets.env"
    outside.write_text("DATABASE_URL=postgres://app@pg-main.acme.internal:5432/shop\n")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "docker-compose.staging.yml").write_text(
        "services:\n  web:\n    image: a/b:1\n    env_file:\n      - ../secrets.env\n"
        "      - link.env\n"
    )
    (root / "link.env").symlink_to(outside)
    result = _scan(root, {})
    assert _hits(result, "SW-SCAN-001") == []
    # the same file inside the tree is read
    (root / "link.env").unlink()
    (root / "link.env").write_text(outside.read_text())
    assert _hits(_scan(root, {}), "SW-SCAN-001") == [("docker-compose.staging.yml", 6)]


def test_compose_env_file_flag_in_a_staging_job_is_read(tmp_path: Path) -> None:
    """The documented limit: ``--env-file`` is seen where the command is written."""
    workflow = (
        "name: deploy-staging\non:\n  push:\n    branches: [main]\njobs:\n  deploy:\n"
        "    environment: staging\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: docker compose --env-file .env.production -f compose.yml up -d\n"
        "      - run: docker compose --env-file .env.staging -f compose.yml up -d\n"
    )
    result = _scan(tmp_path, {".github/workflows/deploy-staging.yml": workflow})
    assert _hits(result, "SW-SCAN-001") == [(".github/workflows/deploy-staging.yml", 10)]
