"""Variant configs: `variants.yaml`, `conda_build_config.yaml` and CI files, and their combinations.

A config maps each key to a list of values; `zip_keys` groups keys whose values go together.
Files loaded later override earlier ones key by key. `conda_build_config.yaml` may use the old
`# [selector]` line comments; `if/then/else` list items work in every file.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from naja.build.errors import VariantConfigError
from naja.build.jinja_env import TemplateError, evaluate_expression
from naja.build.value_class import ValueClass
from naja.build.yaml_nodes import Map, Node, Scalar, Seq, parse_yaml, plain_value

# typing is only needed by type checkers: annotations stay strings here (PEP 563), and
# importing it costs ~2 ms of every `naja build --render-only`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Keys that configure the matrix rather than being a dimension of it.
_META_KEYS = frozenset({"zip_keys", "pin_run_as_build", "extend_keys"})
_LEGACY_SELECTOR = re.compile(r"#\s*\[(?P<expr>[^\]]+)\]\s*$")


class VariantConfig(ValueClass):
    """Keys -> candidate values, and the groups of keys zipped together."""

    __slots__ = ("values", "zip_keys")
    _fields_ = ("values", "zip_keys")

    def __init__(
        self,
        values: dict[str, list[Any]] | None = None,
        zip_keys: list[list[str]] | None = None,
    ) -> None:
        self.values = {} if values is None else values
        self.zip_keys = [] if zip_keys is None else zip_keys

    def merge(self, other: VariantConfig) -> None:
        """Layer `other` on top: its keys replace ours, its zip groups replace overlapping ones."""
        self.values.update(other.values)
        if other.zip_keys:
            taken = {k for group in other.zip_keys for k in group}
            kept = [g for g in self.zip_keys if not taken.intersection(g)]
            self.zip_keys = kept + [list(g) for g in other.zip_keys]

    def combinations(self, used: Iterable[str]) -> list[dict[str, Any]]:
        """Every distinct assignment of the `used` keys (zipped keys move together)."""
        used_set = {k for k in used if k in self.values}
        dims: list[list[dict[str, Any]]] = []
        done: set[str] = set()
        for group in self.zip_keys:
            present = [k for k in group if k in self.values]
            if not used_set.intersection(present):
                continue
            length = min(len(self.values[k]) for k in present)
            lengths = {len(self.values[k]) for k in present}
            if len(lengths) > 1:
                raise VariantConfigError(
                    f"zip_keys group {group} has keys with different numbers of values "
                    f"({', '.join(f'{k}: {len(self.values[k])}' for k in present)})"
                )
            dims.append(
                [{k: self.values[k][i] for k in present if k in used_set} for i in range(length)]
            )
            done.update(present)
        for key in sorted(used_set - done):
            dims.append([{key: v} for v in self.values[key]])
        result: list[dict[str, Any]] = []
        seen: set[str] = set()
        for combo in itertools.product(*dims):
            merged: dict[str, Any] = {}
            for part in combo:
                merged.update(part)
            marker = repr(sorted(merged.items(), key=lambda kv: kv[0]))
            if marker not in seen:
                seen.add(marker)
                result.append(merged)
        return result


def legacy_selector_variables(platform_vars: Mapping[str, Any]) -> dict[str, Any]:
    """conda-build's extra selector names (`linux64`, `win64`, `x86`, ...) for old-style files."""
    extra = dict(platform_vars)
    target = str(platform_vars.get("target_platform", ""))
    os_name, _, arch = target.partition("-")
    extra[f"{os_name}{arch}"] = True if arch in ("64", "32") else extra.get(f"{os_name}{arch}")
    if platform_vars.get("x86_64") or (arch in ("64", "32") and os_name in ("linux", "win", "osx")):
        extra["x86"] = True
    return extra


def _strip_legacy_selectors(text: str, variables: Mapping[str, Any]) -> str:
    lines = []
    for line in text.splitlines():
        m = _LEGACY_SELECTOR.search(line)
        if m is not None:
            try:
                keep = evaluate_expression(m.group("expr"), variables)
            except TemplateError:
                keep = False
            if not keep:
                continue
            line = line[: m.start()].rstrip()
        lines.append(line)
    return "\n".join(lines) + "\n"


