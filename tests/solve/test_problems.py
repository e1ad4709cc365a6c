"""naja's solver on the shared problem set, judged against py-rattler's answers.

Each problem must get rattler's outcome (sat/unsat); a solution must be consistent by
py-rattler's own MatchSpec (every depends and constrains met, one record per name, every
requested spec met) and give every requested package a version >= rattler's.
"""

from __future__ import annotations

import pytest

from naja.solve import Unsatisfiable, solve
from tests.solve.corpus import (
    HEAVY,
    check_consistent,
    compare_versions,
    problems,
    rattler_results,
    request_for,
)

# Far above what any problem needs (the pigeonhole sudoku takes about 9,000 conflicts): a
# search that regresses fails here instead of hanging the suite.
CONFLICT_LIMIT = 50000


def _params() -> list[object]:
    out = []
    for p in problems():
        marks = [pytest.mark.slow] if p["id"] in HEAVY else []
        out.append(pytest.param(p, id=p["id"], marks=marks))
    return out


@pytest.mark.parametrize("problem", _params())
def test_problem_matches_rattler(problem: dict) -> None:
    expected = rattler_results()[problem["id"]]["outcome"]
    request = request_for(problem)
    request.max_conflicts = CONFLICT_LIMIT
    try:
        solution = solve(request)
    except Unsatisfiable as err:
        assert expected == "unsat", f"naja says unsat, rattler found a solution:\n{err}"
        assert err.explanation.count("\n") < 40
        return
    assert expected == "sat", "naja found a solution where rattler proved there is none"
    violations = check_consistent(problem, solution.records)
    assert violations == []
    verdicts = compare_versions(problem, solution.records)
    worse = {name: v for name, v in verdicts.items() if v == "worse"}
    assert not worse, f"requested packages older than rattler's: {worse}"
