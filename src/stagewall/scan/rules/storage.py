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
_S3_ENCRYPTION_TYPES = ("aws_s3_bucket_server_side_encryption_configuration",)


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
        "unencrypted), EBS/EFS `encrypted` false or absent, instance block devices with "
        "`encrypted = false`, S3 buckets without a server-side encryption configuration in "
        "the same module (low: AWS now applies SSE-S3 by default, but the key is not yours). "
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
        encrypted_buckets = {
            _ref_text(r.attrs.get("bucket")) for r in res if r.type in _S3_ENCRYPTION_TYPES
        }
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
                elif _falsy(value) or (value is None and default_off and not r.from_plan):
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
            if r.type == "aws_s3_bucket" and not r.from_plan:
                if "server_side_encryption_configuration" in r.attrs:
                    continue
                refs = {f"aws_s3_bucket.{r.name}.id", f"aws_s3_bucket.{r.name}.bucket"}
                if encrypted_buckets & (refs | {_ref_text(r.attrs.get("bucket"))}):
                    continue
                yield ctx.finding(
                    UnencryptedStorage,
                    f"{r.address}: no server-side encryption configuration with your own key",
                    r.line,
                    "server_side_encryption_configuration = <absent>",
                    severity=Severity.LOW if ctx.tier is not Tier.PRODUCTION else Severity.MEDIUM,
                    anchor=f"{r.address}|sse",
                )


def _blocks(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def _ref_text(value: Any) -> str:
    return value.expr if isinstance(value, Unknown) else str(value or "")
