"""Splitting a recipe into its outputs: the single-output form, or `outputs:` merged with the root.

In a multi-output recipe the root's `build`, `about`, `extra` and `requirements` are defaults
that each output's own keys override one key at a time; `source` and the rest are inherited
unless the output sets them; `recipe:` gives the default version.
"""

from __future__ import annotations

from naja.build.selectors import is_conditional
from naja.build.value_class import ValueClass
from naja.build.yaml_nodes import Map, Node, Scalar, Seq

_ROOT_ONLY = frozenset({"outputs", "recipe", "context", "schema_version", "package", "cache"})
_MERGED = frozenset({"build", "about", "extra", "requirements"})


def _merge_maps(base: Map, over: Map) -> Map:
    items = dict(base.items)
    keys = dict(base.keys)
    items.update(over.items)
    keys.update(over.keys)
    return Map(items, keys, over.line, over.col, over.src)


def merge_output(root: Map, output: Map) -> Map:
    """An output merged over the root's inheritable keys."""
    items: dict[str, Node] = {}
    keys: dict[str, Scalar] = {}
    for key, value in root.items.items():
        if key in _ROOT_ONLY:
            continue
        items[key] = value
        keys[key] = root.keys[key]
    for key, value in output.items.items():
        base = items.get(key)
        if key in _MERGED and isinstance(base, Map) and isinstance(value, Map):
            items[key] = _merge_maps(base, value)
        else:
            items[key] = value
        keys[key] = output.keys[key]
    package = output.items.get("package")
    recipe = root.items.get("recipe")
    if isinstance(package, Map) and isinstance(recipe, Map) and "version" not in package.items:
        version = recipe.items.get("version")
        if version is not None:
            pkg_items = dict(package.items)
            pkg_items["version"] = version
            items["package"] = Map(pkg_items, dict(package.keys), package.line, package.col, package.src)
    return Map(items, keys, output.line, output.col, output.src)


def output_items(root: Map) -> list[Node] | None:
    """The raw items of `outputs:` (conditionals included), or None for a single output."""
    outputs = root.items.get("outputs")
    if outputs is None:
        return None
    if not isinstance(outputs, Seq):
        raise outputs.error("`outputs` must be a list of outputs")
    return list(outputs.items)


class Leaf(ValueClass):
    __slots__ = ("guards", "node", "staging")
    _fields_ = ("node", "guards", "staging")

    def __init__(
        self, node: Map, guards: list[tuple[Map, bool]], staging: Map | None = None
    ) -> None:
        self.node = node
        # Conditions on the path to this output in `outputs:` (node, wanted truth value).
        self.guards = guards
        # The staging (cache) build this output inherits from, if any.
        self.staging = staging


def staging_name(node: Map) -> str | None:
    """The name of a `staging:` output (None if the item is a package)."""
    staging = node.items.get("staging")
    if isinstance(staging, Map):
        name = staging.items.get("name")
        if isinstance(name, Scalar):
            return name.value
    return None


def inherited_staging(root: Map, output: Map, stagings: dict[str, Map]) -> Map | None:
    """The staging build an output inherits: `inherit: name` / `inherit: {from: name}`, else the
    recipe's top-level `cache:` (which every output of a cache recipe builds on)."""
    inherit = output.items.get("inherit")
    if isinstance(inherit, Map):
        inherit = inherit.items.get("from")
    if isinstance(inherit, Scalar):
        found = stagings.get(inherit.value)
        if found is None:
            known = ", ".join(sorted(stagings)) or "none"
            raise inherit.error(f"no staging output named `{inherit.value}` (staging outputs: {known})")
        return found
    cache = root.items.get("cache")
    return cache if isinstance(cache, Map) else None


def leaf_outputs(items: list[Node], guards: list[tuple[Map, bool]]) -> list[Leaf]:
    leaves: list[Leaf] = []
    for item in items:
        if is_conditional(item):
            assert isinstance(item, Map)
            for want, key in ((True, "then"), (False, "else")):
                sub = item.items.get(key)
                if sub is None:
                    continue
                subs = sub.items if isinstance(sub, Seq) else [sub]
                leaves.extend(leaf_outputs(subs, [*guards, (item, want)]))
        elif isinstance(item, Map):
            leaves.append(Leaf(item, guards))
        else:
            raise item.error("each output must be a mapping")
    return leaves
