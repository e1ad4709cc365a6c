"""`build.skip`: whether an output is skipped for a variant, and which names the test reads.

`skip` takes a bare expression or a list of them (`- win`, `- match(python, "<3.10")`); templates
inside an entry are rendered first. The output is skipped if any entry holds.
"""

from __future__ import annotations

import re

from naja.build.jinja_env import (
    TemplateError,
    evaluate_expression,
    expression_variables,
    is_template,
    template_variables,
)
from naja.build.selectors import evaluate
from naja.build.used_vars import node_variables
from naja.build.yaml_nodes import Map, Scalar, Seq

# typing is only needed by type checkers: annotations stay strings here (PEP 563), and
# importing it costs ~2 ms of every `naja build --render-only`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def is_skipped(build: Map, variables: dict[str, Any], used: set[str]) -> bool:
    """Whether `build.skip` holds; each entry is a bare expression (`- win`), templates allowed."""
    node = build.items.get("skip")
    if node is None:
        return False
    value = evaluate(node, variables, used=used)
    conditions = value if isinstance(value, list) else [value]
    skip = False
    for cond in conditions:
        if isinstance(cond, str):
            try:
                if evaluate_expression(cond, variables, used):
                    skip = True
            except TemplateError as exc:
                raise node.error(str(exc)) from None
        elif cond:
            skip = True
    return skip


def skip_variables(build: Map | None) -> set[str]:
    """Every name `build.skip` may read (for the static scan that forms combinations)."""
    names: set[str] = set()
    node = build.items.get("skip") if build is not None else None
    items = node.items if isinstance(node, Seq) else [node] if node is not None else []
    for item in items:
        if isinstance(item, Scalar):
            names.update(expression_variables(_strip_templates(item.value)))
            if is_template(item.value):
                names.update(template_variables(item.value))
        else:
            node_variables(item, names)
    return names


def _strip_templates(text: str) -> str:
    return re.sub(r"\$\{\{.*?\}\}", "x", text)
