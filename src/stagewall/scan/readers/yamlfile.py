"""YAML with line numbers: composed nodes, anchors/aliases and merge keys handled.

Multi-document files (Kubernetes manifests, rendered Helm output) give one
document each. Aliases are expanded with a node budget so "billion laughs"
style files become a parse error instead of eating memory.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import yaml

from stagewall.scan._model import Entry
from stagewall.scan.readers._base import Kind, Parsed, ReaderError

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NODE_BUDGET = 200_000
_MAX_DEPTH = 100
_BOOL_TRUE = {"true", "yes", "on", "y"}
_ENV_LIST_KEYS = frozenset({"environment", "env", "variables", "build_args", "args"})
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$", re.DOTALL)


class _Walker:
    def __init__(self, doc_index: int, parsed: Parsed) -> None:
        self.doc_index = doc_index
        self.parsed = parsed
        self.budget = _NODE_BUDGET
        self.stack: set[int] = set()
        self.seen: set[int] = set()

    def convert(self, node: yaml.Node, path: tuple[str, ...]) -> Any:
        # only repeated visits (alias expansion) draw on the budget: a long list is
        # bounded by the file size, an alias bomb is not
        if id(node) in self.seen:
            self.budget -= 1
        else:
            self.seen.add(id(node))
        if self.budget < 0:
            raise ReaderError("too many YAML nodes (alias expansion?)", node.start_mark.line + 1)
        if len(path) > _MAX_DEPTH or id(node) in self.stack:
            return None
        line = node.start_mark.line + 1
        self.parsed.lines.setdefault((self.doc_index, *path), line)
        if isinstance(node, yaml.ScalarNode):
            self.parsed.entries.append(Entry(path, str(node.value), line))
            return _scalar(node)
        self.stack.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                items = [self.convert(item, (*path, str(i))) for i, item in enumerate(node.value)]
                if path and path[-1].lower() in _ENV_LIST_KEYS:
                    self._assignments(node, path)
                return items
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            return None
        finally:
            self.stack.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: tuple[str, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        node_of: dict[str, yaml.Node] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merges.extend(
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                continue
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            out[key] = self.convert(value_node, (*path, key))
            node_of[key] = value_node
        name, value = out.get("name"), node_of.get("value")
        if isinstance(name, str) and isinstance(value, yaml.ScalarNode) and path:
            # Kubernetes ``env: [{name: REDIS_ADDR, value: ...}]``: the value under its name
            self.parsed.entries.append(
                Entry((*path[:-1], name), str(value.value), value.start_mark.line + 1)
            )
        for merge in merges:
            if isinstance(merge, yaml.MappingNode) and id(merge) not in self.stack:
                merged = self.convert(merge, path)
                if isinstance(merged, dict):
                    for key, value in merged.items():
                        out.setdefault(key, value)
        return out

    def _assignments(self, node: yaml.SequenceNode, path: tuple[str, ...]) -> None:
        """docker-compose ``environment: [KEY=value, ...]``: each value under its key."""
        for item in node.value:
            if isinstance(item, yaml.ScalarNode) and isinstance(item.value, str):
                match = _ASSIGNMENT.match(item.value)
                if match:
                    self.parsed.entries.append(
                        Entry((*path, match.group(1)), match.group(2), item.start_mark.line + 1)
                    )


def _scalar(node: yaml.ScalarNode) -> Any:
    tag, value = node.tag, str(node.value)
    if tag == "tag:yaml.org,2002:bool":
        return value.lower() in _BOOL_TRUE
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:int":
        try:
            return int(value.replace("_", ""), 0)
        except ValueError:
            return value
    return value


def read_yaml(text: str) -> Parsed:
    parsed = Parsed(Kind.YAML)
    try:
        for index, node in enumerate(yaml.compose_all(text, Loader=_Loader)):
            if node is None:
                parsed.documents.append(None)
                continue
            parsed.documents.append(_Walker(index, parsed).convert(node, ()))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ReaderError(f"YAML syntax error: {problem}", line) from None
    except RecursionError:
        raise ReaderError("YAML nesting too deep") from None
    return parsed


_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
_MAX_SECRET_VALUE = 16_384


def decode_secret_data(parsed: Parsed) -> None:
    """Kubernetes ``Secret`` ``data`` values are base64: each one that decodes to UTF-8
    text is read as a value too, at its own line (``stringData`` is plain already)."""
    for index, doc in enumerate(parsed.documents):
        if not isinstance(doc, dict) or doc.get("kind") != "Secret":
            continue
        data = doc.get("data")
        if not isinstance(data, dict):
            continue
        for key, value in data.items():
            if not isinstance(value, str) or len(value) > _MAX_SECRET_VALUE:
                continue
            compact = "".join(value.split())
            if not compact or not _BASE64.match(compact):
                continue
            try:
                text = base64.b64decode(compact, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                continue
            if text and text.isprintable():
                line = parsed.lines.get((index, "data", key), 1)
                parsed.entries.append(Entry(("data", key), text.strip(), line))


def classify_yaml(parsed: Parsed, rel_path: str) -> Kind:
    """Refine a YAML file's kind from its path and content."""
    name = rel_path.rsplit("/", 1)[-1].lower()
    if "/.github/workflows/" in f"/{rel_path}" and name.endswith((".yml", ".yaml")):
        return Kind.GITHUB_ACTIONS
    if name in (".gitlab-ci.yml", ".gitlab-ci.yaml") or rel_path.endswith(".gitlab-ci.yml"):
        return Kind.GITLAB_CI
    docs = [d for d in parsed.documents if isinstance(d, dict)]
    if docs and all("apiVersion" in d and "kind" in d for d in docs):
        return Kind.KUBERNETES
    if any(isinstance(d, dict) and d.get("kind") == "List" for d in docs):
        return Kind.KUBERNETES
    if (name.startswith(("docker-compose", "compose")) or ".compose." in name) and any(
        "services" in d for d in docs
    ):
        return Kind.COMPOSE
    return Kind.YAML