def _values(node: Node, variables: Mapping[str, Any]) -> list[Any]:
    """A key's values with `if/then/else` items resolved (a scalar is a one-item list)."""
    if isinstance(node, Scalar):
        value = plain_value(node)
        return [] if value is None else [value]
    if isinstance(node, Map):
        if "if" in node.items:
            return _conditional(node, variables)
        raise node.error("variant values must be a list (or a single value)")
    assert isinstance(node, Seq)
    out: list[Any] = []
    for item in node.items:
        if isinstance(item, Map) and "if" in item.items:
            out.extend(_conditional(item, variables))
        elif isinstance(item, Scalar):
            value = plain_value(item)
            if value is not None:
                out.append(value)
        else:
            raise item.error("variant values must be scalars")
    return out


def _conditional(node: Map, variables: Mapping[str, Any]) -> list[Any]:
    cond = node.items["if"]
    if not isinstance(cond, Scalar):
        raise cond.error("`if:` needs an expression")
    try:
        taken = evaluate_expression(cond.value, variables)
    except TemplateError as exc:
        raise cond.error(str(exc)) from None
    branch = node.items.get("then") if taken else node.items.get("else")
    if branch is None:
        return []
    return _values(branch, variables)


def load_variant_file(path: Path, platform_vars: Mapping[str, Any]) -> VariantConfig:
    """Read one variant file, resolving selectors for the given platform variables."""
    text = path.read_text(encoding="utf-8")
    variables = legacy_selector_variables(platform_vars)
    if "#" in text and "[" in text:
        text = _strip_legacy_selectors(text, variables)
    root = parse_yaml(text, path)
    config = VariantConfig()
    zip_node: Node | None = None
    if root is None or (isinstance(root, Scalar) and plain_value(root) is None):
        return config
    if not isinstance(root, Map):
        raise root.error("a variant file must be a mapping of keys to lists of values")
    for key, node in root.items.items():
        if key == "zip_keys":
            zip_node = node
            config.zip_keys = _zip_groups(node)
            continue
        if key in _META_KEYS:
            continue
        values = _values(node, variables)
        if values:
            config.values[key] = values
    _check_zip_lengths(config, zip_node)
    return config


def _check_zip_lengths(config: VariantConfig, zip_node: Node | None) -> None:
    """Keys zipped together in one file must have as many values as each other."""
    if zip_node is None:
        return
    for group in config.zip_keys:
        lengths = {k: len(config.values[k]) for k in group if k in config.values}
        if len(set(lengths.values())) > 1:
            counts = ", ".join(f"{k}: {n}" for k, n in lengths.items())
            raise zip_node.error(
                f"zip_keys group {group} zips keys with different numbers of values ({counts})",
                hint="give every key of a zip group the same number of values",
            )


def _zip_groups(node: Node) -> list[list[str]]:
    if not isinstance(node, Seq):
        raise node.error("zip_keys must be a list of lists of keys")
    groups: list[list[str]] = []
    for item in node.items:
        if isinstance(item, Seq):
            groups.append([x.value for x in item.items if isinstance(x, Scalar)])
        else:
            raise item.error("each zip_keys entry must be a list of keys")
    return groups


def recipe_variant_files(recipe_dir: Path) -> list[Path]:
    """The variant files rattler-build loads on its own from the recipe folder."""
    return [p for p in (recipe_dir / "conda_build_config.yaml", recipe_dir / "variants.yaml") if p.is_file()]


def load_variant_config(
    files: Iterable[Path], platform_vars: Mapping[str, Any]
) -> VariantConfig:
    """Merge variant files in order (later wins) and inject the platform keys."""
    config = VariantConfig()
    for path in files:
        config.merge(load_variant_file(path, platform_vars))
    config.values["target_platform"] = [platform_vars["target_platform"]]
    config.values["build_platform"] = [platform_vars["build_platform"]]
    return config
