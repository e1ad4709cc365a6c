"""Rendering a recipe: for each output and each variant it uses, the stage-1 recipe and its hash.

No network and no solving: pins stay unresolved, compilers become package specs. The flow is
rattler-build's: find the variant keys each output reads, form their combinations, evaluate the
context and every section per combination, drop skipped variants, then hash the used variant.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naja.build import stage1
from naja.build.errors import RecipeError
from naja.build.hashing import default_build_string, hash_prefix, variant_hash
from naja.build.jinja_env import (
    TemplateError,
    evaluate_expression,
    expression_variables,
    is_template,
    template_variables,
)
from naja.build.jinja_functions import recipe_functions
from naja.build.outputs import merge_output, output_items
from naja.build.platform_vars import platform_variables
from naja.build.selectors import (
    condition,
    evaluate,
    flatten,
    is_conditional,
    require_map,
    resolve,
)
from naja.build.used_vars import bare_requirement_names, node_variables, script_variables
from naja.build.variants import VariantConfig, load_variant_config, recipe_variant_files
from naja.build.yaml_nodes import Map, Node, Scalar, Seq, parse_yaml

# Variant keys recorded for every output when the config has them.
_ALWAYS_KEYS = ("channel_targets", "channel_sources")
_SCRIPT_RAW = True


@dataclass(slots=True)
class RenderedOutput:
    """One output of one variant, ready to be written as rattler-build's render JSON."""

    recipe: dict[str, Any]
    variant: dict[str, Any]
    hash: str
    prefix: str
    target_platform: str
    host_platform: str
    build_platform: str
    channels: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.recipe["package"]["name"]

    @property
    def build_string(self) -> str:
        return self.recipe["build"]["string"]


@dataclass(slots=True)
class _Job:
    node: Map
    leaf: _Leaf
    combo: dict[str, Any]
    rendered: RenderedOutput


def _exact_pins(recipe: dict[str, Any]) -> list[str]:
    """Names pinned with `pin_subpackage(..., exact=True)` in the rendered requirements."""
    names: list[str] = []
    reqs = recipe.get("requirements") or {}
    for section in ("build", "host", "run", "run_constraints"):
        for dep in reqs.get(section) or []:
            if isinstance(dep, dict):
                pin = dep.get("pin_subpackage")
                if isinstance(pin, dict) and pin.get("exact") and pin["name"] not in names:
                    names.append(pin["name"])
    return names


