"""Each rule against its fixture tree: positive and negative cases."""

from __future__ import annotations

from pathlib import Path

from stagewall.scan import Severity

from .helpers import by_rule, hits, scan_fixture


def test_sw001_prod_references_from_staging() -> None:
    result = scan_fixture("sw001")
    found = hits(result, "SW-SCAN-001")
    # URL form, key=value DSN with an IP, IPv6 in brackets, a bucket via a YAML anchor
    # merge, Terraform locals interpolated into a module argument, a variable default.
    assert ("envs/staging/app.env", 1) in found
    assert ("envs/staging/values.yaml", 2) in found
    assert ("envs/staging/values.yaml", 3) in found
    assert ("envs/staging/values.yaml", 6) in found
    assert ("envs/staging/main.tf", 9) in found
    assert ("envs/staging/main.tf", 5) in found
    # the prod host only in a comment (line 2) does not count as a reference;
    # the staging host whose name contains "prod" (line 3) is staging per the estate
    assert ("envs/staging/app.env", 2) not in found
    assert ("envs/staging/app.env", 3) not in found
    # python-hcl2 path (function calls): comments ignored, function arguments are values
    assert ("envs/staging/fallback.tf", 2) not in found
    assert ("envs/staging/fallback.tf", 4) in found
    # production files may reference production
    assert not [f for f in found if f[0].startswith("envs/prod/")]
    assert len(found) == len(set(found)), "one finding per line and resource"
    assert all(f.severity is Severity.HIGH for f in by_rule(result, "SW-SCAN-001"))


def test_sw001_without_estate_uses_names_at_medium() -> None:
    result = scan_fixture("sw001", estate=False)
    found = by_rule(result, "SW-SCAN-001")
    lines = {(f.file, f.line) for f in found}
    assert ("envs/staging/app.env", 1) in lines
    # without the estate "prod-mirror.staging..." is ambiguous: not production
    assert ("envs/staging/app.env", 3) not in lines
    assert found and all(f.severity is Severity.MEDIUM for f in found)


def test_sw002_shared_resources() -> None:
    result = scan_fixture("sw002")
    found = {(f.file, f.anchor) for f in by_rule(result, "SW-SCAN-002")}
    assert ("envs/staging/app.env", "cache.shared.example.internal") in found
    assert ("envs/staging/app.env", "mq.shared.example.net") in found
    # a public SaaS API used by both is shared by design
    assert ("envs/staging/app.env", "api.stripe.com") not in found
    assert ("envs/prod/replica.env", "mirror-staging") in found
    # a staging file using a staging resource is not "shared"
    assert ("envs/staging/app.env", "mirror-staging") not in found


def test_sw003_network_paths() -> None:
    result = scan_fixture("sw003")
    found = hits(result, "SW-SCAN-003")
    assert found == [("envs/prod/net.tf", 1), ("envs/prod/net.tf", 6)]
    unresolved = by_rule(result, "SW-SCAN-011")
    assert [f.evidence for f in unresolved] == ["ingress.cidr_blocks = var.extra_cidr"]


def test_sw004_secrets() -> None:
    result = scan_fixture("sw004")
    found = {(f.file, f.line): f for f in by_rule(result, "SW-SCAN-004")}
    assert found[("envs/staging/config.yaml", 1)].severity is Severity.MEDIUM
    # secrets in comments DO count
    assert ("envs/staging/config.yaml", 2) in found
    assert found[("envs/staging/config.yaml", 3)].severity is Severity.HIGH  # live key
    assert ("envs/staging/config.yaml", 4) not in found  # a ${VAR} reference
    assert found[("envs/staging/config.yaml", 5)].severity is Severity.LOW  # entropy
    assert found[("envs/prod/deploy.sh", 2)].severity is Severity.HIGH  # production file
    assert ("envs/staging/id_rsa.txt", 1) in found
    assert not [k for k in found if k[0].endswith("clean.ini")]
    for finding in found.values():
        assert "aBcDeFgHiJkLmNoPqRsTuVwXyZ" not in finding.evidence
        assert "4eC39HqLyjWDarjtT1zdp7dc" not in finding.evidence
        assert "Zx9!qT4#mK2" not in finding.evidence


def test_sw005_unencrypted_connections() -> None:
    result = scan_fixture("sw005")
    lines = sorted(f.line for f in by_rule(result, "SW-SCAN-005"))
    assert lines == [1, 2, 3, 5, 8, 9, 10]  # not loopback (4, 6, 7), https (11), $schema (12)


