"""`if/then/else` selectors and `${{ }}` templates applied to a node tree, giving plain values.

In a list, an item `{if: cond, then: x, else: y}` is replaced by x or y (lists are spliced in);
as a mapping value it simply becomes x or y. Script bodies are kept verbatim (`raw`): rattler-build
renders them only when building.
"""

from __future__ import annotations

from collections.abc import Mapping

from naja.build.errors import RecipeError
from naja.build.jinja_env import (
    TemplateError,
    evaluate_expression,
    is_template,
    render_template,
    template_variables,
)
from naja.build.yaml_nodes import Map, Node, Scalar, Seq, plain_value

# typing is only needed by type checkers: annotations stay strings here (PEP 563), and
# importing it costs ~2 ms of every `naja build --render-only`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def is_conditional(node: Node) -> bool:
    return isinstance(node, Map) and "if" in node.items and "then" in node.items


def condition(node: Map, variables: Mapping[str, Any], used: set[str] | None = None) -> bool:
    cond = node.items["if"]
    if isinstance(cond, Scalar):
        try:
            if is_template(cond.value):
                return bool(render_template(cond.value, variables, used))
            return bool(evaluate_expression(cond.value, variables, used))
        except TemplateError as exc:
            raise cond.error(str(exc)) from None
    if isinstance(cond, Seq):
        raise cond.error("`if:` takes one expression, not a list")
    raise cond.error("`if:` takes an expression")


def branch(node: Map, variables: Mapping[str, Any], used: set[str] | None = None) -> Node | None:
    """The `then` or `else` node chosen by the condition (None if no else)."""
    return node.items["then"] if condition(node, variables, used) else node.items.get("else")


def scalar_value(
    node: Scalar, variables: Mapping[str, Any], raw: bool = False, used: set[str] | None = None
) -> Any:
    text = node.value
    if raw:
        # Script bodies render at build time, but the variables they read are used all the same.
        if used is not None and is_template(text):
            used.update(template_variables(text))
        return text
    if not is_template(text):
        return plain_value(node)
    try:
        return render_template(text, variables, used)
    except TemplateError as exc:
        raise node.error(str(exc)) from None


def flatten(
    node: Seq, variables: Mapping[str, Any], used: set[str] | None = None
) -> list[Node]:
    """The items of a list after applying its selectors (still nodes)."""
    out: list[Node] = []
    for item in node.items:
        if is_conditional(item):
            assert isinstance(item, Map)
            chosen = branch(item, variables, used)
            if chosen is None:
                continue
            if isinstance(chosen, Seq):
                out.extend(flatten(chosen, variables, used))
            elif is_conditional(chosen):
                wrapped = Seq([chosen], chosen.line, chosen.col, chosen.src)
                out.extend(flatten(wrapped, variables, used))
            else:
                out.append(chosen)
        else:
            out.append(item)
    return out


def resolve(
    node: Node | None, variables: Mapping[str, Any], used: set[str] | None = None
) -> Node | None:
    """A mapping value that is itself a conditional becomes the chosen branch."""
    while node is not None and is_conditional(node):
        assert isinstance(node, Map)
        node = branch(node, variables, used)
    return node


def evaluate(
    node: Node | None,
    variables: Mapping[str, Any],
    raw: bool = False,
    used: set[str] | None = None,
) -> Any:
    """The plain value of a node: selectors applied, templates rendered (unless raw).

    `used` collects the names read by the templates and conditions actually evaluated.
    """
    node = resolve(node, variables, used)
    if node is None:
        return None
    if isinstance(node, Scalar):
        return scalar_value(node, variables, raw, used)
    if isinstance(node, Seq):
        return [evaluate(x, variables, raw, used) for x in flatten(node, variables, used)]
    assert isinstance(node, Map)
    return {k: evaluate(v, variables, raw, used) for k, v in node.items.items()}


def require_map(node: Node | None, what: str) -> Map | None:
    if node is None or isinstance(node, Map):
        return node
    raise node.error(f"`{what}` must be a mapping")


__all__ = [
    "RecipeError",
    "branch",
    "evaluate",
    "flatten",
    "is_conditional",
    "require_map",
    "resolve",
    "scalar_value",
]
