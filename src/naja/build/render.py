"""Rendering a recipe: for each output and each variant it uses, the stage-1 recipe and its hash.

No network and no solving: pins stay unresolved, compilers become package specs. The flow is
rattler-build's: find the variant keys each output reads, form their combinations, evaluate the
context and every section per combination, drop skipped variants, then hash the used variant.
"""

from __future__ import annotations

from pathlib import Path

from naja.build import stage1
from naja.build.errors import RecipeError
from naja.build.hashing import default_build_string, hash_prefix, variant_hash
from naja.build.jinja_env import (
    template_variables,
)
from naja.build.jinja_functions import file_loader, recipe_functions
from naja.build.outputs import (
    Leaf,
    inherited_staging,
    leaf_outputs,
    merge_output,
    output_items,
    staging_name,
)
from naja.build.platform_vars import platform_variables
from naja.build.schema import check_recipe
from naja.build.selectors import (
    condition,
    evaluate,
    flatten,
    require_map,
    resolve,
)
from naja.build.skip import is_skipped, skip_variables
from naja.build.subpackage_pins import Job, apply_exact_pins
from naja.build.used_vars import (
    bare_dependencies,
    bare_requirement_names,
    node_variables,
    script_variables,
)
from naja.build.value_class import ValueClass
from naja.build.variant_record import record_variant, use_keys
from naja.build.variants import VariantConfig, load_variant_config, recipe_variant_files
from naja.build.yaml_nodes import Map, Node, Scalar, Seq, parse_yaml

# typing is only needed by type checkers: annotations stay strings here (PEP 563), and
# importing it costs ~2 ms of every `naja build --render-only`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class RenderedOutput(ValueClass):
    """One output of one variant, ready to be written as rattler-build's render JSON."""

    __slots__ = (
        "build_platform",
        "channels",
        "hash",
        "host_platform",
        "prefix",
        "recipe",
        "target_platform",
        "variant",
    )
    _fields_ = (
        "recipe",
        "variant",
        "hash",
        "prefix",
        "target_platform",
        "host_platform",
        "build_platform",
        "channels",
    )

    def __init__(
        self,
        recipe: dict[str, Any],
        variant: dict[str, Any],
        hash: str,
        prefix: str,
        target_platform: str,
        host_platform: str,
        build_platform: str,
        channels: list[str] | None = None,
    ) -> None:
        self.recipe = recipe
        self.variant = variant
        self.hash = hash
        self.prefix = prefix
        self.target_platform = target_platform
        self.host_platform = host_platform
        self.build_platform = build_platform
        self.channels = [] if channels is None else channels

    @property
    def name(self) -> str:
        return self.recipe["package"]["name"]

    @property
    def build_string(self) -> str:
        return self.recipe["build"]["string"]


def _channels(variant_config: VariantConfig) -> list[str]:
    sources = variant_config.values.get("channel_sources")
    names = ["conda-forge"]
    if sources:
        names = [c.strip() for c in str(sources[0]).split(",") if c.strip()]
    return [c if "://" in c else f"https://conda.anaconda.org/{c}" for c in names]


