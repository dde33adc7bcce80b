"""Terraform resources as the rules see them, from HCL or from plan/state JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Unknown:
    """A value the scanner could not resolve (a variable without value, a function...)."""

    expr: str

    def __str__(self) -> str:
        return f"UNKNOWN({self.expr})"


@dataclass(frozen=True)
class TfResource:
    type: str
    name: str
    attrs: dict[str, Any]
    line: int
    attr_lines: dict[str, int] = field(default_factory=dict)
    from_plan: bool = False

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"

    def line_of(self, attr: str) -> int:
        return self.attr_lines.get(attr, self.line)
