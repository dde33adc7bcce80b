"""The fast HCL subset reader gives exactly python-hcl2's output, or declines."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.scan.readers import _hcl

from .helpers import FIXTURES

idents = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: s not in ("true", "false", "null", "for", "in", "if")
)
strings = st.text(alphabet="abcXYZ09 ._:/@-=", max_size=12).map(lambda s: f'"{s}"')
refs = st.builds(lambda a, b: f"${{var.{a}}}" if b else f"${{local.{a}}}", idents, st.booleans())
interp = st.builds(lambda a, r: f'"{a}{r}"', st.text(alphabet="ab.-", max_size=4), refs)
scalars = st.one_of(
    strings, interp, st.integers(-1000, 1000).map(str), st.sampled_from(["true", "false", "null"]),
    st.builds(lambda a, b: f"{a}.{b}", st.sampled_from(["var", "local", "aws_vpc.main"]), idents),
)  # fmt: skip
calls = st.builds(
    lambda f, args: f"{f}({', '.join(args)})",
    st.sampled_from(["try", "merge", "length", "lookup", "element", "coalesce"]),
    st.lists(scalars, min_size=0, max_size=3),
)
operators = st.builds(
    lambda a, op, b: f"{a} {op} {b}",
    scalars,
    st.sampled_from(["==", "!=", "&&", "||", "+", ">", "<="]),
    st.one_of(scalars, calls),
)
conditionals = st.builds(
    lambda c, a, b: f"{c} ? {a} : {b}", st.one_of(scalars, operators), scalars, calls
)
fors = st.builds(
    lambda x, src, body: f"[for {x} in {src} : {body}]",
    idents,
    st.sampled_from(["var.list", "local.azs"]),
    st.sampled_from(["upper(x)", "x.id", "x"]),
)
expressions = st.one_of(calls, operators, conditionals, fors, st.builds(lambda c: "!" + c, calls))
values = st.recursive(
    st.one_of(scalars, expressions),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.dictionaries(idents, inner, max_size=3).map(
            lambda d: "{ " + ", ".join(f"{k} = {v}" for k, v in d.items()) + " }"
        ),
    ),
    max_leaves=6,
)
attributes = st.dictionaries(idents, values, max_size=4).map(
    lambda d: "".join(f"  {k} = {v}\n" for k, v in d.items())
)
blocks = st.builds(
    lambda kind, labels, body, nested: f"{kind} {' '.join(labels)} {{\n{body}{nested}}}\n",
    st.sampled_from(["resource", "data", "module", "locals", "variable"]),
    st.lists(idents.map(lambda s: f'"{s}"'), max_size=2),
    attributes,
    st.sampled_from(["", "  ingress {\n    from_port = 1\n  }\n", "  # c\n  tags {}\n"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(blocks, min_size=1, max_size=4).map("\n".join))
def test_fast_reader_matches_python_hcl2(text: str) -> None:
    try:
        fast = _hcl.loads(text)
    except _hcl.Unsupported:
        return
    assert fast == _hcl.strip_meta(hcl2.loads(text))


@pytest.mark.parametrize(
    "path", sorted(FIXTURES.rglob("*.tf")), ids=lambda p: p.parent.name + "/" + p.name
)
def test_fixtures_match_or_decline(path: object) -> None:
    text = path.read_text()  # type: ignore[attr-defined]
    try:
        fast = _hcl.loads(text)
    except _hcl.Unsupported:
        return
    assert fast == _hcl.strip_meta(hcl2.loads(text))


@pytest.mark.parametrize(
    "text",
    [
        "a = b c\n",
        'a = "${foo bar}"\n',
        "a = f(<<EOT\nx\nEOT\n)\n",
        'a = "%{ if x }y%{ endif }"\n',
        "a = f({ b : 1 })\n",
        "a = <<EOT\nx\n",
    ],
)
def test_declines_what_it_does_not_know(text: str) -> None:
    with pytest.raises(_hcl.Unsupported):
        _hcl.loads(text)


CORPUS = Path(__file__).parent / "corpus"


def test_corpus_terraform_takes_the_fast_path_and_matches_python_hcl2() -> None:
    """Module-style Terraform (functions, conditionals, for expressions, objects in calls,
    comments inside brackets, heredocs, type constraints): at least 95 % is read by the
    fast reader, each exactly as python-hcl2 reads it."""
    paths = sorted(CORPUS.rglob("*.tf")) + sorted(CORPUS.rglob("*.tfvars"))
    fast = 0
    for path in paths:
        text = path.read_text("utf-8")
        try:
            value = _hcl.loads(text)
        except _hcl.Unsupported:
            continue
        fast += 1
        assert value == _hcl.strip_meta(hcl2.loads(text)), path
    assert len(paths) >= 7
    assert fast / len(paths) >= 0.95
