"""Container image references: ``[registry/]repository[:tag][@digest]`` where a
deployment names the image it runs (Kubernetes and compose ``image:``, GitLab
``image: {name:}``, Helm values ``image: {repository:, tag:}``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stagewall.scan._model import Entry

# where a value is an image (or the repository or tag of one, split as in Helm values)
_WHOLE = frozenset({"image"})
_PARTS = frozenset({"repository", "repo", "tag", "name"})
_REFERENCE = re.compile(r"^[a-z0-9][a-z0-9._/:@+-]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Image:
    repository: str  # registry host and path, lower-cased, no tag or digest ("" if only a tag)
    tag: str  # "" when none is written
    registry: str  # the host part of the repository when it names one, else ""


def image_of(entry: Entry) -> Image | None:
    """The image an entry names, or ``None`` if it is not an image's place."""
    key = entry.key
    parent = entry.path[-2].lower() if len(entry.path) > 1 else ""
    if key in _WHOLE:
        return parse_image(entry.value)
    if key not in _PARTS or not parent.endswith("image") or (key == "name" and parent != "image"):
        return None
    if key == "tag":
        tag = entry.value.strip()
        return Image("", tag, "") if tag and _REFERENCE.match(tag) else None
    return parse_image(entry.value)


def parse_image(value: str) -> Image | None:
    text = value.strip()
    if not text or len(text) > 512 or not _REFERENCE.match(text):
        return None  # templated (``{{ .Values.x }}``, ``${TAG}``) or not an image
    name = text.split("@", 1)[0]
    tag = ""
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    first = name.split("/", 1)[0]
    # Docker's rule: the first component is a registry when it has a '.' or a ':' (or is
    # localhost), else the image is on Docker Hub
    registry = first if "/" in name and ("." in first or ":" in first) else ""
    return Image(name.lower(), tag, registry.split(":", 1)[0].lower())


__all__ = ["Image", "image_of", "parse_image"]
