"""The unsat core of a request, shrunk to the statements that really conflict.

The CDCL proof gives a core: the clauses the final conflict was derived from. It is shrunk
by deletion: each requirement statement (a requested spec, a pin, an installed package, or
"these builds of X depend on S") is dropped in turn and the request re-solved with only
what is left; if it stays unsatisfiable the statement was not needed. A time budget and a
conflict limit per re-solve bound the work on large cores.
"""

from __future__ import annotations

import time
from typing import Any

from naja.solve.encoding import GROUP, ROOT, Encoding
from naja.solve.request import SolveRequest

MINIMIZE_BUDGET_S = 1.5
MINIMIZE_CONFLICTS = 2000
# A core this large comes from a puzzle, not a dependency clash: one re-solve per statement
# would cost far more than the solve, and no person reads hundreds of statements anyway.
MINIMIZE_MAX_STATEMENTS = 200


def statements(enc: Encoding, core: list[Any]) -> list[Any]:
    """The distinct statements behind a core's clause tags (same-name pairs left out)."""
    out: dict[Any, None] = {}
    for tag in core:
        if tag[0] != GROUP:
            out[enc.statement(tag)] = None
    return list(out)


def minimize(request: SolveRequest, enc: Encoding) -> Encoding:
    """An encoding whose core is (within the budget) a minimal set of statements."""
    from naja.solve.solver import build

    deadline = time.perf_counter() + MINIMIZE_BUDGET_S
    current = statements(enc, enc.sat.core())
    if len(current) > MINIMIZE_MAX_STATEMENTS:
        return enc
    # Cut plumbing first (dependencies), keep what the user asked for as long as possible.
    order = sorted(current, key=lambda s: s[0] == ROOT)
    best = enc
    kept = set(current)
    for st in order:
        if st not in kept:
            continue
        if time.perf_counter() > deadline:
            break
        trial = kept - {st}
        enc2, _ = build(request, allowed=trial, index=enc.index, memo=enc.memo)
        if enc2.sat.solve(enc2, limit=MINIMIZE_CONFLICTS) is False:
            kept = set(statements(enc2, enc2.sat.core()))
            best = enc2
    return best
