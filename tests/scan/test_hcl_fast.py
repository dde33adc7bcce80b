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
heredocs = st.builds(
    lambda trim, marker, body, indent: (
        f"<<{'-' if trim else ''}{marker}\n"
        + "".join(f"{indent}{line}\n" for line in body)
        + f"{indent if trim else ''}{marker}\n"
    ),
    st.booleans(),
    st.sampled_from(["EOT", "EOF", "E", "END.x"]),
    st.lists(st.text(alphabet='ab ${}()[]"#:=!<-', max_size=10), max_size=3),
    st.sampled_from(["", "  ", "\t"]),
)
keys = st.one_of(
    idents,
    idents.map(lambda s: f'"{s}"'),
    refs.map(lambda r: f'"{r}"'),
    st.builds(lambda a: f"(local.{a})", idents),
    st.builds(lambda a: f"(var.{a} + 1)", idents),
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
fors_if = st.builds(
    lambda x, body, cond: f"[for {x} in var.list : {body} if !{cond}]",
    idents,
    st.sampled_from(["x", "upper(x)"]),
    st.sampled_from(["x", 'contains(["a"], x)', "var.off"]),
)
in_calls = st.builds(
    lambda f, h: f"{f}({h})", st.sampled_from(["trimspace", "base64encode"]), heredocs
)
expressions = st.one_of(
    calls, operators, conditionals, fors, fors_if, in_calls, st.builds(lambda c: "!" + c, calls)
)
values = st.recursive(
    st.one_of(scalars, expressions),
    lambda inner: st.one_of(
        st.lists(st.one_of(inner, heredocs), max_size=3).map(
            lambda xs: "[\n" + "".join(f"{x}\n,\n" for x in xs) + "]"
        ),
        st.dictionaries(keys, inner, max_size=3).map(
            lambda d: "{ " + ", ".join(f"{k} = {v}" for k, v in d.items()) + " }"
        ),
        st.dictionaries(keys, inner, max_size=3).map(
            lambda d: "f({ " + ", ".join(f"{k} : {v}" for k, v in d.items()) + " })"
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
        'a = "%{ if x }y%{ endif }"\n',
        "a = <<EOT\nx\n",
        "a = f(<<EOT\nx\nEOT)\n",  # the closing marker must end its line
        "a = <<EOT  \nx\nEOT\n",  # nothing after the opening marker
        "a = { 1.5 = 2 }\n",
        "a = { b = 1 c = 2 }\n",
    ],
)
def test_declines_what_it_does_not_know(text: str) -> None:
    with pytest.raises(_hcl.Unsupported):
        _hcl.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        # heredocs inside expressions: python-hcl2 keeps their source, quoted
        "a = f(<<EOT\nx ${ y }\nEOT\n)\n",
        'a = [\n  <<-EOT\n  x: "q" \\ y\n  EOT\n  , "b"]\n',
        "a = try(<<-EOT\n  x\n  EOT\n, 1)\n",
        "a = { k = <<EOT\nz\nEOT\n}\n",
        "a = [<<EOT\n{[(\nEOT\n]\n",  # brackets in a heredoc do not count
        "a = [\n  # b = <<EOT\n  1,\n]\n",  # nor a heredoc in a comment
        "a = <<EOT\nx\nEOT",  # the last line of a file
        "a = <<E\n\nE\n",
        # computed and quoted object keys
        'a = {\n  (local.x) = 1\n  "${ var.y }" = 2\n  (var.z + 1) = { b = 1 }\n  a.b = 3\n}\n',
        "a = { true = 1, null = 2, in = 3, for = 4 }\n",
        "a = merge({ (local.x) = 1, (f(a, b)) : 2 })\n",
        # ':' between key and value
        'a = jsonencode({ "rules" : [{ "a" : 1, b : { c : "d" } }] })\n',
        "a = { b : 1, c : x ? 1 : 2 }\n",
        "a = f({\n  b : 1\n  c : { d : x ? y : z }\n})\n",
        # '!' and '-' right after a for expression's `if`
        'a = [for k, v in x : k if !contains(["A"], v)]\n',
        "a = { for k, v in x : k => v if !v }\n",
        "a = [for x in y : x if -x < 0]\n",
    ],
)
def test_reads_what_python_hcl2_reads(text: str) -> None:
    assert _hcl.loads(text) == _hcl.strip_meta(hcl2.loads(text))


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
