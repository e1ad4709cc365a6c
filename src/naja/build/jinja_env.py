"""Evaluating `${{ }}` templates and `if:` expressions, and finding the variables they use.

A scalar that is exactly one `${{ expr }}` keeps the expression's native value (a list stays a
list, a pin stays a pin); anything else renders to a string. Compiled templates are cached by
text: the same strings come back for every variant of a recipe.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import jinja2
import jinja2.environment
import jinja2.meta
import jinja2.parser
from jinja2 import nodes

from naja.build.jinja_functions import FILTERS, GLOBAL_FUNCTIONS, TESTS


def _finalize(value: object) -> object:
    # minijinja (rattler-build) prints booleans and none the Rust way.
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return value


class _Undefined(jinja2.Undefined):
    """Undefined names are false and empty, as in rattler-build's lenient selectors."""

    __slots__ = ()


def _make_env() -> jinja2.Environment:
    env = jinja2.Environment(
        variable_start_string="${{",
        variable_end_string="}}",
        block_start_string="{%",
        block_end_string="%}",
        comment_start_string="{#",
        comment_end_string="#}",
        undefined=_Undefined,
        finalize=_finalize,
        keep_trailing_newline=True,
        autoescape=False,
        cache_size=0,
    )
    env.filters.update(FILTERS)
    env.tests.update(TESTS)
    env.globals.update(GLOBAL_FUNCTIONS)
    env.globals["true"] = True
    env.globals["false"] = False
    env.globals["none"] = None
    return env


ENV = _make_env()
_IDENT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\Z")
_expr_cache: dict[str, Any] = {}
_tmpl_cache: dict[str, jinja2.Template] = {}
_vars_cache: dict[str, frozenset[str]] = {}


class TemplateError(Exception):
    """A template that does not compile or fails to evaluate (the caller adds the position)."""


def is_template(text: str) -> bool:
    return "${{" in text or "{%" in text


def _single_expression(text: str) -> str | None:
    """The inner expression if `text` is exactly `${{ expr }}`, else None."""
    stripped = text.strip()
    if not (stripped.startswith("${{") and stripped.endswith("}}")):
        return None
    inner = stripped[3:-2]
    if "${{" in inner or "}}" in inner or "{%" in inner:
        return None
    return inner


class _Plan:
    """An expression split at `and` / `or` / `x if c else y` / `not`, so evaluation can record
    only the names it actually reads (rattler-build tracks variables as they are accessed)."""

    __slots__ = ("fn", "kind", "names", "parts")

    def __init__(self, kind: str, parts: tuple[_Plan | None, ...] = (), fn: Any = None,
                 names: frozenset[str] = frozenset()) -> None:
        self.kind = kind
        self.parts = parts
        self.fn = fn
        self.names = names

    def run(self, variables: Mapping[str, Any], used: set[str] | None) -> Any:
        kind = self.kind
        if kind == "leaf":
            if used is not None:
                used.update(self.names)
            try:
                return self.fn(**variables)
            except TypeError:
                # minijinja compares values of different types (`"14" < 14`) as unequal
                # instead of failing; selectors like `vc<14` rely on that.
                return False
        parts = self.parts
        if kind == "and":
            left = parts[0].run(variables, used)  # type: ignore[union-attr]
            return left if not left else parts[1].run(variables, used)  # type: ignore[union-attr]
        if kind == "or":
            left = parts[0].run(variables, used)  # type: ignore[union-attr]
            return left if left else parts[1].run(variables, used)  # type: ignore[union-attr]
        if kind == "not":
            return not parts[0].run(variables, used)  # type: ignore[union-attr]
        # conditional expression
        if parts[0].run(variables, used):  # type: ignore[union-attr]
            return parts[1].run(variables, used)  # type: ignore[union-attr]
        return None if parts[2] is None else parts[2].run(variables, used)


def _leaf(node: nodes.Expr) -> _Plan:
    assign = nodes.Assign(nodes.Name("result", "store"), node, lineno=1)
    template = ENV.from_string(nodes.Template([assign], lineno=1))
    fn = jinja2.environment.TemplateExpression(template, True)
    wrapper = nodes.Template([nodes.Output([node], lineno=1)], lineno=1)
    wrapper.set_environment(ENV)
    names = _names_in(wrapper)
    return _Plan("leaf", fn=fn, names=names)


