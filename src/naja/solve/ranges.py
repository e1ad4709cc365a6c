"""Version lists merged into ranges for people ("numpy >=1.20,<=1.22", "python 2.7.3|3.3.1").

A subset of a package's versions is described against all versions that package has: each
run of consecutive available versions becomes one range, open at whichever end reaches the
oldest or newest version there is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def _distinct_sorted(versions: Iterable[Any]) -> list[Any]:
    from naja.specs.version import Version

    seen: dict[Any, str] = {}
    for v in versions:
        text = str(v)
        pv = Version.parse(text)
        seen.setdefault(pv, text)
    return [seen[k] for k in sorted(seen)]


def merge_ranges(chosen: Iterable[Any], available: Iterable[Any], limit: int = 3) -> str:
    """`chosen` versions as ranges over `available` (both texts or Versions), `|`-joined."""
    from naja.specs.version import Version

    all_sorted = _distinct_sorted(available)
    pick = {Version.parse(t) for t in (str(v) for v in chosen)}
    if not pick:
        return "(none)"
    if len(all_sorted) > 1 and len(pick) == len(all_sorted):
        return "any version"
    runs: list[tuple[int, int]] = []
    start = None
    for i, text in enumerate(all_sorted):
        if Version.parse(text) in pick:
            if start is None:
                start = i
        elif start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(all_sorted) - 1))
    last = len(all_sorted) - 1
    parts: list[str] = []
    for lo, hi in runs:
        if lo == hi:
            parts.append(all_sorted[lo])
        elif lo == 0:
            parts.append(f"<={all_sorted[hi]}")
        elif hi == last:
            parts.append(f">={all_sorted[lo]}")
        else:
            parts.append(f">={all_sorted[lo]},<={all_sorted[hi]}")
    if len(parts) > limit:
        parts = [*parts[: limit - 1], "…", parts[-1]]
    return "|".join(parts)
