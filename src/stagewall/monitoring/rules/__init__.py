"""Sigma rules: shipped in ``builtin/``, yours in ``monitoring.rules_dir`` (docs/monitoring.md)."""

from stagewall.monitoring.rules._compile import CompiledRule, compile_rule
from stagewall.monitoring.rules._load import CompiledCorrelation, RuleSet, load_rules

__all__ = ["CompiledCorrelation", "CompiledRule", "RuleSet", "compile_rule", "load_rules"]