def _compatible(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two variant assignments agree on every key they share."""
    return all(b[k] == v for k, v in a.items() if k in b)


@dataclass(slots=True)
class _Leaf:
    node: Map
    # Conditions on the path to this output in `outputs:` (node, wanted truth value).
    guards: list[tuple[Map, bool]]


def _leaf_outputs(items: list[Node], guards: list[tuple[Map, bool]]) -> list[_Leaf]:
    leaves: list[_Leaf] = []
    for item in items:
        if is_conditional(item):
            assert isinstance(item, Map)
            for want, key in ((True, "then"), (False, "else")):
                sub = item.items.get(key)
                if sub is None:
                    continue
                subs = sub.items if isinstance(sub, Seq) else [sub]
                leaves.extend(_leaf_outputs(subs, [*guards, (item, want)]))
        elif isinstance(item, Map):
            leaves.append(_Leaf(item, guards))
        else:
            raise item.error("each output must be a mapping")
    return leaves


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
        self.root = root
        self.target_platform = target_platform
        self.build_platform = build_platform
        self.platform_vars = platform_variables(target_platform, build_platform)
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
            leaves = [_Leaf(self.root, [])]
            multi = False
        else:
            leaves = _leaf_outputs(items, [])
            multi = True
        jobs: list[_Job] = []
        for leaf in leaves:
            node = merge_output(self.root, leaf.node) if multi else leaf.node
            if multi and ("staging" in leaf.node.items or "cache" in leaf.node.items):
                continue
            queue = self.config.combinations(self._used_keys(node))
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
                    jobs.append(_Job(node, leaf, combo, rendered))
        jobs = self._apply_exact_pins(jobs)
        results: list[RenderedOutput] = []
        seen: set[str] = set()
        for job in jobs:
            rendered = job.rendered
            marker = repr((rendered.name, sorted(rendered.variant.items()), rendered.build_string))
            if marker not in seen:
                seen.add(marker)
                results.append(rendered)
        return results

    def _apply_exact_pins(self, jobs: list[_Job]) -> list[_Job]:
        """`pin_subpackage(x, exact=True)` puts x's `version build` into the pinning variant.

        An output pinning x exactly exists once per variant of x it is compatible with (a noarch
        meta-package pinning a python extension gets one render per python). Outputs are handled
        in dependency order so a pinned output's own pins are settled first.
        """
        by_name: dict[str, list[_Job]] = {}
        for job in jobs:
            by_name.setdefault(job.rendered.name, []).append(job)
        final: dict[int, list[_Job]] = {}
        busy: set[int] = set()

        def finish(job: _Job) -> list[_Job]:
            if id(job) in final:
                return final[id(job)]
            if id(job) in busy:
                return [job]  # a cycle: keep the first render
            busy.add(id(job))
            names = [
                n
                for n in _exact_pins(job.rendered.recipe)
                if n in by_name and n != job.rendered.name
            ]
            options: list[list[_Job]] = []
            for name in names:
                expanded = [
                    done
                    for target in by_name[name]
                    if _compatible(target.combo, job.combo)
                    for done in finish(target)
                ]
                if expanded:
                    options.append(expanded)
            result: list[_Job] = []
            if not options:
                result = [job]
            else:
                for choice in itertools.product(*options):
                    combo = dict(job.combo)
                    pins: dict[str, str] = {}
                    clash = False
                    for target in choice:
                        if not _compatible(target.combo, combo):
                            clash = True
                            break
                        combo.update(target.combo)
                        key = target.rendered.name.replace("-", "_")
                        version = target.rendered.recipe["package"]["version"]
                        pins[key] = f"{version} {target.rendered.build_string}"
                    if clash:
                        continue
                    rendered, _ = self._render_one(job.node, job.leaf, job.combo, pins)
                    if rendered is not None:
                        result.append(_Job(job.node, job.leaf, combo, rendered))
                if not result:
                    result = [job]
            final[id(job)] = result
            return result

        out: list[_Job] = []
        for job in jobs:
            out.extend(finish(job))
        return out

    def _render_one(
        self, node: Map, leaf: _Leaf, combo: dict[str, Any], pins: dict[str, str]
    ) -> tuple[RenderedOutput | None, set[str]]:
        variables: dict[str, Any] = {
            **recipe_functions(combo, self.target_platform),
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
        if build_node is not None and _skipped(build_node, variables, used):
            return None, set()
        package = evaluate(node.items.get("package"), variables, used=used) or {}
        build = self._evaluate_build(build_node, variables, used)
        noarch = build.get("noarch") or None
        sources = evaluate(node.items.get("source"), variables, used=used)
        requirements = evaluate(node.items.get("requirements"), variables, used=used)
        tests = self._evaluate_tests(node.items.get("tests"), variables, used)
        about = evaluate(node.items.get("about"), variables, used=used)
        extra = evaluate(node.items.get("extra"), variables, used=used)
        string_node = build_node.items.get("string") if build_node is not None else None
        if string_node is not None:
            node_variables(string_node, used)
        script_variables(node, used)
        used.update(_bare_dependencies(requirements, self.config.values))
        variant_cfg = build.get("variant") if isinstance(build.get("variant"), dict) else {}
        used.update(str(k) for k in variant_cfg.get("use_keys") or [])
        missing = {k for k in used if k in self.config.values and k not in combo and k not in context}
        if missing:
            return None, missing
        variant = {k: combo[k] for k in self.config.values if k in used and k in combo and k not in context}
        for key in _ALWAYS_KEYS:
            if key in self.config.values:
                variant[key] = self.config.values[key][0]
        if self.target_platform.startswith("osx-") and "MACOSX_DEPLOYMENT_TARGET" in self.config.values:
            # Recorded for every macOS output: it sets the deployment target of the build.
            variant["MACOSX_DEPLOYMENT_TARGET"] = self.config.values["MACOSX_DEPLOYMENT_TARGET"][0]
        variant_cfg = build.get("variant") if isinstance(build.get("variant"), dict) else {}
        for key in variant_cfg.get("ignore_keys") or []:
            variant.pop(str(key), None)
        if noarch == "python":
            # A noarch python package is the same for every python: python is not a dimension.
            variant.pop("python", None)
        variant.update(pins)
        variant.update(_virtual_run_dependencies(requirements))
        variant["target_platform"] = "noarch" if noarch else self.target_platform
        hash_ = variant_hash(variant)
        prefix = hash_prefix(variant, noarch)
        number = _build_number(build.get("number"), build_node)
        if string_node is not None:
            string_vars = {"build_number": number, **variables, "hash": hash_}
            string = stage1._str(evaluate(string_node, string_vars))
        else:
            string = default_build_string(prefix, hash_, number)
        recipe: dict[str, Any] = {"schema_version": 1}
        if "context" in self.root.items:
            recipe["context"] = context
        recipe["package"] = stage1.package(package)
        srcs = stage1.sources(sources)
        if srcs:
            recipe["source"] = srcs
        build_out = stage1.build(build)
        build_out["number"] = number
        build_out["string"] = string
        recipe["build"] = build_out
        recipe["requirements"] = stage1.requirements(requirements)
        tests_out = stage1.tests(tests)
        if tests_out:
            recipe["tests"] = tests_out
        about_out = stage1.about(about)
        if about_out:
            recipe["about"] = about_out
        if extra:
            recipe["extra"] = stage1._prune(extra)
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


def _virtual_run_dependencies(requirements: Any) -> dict[str, str]:
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


def _bare_dependencies(requirements: Any, config: dict[str, list[Any]]) -> set[str]:
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


def _skipped(build: Map, variables: dict[str, Any], used: set[str]) -> bool:
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


__all__ = ["RecipeRenderer", "RenderedOutput", "template_variables"]