def test_sw006_storage_encryption_and_unknowns() -> None:
    result = scan_fixture("sw006")
    found = {(f.file, f.line) for f in by_rule(result, "SW-SCAN-006")}
    assert found == {
        ("envs/prod/db.tf", 3),
        ("envs/prod/db.tf", 5),
        ("envs/staging/plan.json", 4),
    }  # the bucket on line 14 has no SSE block: AWS encrypts S3 by default since 2023
    unresolved = by_rule(result, "SW-SCAN-011")
    assert [(f.line, f.evidence) for f in unresolved] == [(9, "storage_encrypted = var.encrypt")]


def test_sw007_external_principals_in_production() -> None:
    result = scan_fixture("sw007")
    found = hits(result, "SW-SCAN-007")
    assert ("k8s/bindings.yaml", 8) in found  # vendor group bound in shop-prod
    assert ("k8s/bindings.yaml", 20) not in found  # vendor in staging namespace is fine
    assert ("k8s/bindings.yaml", 32) not in found  # internal principal in prod is fine
    assert ("envs/prod/iam.tf", 3) in found  # trust policy
    assert ("envs/prod/iam.tf", 11) in found  # production environment reviewer
    assert not by_rule(scan_fixture("sw007", estate=False), "SW-SCAN-007")


def test_sw008_ungated_production_deploys() -> None:
    result = scan_fixture("sw008")
    found = {f.anchor for f in by_rule(result, "SW-SCAN-008")}
    assert found == {"deploy-prod-ungated", "deploy_prod"}


def test_sw009_secrets_for_forks() -> None:
    result = scan_fixture("sw009")
    found = {(f.file, f.anchor) for f in by_rule(result, "SW-SCAN-009")}
    assert found == {(".github/workflows/pr.yml", "test"), (".gitlab-ci.yml", "mr_tests")}


def test_sw010_unmasked_copies() -> None:
    result = scan_fixture("sw010")
    found = hits(result, "SW-SCAN-010")
    assert found == [("envs/staging/refresh.yml", 3), ("scripts/refresh-staging.sh", 2)]


def test_inline_suppressions_need_a_reason() -> None:
    result = scan_fixture("suppress")
    suppressed = [(f.line, f.suppression.justification) for f in result.suppressed if f.suppression]
    assert suppressed == [(2, "read-only replica approved in RISK-12")]
    assert hits(result, "SW-SCAN-001") == [(".env.staging", 3), (".env.staging", 4)]
    assert hits(result, "SW-SCAN-013") == [(".env.staging", 3)]


def test_evidence_never_repeats_the_whole_value(tmp_path: Path) -> None:
    from stagewall.estate import load_estate
    from stagewall.scan import scan_paths

    from .helpers import ESTATE

    staging = tmp_path / "envs" / "staging"
    staging.mkdir(parents=True)
    (staging / "copy.sh").write_text(
        "mysqldump --host=db.prod.example.internal -pHunter2Secret99x shop > /tmp/x\n"
    )
    (staging / "broken.tf").write_text('resource "x" {\n  password = Hunter2Secret99x extra\n}\n')
    result = scan_paths([tmp_path], load_estate(ESTATE).estate)
    assert {f.rule_id for f in result.active} >= {"SW-SCAN-001", "SW-SCAN-012"}
    for finding in result.findings:
        assert "Hunter2Secret99x" not in finding.evidence + finding.message


def test_code_and_prose_are_not_configuration(tmp_path: Path) -> None:
    from stagewall.scan import scan_paths

    (tmp_path / "envs" / "staging").mkdir(parents=True)
    (tmp_path / "envs" / "staging" / "settings.py").write_text(
        "authors = list_of_authors9\n"
        "password = url.password\n"
        "tokens = tokenize(text, 'x')\n"
        "_SECRET_REF = re.compile('abc')\n"
        "DB = 'postgres://app@db.prod.example.com/shop?sslmode=disable'\n"
        "db_password = 'Qw3rty!x9Zp#'\n"
    )
    (tmp_path / "NOTES.md").write_text(
        "Write a `stagewall:ignore` comment; password = Qw3rty!x9Zp# is prose.\n"
    )
    (tmp_path / ".hypothesis").mkdir()
    (tmp_path / ".hypothesis" / "x.env").write_text("K=AKIAIOSFODNN7EXAMPLE\n")
    found = sorted((f.rule_id, f.file, f.line) for f in scan_paths([tmp_path]).active)
    assert found == [
        ("SW-SCAN-001", "envs/staging/settings.py", 5),
        ("SW-SCAN-004", "envs/staging/settings.py", 6),
        ("SW-SCAN-005", "envs/staging/settings.py", 5),
    ]