def _plan(node: nodes.Expr) -> _Plan:
    if isinstance(node, nodes.And):
        return _Plan("and", (_plan(node.left), _plan(node.right)))
    if isinstance(node, nodes.Or):
        return _Plan("or", (_plan(node.left), _plan(node.right)))
    if isinstance(node, nodes.Not):
        return _Plan("not", (_plan(node.node),))
    if isinstance(node, nodes.CondExpr):
        other = _plan(node.expr2) if node.expr2 is not None else None
        return _Plan("cond", (_plan(node.test), _plan(node.expr1), other))
    return _leaf(node)


def _compile(expr: str) -> _Plan:
    parser = jinja2.parser.Parser(ENV, expr, state="variable")
    node = parser.parse_expression()
    if not parser.stream.eos:
        token = parser.stream.current
        raise jinja2.TemplateSyntaxError(f"unexpected {token.value!r}", token.lineno)
    return _plan(node)


def evaluate_expression(
    expr: str, variables: Mapping[str, Any], used: set[str] | None = None
) -> Any:
    """Evaluate a bare jinja expression (an `if:` condition or the inside of `${{ }}`).

    Names actually read (short-circuits respected) are added to `used`.
    """
    m = _IDENT.match(expr)
    if m is not None:
        name = m.group(1)
        if used is not None:
            used.add(name)
        if name in variables:
            return variables[name]
        if name in ENV.globals:
            return ENV.globals[name]
        return None
    fn = _expr_cache.get(expr)
    if fn is None:
        try:
            fn = _compile(expr)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"invalid expression `{expr.strip()}`: {exc.message}") from None
        _expr_cache[expr] = fn
    try:
        return fn.run(variables, used)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"cannot evaluate `{expr.strip()}`: {exc}") from None
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, ZeroDivisionError) as exc:
        raise TemplateError(f"cannot evaluate `{expr.strip()}`: {exc}") from None


def render_template(
    text: str, variables: Mapping[str, Any], used: set[str] | None = None
) -> Any:
    """A scalar's value: native for a lone `${{ expr }}`, a string for mixed text."""
    expr = _single_expression(text)
    if expr is not None:
        return evaluate_expression(expr, variables, used)
    if used is not None:
        used.update(template_variables(text))
    tmpl = _tmpl_cache.get(text)
    if tmpl is None:
        try:
            tmpl = ENV.from_string(text)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"invalid template: {exc.message}") from None
        _tmpl_cache[text] = tmpl
    try:
        return tmpl.render(**variables)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"cannot render template: {exc}") from None
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, ZeroDivisionError) as exc:
        raise TemplateError(f"cannot render template: {exc}") from None


# Calls that read variant keys beyond the names written in the expression.
_IMPLIED = {
    "compiler": ("{}_compiler", "{}_compiler_version"),
    "stdlib": ("{}_stdlib", "{}_stdlib_version"),
}


def _names_in(ast: nodes.Node) -> frozenset[str]:
    found = set(jinja2.meta.find_undeclared_variables(ast))
    for call in ast.find_all(nodes.Call):
        fn = call.node
        if isinstance(fn, nodes.Name) and fn.name in _IMPLIED and call.args:
            arg = call.args[0]
            if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
                lang = arg.value.replace("-", "_")
                found.update(p.format(lang) for p in _IMPLIED[fn.name])
        if isinstance(fn, nodes.Name) and fn.name == "cdt":
            found.update(("cdt_name", "cdt_arch"))
    return frozenset(found)


def template_variables(text: str) -> frozenset[str]:
    """Names a template reads (plus the variant keys `compiler('c')` & co. imply)."""
    cached = _vars_cache.get(text)
    if cached is not None:
        return cached
    try:
        names = _names_in(ENV.parse(text))
    except jinja2.TemplateSyntaxError:
        names = frozenset()
    _vars_cache[text] = names
    return names


def expression_variables(expr: str) -> frozenset[str]:
    """Names a bare expression (an `if:` condition) reads."""
    return template_variables("${{ " + expr + " }}")
