"""The regression gate: compare a fresh summary's ratios with a baseline's, per (area, metric).

A ratio worsens when it moves the wrong way by more than `margin` relatively: for a
lower-is-better ratio, `fresh > base * (1 + margin)`. Metrics present on one side only are
listed (missing / new) and fail the gate only when `strict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class GateRow:
    area: str
    metric: str
    base: float | None
    fresh: float | None
    change: float | None  # relative worsening: +0.25 = 25 % worse, negative = better
    status: str  # worse, better, same, missing, new


@dataclass
class GateResult:
    margin: float
    rows: list[GateRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def worse(self) -> list[GateRow]:
        return [r for r in self.rows if r.status == "worse"]

    @property
    def missing(self) -> list[GateRow]:
        return [r for r in self.rows if r.status == "missing"]

    def failed(self, strict: bool = False) -> bool:
        return bool(self.worse) or (strict and bool(self.missing))


def worsening(base: float, fresh: float, better: str = "lower") -> float:
    """How much worse `fresh` is than `base`, relatively (0.2 = 20 % worse; < 0: better)."""
    if better == "higher":
        return base / fresh - 1 if fresh > 0 else float("inf")
    return fresh / base - 1 if base > 0 else float("inf")


def _index(summary: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(h["area"], h["metric"]): h for h in summary.get("headlines", [])}


def compare(base: dict[str, Any], fresh: dict[str, Any], margin: float) -> GateResult:
    """Every metric of either summary, classified against `margin`."""
    res = GateResult(margin)
    if base.get("mode") and fresh.get("mode") and base["mode"] != fresh["mode"]:
        res.warnings.append(f"baseline is a {base['mode']} run, the fresh one a {fresh['mode']} "
                            "run: inputs differ, ratios may not be comparable")
    b, f = _index(base), _index(fresh)
    fresh_areas = fresh.get("areas", {})
    for area, info in base.get("areas", {}).items():
        mb, mf = info.get("mode"), fresh_areas.get(area, {}).get("mode")
        if mb and mf and mb != mf and base.get("mode") == fresh.get("mode"):
            res.warnings.append(f"{area}: baseline {mb} run, fresh {mf} run")
    for key in [*b, *(k for k in f if k not in b)]:
        area, metric = key
        hb, hf = b.get(key), f.get(key)
        if hf is None:
            why = fresh_areas.get(area, {}).get("status")
            if why and why != "ok":
                res.warnings.append(f"{area}: {why} in the fresh run")
            res.rows.append(GateRow(area, metric, hb["ratio"] if hb else None, None, None, "missing"))
            continue
        if hb is None:
            res.rows.append(GateRow(area, metric, None, hf["ratio"], None, "new"))
            continue
        change = worsening(hb["ratio"], hf["ratio"], hb.get("better", "lower"))
        status = "worse" if change > margin else "better" if change < -margin else "same"
        res.rows.append(GateRow(area, metric, hb["ratio"], hf["ratio"], change, status))
    res.warnings = list(dict.fromkeys(res.warnings))
    return res


def best_of(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """`first` with each ratio replaced by the better of the two runs' (for `--confirm`: a
    ratio counts as worse only if a second run of its area is worse too)."""
    again = _index(second)
    merged = []
    for h in first.get("headlines", []):
        h2 = again.get((h["area"], h["metric"]))
        if h2 is not None and worsening(h["ratio"], h2["ratio"], h.get("better", "lower")) < 0:
            h = {**h, "ratio": h2["ratio"], "naja": h2.get("naja"), "peer": h2.get("peer")}
        merged.append(h)
    return {**first, "headlines": merged}


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:.3f}"


def render(res: GateResult, strict: bool = False, everything: bool = False) -> str:
    """A Markdown account: what worsened first, then what vanished, improved or is new (with
    `everything`, the unchanged rows too)."""
    lines = [f"Regression gate: margin {res.margin:.0%} (a ratio may grow by at most this much)."]
    lines += [f"- warning: {w}" for w in res.warnings]
    # By default the rows that moved beyond the margin or vanished; `everything` adds the rest.
    shown = res.rows if everything else [r for r in res.rows if r.status != "same"]
    shown = sorted(shown, key=lambda r: ("worse", "missing", "better", "new", "same").index(r.status))
    if shown:
        lines += ["", "| area | metric | baseline | fresh | change | status |",
                  "|---|---|---:|---:|---:|---|"]
        for r in shown:
            change = "" if r.change is None else f"{r.change:+.0%}"
            lines.append(f"| {r.area} | {r.metric} | {_fmt(r.base)} | {_fmt(r.fresh)} | {change} "
                         f"| {r.status} |")
    counts = {s: sum(r.status == s for r in res.rows) for s in ("worse", "better", "same", "missing", "new")}
    lines += ["", ", ".join(f"{n} {s}" for s, n in counts.items()) + "."]
    lines.append("FAILED: " + ("ratios worsened beyond the margin" if res.worse
                               else "metrics missing (--strict)")
                 if res.failed(strict) else "passed")
    return "\n".join(lines) + "\n"
