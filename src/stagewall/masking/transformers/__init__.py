"""Masking transformers: keyed, deterministic, batch-at-a-time value mappings.

Use :func:`build_transformer` to get a validated, keyed instance::

    t = build_transformer("email", {"domain": "example.com"}, key=key, salt="")
    t.transform(["jane@corp.com", None])

Every transformer is registered by name in an explicit registry (duplicate names
are rejected). See docs/transformers.md for each one's params and guarantees.
"""

from __future__ import annotations

from stagewall.masking.transformers import (  # noqa: F401  (registration side effects)
    _basic,
    _email,
    _formats,
    _fpe,
    _ipaddr,
    _names,
    _numeric,
    _structured,
)
from stagewall.masking.transformers._base import (
    ParamsModel,
    Transformer,
    build_transformer,
    get_transformer_class,
    register,
    transformer_names,
)

__all__ = [
    "ParamsModel",
    "Transformer",
    "build_transformer",
    "get_transformer_class",
    "register",
    "transformer_names",
]
