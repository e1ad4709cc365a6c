"""The CDCL core against brute force on random formulas, groups and conflict pairs, for both
engines: sat.py as Python and its compiled build (naja.solve.engine)."""

from __future__ import annotations

import itertools
import random

import pytest

from naja.solve import engine
from naja.solve.sat import Sat

ENGINES = [
    pytest.param(Sat, id="python"),
    pytest.param(
        engine.Sat,
        id="compiled",
        marks=pytest.mark.skipif(not engine.COMPILED, reason=f"engine in use: {engine.ENGINE}"),
    ),
]


@pytest.fixture(params=ENGINES)
def sat_class(request: pytest.FixtureRequest) -> type[Sat]:
    return request.param


class FirstFree:
    """Decides the lowest unassigned variable, with a seeded polarity."""

    def __init__(self, sat: Sat, seed: int) -> None:
        self.sat = sat
        self.rng = random.Random(seed)
        self.expanded: list[int] = []

    def decide(self) -> int:
        for v in range(1, self.sat.nvars + 1):
            if self.sat.val[2 * v] == 0:
                return 2 * v + self.rng.randint(0, 1)
        return 0

    def expand(self, var: int) -> None:
        self.expanded.append(var)


def brute(n: int, clauses, groups, pairs) -> bool:
    for bits in itertools.product([False, True], repeat=n):
        ok = all(any(bits[(q >> 1) - 1] != bool(q & 1) for q in cl) for cl in clauses)
        ok = ok and all(sum(bits[v - 1] for v in g) <= 1 for g in groups)
        ok = ok and all(not (bits[x - 1] and bits[y - 1]) for x, y in pairs)
        if ok:
            return True
    return False


@pytest.mark.parametrize("seed", range(300))
def test_random_formulas_agree_with_brute_force(seed: int, sat_class: type[Sat]) -> None:
    rng = random.Random(seed)
    n = rng.randint(3, 11)
    sat = sat_class()
    groups = []
    v = 1
    while v <= n:
        size = rng.randint(1, 4)
        size = min(size, n - v + 1)
        sat.new_vars(size, group=size > 1)
        if size > 1:
            groups.append(list(range(v, v + size)))
        v += size
    clauses = []
    for _ in range(rng.randint(1, 4 * n)):
        cl = [2 * rng.randint(1, n) + rng.randint(0, 1) for _ in range(rng.randint(1, 3))]
        cl = list(dict.fromkeys(cl))
        if any(q ^ 1 in cl for q in cl):
            continue
        clauses.append(cl)
        sat.add_clause(cl, ("c", len(clauses) - 1))
    pairs = []
    for _ in range(rng.randint(0, n)):
        x, y = rng.sample(range(1, n + 1), 2)
        pairs.append((x, y))
        sat.add_pair(x, y, ("p", x, y))
    expected = brute(n, clauses, groups, pairs)
    got = sat.solve(FirstFree(sat, seed))
    assert got == expected
    if got:
        model = [False] * (n + 1)
        for t in sat.true_vars():
            model[t] = True
        assert all(any(model[q >> 1] != bool(q & 1) for q in cl) for cl in clauses)
        assert all(sum(model[x] for x in g) <= 1 for g in groups)
        assert all(not (model[x] and model[y]) for x, y in pairs)
    else:
        # The core alone must be unsatisfiable.
        core = sat.core()
        core_clauses = [clauses[t[1]] for t in core if t[0] == "c"]
        core_pairs = [(t[1], t[2]) for t in core if t[0] == "p"]
        core_groups = [[t[1], t[2]] for t in core if t[0] == "group"]
        assert not brute(n, core_clauses, core_groups, core_pairs)


class Lazy(FirstFree):
    """Attaches each clause with a negative literal only once that variable becomes true."""

    def __init__(self, sat: Sat, seed: int, deferred: dict[int, list[list[int]]]) -> None:
        super().__init__(sat, seed)
        self.deferred = deferred

    def expand(self, var: int) -> None:
        for cl in self.deferred.pop(var, []):
            self.sat.add_clause(cl, ("c", tuple(cl)))


@pytest.mark.parametrize("seed", range(200))
def test_lazily_added_clauses(seed: int, sat_class: type[Sat]) -> None:
    rng = random.Random(1000 + seed)
    n = rng.randint(3, 10)
    sat = sat_class()
    sat.new_vars(n)
    clauses = []
    deferred: dict[int, list[list[int]]] = {}
    for _ in range(rng.randint(1, 5 * n)):
        cl = list(dict.fromkeys(2 * rng.randint(1, n) + rng.randint(0, 1) for _ in range(3)))
        if any(q ^ 1 in cl for q in cl):
            continue
        clauses.append(cl)
        negs = [q for q in cl if q & 1]
        if negs:
            deferred.setdefault(negs[0] >> 1, []).append(cl)
        else:
            sat.add_clause(cl, ("c", tuple(cl)))
    got = sat.solve(Lazy(sat, seed, deferred))
    assert got == brute(n, clauses, [], [])
    if got:
        model = [False] * (n + 1)
        for t in sat.true_vars():
            model[t] = True
        assert all(any(model[q >> 1] != bool(q & 1) for q in cl) for cl in clauses)
    else:
        assert not brute(n, [list(t[1]) for t in sat.core()], [], [])
