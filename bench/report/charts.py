"""PNG charts of headline ratios (matplotlib, Agg): one bar per ratio, log scale, a line at 1."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on CI or a server
import matplotlib.pyplot as plt
from bench.report.headlines import Headline

FASTER = "#2e7d32"
SLOWER = "#c62828"


def bar_chart(headlines: list[Headline], path: Path, title: str, subtitle: str = "",
              by_area: bool = True) -> Path | None:
    """Horizontal bars of naja / peer (lower is better) with the area in each label; None when
    there is nothing finite to draw."""
    items = [h for h in headlines if h.ratio > 0 and math.isfinite(h.ratio)]
    if not items:
        return None
    labels = []
    # Name the peer on each bar only where bars compare against different peers.
    several_peers = len({h.peer_name for h in items}) > 1
    for h in items:
        metric = h.metric.replace("`", "")
        text = f"{h.area}: {metric}" if by_area else metric
        if several_peers and h.peer_name and h.peer_name not in text:
            text += f" (vs {h.peer_name})"
        labels.append("\n".join(textwrap.wrap(text, 58)) or text)
    ratios = [h.ratio for h in items]
    height = 1.2 + 0.42 * len(items) + 0.12 * sum(lab.count("\n") for lab in labels)
    fig, ax = plt.subplots(figsize=(11, height))
    y = list(range(len(items)))[::-1]
    colors = [FASTER if r <= 1 else SLOWER for r in ratios]
    bars = ax.barh(y, ratios, color=colors, height=0.65)
    # A ratio against a goal (a constant) is not a side-by-side measurement: hatch it.
    goal = [h.peer_name.startswith("goal") for h in items]
    for bar, is_goal in zip(bars, goal, strict=True):
        if is_goal:
            bar.set_hatch("//")
            bar.set_edgecolor("white")
    ax.set_xscale("log")
    lo = min(min(ratios), 1.0) / 1.6
    hi = max(max(ratios), 1.0) * 2.2
    ax.set_xlim(lo, hi)
    ax.axvline(1.0, color="black", linewidth=1.2)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8.5)
    for yi, r in zip(y, ratios, strict=True):
        ax.text(r * 1.06, yi, f"{r:.2f}x", va="center", fontsize=8.5,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1, "alpha": 0.8})
    ax.set_xlabel("naja / peer (log scale; < 1: naja faster or cheaper, > 1: slower)"
                  + ("; hatched: against a goal, not a peer" if any(goal) else ""))
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200)
             if lo <= t <= hi]
    ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.grid(axis="x", which="major", alpha=0.3)
    ax.set_title(title + (f"\n{subtitle}" if subtitle else ""), fontsize=11, loc="left")
    if by_area:
        # A faint band per area keeps the groups apart.
        areas = [h.area for h in items]
        start = 0
        for i in range(1, len(areas) + 1):
            if i == len(areas) or areas[i] != areas[start]:
                if (len({*areas[:start]}) % 2) == 1:
                    ax.axhspan(y[i - 1] - 0.5, y[start] + 0.5, color="#000000", alpha=0.04)
                start = i
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
