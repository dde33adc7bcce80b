"""Requirement 3 of issue 13: findings nobody would tolerate are not raised."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewall.scan import scan_paths

from .helpers import by_rule

APACHE = "http://www.apache.org/licenses/LICENSE-2.0"


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_no_transport_findings_for_licences_namespaces_and_schemas(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "LICENSE": f"Apache License\n  {APACHE}\n",
            "NOTICE.txt": "Includes software from http://www.example-vendor.com/\n",
            "COPYING": "see http://www.gnu.org/licenses/gpl-3.0.html\n",
            "docs/logo.svg": '<svg xmlns="http://www.w3.org/2000/svg" '
            'xmlns:xlink="http://www.w3.org/1999/xlink"></svg>\n',
            "schema/app.xsd": '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            'targetNamespace="http://acme.example.org/ns/app"/>\n',
            "web/index.html": f"<!-- Licensed under the Apache License {APACHE} -->\n<p>hi</p>\n",
            "envs/staging/app.json": '{"$schema": "http://json.schemastore.org/app", '
            '"spec": "http://acme-config.io/schemas/v1/app.json"}\n',
            "envs/staging/pom.properties": "license.url=http://opensource.org/licenses/MIT\n",
            "envs/staging/app.yaml": "# yaml-language-server: $schema=http://x.io/s.json\n"
            "api: http://api.staging.acme.io/\n",
        },
    )
    result = scan_paths([tmp_path])
    found = [(f.file, f.line) for f in by_rule(result, "SW-SCAN-005")]
    assert found == [("envs/staging/app.yaml", 2)]  # a real plain-HTTP endpoint still counts


@pytest.mark.parametrize(
    "line",
    [
        'secret = "iap-oauth-client-id"',
        "client_secret = var.oauth_client_secret",
        'db_password = "${var.db_password}"',
        "password: !Ref DatabasePassword",
        "api_key: !expr secrets.lookup('api')",
        "# private_key = privatekeyprivatekeyprivatekeyprivatekey",
        "auth_token = xxxxxxxxxxxxxxxxxxxx",
        'secret_key = "projects/acme/secrets/api-key/versions/latest"',
        "DB_PASSWORD=prod/app/db-password",
        "TOKEN=${{ secrets.DEPLOY_TOKEN }}",
        "token: 11111111111111111111",
        "sed -i -e 's/^system.secret-key:.*$/system.secret-key: x/' conf.yml",
    ],
)
def test_no_secret_findings_for_references_names_and_filler(tmp_path: Path, line: str) -> None:
    _write(tmp_path, {"envs/staging/settings.sh": line + "\n"})
    assert by_rule(scan_paths([tmp_path]), "SW-SCAN-004") == []


def test_filler_private_key_block_is_not_a_key(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "envs/staging/tls.txt": "-----BEGIN PRIVATE KEY-----\n"
            + "privatekeyprivatekey\n" * 3
            + "-----END PRIVATE KEY-----\n",
            "envs/staging/real.txt": "-----BEGIN PRIVATE KEY-----\n"
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n"
            "-----END PRIVATE KEY-----\n",
        },
    )
    assert [f.file for f in by_rule(scan_paths([tmp_path]), "SW-SCAN-004")] == [
        "envs/staging/real.txt"
    ]


def test_real_secrets_are_still_found(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "envs/staging/a.env": "SESSION_SECRET=Zx9!qT4#mK2wL7pR3vB\n"
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8kLm\n",
        },
    )
    assert len(by_rule(scan_paths([tmp_path]), "SW-SCAN-004")) == 2


def test_sw002_never_for_booleans_numbers_or_common_words(tmp_path: Path) -> None:
    body = 'create_bucket = false\nlog_bucket = "logs"\nqueue = "default"\ntopic = 3\n'
    _write(
        tmp_path,
        {
            "envs/prod/main.tfvars": body + 'data_bucket = "acme-shared-data"\n',
            "envs/staging/main.tfvars": body + 'data_bucket = "acme-shared-data"\n',
        },
    )
    found = by_rule(scan_paths([tmp_path]), "SW-SCAN-002")
    assert [f.evidence for f in found] == ["data_bucket: acme-shared-data"]


def test_storage_rules_know_provider_defaults(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "envs/prod/cache.tf": 'resource "aws_elasticache_replication_group" "valkey" {\n'
            '  engine = "valkey"\n}\n'
            'resource "aws_elasticache_replication_group" "redis" {\n'
            '  engine = "redis"\n}\n'
            'resource "aws_rds_cluster" "serverless" {\n'
            '  engine_mode = "serverless"\n}\n'
            'resource "aws_rds_cluster" "provisioned" {\n'
            '  engine = "aurora-postgresql"\n}\n'
            'resource "aws_s3_bucket" "assets" {\n'
            '  bucket = "acme-assets"\n}\n',
        },
    )
    found = by_rule(scan_paths([tmp_path]), "SW-SCAN-006")
    assert sorted(f.message.split(":")[0] for f in found) == [
        "aws_elasticache_replication_group.redis",
        "aws_rds_cluster.provisioned",
    ]


def test_helm_templates_nginx_conf_and_jsonc_are_not_parse_errors(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "chart/templates/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\n"
            'metadata:\n  name: {{ include "app.fullname" . }}\n'
            "  namespace: shop-staging\n"
            "spec:\n  template:\n    spec:\n      containers:\n"
            "        - name: app\n          env:\n"
            "            {{- range $k, $v := .Values.env }}\n"
            "            - name: {{ $k }}\n              value: {{ $v | quote }}\n"
            "            {{- end }}\n"
            "            - name: DB_HOST\n              value: db.prod.acme.internal\n",
            "chart/templates/_helpers.tpl": '{{- define "app.fullname" -}}\n'
            "{{ .Release.Name }}\n{{- end }}\n",
            "chart/templates/NOTES.txt": "Visit {{ .Values.url }}\n",
            "deploy/nginx.conf": "server {\n  listen 80;\n  location / { proxy_pass http://app; }\n}\n",
            ".vscode/settings.json": '{\n  // editor\n  "a": 1, /* x */\n  "b": [1, 2,],\n}\n',
        },
    )
    result = scan_paths([tmp_path])
    assert by_rule(result, "SW-SCAN-012") == []
    crossing = by_rule(result, "SW-SCAN-001")
    assert [(f.file, f.line) for f in crossing] == [("chart/templates/deployment.yaml", 17)]


def test_metadata_endpoints_patches_and_json5_are_quiet(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "envs/staging/otel.yaml": "endpoint: http://metadata.google.internal/computeMetadata\n",
            "patches/.env.patch": "--- a/.env\n+++ b/.env\n@@ -1 +1 @@\n-A=1\n+A=2\n",
            ".github/renovate.json5": "{\n  extends: ['config:recommended'],\n}\n",
        },
    )
    assert scan_paths([tmp_path]).findings == []
