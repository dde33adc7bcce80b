"""Sensitive-data detection: classify columns (name rules + value validators), scan text."""

from __future__ import annotations

from stagewall.masking.classify._categories import Category
from stagewall.masking.classify._columns import Finding, bound_params, classify_column, free_text
from stagewall.masking.classify._text import (
    Match,
    detect_in_text,
    detect_many,
    detect_texts,
    remembering,
)

__all__ = [
    "Category",
    "Finding",
    "Match",
    "bound_params",
    "classify_column",
    "detect_in_text",
    "detect_many",
    "detect_texts",
    "free_text",
    "remembering",
]