class RecipeRenderer:
    """Renders one recipe for one target platform and variant config."""

    def __init__(
        self,
        recipe_path: Path,
        variant_files: list[Path],
        target_platform: str,
        build_platform: str = "linux-64",
        text: str | None = None,
        root: Map | None = None,
    ) -> None:
        self.recipe_path = recipe_path
        if root is None:
            if text is None:
                text = recipe_path.read_text(encoding="utf-8")
            parsed = parse_yaml(text, recipe_path)
            if not isinstance(parsed, Map):
                raise RecipeError("a recipe must be a YAML mapping", path=recipe_path)
            root = parsed
            check_recipe(root)
        self.root = root
        self.target_platform = target_platform
        self.build_platform = build_platform
        self.platform_vars = platform_variables(target_platform, build_platform)
        self._load_from_file = file_loader(recipe_path.parent)
        files = [*recipe_variant_files(recipe_path.parent), *variant_files]
        self.config = load_variant_config(files, self.platform_vars)
        self.context = require_map(root.items.get("context"), "context")
        self.context_deps: dict[str, frozenset[str]] = {}
        if self.context is not None:
            for key, node in self.context.items.items():
                names: set[str] = set()
                node_variables(node, names)
                self.context_deps[key] = frozenset(names)

    # -- variables -------------------------------------------------------------------------
    def _used_keys(self, node: Map) -> list[str]:
        names: set[str] = set()
        node_variables(node, names)
        bare_requirement_names(node.items.get("requirements"), names)
        build = node.items.get("build")
        names.update(skip_variables(build if isinstance(build, Map) else None))
        if isinstance(build, Map) and isinstance(build.items.get("variant"), Map):
            use_keys = build.items["variant"].items.get("use_keys")  # type: ignore[union-attr]
            if isinstance(use_keys, Seq):
                names.update(x.value for x in use_keys.items if isinstance(x, Scalar))
        for deps in self.context_deps.values():
            names.update(deps)
        # A context entry shadows the variant key of the same name, unless the context reads it
        # (`mpi: ${{ mpi | default('mpich') }}`).
        read_by_context = set().union(*self.context_deps.values()) if self.context_deps else set()
        shadowed = set(self.context_deps) - read_by_context
        keys = [k for k in self.config.values if k in names and k not in shadowed]
        if "target_platform" not in keys:
            keys.append("target_platform")
        return keys

    def _evaluate_context(self, variables: dict[str, Any], used: set[str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if self.context is None:
            return values
        for key, node in self.context.items.items():
            value = evaluate(node, variables, used=used)
            values[key] = value
            variables[key] = value
        return values

    # -- rendering -------------------------------------------------------------------------
    def render(self) -> list[RenderedOutput]:
        items = output_items(self.root)
        if items is None:
            leaves = [Leaf(self.root, [])]
            multi = False
        else:
            leaves = leaf_outputs(items, [])
            multi = True
        stagings = {
            name: leaf.node for leaf in leaves if (name := staging_name(leaf.node)) is not None
        }
        jobs: list[Job] = []
        for leaf in leaves:
            if multi and "staging" in leaf.node.items:
                # A staging output only prepares files for others; it is not a package.
                continue
            node = merge_output(self.root, leaf.node) if multi else leaf.node
            if multi:
                leaf.staging = inherited_staging(self.root, leaf.node, stagings)
            used_keys = self._used_keys(node)
            if leaf.staging is not None:
                used_keys = list(dict.fromkeys([*used_keys, *self._used_keys(leaf.staging)]))
            queue = self.config.combinations(used_keys)
            while queue:
                combo = queue.pop(0)
                rendered, missing = self._render_one(node, leaf, combo, {})
                if missing:
                    # A rendered dependency named a variant key the static scan could not see
                    # (`- ${{ mpi }}` -> `openmpi`): render again once per value of that key.
                    wanted = set(combo) | missing
                    queue[:0] = [
                        c
                        for c in self.config.combinations(wanted)
                        if all(c.get(k) == v for k, v in combo.items())
                    ]
                    continue
                if rendered is not None:
                    jobs.append(Job(node, leaf, combo, rendered))
        jobs = apply_exact_pins(jobs, self._rerender)
        results: list[RenderedOutput] = []
        seen: set[str] = set()
        for job in jobs:
            rendered = job.rendered
            marker = repr((rendered.name, sorted(rendered.variant.items()), rendered.build_string))
            if marker not in seen:
                seen.add(marker)
                results.append(rendered)
        return results

    def _rerender(self, job: Job, pins: dict[str, str]) -> RenderedOutput | None:
        return self._render_one(job.node, job.leaf, job.combo, pins)[0]

    def _render_one(
        self, node: Map, leaf: Leaf, combo: dict[str, Any], pins: dict[str, str]
    ) -> tuple[RenderedOutput | None, set[str]]:
        variables: dict[str, Any] = {
            **recipe_functions(combo, self.target_platform),
            "load_from_file": self._load_from_file,
            **self.platform_vars,
            **combo,
        }
        used: set[str] = set()
        # Every context entry is evaluated for every output: what it reads counts as used.
        context = self._evaluate_context(variables, used)
        for guard, want in leaf.guards:
            if condition(guard, variables, used) != want:
                return None, set()
        build_node = require_map(node.items.get("build"), "build")
        if build_node is not None and is_skipped(build_node, variables, used):
            return None, set()
        package = evaluate(node.items.get("package"), variables, used=used) or {}
        build = self._evaluate_build(build_node, variables, used)
        noarch = build.get("noarch") or None
        sources = evaluate(node.items.get("source"), variables, used=used)
        requirements = evaluate(node.items.get("requirements"), variables, used=used)
        if leaf.staging is not None:
            # What the staging build reads is part of every output built from it.
            staged = evaluate(leaf.staging.items.get("requirements"), variables, used=used)
            evaluate(leaf.staging.items.get("source"), variables, used=used)
            self._evaluate_build(require_map(leaf.staging.items.get("build"), "build"), variables, used)
            used.update(bare_dependencies(staged, self.config.values))
        tests = self._evaluate_tests(node.items.get("tests"), variables, used)
        about = evaluate(node.items.get("about"), variables, used=used)
        extra = evaluate(node.items.get("extra"), variables, used=used)
        string_node = build_node.items.get("string") if build_node is not None else None
        if string_node is not None:
            node_variables(string_node, used)
        script_variables(node, used)
        used.update(bare_dependencies(requirements, self.config.values))
        used.update(use_keys(build))
        missing = {k for k in used if k in self.config.values and k not in combo and k not in context}
        if missing:
            return None, missing
        variant = record_variant(
            self.config, self.target_platform, used, combo, context, build, requirements, pins
        )
        hash_ = variant_hash(variant)
        prefix = hash_prefix(variant, noarch)
        number = _build_number(build.get("number"), build_node)
        if string_node is not None:
            string_vars = {"build_number": number, **variables, "hash": hash_}
            string = stage1.as_text(evaluate(string_node, string_vars))
        else:
            string = default_build_string(prefix, hash_, number)
        recipe = stage1.assemble(
            context,
            package,
            sources,
            build,
            number,
            string,
            requirements,
            tests,
            about,
            extra,
        )
        return (
            RenderedOutput(
                recipe=recipe,
                variant=variant,
                hash=hash_,
                prefix=prefix,
                target_platform="noarch" if noarch else self.target_platform,
                host_platform=self.target_platform,
                build_platform=self.build_platform,
                channels=_channels(self.config),
            ),
            set(),
        )

    def _evaluate_build(
        self, node: Map | None, variables: dict[str, Any], used: set[str]
    ) -> dict[str, Any]:
        if node is None:
            return {}
        out: dict[str, Any] = {}
        for key, value in node.items.items():
            if key in ("string", "skip"):
                continue
            if key == "script":
                out[key] = _evaluate_script(value, variables, used)
            else:
                out[key] = evaluate(value, variables, used=used)
        return out

    def _evaluate_tests(
        self, node: Node | None, variables: dict[str, Any], used: set[str]
    ) -> list[Any]:
        node = resolve(node, variables, used)
        if node is None:
            return []
        items = flatten(node, variables, used) if isinstance(node, Seq) else [node]
        out = []
        for item in items:
            item = resolve(item, variables, used)
            if not isinstance(item, Map):
                continue
            test: dict[str, Any] = {}
            for key, value in item.items.items():
                if key == "script":
                    test[key] = _evaluate_script(value, variables, used)
                else:
                    test[key] = evaluate(value, variables, used=used)
            out.append(test)
        return out


def _evaluate_script(node: Node | None, variables: dict[str, Any], used: set[str]) -> Any:
    """Script bodies stay verbatim; selectors around lines and `env` values are evaluated."""
    node = resolve(node, variables, used)
    if isinstance(node, Map):
        out: dict[str, Any] = {}
        for key, value in node.items.items():
            if key == "content":
                out[key] = evaluate(value, variables, raw=True, used=used)
            else:
                out[key] = evaluate(value, variables, used=used)
        return out
    return evaluate(node, variables, raw=True, used=used)


def _build_number(value: Any, node: Map | None) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(str(value))
    except ValueError:
        where = node.items.get("number") if node is not None else None
        if isinstance(where, Scalar):
            raise where.error(f"build number must be an integer, got {value!r}") from None
        raise RecipeError(f"build number must be an integer, got {value!r}") from None


__all__ = ["RecipeRenderer", "RenderedOutput", "template_variables"]
