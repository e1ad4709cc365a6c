"""Which CDCL engine the solver runs: the compiled build of `sat.py` when it is there and
current, else `sat.py` itself.

Why a compiled build: the search is tight loops over lists of ints (propagation, conflict
analysis, backtracking), where CPython spends most of its time dispatching bytecode. mypyc
compiles that same source to C; on the hardest problem of the shared set (the unsatisfiable
sudoku, ~8,000 conflicts) it runs 2.5x faster, which is what keeps naja within 10x of resolvo
there. The Python source stays the only definition of the engine: `dev/build-native` compiles a
copy of it stamped with the SHA-256 of the source, and a build whose stamp differs from the
`sat.py` beside it (an edited source, a half-finished upgrade) is ignored, so stale compiled
code never runs. Without a C compiler everything works the same, only slower.

`NAJA_PURE_PYTHON=1` forces the Python source (for debugging, and for the tests that check both
engines agree).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from naja.solve import sat

SOURCE = Path(sat.__file__)


def _source_digest() -> str:
    import hashlib

    return hashlib.sha256(SOURCE.read_bytes()).hexdigest()


def _load() -> tuple[Any, str]:
    if os.environ.get("NAJA_PURE_PYTHON"):
        return sat, "python (NAJA_PURE_PYTHON is set)"
    try:
        from naja.solve import _sat_native as native  # type: ignore[attr-defined]
    except ImportError:
        return sat, "python (no compiled build; see dev/build-native)"
    try:
        current = getattr(native, "SOURCE_SHA256", None) == _source_digest()
    except OSError:
        current = False
    if not current:
        return sat, "python (the compiled build is older than sat.py; run dev/build-native)"
    return native, "compiled (mypyc)"


_module, ENGINE = _load()

# The engine class: `naja.solve.sat.Sat` or its compiled twin (same interface).
Sat: type[sat.Sat] = _module.Sat
COMPILED = _module is not sat
