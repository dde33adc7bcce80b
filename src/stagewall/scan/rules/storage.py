"""Storage without encryption at rest (Terraform HCL and plan/state)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stagewall.scan._model import Finding, Severity, Tier
from stagewall.scan.readers import TfResource, Unknown
from stagewall.scan.rules._base import FileContext, Rule
from stagewall.scan.rules.meta import Unresolved

# resource type -> (attribute, default when absent is unencrypted)
_FLAGS: dict[str, tuple[str, bool]] = {
    "aws_db_instance": ("storage_encrypted", True),
    "aws_rds_cluster": ("storage_encrypted", True),
    "aws_docdb_cluster": ("storage_encrypted", True),
    "aws_neptune_cluster": ("storage_encrypted", True),
    "aws_ebs_volume": ("encrypted", True),
    "aws_efs_file_system": ("encrypted", True),
    "aws_redshift_cluster": ("encrypted", False),
    "aws_elasticache_replication_group": ("at_rest_encryption_enabled", True),
}


def _encrypted_by_default(r: TfResource) -> bool:
    """Provider defaults that encrypt when the attribute is absent."""
    engine = str(r.attrs.get("engine") or "").strip().lower()
    if r.type == "aws_elasticache_replication_group" and engine == "valkey":
        return True  # Valkey replication groups are encrypted at rest unless switched off
    mode = str(r.attrs.get("engine_mode") or "").strip().lower()
    return r.type == "aws_rds_cluster" and mode == "serverless"  # Aurora Serverless v1


def resources(ctx: FileContext) -> list[TfResource]:
    if ctx.parsed is None:
        return []
    found = ctx.parsed.extra.get("resources")
    return list(found) if isinstance(found, list) else []


def _falsy(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() in ("false", "0"))


class UnencryptedStorage(Rule):
    id = "SW-SCAN-006"
    title = "Storage without encryption at rest"
    severity = Severity.MEDIUM
    description = (
        "A database, volume, file system or bucket is declared without encryption at rest: "
        "RDS/Aurora/DocumentDB `storage_encrypted` false or absent (the provider default is "
        "unencrypted), EBS/EFS `encrypted` false or absent, ElastiCache Redis replication "
        "groups without `at_rest_encryption_enabled`, instance block devices with "
        "`encrypted = false`. "
        'Provider defaults are known: ElastiCache with `engine = "valkey"` and Aurora '
        'Serverless (`engine_mode = "serverless"`) are encrypted when the attribute is absent, '
        "and S3 buckets are not reported (AWS encrypts every new object since January 2023). "
        "High severity in production files."
    )
    remediation = "Set the encryption attribute to true and use a customer-managed KMS key."
    controls = ("A.8.24",)
    tags = ("encryption",)

    def check(self, ctx: FileContext) -> Iterable[Finding]:
        res = resources(ctx)
        if not res:
            return
        sev = Severity.HIGH if ctx.tier is Tier.PRODUCTION else Severity.MEDIUM
        for r in res:
            if r.type in _FLAGS:
                attr, default_off = _FLAGS[r.type]
                value = r.attrs.get(attr)
                if isinstance(value, Unknown):
                    yield ctx.finding(
                        Unresolved,
                        f"{r.address}: {attr} is {value} — cannot tell whether it is encrypted",
                        r.line_of(attr),
                        f"{attr} = {value.expr}",
                        anchor=f"{r.address}|{attr}",
                    )
                elif _falsy(value) or (
                    value is None
                    and default_off
                    and not r.from_plan
                    and not _encrypted_by_default(r)
                ):
                    state = "false" if value is not None else "not set (defaults to unencrypted)"
                    yield ctx.finding(
                        UnencryptedStorage,
                        f"{r.address}: {attr} is {state}",
                        r.line_of(attr),
                        f"{attr} = {'false' if value is not None else '<absent>'}",
                        severity=sev,
                        anchor=f"{r.address}|{attr}",
                    )
            if r.type == "aws_instance":
                for block in ("root_block_device", "ebs_block_device"):
                    for dev in _blocks(r.attrs.get(block)):
                        if _falsy(dev.get("encrypted")):
                            yield ctx.finding(
                                UnencryptedStorage,
                                f"{r.address}: {block} has encrypted = false",
                                r.line_of(block),
                                f"{block}.encrypted = false",
                                severity=sev,
                                anchor=f"{r.address}|{block}",
                            )


def _blocks(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []
