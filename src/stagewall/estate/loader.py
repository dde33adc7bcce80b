"""Load ``stagewall.yaml``: YAML with line numbers, strict models, reference checks.

Every mistake becomes one :class:`ConfigError` that names the file, the line and
the field of each problem (up to a dozen) and says how to fix it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from stagewall.errors import ConfigError, RemovedSetting
from stagewall.estate._refs import reference_problems
from stagewall.estate.models import REMOVED_AUDIT_SETTINGS, Estate
from stagewall.paths import config_path

Path_ = tuple[str | int, ...]
MAX_REPORTED = 12
# More nodes than any estate has; a document of nested aliases expands to far more.
MAX_NODES = 200_000


@dataclass(frozen=True)
class LoadedEstate:
    """An estate plus where it came from, so later checks can cite lines."""

    estate: Estate
    path: Path
    lines: dict[Path_, int] = field(repr=False)

    def line_of(self, *loc: str | int) -> int | None:
        """The line of the deepest known prefix of ``loc`` (1-based)."""
        probe: Path_ = tuple(loc)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return None

    def where(self, *loc: str | int) -> str:
        line = self.line_of(*loc)
        return f"{self.path}:{line}" if line else str(self.path)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first defined on line {seen[key]})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line_map(node: yaml.Node | None, prefix: Path_ = ()) -> dict[Path_, int]:
    out: dict[Path_, int] = {}
    if node is None:
        return out
    out[prefix] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            out[(*prefix, key)] = key_node.start_mark.line + 1
            out.update(_line_map(value_node, (*prefix, key)))
            out[(*prefix, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.update(_line_map(item, (*prefix, i)))
    return out


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes the document has once every alias is expanded (no recursion, each
    node sized once), so a document of nested aliases is refused before it is walked. A
    node that contains itself (``&a [*a]``) expands without end: more than MAX_NODES."""
    size: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        kids: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            kids = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            kids = list(node.value)
        if children_done:
            open_.discard(id(node))
            size[id(node)] = min(1 + sum(size[id(k)] for k in kids), MAX_NODES + 1)
            continue
        if id(node) in size:
            continue
        if id(node) in open_:
            return MAX_NODES + 1
        open_.add(id(node))
        stack.append((node, True))
        stack.extend((k, False) for k in kids)
    return size[id(root)]


def _too_deep(src: Path) -> ConfigError:
    return ConfigError(
        f"{src}: the file nests lists or mappings too deeply to be an estate",
        hint="an estate nests a few levels; check for unbalanced [ or { brackets",
    )


def _fmt_loc(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def _clean_loc(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    # Discriminated unions add the tag to the location (alerts.0.webhook.url): drop it.
    return tuple(p for p in loc if p not in ("webhook", "smtp", "file"))


def _refuse_removed(data: dict[Any, Any], src: Path, lines: dict[Path_, int]) -> None:
    """Refuse ``audit:`` fields stagewall once accepted but never used (SW976)."""
    audit = data.get("audit")
    if not isinstance(audit, dict):
        return
    for name, why in REMOVED_AUDIT_SETTINGS.items():
        if name in audit:
            line = lines.get(("audit", name))
            where = f"{src}:{line}" if line else str(src)
            raise RemovedSetting(
                f"{where}: audit.{name} is not a setting and would have no effect: {why}",
            )


def parse_estate(text: str, source: str | os.PathLike[str] = "stagewall.yaml") -> LoadedEstate:
    """Parse estate text; raise ConfigError naming file, line and field."""
    src = Path(source)
    try:
        node = yaml.compose(text, Loader=_StrictLoader)
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f":{mark.line + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(
            f"{src}{at}: this is not valid YAML: {problem}",
            hint="check indentation and quoting on that line (YAML uses spaces, not tabs)",
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{src}: this is not valid YAML: {exc}") from None
    except RecursionError:
        raise _too_deep(src) from None
    if node is not None and _expanded_size(node) > MAX_NODES:
        raise ConfigError(
            f"{src}: the file expands to more than {MAX_NODES} values (YAML anchors and "
            "aliases that refer to each other, a 'billion laughs' document)",
            hint="write the values out instead of nesting aliases; an estate needs few of them",
        )
    if data is None:
        raise ConfigError(
            f"{src}: the file is empty",
            hint="run `stagewall init` to write a commented example",
        )
    if not isinstance(data, dict):
        raise ConfigError(
            f"{src}:1: the top level must be a mapping (environments:, principals:, ...), "
            f"not a {type(data).__name__}",
            hint="run `stagewall init` to see the expected layout",
        )
    try:
        lines = _line_map(node)
    except RecursionError:
        raise _too_deep(src) from None
    _refuse_removed(data, src, lines)
    try:
        estate = Estate.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:MAX_REPORTED]:
            loc = _clean_loc(err["loc"])
            probe: Path_ = loc
            line: int | None = None
            while probe:
                if probe in lines:
                    line = lines[probe]
                    break
                probe = probe[:-1]
            where = f"{src}:{line}" if line else str(src)
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown field (check the spelling; `stagewall schema` lists every field)"
            elif err["type"] == "missing":
                msg = "required field is missing"
            problems.append(f"{where}: {_fmt_loc(loc)}: {msg}")
        more = exc.error_count() - len(problems)
        if more > 0:
            problems.append(f"... and {more} more")
        raise ConfigError(
            "the estate file is not valid:\n  " + "\n  ".join(problems),
            hint="fix the fields named above; `stagewall schema` prints the JSON Schema",
        ) from None
    loaded = LoadedEstate(estate=estate, path=src, lines=lines)
    refs = reference_problems(estate)
    if refs:
        rendered = [f"{loaded.where(*loc)}: {_fmt_loc(loc)}: {msg}" for loc, msg in refs]
        raise ConfigError(
            "the estate file refers to things it does not declare:\n  "
            + "\n  ".join(rendered[:MAX_REPORTED]),
            hint="declare the missing names or fix the spelling of the references",
        )
    return loaded


def load_estate(path: str | os.PathLike[str] | None = None) -> LoadedEstate:
    """Load the estate from ``path``, ``STAGEWALL_CONFIG`` or ``./stagewall.yaml``."""
    resolved = config_path(path)
    if resolved is None:
        raise ConfigError(
            "no estate file: pass --config, set STAGEWALL_CONFIG, or create ./stagewall.yaml",
            hint="run `stagewall init` to write a commented example",
        )
    try:
        if resolved.exists() and not resolved.is_file() and not resolved.is_dir():
            # a FIFO or device (from $STAGEWALL_CONFIG, say): reading would block or not end
            raise ConfigError(
                f"{resolved}: the estate file is not a regular file (a FIFO, socket or device)",
                hint="point --config or STAGEWALL_CONFIG at the stagewall.yaml file",
            )
        text = resolved.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{resolved}: the estate file does not exist",
            hint="check the path, or run `stagewall init` to write a commented example",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{resolved}: cannot read the estate file: {exc}") from None
    return parse_estate(text, resolved)


def load_estate_optional(path: str | os.PathLike[str] | None = None) -> LoadedEstate | None:
    """Like :func:`load_estate` but ``None`` when no estate file is configured or present.

    An estate file that is configured but broken still raises.
    """
    if config_path(path) is None:
        return None
    return load_estate(path)
