"""Evaluating `${{ }}` templates and `if:` expressions, and finding the variables they use.

A scalar that is exactly one `${{ expr }}` keeps the expression's native value (a list stays a
list, a pin stays a pin); text mixing literal parts and `${{ }}` renders to a string. Expressions
run on naja's own interpreter (`naja.build.expr`); only the rare template with `{% %}` blocks
goes through Jinja2. Everything compiled is cached by its text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from naja.build.expr import UNDEFINED, Compiled, ExprError, Scope, compile_expression, to_str
from naja.build.jinja_functions import FILTERS, GLOBAL_FUNCTIONS, TESTS

# typing is only needed by type checkers: annotations stay strings here (PEP 563), and
# importing it costs ~2 ms of every `naja build --render-only`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_IDENT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\Z")
_SEGMENT = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_expr_cache: dict[str, Compiled] = {}
_vars_cache: dict[str, frozenset[str]] = {}
_GLOBALS = {**GLOBAL_FUNCTIONS, "true": True, "false": False, "none": None}


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


def _compiled(expr: str) -> Compiled:
    compiled = _expr_cache.get(expr)
    if compiled is None:
        try:
            compiled = compile_expression(expr)
        except ExprError as exc:
            raise TemplateError(f"invalid expression `{expr.strip()}`: {exc}") from None
        _expr_cache[expr] = compiled
    return compiled


def _native(value: Any) -> Any:
    return None if value is UNDEFINED else value


def evaluate_expression(
    expr: str, variables: Mapping[str, Any], used: set[str] | None = None
) -> Any:
    """Evaluate a bare expression (an `if:` condition or the inside of `${{ }}`).

    Names actually read (short-circuits respected) are added to `used`.
    """
    m = _IDENT.match(expr)
    if m is not None:
        name = m.group(1)
        if used is not None:
            used.add(name)
        if name in variables:
            return variables[name]
        return _GLOBALS.get(name)
    compiled = _compiled(expr)
    if used is not None and compiled.calls:
        used.update(_implied(compiled))
    scope = Scope(_Variables(variables), FILTERS, TESTS, used)
    try:
        return _native(compiled.fn(scope))
    except ExprError as exc:
        raise TemplateError(f"cannot evaluate `{expr.strip()}`: {exc}") from None


class _Variables(dict):
    """The recipe's variables layered over the global functions, without copying either."""

    __slots__ = ("inner",)

    def __init__(self, inner: Mapping[str, Any]) -> None:
        super().__init__()
        self.inner = inner

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        inner = self.inner
        if key in inner:
            return inner[key]
        return _GLOBALS.get(key, default)


def render_template(
    text: str, variables: Mapping[str, Any], used: set[str] | None = None
) -> Any:
    """A scalar's value: native for a lone `${{ expr }}`, a string for mixed text."""
    expr = _single_expression(text)
    if expr is not None:
        return evaluate_expression(expr, variables, used)
    if "{%" in text:
        if used is not None:
            used.update(template_variables(text))
        return _render_with_jinja(text, variables)
    out: list[str] = []
    pos = 0
    for m in _SEGMENT.finditer(text):
        out.append(text[pos : m.start()])
        out.append(to_str(evaluate_expression(m.group(1), variables, used)))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


# Calls that read variant keys beyond the names written in the expression.
_IMPLIED = {
    "compiler": ("{}_compiler", "{}_compiler_version"),
    "stdlib": ("{}_stdlib", "{}_stdlib_version"),
    "cdt": ("cdt_name", "cdt_arch"),
}


def _implied(compiled: Compiled) -> set[str]:
    names: set[str] = set()
    for callee, arg in compiled.calls:
        if callee in _IMPLIED:
            key = arg.replace("-", "_")
            names.update(p.format(key) for p in _IMPLIED[callee])
    return names


def _expression_names(expr: str) -> frozenset[str]:
    compiled = _compiled(expr)
    return frozenset(compiled.names | _implied(compiled))


def template_variables(text: str) -> frozenset[str]:
    """Names a template reads (plus the variant keys `compiler('c')` & co. imply)."""
    cached = _vars_cache.get(text)
    if cached is not None:
        return cached
    names: set[str] = set()
    try:
        if "{%" in text:
            names.update(_jinja_variables(text))
        for m in _SEGMENT.finditer(text):
            names.update(_expression_names(m.group(1)))
    except TemplateError:
        pass
    result = frozenset(names)
    _vars_cache[text] = result
    return result


def expression_variables(expr: str) -> frozenset[str]:
    """Names a bare expression (an `if:` condition) reads."""
    try:
        return _expression_names(expr)
    except TemplateError:
        return frozenset()


# ------------------------------------------------------------ `{% %}` blocks: Jinja2 fallback
_jinja_env: Any = None


def _jinja() -> Any:
    global _jinja_env
    if _jinja_env is None:
        import jinja2

        class _Undefined(jinja2.Undefined):
            __slots__ = ()

        env = jinja2.Environment(
            variable_start_string="${{",
            variable_end_string="}}",
            undefined=_Undefined,
            finalize=lambda v: to_str(v) if v is None or isinstance(v, bool) else v,
            keep_trailing_newline=True,
            autoescape=False,
        )
        env.filters.update(FILTERS)
        env.tests.update(TESTS)
        env.globals.update(_GLOBALS)
        _jinja_env = env
    return _jinja_env


def _render_with_jinja(text: str, variables: Mapping[str, Any]) -> str:
    import jinja2

    try:
        return _jinja().from_string(text).render(**variables)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"cannot render template: {exc}") from None
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
        raise TemplateError(f"cannot render template: {exc}") from None


def _jinja_variables(text: str) -> set[str]:
    import jinja2
    import jinja2.meta

    try:
        return set(jinja2.meta.find_undeclared_variables(_jinja().parse(text)))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"invalid template: {exc.message}") from None
