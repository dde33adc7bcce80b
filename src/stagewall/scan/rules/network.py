"""Network paths between production and non-production (peering, firewall rules)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stagewall.scan._model import Attribution, Finding, Severity, Tier
from stagewall.scan.readers import TfResource, Unknown
from stagewall.scan.rules._base import FileContext, Rule
from stagewall.scan.rules.meta import Unresolved
from stagewall.scan.rules.storage import resources

_PEERINGS: dict[str, tuple[str, str]] = {
    "aws_vpc_peering_connection": ("vpc_id", "peer_vpc_id"),
    "aws_ec2_transit_gateway_vpc_attachment": ("vpc_id", "transit_gateway_id"),
    "google_compute_network_peering": ("network", "peer_network"),
    "azurerm_virtual_network_peering": ("virtual_network_name", "remote_virtual_network_id"),
}
_RANGE_ATTRS = (
    "cidr_blocks", "ipv6_cidr_blocks", "cidr_ipv4", "cidr_ipv6", "source_ranges",
    "destination_ranges", "source_address_prefix", "source_address_prefixes",
    "destination_address_prefix", "destination_address_prefixes",
)  # fmt: skip
_RULE_BLOCKS = ("ingress", "egress")
_OPEN = frozenset({"0.0.0.0/0", "::/0", "*", "internet", "any"})


def _values(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [v for item in value for v in _values(item)]
    return [value] if value is not None else []


class NetworkPath(Rule):
    id = "SW-SCAN-003"
    title = "Network path between production and non-production"
    severity = Severity.HIGH
    description = (
        "A VPC/VNet peering or transit attachment joins a production network to a "
        "non-production one, or a security-group/firewall rule in one tier admits the "
        "address range of the other. Ranges are matched against estate `network` resources "
        "(CIDR identifiers); peer networks are recognised by estate identifiers, the CIDR "
        "of a referenced VPC in the same module, or their names."
    )
    remediation = (
        "Remove the peering or rule. Move data between environments only through reviewed "
        "pipelines (`stagewall mask`, promotion gates)."
    )
    controls = ("A.8.31", "A.8.22", "A.8.20")
    tags = ("separation", "network")

    def check(self, ctx: FileContext) -> Iterable[Finding]:
        res = resources(ctx)
        if not res:
            return
        vpcs = {
            f"{r.type}.{r.name}": r for r in res if r.type in ("aws_vpc", "google_compute_network")
        }
        for r in res:
            if r.type in _PEERINGS:
                yield from self._peering(ctx, r, vpcs)
            yield from self._ranges(ctx, r)

    def _side(
        self, ctx: FileContext, value: Any, vpcs: dict[str, TfResource]
    ) -> Attribution | None:
        text = value.expr if isinstance(value, Unknown) else str(value)
        ref = ctx.index.lookup(text, heuristic=False)
        if ref is not None:
            return ref.attribution
        for address, vpc in vpcs.items():
            if text.startswith(address + "."):
                cidr = vpc.attrs.get("cidr_block")
                if isinstance(cidr, str):
                    ref = ctx.index.lookup(cidr, heuristic=False)
                    if ref is not None:
                        return ref.attribution
        return ctx.env.from_words(text, f"name {text}")

    def _peering(
        self, ctx: FileContext, r: TfResource, vpcs: dict[str, TfResource]
    ) -> Iterable[Finding]:
        a_attr, b_attr = _PEERINGS[r.type]
        a, b = r.attrs.get(a_attr), r.attrs.get(b_attr)
        sides = [self._side(ctx, v, vpcs) if v is not None else None for v in (a, b)]
        tiers = {s.tier for s in sides if s is not None}
        if {Tier.PRODUCTION, Tier.NON_PRODUCTION} <= tiers:
            labels = " and ".join(s.label for s in sides if s is not None)
            yield ctx.finding(
                NetworkPath,
                f"{r.address} peers {labels} networks",
                r.line,
                f"{a_attr}={_short(a)} {b_attr}={_short(b)}",
                anchor=r.address,
            )
        elif Tier.PRODUCTION in tiers and (None in sides or Tier.UNKNOWN in tiers):
            yield ctx.finding(
                Unresolved,
                f"{r.address} peers a production network with one of unknown environment",
                r.line,
                f"{a_attr}={_short(a)} {b_attr}={_short(b)}",
                anchor=r.address,
            )

    def _ranges(self, ctx: FileContext, r: TfResource) -> Iterable[Finding]:
        holders: list[tuple[str, dict[str, Any]]] = [("", r.attrs)]
        for block in _RULE_BLOCKS:
            holders += [
                (f"{block}.", b) for b in _values(r.attrs.get(block)) if isinstance(b, dict)
            ]
        own = ctx.attribution.tier
        for prefix, attrs in holders:
            for attr in _RANGE_ATTRS:
                for value in _values(attrs.get(attr)):
                    if isinstance(value, Unknown):
                        if own is Tier.PRODUCTION:
                            yield ctx.finding(
                                Unresolved,
                                f"{r.address}: {prefix}{attr} is {value} in a production file",
                                r.line_of(prefix.rstrip(".") or attr),
                                f"{prefix}{attr} = {value.expr}",
                                anchor=f"{r.address}|{prefix}{attr}|{value.expr}",
                            )
                        continue
                    text = str(value).strip()
                    if text.lower() in _OPEN or own is Tier.UNKNOWN:
                        continue
                    ref = ctx.index.lookup(text, heuristic=False)
                    if ref is None or ref.attribution.tier in (Tier.UNKNOWN, own):
                        continue
                    yield ctx.finding(
                        NetworkPath,
                        f"{r.address}: {ctx.attribution.label} rule admits {text}, "
                        f"a {ref.attribution.label} range ({ref.resource})",
                        r.line_of(prefix.rstrip(".") or attr),
                        f"{prefix}{attr} = {text}",
                        anchor=f"{r.address}|{prefix}{attr}|{text}",
                    )


def _short(value: Any) -> str:
    text = value.expr if isinstance(value, Unknown) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."
