"""References written so that a plain string match misses them: interpolation
defaults, template defaults, libpq host lists, other spellings of an address."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewall.estate import parse_estate
from stagewall.scan import Severity, scan_paths

# No environment word in the production names: only the estate can tell.
ESTATE = """\
version: 1
environments:
  production: {tier: production, paths: ["live/**"]}
  staging: {tier: non-production, paths: ["envs/staging/**"]}
resources:
  main-db:
    environment: production
    kind: postgresql
    host: pg-main.acme.internal
    identifiers: [10.10.0.5, "2001:db8:10::5"]
    connection_env: SHOP_MAIN_DATABASE_URL
    admin_connection_env: SHOP_MAIN_ADMIN_URL
  stg-db:
    environment: staging
    kind: postgresql
    host: pg-stg.acme.internal
    connection_env: SHOP_STG_DATABASE_URL
"""

CROSSINGS = {
    # shell / docker compose / .env interpolation with a default
    "compose-url.yml": (
        "services:\n  app:\n    image: shop\n    environment:\n"
        '      DATABASE_URL: "postgres://app@${DB_HOST:-pg-main.acme.internal}:5432/shop"\n'
    ),
    "compose-list.yml": (
        "services:\n  app:\n    image: shop\n    environment:\n"
        "      - DB_HOST=${DB_HOST-pg-main.acme.internal}\n"
    ),
    "nested.env": "DB_HOST=${DB_HOST:-${FALLBACK:=pg-main.acme.internal}}\n",
    "assign.env": "PGHOST=${PGHOST:=10.10.0.5}\n",
    "deploy.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: shop, namespace: shop}\n"
        "spec:\n  template:\n    spec:\n      containers:\n        - name: app\n"
        '          command: ["sh", "-c", "exec app --db-host=${DB_HOST:-pg-main.acme.internal}"]\n'
    ),
    # Helm and Jinja template defaults
    "chart/templates/app.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\ndata:\n"
        '  DB_HOST: {{ .Values.db.host | default "pg-main.acme.internal" | quote }}\n'
    ),
    "chart/templates/url.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: url\ndata:\n"
        '  DATABASE_URL: postgres://app@{{ default "pg-main.acme.internal" .Values.host }}/shop\n'
    ),
    "jinja.yml.j2": (
        "{% if true %}\ndb:\n  host: \"{{ db_host | default('pg-main.acme.internal') }}\"\n"
        "{% endif %}\n"
    ),
    # libpq host lists (failover): every host of the list is reached
    "multi.env": "DATABASE_URL=postgresql://app@pg-stg.acme.internal,pg-main.acme.internal/shop\n",
    "multi-port.env": (
        "DATABASE_URL=postgresql://app@pg-stg.acme.internal:5432,10.10.0.5:5432/shop"
        "?target_session_attrs=read-write\n"
    ),
    # other spellings of the production addresses
    "ipv6-long.env": "PGHOST=2001:db8:10:0:0:0:0:5\n",
    "ipv6-upper.env": "PGHOST=2001:DB8:10::0:5\n",
    "mapped.env": "DATABASE_URL=postgresql://app@[::ffff:10.10.0.5]/shop\n",
    "fqdn.env": "DATABASE_URL=postgresql://app@pg-main.acme.internal./shop\n",
    # the variable the estate names as the production resource's connection URL
    "var.env": "DATABASE_URL=${SHOP_MAIN_DATABASE_URL}\n",
    "var-plain.env": "DATABASE_URL=$SHOP_MAIN_DATABASE_URL\n",
    "compose-var.yml": (
        "services:\n  app:\n    image: shop\n    environment:\n"
        "      DATABASE_URL: ${SHOP_MAIN_DATABASE_URL:?set it}\n"
    ),
    "compose-pass.yml": (
        "services:\n  migrate:\n    image: shop\n    environment:\n      - SHOP_MAIN_ADMIN_URL\n"
    ),
    "job.yml": (
        "jobs:\n  migrate:\n    steps:\n      - run: ./migrate\n        env:\n"
        "          DATABASE_URL: ${{ secrets.SHOP_MAIN_DATABASE_URL }}\n"
    ),
}


def _scan(tmp_path: Path, files: dict[str, str]) -> dict[str, list[tuple[str, Severity, str]]]:
    (tmp_path / "stagewall.yaml").write_text(ESTATE)
    for name, text in files.items():
        path = tmp_path / "envs" / "staging" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    estate = parse_estate(ESTATE, "stagewall.yaml").estate
    found: dict[str, list[tuple[str, Severity, str]]] = {}
    for f in scan_paths([tmp_path], estate).active:
        rel = f.file.split("envs/staging/", 1)[-1]
        found.setdefault(rel, []).append((f.rule_id, f.severity, f.message))
    return found


@pytest.mark.parametrize("name", sorted(CROSSINGS))
def test_staging_reaching_production_is_found(tmp_path: Path, name: str) -> None:
    found = _scan(tmp_path, {name: CROSSINGS[name]})
    assert any(
        rule == "SW-SCAN-001" and sev is Severity.HIGH and "main-db" in msg
        for rule, sev, msg in found.get(name, [])
    ), (name, found)


def test_defaults_and_host_lists_without_production_are_quiet(tmp_path: Path) -> None:
    files = {
        "ok.env": (
            "DB_HOST=${DB_HOST:-pg-stg.acme.internal}\nA=${A:-}\nB=${B:?set B}\n"
            "URL=postgresql://app@pg-stg.acme.internal,10.20.0.7/shop\n"
            "PGHOST=2001:db8:20::5\n"
            "STG_URL=${SHOP_STG_DATABASE_URL}\nOTHER=${SHOP_MAIN_DATABASE_URL_DOCS}\n"
            "NAME=shop_main_database_url_docs\n"
        ),
        # the production variable's name as a name: the staging value is staging's own
        "named.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: shop, namespace: shop}\n"
            "spec:\n  template:\n    spec:\n      containers:\n        - name: app\n"
            "          env:\n            - name: SHOP_MAIN_DATABASE_URL\n"
            "              value: postgres://app@pg-stg.acme.internal/shop\n"
            "            - name: OTHER\n              valueFrom:\n"
            "                secretKeyRef: {name: shop, key: SHOP_MAIN_DATABASE_URL}\n"
        ),
        "chart/templates/ok.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\ndata:\n"
            '  DB_HOST: {{ .Values.db.host | default "pg-stg.acme.internal" | quote }}\n'
            '  TYPE: {{ .Values.type | default "ClusterIP" }}\n'
            '  NAME: {{ include "shop.fullname" . }}\n'
        ),
    }
    found = _scan(tmp_path, files)
    assert not [
        (name, rule)
        for name, items in found.items()
        for rule, sev, _msg in items
        if rule in {"SW-SCAN-001", "SW-SCAN-002"} or sev is Severity.HIGH
    ], found


def test_a_template_default_that_breaks_the_yaml_is_still_read(tmp_path: Path) -> None:
    files = {
        "chart/templates/cm.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\n  namespace: shop\ndata:\n"
            '  DSN: {{ .Values.dsn | default "host: pg-main.acme.internal" }}\n'
            "  OTHER: {{ .Values.other }}\n"
        )
    }
    found = _scan(tmp_path, files)
    assert [(r, s) for r, s, _m in found["chart/templates/cm.yaml"]] == [
        ("SW-SCAN-001", Severity.HIGH)
    ]
