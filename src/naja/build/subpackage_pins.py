"""`pin_subpackage(x, exact=True)` between outputs: the pinned build goes into the variant.

The pinning output records `x: "<version> <build string>"` in its variant (so its hash changes
with x's), and exists once per variant of x it is compatible with: a noarch meta-package pinning
a python extension is rendered once per python.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from naja.build.value_class import ValueClass

# typing is only needed by type checkers: annotations stay strings here (PEP 563), and
# importing it costs ~2 ms of every `naja build --render-only`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Job(ValueClass):
    __slots__ = ("combo", "leaf", "node", "rendered")
    _fields_ = ("node", "leaf", "combo", "rendered")

    def __init__(self, node: Any, leaf: Any, combo: dict[str, Any], rendered: Any) -> None:
        self.node = node
        self.leaf = leaf
        self.combo = combo
        self.rendered = rendered


# Renders a job again with the given pin entries; None if the output vanished (skipped).
if TYPE_CHECKING:
    Rerender = Callable[[Job, dict[str, str]], Any]


def exact_pins(recipe: dict[str, Any]) -> list[str]:
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


def compatible(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two variant assignments agree on every key they share."""
    return all(b[k] == v for k, v in a.items() if k in b)


def apply_exact_pins(jobs: list[Job], rerender: Rerender) -> list[Job]:
    """`pin_subpackage(x, exact=True)` puts x's `version build` into the pinning variant.

    An output pinning x exactly exists once per variant of x it is compatible with (a noarch
    meta-package pinning a python extension gets one render per python). Outputs are handled
    in dependency order so a pinned output's own pins are settled first.
    """
    by_name: dict[str, list[Job]] = {}
    for job in jobs:
        by_name.setdefault(job.rendered.name, []).append(job)
    final: dict[int, list[Job]] = {}
    busy: set[int] = set()

    def finish(job: Job) -> list[Job]:
        if id(job) in final:
            return final[id(job)]
        if id(job) in busy:
            return [job]  # a cycle: keep the first render
        busy.add(id(job))
        names = [
            n
            for n in exact_pins(job.rendered.recipe)
            if n in by_name and n != job.rendered.name
        ]
        options: list[list[Job]] = []
        for name in names:
            expanded = [
                done
                for target in by_name[name]
                if compatible(target.combo, job.combo)
                for done in finish(target)
            ]
            if expanded:
                options.append(expanded)
        result: list[Job] = []
        if not options:
            result = [job]
        else:
            for choice in itertools.product(*options):
                combo = dict(job.combo)
                pins: dict[str, str] = {}
                clash = False
                for target in choice:
                    if not compatible(target.combo, combo):
                        clash = True
                        break
                    combo.update(target.combo)
                    key = target.rendered.name.replace("-", "_")
                    version = target.rendered.recipe["package"]["version"]
                    pins[key] = f"{version} {target.rendered.build_string}"
                if clash:
                    continue
                rendered = rerender(job, pins)
                if rendered is not None:
                    result.append(Job(job.node, job.leaf, combo, rendered))
            if not result:
                result = [job]
        final[id(job)] = result
        return result

    out: list[Job] = []
    for job in jobs:
        out.extend(finish(job))
    return out
