"""Scoring naja's renderer against the recipe-render corpus in one process.

Uses the corpus' own `compare_render.py` (normalisation, context-override tolerance, diff) so the
score is the one its command-line mode would give, without a process per case.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from naja.build.output_json import output_document
from naja.build.render import RecipeRenderer


def load_comparer(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("compare_render", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(slots=True)
class CaseResult:
    feedstock: str
    name: str
    status: str  # identical | differs | error
    paths: list[str] = field(default_factory=list)
    seconds: float = 0.0


def render_case(tests: Path, case: dict[str, Any]) -> list[dict[str, Any]]:
    fs = tests / case["feedstock"]
    variant = fs / "variants" / case["variant_file"] if case["variant_file"] else None
    renderer = RecipeRenderer(
        fs / "recipe" / "recipe.yaml",
        [variant] if variant else [],
        case["target_platform"] or "linux-64",
        "linux-64",
    )
    return output_document(renderer.render())


def score(
    tests: Path,
    comparer: ModuleType,
    cases: list[dict[str, Any]] | None = None,
    allow_context_override: bool = True,
) -> list[CaseResult]:
    if cases is None:
        cases = comparer.list_cases(tests)
    results = []
    for case in cases:
        t0 = time.perf_counter()
        try:
            actual = render_case(tests, case)
        except Exception as exc:  # every failure, expected or not, is a scored case
            results.append(
                CaseResult(case["feedstock"], case["name"], "error", [f"{type(exc).__name__}: {exc}"])
            )
            continue
        dt = time.perf_counter() - t0
        actual = json.loads(json.dumps(actual))
        exp_file = tests / case["feedstock"] / "expected" / (case["name"] + ".json")
        expected = json.loads(exp_file.read_text())
        if allow_context_override:
            expected = comparer.drop_context_shadowed_keys(
                expected,
                actual,
                comparer.context_keys(tests / case["feedstock"] / "recipe" / "recipe.yaml"),
            )
        ok, paths, _ = comparer.compare_docs(expected, actual, "full", False, 5)
        results.append(
            CaseResult(case["feedstock"], case["name"], "identical" if ok else "differs", paths, dt)
        )
    return results


def summary(results: list[CaseResult]) -> dict[str, Any]:
    counts = Counter(r.status for r in results)
    n = len(results)
    return {
        "cases": n,
        **{k: counts.get(k, 0) for k in ("identical", "differs", "error")},
        "pass_rate": round(counts.get("identical", 0) / n, 4) if n else None,
    }
