"""Transformers for documents: text_scrub (free text) and json_mask (JSON paths)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from stagewall.errors import ConfigError, MaskingError
from stagewall.masking.transformers._base import (
    ParamsModel,
    Transformer,
    as_text,
    build_transformer,
    get_transformer_class,
    register,
    validate_params,
    wrong_type,
)
from stagewall.masking.types import ColumnKind

# Which pseudonym replaces each detected kind (text_scrub); keyed by Category value.
_SCRUBBERS: dict[str, tuple[str, dict[str, Any]]] = {
    "email": ("email", {}),
    "phone": ("phone", {}),
    "iban": ("iban", {}),
    "card_number": ("card_number", {}),
    "ip_address": ("ip_address", {}),
    "national_id": ("fpe_alnum", {}),
    "person_name": ("full_name", {}),
}
SCRUB_KINDS = tuple(_SCRUBBERS)


class TextScrubParams(ParamsModel):
    kinds: list[Literal[SCRUB_KINDS]] = Field(default_factory=lambda: list(SCRUB_KINDS))  # type: ignore[valid-type]
    email_domain: str = "example.com"
    # the column's declared length: a scrubbed text longer than this is cut to it
    # (pseudonyms can be longer than what they replace)
    max_length: int | None = Field(default=None, ge=1)


@register
class TextScrub(Transformer):
    """Replace every e-mail, phone, IBAN, card, IP, national id and name found in the text.

    Each finding is replaced by the pseudonym the matching column transformer
    gives (same key and salt), so ``jane@corp.com`` in a note becomes the same
    address as in the ``email`` column. Single-word names become full names.
    """

    name = "text_scrub"
    Params = TextScrubParams
    optional_params = frozenset({"max_length"})
    # OTHER: columns without a declared type (SQLite) hold text among other values;
    # only the text is scrubbed, a number or blob passes as it is
    accepts = frozenset({ColumnKind.TEXT, ColumnKind.OTHER})

    def setup(self) -> None:
        p: TextScrubParams = self.params  # type: ignore[assignment]
        self._subs: dict[str, Transformer] = {}
        for kind in p.kinds:
            tname, tparams = _SCRUBBERS[kind]
            if tname == "email":
                tparams = {"domain": p.email_domain}
            self._subs[kind] = build_transformer(
                tname, tparams, key=self._masking_key, salt=self.salt
            )

    def max_output_length(self, input_max: int | None) -> int | None:
        return self.params.max_length  # type: ignore[attr-defined,no-any-return]

    def _apply(self, values: list[Any]) -> list[object]:
        limit: int | None = self.params.max_length  # type: ignore[attr-defined]
        out = self._scrub(values)
        if limit is None:
            return out
        return [o[:limit] if type(o) is str and len(o) > limit else o for o in out]

    def _scrub(self, values: list[Any]) -> list[object]:
        if set(map(type, values)) - {str}:
            mixed: list[object] = list(values)
            idx = [i for i, v in enumerate(values) if type(v) is str]
            for i, v in zip(idx, self._scrub([values[i] for i in idx]) if idx else [], strict=True):
                mixed[i] = v
            return mixed
        from stagewall.masking.classify import detect_in_text

        texts = as_text(self.name, values)
        per_text = [[m for m in detect_in_text(t) if m.category.value in self._subs] for t in texts]
        # one batch per kind over the whole input batch
        wanted: dict[str, list[str]] = {}
        for matches in per_text:
            for m in matches:
                wanted.setdefault(m.category.value, []).append(m.text)
        mapped: dict[str, dict[str, object]] = {}
        for kind, items in wanted.items():
            uniq = list(dict.fromkeys(items))
            sub = self._subs[kind]
            if kind in ("iban", "card_number"):
                sub = build_transformer(
                    sub.name, {"on_invalid": "null"}, key=self._masking_key, salt=self.salt
                )
            mapped[kind] = dict(zip(uniq, sub.transform(uniq), strict=True))
        out: list[object] = []
        for t, matches in zip(texts, per_text, strict=True):
            parts: list[str] = []
            pos = 0
            for m in matches:
                new = mapped[m.category.value][m.text]
                parts.append(t[pos : m.start])
                parts.append(str(new) if new is not None else "*" * (m.end - m.start))
                pos = m.end
            parts.append(t[pos:])
            out.append("".join(parts))
        return out


_SEGMENT = re.compile(r"\.([A-Za-z0-9_$@-]+)|\['((?:[^'\\]|\\.)*)'\]|\[(\*)\]")
Path = tuple[str | None, ...]  # None stands for "any array element"


def parse_path(path: str) -> Path:
    """``$.a.b``, ``$.items[*].name``, ``$['odd key']`` → segments (``None`` = ``[*]``)."""
    if not path.startswith("$"):
        raise ValueError(f"JSON path {path!r} must start with '$'")
    segs: list[str | None] = []
    pos = 1
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if not m:
            raise ValueError(f"JSON path {path!r} is not understood at position {pos}")
        if m.group(3):
            segs.append(None)
        else:
            segs.append(m.group(1) if m.group(1) is not None else m.group(2).replace("\\'", "'"))
        pos = m.end()
    return tuple(segs)


def format_path(path: Path) -> str:
    out = "$"
    for s in path:
        if s is None:
            out += "[*]"
        elif re.fullmatch(r"[A-Za-z0-9_$@-]+", s):
            out += "." + s
        else:
            out += "['" + s.replace("'", "\\'") + "']"
    return out


class PathSpec(ParamsModel):
    transformer: str
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> PathSpec:
        if self.transformer == "json_mask":
            raise ValueError("json_mask cannot be nested inside json_mask")
        try:
            get_transformer_class(self.transformer)
            validate_params(self.transformer, self.params)
        except ConfigError as exc:
            raise ValueError(exc.message) from None
        return self


class JsonMaskParams(ParamsModel):
    paths: dict[str, PathSpec] = Field(default_factory=dict)
    keep: list[str] = Field(default_factory=list)
    unknown_keys: Literal["fail", "keep", "scrub"] = "fail"

    @field_validator("paths")
    @classmethod
    def _paths(cls, v: dict[str, PathSpec]) -> dict[str, PathSpec]:
        for p in v:
            parse_path(p)
        return v

    @field_validator("keep")
    @classmethod
    def _keep(cls, v: list[str]) -> list[str]:
        for p in v:
            parse_path(p)
        return v


@register
class JsonMask(Transformer):
    """Apply a transformer per JSON path; keys not listed follow ``unknown_keys``."""

    name = "json_mask"
    accepts = frozenset({ColumnKind.JSON, ColumnKind.TEXT})
    Params = JsonMaskParams

    def setup(self) -> None:
        p: JsonMaskParams = self.params  # type: ignore[assignment]
        self._subs = {
            parse_path(path): build_transformer(
                spec.transformer, spec.params, key=self._masking_key, salt=self.salt
            )
            for path, spec in p.paths.items()
        }
        self._keep = {parse_path(k) for k in p.keep}
        self._scrub = (
            build_transformer("text_scrub", {}, key=self._masking_key, salt=self.salt)
            if p.unknown_keys == "scrub"
            else None
        )
        # every ancestor of a listed path is a container we may walk through
        self._ancestors = {
            path[:i] for path in (*self._subs, *self._keep) for i in range(len(path))
        }

    def max_output_length(self, input_max: int | None) -> int | None:
        return None

    def _apply(self, values: list[Any]) -> list[object]:
        docs: list[Any] = []
        as_str: list[bool] = []
        for v in values:
            if isinstance(v, str):
                try:
                    docs.append(json.loads(v))
                except ValueError:
                    raise MaskingError(
                        "json_mask: a value is not valid JSON",
                        hint="use text_scrub for text columns that are not JSON",
                    ) from None
                as_str.append(True)
            elif isinstance(v, dict | list):
                docs.append(copy.deepcopy(v))
                as_str.append(False)
            else:
                raise wrong_type(self.name, v, "JSON (dict, list or str)")
        slots: dict[Path | str, list[tuple[Any, Any]]] = {}
        for i in range(len(docs)):
            self._walk(docs, i, (), slots)
        for target, refs in slots.items():
            sub = self._scrub if target == "scrub" else self._subs[target]  # type: ignore[index]
            if sub is None:
                continue
            try:
                new = sub.transform([c[k] for c, k in refs])
            except MaskingError as exc:
                where = "unknown keys" if target == "scrub" else format_path(target)  # type: ignore[arg-type]
                raise MaskingError(f"json_mask at {where}: {exc.message}", hint=exc.hint) from None
            for (container, k), nv in zip(refs, new, strict=True):
                container[k] = nv
        return [
            json.dumps(d, ensure_ascii=False) if s else d for d, s in zip(docs, as_str, strict=True)
        ]

    def _walk(self, container: Any, k: Any, path: Path, slots: dict[Path | str, list[Any]]) -> None:
        node = container[k]
        if path in self._subs:
            if isinstance(node, dict | list):
                raise MaskingError(
                    f"json_mask: path {format_path(path)} holds an object or array, not a value",
                    hint="point the path at the values inside (use [*] for array elements)",
                )
            if node is not None:
                slots.setdefault(path, []).append((container, k))
            return
        if path in self._keep:
            return
        if path and path not in self._ancestors:
            policy = self.params.unknown_keys  # type: ignore[attr-defined]
            if policy == "fail":
                raise MaskingError(
                    f"json_mask: the document has a key at {format_path(path)} "
                    "that the plan neither masks nor keeps",
                    hint="add the path to paths or keep in the plan, or set unknown_keys",
                )
            if policy == "keep":
                return
        if isinstance(node, dict):
            for key in node:
                self._walk(node, key, (*path, str(key)), slots)
        elif isinstance(node, list):
            for idx in range(len(node)):
                self._walk(node, idx, (*path, None), slots)
        elif node is not None:
            # a value where the plan expects an object, or any value under "scrub"
            policy = self.params.unknown_keys  # type: ignore[attr-defined]
            if policy == "fail":
                raise MaskingError(
                    f"json_mask: the document has a value at {format_path(path)} "
                    "where the plan expects an object or array",
                    hint="fix the paths in the plan or set unknown_keys",
                )
            if policy == "scrub" and isinstance(node, str):
                slots.setdefault("scrub", []).append((container, k))


__all__ = ["JsonMask", "TextScrub", "format_path", "parse_path"]
