"""PostgreSQL ``hstore`` and ``xml`` values read as the documents they are.

Such a cell is text with a syntax of its own (``"owner"=>"Ganthriv"``,
``<owner>Ganthriv</owner>``): looked up whole, a surname inside it is no unit,
and the detector does not know every surname. Verify reads an ``hstore`` as the
mapping of its keys to its values and an ``xml`` value as the list of its text
nodes and attribute values, so each value inside is a leaf, looked up like a JSON
leaf. No transformer rewrites either in place: the planner sets them to NULL.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from stagewall.masking.schema import Column, Schema, Table

DOCUMENT_TYPES = frozenset({"hstore", "xml"})

# hstore text output: "key"=>"value" pairs, NULL unquoted; \" and \\ escaped
_HSTORE_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"\s*=>\s*(?:"((?:[^"\\]|\\.)*)"|NULL)')
_UNESCAPE = re.compile(r"\\(.)")
_XML_TAG = re.compile(r"<(?:!\[CDATA\[(.*?)\]\]|[^>]*)>", re.S)
_XML_ATTR = re.compile(r"""=\s*(?:"([^"]*)"|'([^']*)')""")


def is_document(column: Column) -> bool:
    """Whether ``column`` is an ``hstore`` or ``xml`` column (any schema)."""
    return column.db_type.rsplit(".", 1)[-1].strip('"').lower() in DOCUMENT_TYPES


def typed_like_source(
    source: Schema, target: Schema, match: Callable[[str, Schema], Table | None]
) -> Schema:
    """``target`` with each column that is an hstore or xml document on the source
    typed as there: a MySQL/MariaDB or SQLite target holds it as plain text, and
    verify must still read the values inside it (``match``: the target table of a
    source table)."""
    retyped: dict[str, dict[str, str]] = {}
    for t in source.tables:
        docs = {c.name: c.db_type for c in t.columns if is_document(c)}
        got = match(t.qualified, target) if docs else None
        if got is not None:
            retyped[got.qualified] = docs
    if not retyped:
        return target
    tables = tuple(
        replace(
            t,
            columns=tuple(
                replace(c, db_type=retyped[t.qualified][c.name])
                if c.name in retyped.get(t.qualified, {}) and not is_document(c)
                else c
                for c in t.columns
            ),
        )
        for t in target.tables
    )
    return Schema(target.backend, tables)


def as_documents(values: Sequence[object]) -> list[object]:
    """Each text value of an hstore or xml column as its mapping or its texts (a
    value that is not text, or NULL, as it is)."""
    return [_document(v) if isinstance(v, str) else v for v in values]


def _document(text: str) -> object:
    if "=>" in text and text.lstrip().startswith('"'):
        pairs = _HSTORE_PAIR.findall(text)
        if pairs:
            return {_UNESCAPE.sub(r"\1", k): _UNESCAPE.sub(r"\1", v) for k, v in pairs}
    if "<" not in text:
        return text
    out: list[str] = []
    at = 0
    for m in _XML_TAG.finditer(text):
        out.append(text[at : m.start()])
        if m.group(1) is not None:
            out.append(m.group(1))
        else:
            out += [a or b for a, b in _XML_ATTR.findall(m.group(0))]
        at = m.end()
    out.append(text[at:])
    return [t for t in (html.unescape(p).strip() for p in out) if t]


__all__ = ["DOCUMENT_TYPES", "as_documents", "is_document"]
