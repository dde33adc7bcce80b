"""``terraform show -json`` output: plans (planned_values) and state (values)."""

from __future__ import annotations

from typing import Any

from stagewall.scan.readers._base import Kind, LineFinder, Parsed, flatten
from stagewall.scan.readers.tfmodel import TfResource, Unknown


def is_terraform_json(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and "format_version" in data
        and any(k in data for k in ("planned_values", "values", "resource_changes", "prior_state"))
    )


def _unknown_map(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for change in data.get("resource_changes") or []:
        if isinstance(change, dict) and isinstance(change.get("address"), str):
            after_unknown = (change.get("change") or {}).get("after_unknown")
            if isinstance(after_unknown, dict):
                out[change["address"]] = after_unknown
    return out


def _modules(root: Any) -> list[dict[str, Any]]:
    stack, out = [root], []
    while stack:
        module = stack.pop()
        if not isinstance(module, dict):
            continue
        out.append(module)
        children = module.get("child_modules") or []
        if isinstance(children, list):
            stack.extend(children)
    return out


def read_tfplan(data: dict[str, Any], text: str) -> Parsed:
    parsed = Parsed(Kind.TFPLAN, documents=[data])
    finder = LineFinder(text)
    unknown = _unknown_map(data)
    roots = []
    for key in ("planned_values", "values"):
        values = data.get(key)
        if isinstance(values, dict):
            roots.append(values.get("root_module"))
    prior = data.get("prior_state")
    if not roots and isinstance(prior, dict) and isinstance(prior.get("values"), dict):
        roots.append(prior["values"].get("root_module"))
    resources: list[TfResource] = []
    for root in roots:
        for module in _modules(root):
            for res in module.get("resources") or []:
                if not isinstance(res, dict) or res.get("mode", "managed") != "managed":
                    continue
                rtype, name = str(res.get("type", "")), str(res.get("name", ""))
                address = str(res.get("address", f"{rtype}.{name}"))
                attrs = dict(res.get("values") or {})
                for attr, flag in unknown.get(address, {}).items():
                    if flag is True and attr not in attrs:
                        attrs[attr] = Unknown("known after apply")
                line = finder.find(f'"{address}"', from_start=True)
                resources.append(TfResource(rtype, name, attrs, line, from_plan=True))
    parsed.extra["resources"] = resources
    flatten(data, (), LineFinder(text), parsed.entries)
    return parsed
