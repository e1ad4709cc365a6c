"""The `${{ }}` expression interpreter: Jinja's precedence, filters, tests, errors, tracking."""

from __future__ import annotations

import pytest

from naja.build.expr import UNDEFINED, ExprError, Scope, compile_expression
from naja.build.jinja_functions import FILTERS, TESTS


def run(text: str, **variables: object) -> object:
    used: set[str] = set()
    return compile_expression(text).fn(Scope(variables, FILTERS, TESTS, used))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("2 ** 3 ** 1", 8),
        ("7 // 2 ~ 'x'", "3x"),
        ("-1 | abs", 1),
        ("'a' ~ 1 ~ true", "a1true"),
        ("1 < 2 < 3", True),
        ("3 > 2 > 5", False),
        ("'b' in 'abc' and 'z' not in ['a']", True),
        ("not 1 == 2", True),
        ("'x' if false", UNDEFINED),
        ("'x' if false else 'y'", "y"),
        ("[1, 2, 3][1:]", [2, 3]),
        ("{'a': 1}.a", 1),
        ("'1.2.3'.split('.')[0]", "1"),
        ("'3.14.1' is startingwith('3.14')", True),
        ("'a' is not none", True),
        ("missing is defined", False),
        ("missing | default('d')", "d"),
        ("'A-B' | lower | replace('-', '_')", "a_b"),
        ("['a', 'b'] | join(',')", "a,b"),
        ("'14' < 14", False),
        ("(1, 2)", (1, 2)),
    ],
)
def test_values(text: str, value: object) -> None:
    assert run(text) == value


def test_names_and_implied_calls() -> None:
    compiled = compile_expression("compiler('c') ~ x.y | lower")
    assert compiled.names == {"compiler", "x"}
    assert compiled.calls == (("compiler", "c"),)


@pytest.mark.parametrize("text", ["1 +", "a b", "foo(", "x |", "'unterminated", "1 $ 2"])
def test_syntax_errors(text: str) -> None:
    with pytest.raises(ExprError):
        compile_expression(text)


def test_runtime_errors_are_expr_errors() -> None:
    with pytest.raises(ExprError, match="cannot apply"):
        run("'a' + 1")
    with pytest.raises(ExprError, match="unknown filter"):
        run("1 | nope")
    with pytest.raises(ExprError, match="not accessible"):
        run("x.__class__", x=1)
