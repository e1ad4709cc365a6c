"""Timing helpers the in-process benchmarks share (naja and its peer measured alternately)."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


def pair(
    ours: Callable[[], object],
    theirs: Callable[[], object],
    repeat: int,
    setup: Callable[[], object] | None = None,
) -> tuple[float, float]:
    """Best-of-`repeat` wall times (s) of naja's and rattler's function, run alternately so both
    see the same machine load; the collector is paused while timing."""
    best = [float("inf"), float("inf")]
    for _ in range(repeat):
        for i, fn in enumerate((ours, theirs)):
            if i == 0 and setup is not None:
                setup()
            gc.collect()
            gc.disable()
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
            gc.enable()
    return best[0], best[1]
