"""Every reader feeds the rules with the right lines: one small tree per format."""

from __future__ import annotations

import json
from pathlib import Path

from stagewall.estate import load_estate
from stagewall.scan import scan_paths

from .helpers import ESTATE

PROD_URL = "postgres://app@db.prod.example.internal:5432/shop?sslmode=verify-full"


def _scan(tmp_path: Path, files: dict[str, str]) -> list[tuple[str, str, int]]:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    result = scan_paths([tmp_path], load_estate(ESTATE).estate)
    return sorted((f.rule_id, f.file, f.line) for f in result.active)


def test_compose_toml_ini_and_docs(tmp_path: Path) -> None:
    found = _scan(
        tmp_path,
        {
            "docker-compose.staging.yml": f"services:\n  web:\n    image: shop\n    environment:\n      - DATABASE_URL={PROD_URL}\n",
            "staging/settings.toml": f'[db]\nname = "shop"\nurl = "{PROD_URL}"\n',
            "staging/app.ini": f"[db]\n; {PROD_URL}\nurl = {PROD_URL}\n",
            "staging/README.md": f"The old database was {PROD_URL}.\n",
        },
    )
    assert found == [
        ("SW-SCAN-001", "docker-compose.staging.yml", 5),
        ("SW-SCAN-001", "staging/app.ini", 3),
        ("SW-SCAN-001", "staging/settings.toml", 3),
    ]


def test_kubernetes_namespace_attribution_and_helm_multi_doc(tmp_path: Path) -> None:
    manifest = (
        "---\n# Source: shop/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\n"
        "metadata:\n  name: a\n  namespace: shop-staging\ndata:\n  x: y\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop-staging\n"
        "spec:\n  template:\n    spec:\n      containers:\n        - name: web\n          env:\n"
        f"            - name: DATABASE_URL\n              value: {PROD_URL}\n"
    )
    assert _scan(tmp_path, {"rendered/all.yaml": manifest}) == [
        ("SW-SCAN-001", "rendered/all.yaml", 23)
    ]


def test_workflow_step_copying_production(tmp_path: Path) -> None:
    workflow = (
        "on: workflow_dispatch\njobs:\n  refresh:\n    environment: staging\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: |\n          pg_dump -h db.prod.example.internal shop > d.sql\n"
        "          psql -h db.staging.example.internal shop < d.sql\n"
    )
    found = _scan(tmp_path, {".github/workflows/refresh.yml": workflow})
    assert ("SW-SCAN-010", ".github/workflows/refresh.yml", 7) in found


def test_terraform_state_json(tmp_path: Path) -> None:
    state = {
        "format_version": "1.0",
        "values": {
            "root_module": {
                "resources": [],
                "child_modules": [
                    {
                        "resources": [
                            {
                                "address": "module.db.aws_db_instance.main",
                                "mode": "managed",
                                "type": "aws_db_instance",
                                "name": "main",
                                "values": {"storage_encrypted": False},
                            }
                        ]
                    }
                ],
            }
        },
    }
    text = json.dumps(state, indent=2)
    found = _scan(tmp_path, {"envs/staging/terraform.tfstate": text})
    line = next(
        i for i, row in enumerate(text.splitlines(), 1) if "module.db.aws_db_instance.main" in row
    )
    assert found == [("SW-SCAN-006", "envs/staging/terraform.tfstate", line)]


def test_workflow_whose_jobs_all_target_staging_is_staging(tmp_path: Path) -> None:
    workflow = (
        "on: push\njobs:\n  migrate:\n    environment: stg\n    runs-on: ubuntu-latest\n"
        f"    steps:\n      - run: ./migrate --url {PROD_URL}\n"
    )
    found = _scan(tmp_path, {".github/workflows/migrate.yml": workflow})
    assert found == [("SW-SCAN-001", ".github/workflows/migrate.yml", 7)]


def test_loading_production_config_files_from_staging(tmp_path: Path) -> None:
    found = _scan(
        tmp_path,
        {
            "docker-compose.staging.yml": "services:\n  web:\n    env_file: .env.production\n",
            "envs/staging/deploy.sh": "terraform apply -var-file=../prod/prod.tfvars\n"
            "helm upgrade shop ./chart --values values-staging.yaml\n",
            "docker-compose.dev.yml": "services:\n  web:\n    env_file: .env.dev\n",
        },
    )
    assert found == [
        ("SW-SCAN-001", "docker-compose.staging.yml", 3),
        ("SW-SCAN-001", "envs/staging/deploy.sh", 1),
    ]
