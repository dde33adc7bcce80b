"""The transformer contract: a keyed, validated, batch-at-a-time value mapping."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from itertools import repeat
from operator import is_
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stagewall.errors import ConfigError, MaskingError
from stagewall.keys import MaskingKey
from stagewall.masking.types import ColumnKind

ALL_KINDS: frozenset[ColumnKind] = frozenset(ColumnKind)
TEXT: frozenset[ColumnKind] = frozenset({ColumnKind.TEXT})


class ParamsModel(BaseModel):
    """Base of every transformer's parameters: strict, frozen, no unknown fields.

    ``consistency`` names a consistency domain: every column whose transformer has
    the same name, params and domain maps the same source value to the same
    pseudonym (an e-mail in ``customers`` and in ``orders``), whatever its table.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    consistency: str | None = Field(default=None, min_length=1, max_length=120)


class Transformer(ABC):
    """One masking function. Subclasses declare the class variables and ``_apply``.

    ``transform`` takes one batch and returns a list of the same length; ``None``
    and the empty string stay as they are (unless ``maps_none``). Output depends
    only on the key, the transformer name, its params, the salt and the input value.
    """

    name: ClassVar[str]
    unique_safe: ClassVar[bool] = False
    lossy: ClassVar[bool] = False
    maps_none: ClassVar[bool] = False
    accepts: ClassVar[frozenset[ColumnKind]] = TEXT
    Params: ClassVar[type[ParamsModel]] = ParamsModel
    # Params left out of the key derivation while they are None, so adding an
    # optional param (``max_length``) does not change the outputs of existing plans.
    optional_params: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, params: ParamsModel, key: MaskingKey, salt: str = "") -> None:
        if not isinstance(params, self.Params):
            raise TypeError(f"{self.name} needs {self.Params.__name__}")
        self.params = params
        self.key_id = key.key_id
        dumped = params.model_dump(mode="json")
        for name in self.optional_params:
            if dumped.get(name, 0) is None:
                del dumped[name]
        domain = dumped.pop("consistency", None)
        if domain is not None:  # the domain, not the column, decides the pseudonym
            salt = f"consistency/{domain}"
        self.salt = salt
        canon = json.dumps(dumped, sort_keys=True, separators=(",", ":"))
        self._key = key.derive(f"transformer/{self.name}/{canon}/{salt}")
        self._masking_key = key
        self.setup()

    def setup(self) -> None:  # noqa: B027  (optional hook, empty by default)
        """Hook for subclasses to precompute from ``self.params``/``self._key``."""

    def is_unique_safe(self) -> bool:
        """Whether distinct inputs give distinct outputs with these params (lint's
        ``not-unique-safe``): :attr:`unique_safe` unless a param decides."""
        return self.unique_safe

    def output_kind(self, input_kind: ColumnKind) -> ColumnKind:
        return input_kind

    def max_output_length(self, input_max: int | None) -> int | None:
        return input_max

    def transform(self, values: Sequence[object] | np.ndarray[Any, Any]) -> list[object]:
        items = values.tolist() if isinstance(values, np.ndarray) else list(values)
        if self.maps_none or not kept_as_is(items):
            return self._apply(items)
        idx = passing(items)
        if len(idx) == len(items):
            return self._apply(items)
        out: list[object] = list(items)  # NULLs and empty strings stay as they are
        if idx:
            done = self._apply([items[i] for i in idx])
            for i, v in zip(idx, done, strict=True):
                out[i] = v
        return out

    @abstractmethod
    def _apply(self, values: list[Any]) -> list[object]:
        """Transform non-null values (all values when ``maps_none``)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} key_id={self.key_id!r}>"


def kept_as_is(items: list[Any]) -> bool:
    """Whether some of ``items`` stay as they are: NULL, an empty or a blank string
    (C-level passes for the usual all-string batch)."""
    if any(map(is_, items, repeat(None))) or "" in items:
        return True
    try:
        return any(map(str.isspace, items))
    except TypeError:  # not all strings
        return any(type(v) is str and v.isspace() for v in items)


def passing(items: list[Any]) -> list[int]:
    """Positions a transformer transforms: not NULL and not an empty or blank string
    (Sakila's blank ``district`` of the stores' addresses stays blank, not a region)."""
    return [
        i for i, v in enumerate(items) if v is not None and not (type(v) is str and not v.strip())
    ]


def wrong_type(name: str, value: object, expected: str) -> MaskingError:
    """An error for a value of the wrong Python type; never includes the value."""
    return MaskingError(
        f"transformer {name!r} expected {expected} values, got {type(value).__name__}",
        hint="check that the plan applies this transformer to a column of the right kind",
    )


def as_text(name: str, values: Iterable[object]) -> list[str]:
    out = list(values)
    if set(map(type, out)) <= {str}:  # one C-level pass for the usual all-str batch
        return out  # type: ignore[return-value]
    for v in out:
        if not isinstance(v, str):
            raise wrong_type(name, v, "text")
    return out  # type: ignore[return-value]


_REGISTRY: dict[str, type[Transformer]] = {}


def register(cls: type[Transformer]) -> type[Transformer]:
    """Register a transformer class; a duplicate name is a programming error."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"{cls.__name__} has no name")
    if name in _REGISTRY:
        raise ValueError(f"transformer name {name!r} is registered twice")
    _REGISTRY[name] = cls
    return cls


def transformer_names() -> list[str]:
    return sorted(_REGISTRY)


def get_transformer_class(name: str) -> type[Transformer]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown transformer {name!r}; valid transformers: {', '.join(transformer_names())}",
            hint="use one of the listed transformer names (see docs/transformers.md)",
        ) from None


def validate_params(name: str, params: dict[str, Any] | None) -> ParamsModel:
    cls = get_transformer_class(name)
    try:
        return cls.Params.model_validate(params or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(params)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(
            f"invalid params for transformer {name!r}: {problems}",
            hint="fix the named field (see docs/transformers.md for each transformer's params)",
        ) from None


def build_transformer(
    name: str, params: dict[str, Any] | None, *, key: MaskingKey, salt: str = ""
) -> Transformer:
    """Validate ``params`` and return a keyed instance of transformer ``name``."""
    cls = get_transformer_class(name)
    return cls(validate_params(name, params), key, salt)


__all__ = [
    "ALL_KINDS",
    "TEXT",
    "ParamsModel",
    "Transformer",
    "as_text",
    "build_transformer",
    "get_transformer_class",
    "passing",
    "register",
    "transformer_names",
    "validate_params",
    "wrong_type",
]
