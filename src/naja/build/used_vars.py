"""Which variant keys an output reads: found statically in the raw recipe, before rendering.

The static scan (every name any template or condition could read, in all branches) gives the
keys whose combinations are rendered; after rendering, the names actually read, bare
`build`/`host` requirement names that are variant keys, and virtual packages in `run` decide
what the output's variant records.
"""

from __future__ import annotations

from naja.build.jinja_env import expression_variables, is_template, template_variables
from naja.build.yaml_nodes import Map, Node, Scalar, Seq

# typing is only needed by type checkers: annotations stay strings here (PEP 563), and
# importing it costs ~2 ms of every `naja build --render-only`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def node_variables(node: Node | None, out: set[str]) -> None:
    """Add every name read by templates and conditions under `node` to `out`."""
    if node is None:
        return
    if isinstance(node, Scalar):
        if is_template(node.value):
            out.update(template_variables(node.value))
        return
    if isinstance(node, Seq):
        for item in node.items:
            node_variables(item, out)
        return
    assert isinstance(node, Map)
    for key, value in node.items.items():
        if key == "if" and isinstance(value, Scalar) and "then" in node.items:
            if is_template(value.value):
                out.update(template_variables(value.value))
            else:
                out.update(expression_variables(value.value))
        else:
            node_variables(value, out)


def bare_requirement_names(requirements: Node | None, out: set[str]) -> None:
    """Names of build/host requirements written without any version (`- python`)."""
    if not isinstance(requirements, Map):
        return
    for section in ("build", "host"):
        _bare(requirements.items.get(section), out)


def _bare(node: Node | None, out: set[str]) -> None:
    if isinstance(node, Scalar):
        text = node.value.strip()
        if text and not is_template(text) and " " not in text:
            out.add(text)
    elif isinstance(node, Seq):
        for item in node.items:
            _bare(item, out)
    elif isinstance(node, Map):
        for key in ("then", "else"):
            _bare(node.items.get(key), out)


def script_variables(node: Node | None, out: set[str], inside: bool = False) -> None:
    """Names read by templates inside `script:` bodies, in every branch.

    Scripts are rendered only at build time, so rattler-build finds their variables by a scan of
    the text rather than by evaluating them.
    """
    if node is None:
        return
    if isinstance(node, Scalar):
        if inside and is_template(node.value):
            out.update(template_variables(node.value))
    elif isinstance(node, Seq):
        for item in node.items:
            script_variables(item, out, inside)
    elif isinstance(node, Map):
        for key, value in node.items.items():
            if key == "if" and isinstance(value, Scalar):
                continue
            script_variables(value, out, inside or key == "script")


def virtual_run_dependencies(requirements: Any) -> dict[str, str]:
    """Virtual packages (`__unix`, `__cuda >=12`) in run requirements become variant keys, so
    that e.g. a noarch package for unix and one for windows get different hashes."""
    found: dict[str, str] = {}
    if not isinstance(requirements, dict):
        return found
    for dep in requirements.get("run") or []:
        if isinstance(dep, str) and dep.strip().startswith("__"):
            text = " ".join(dep.split())
            found[text.split(" ")[0]] = text
    return found


def bare_dependencies(requirements: Any, config: dict[str, list[Any]]) -> set[str]:
    """Variant keys named by rendered build/host requirements written without a version."""
    found: set[str] = set()
    if not isinstance(requirements, dict):
        return found
    for section in ("build", "host"):
        deps = requirements.get(section)
        if not isinstance(deps, list):
            continue
        for dep in deps:
            if not isinstance(dep, str):
                continue
            text = dep.strip()
            if not text or " " in text:
                continue
            for key in (text, text.replace("-", "_")):
                if key in config:
                    found.add(key)
    return found
