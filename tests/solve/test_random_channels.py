"""The conda layer against brute force on small random channels.

Every choice of "no record or one record per name" is enumerated; the request is
satisfiable exactly when one of them meets the requested specs, every depends of an
installed record and every constrains on an installed name. naja must agree, and its
solutions must be such a choice; when it says unsatisfiable, the explanation stays short.
"""

from __future__ import annotations

import itertools
import random

import pytest

from naja.solve import SolveRequest, Unsatisfiable, solve
from naja.solve.errors import SolverLimitError
from naja.specs.match_spec import MatchSpec
from naja.specs.records import PackageRecord

NAMES = ["a", "b", "c", "d"]


def _spec(rng: random.Random, names: list[str]) -> str:
    # Now and then a virtual package, which only the system can provide.
    name = "__v" if rng.random() < 0.1 else rng.choice(names)
    op = rng.choice(["", ">=2", "<2", "2", "!=1", ">=3", "1|3"])
    return f"{name} {op}".strip()


def _channel(rng: random.Random) -> list[PackageRecord]:
    recs = []
    for name in NAMES:
        for version in rng.sample(["1", "2", "3"], rng.randint(1, 3)):
            others = [n for n in NAMES if n != name]
            depends = [_spec(rng, others) for _ in range(rng.randint(0, 2))]
            constrains = [_spec(rng, others) for _ in range(rng.randint(0, 1))]
            recs.append(
                PackageRecord(
                    name=name,
                    version=version,
                    build="0",
                    depends=depends,
                    constrains=constrains,
                )
            )
    return recs


def _valid(
    chosen: dict[str, PackageRecord],
    specs: list[str],
    pins: list[str] = (),  # type: ignore[assignment]
    keep: list[str] = (),  # type: ignore[assignment]
) -> bool:
    def met(text: str, *, required: bool) -> bool:
        ms = MatchSpec.parse(text)
        rec = chosen.get(ms.name)
        if rec is None:
            return not required
        return ms.matches(rec)

    if not all(met(s, required=True) for s in specs):
        return False
    if not all(met(p, required=False) for p in pins):
        return False
    if not all(name in chosen for name in keep):
        return False
    for rec in chosen.values():
        if not all(met(d, required=True) for d in rec.depends):
            return False
        if not all(met(c, required=False) for c in rec.constrains):
            return False
    return True


def _brute(
    channel: list[PackageRecord],
    specs: list[str],
    virtual: PackageRecord | None,
    pins: list[str],
    keep: list[str],
) -> bool:
    by_name: dict[str, list[PackageRecord | None]] = {n: [None] for n in NAMES}
    for rec in channel:
        by_name[rec.name].append(rec)
    for combo in itertools.product(*by_name.values()):
        chosen = {r.name: r for r in combo if r is not None}
        if virtual is not None:
            chosen["__v"] = virtual  # always there when the system has it
        if _valid(chosen, specs, pins, keep):
            return True
    return False


@pytest.mark.parametrize("seed", range(400))
def test_random_channel_agrees_with_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    channel = _channel(rng)
    specs = [_spec(rng, NAMES) for _ in range(rng.randint(1, 3))]
    version = rng.choice([None, "1", "2", "3"])
    virtual = None if version is None else PackageRecord(name="__v", version=version, build="0")
    pins = [_spec(rng, NAMES) for _ in range(rng.randint(0, 1))]
    pins = [p for p in pins if not p.startswith("__")]
    installed = [r for r in channel if rng.random() < 0.1]
    installed = list({r.name: r for r in installed}.values())
    keep = [r.name for r in installed]
    expected = _brute(channel, specs, virtual, pins, keep)
    request = SolveRequest(
        specs=specs,
        channels=[channel],
        virtual_packages=[f"__v={version}=0"] if version else [],
        pins=pins,
        installed=installed,
    )
    try:
        sol = solve(request)
    except Unsatisfiable as err:
        assert not expected, f"naja: unsat, but a solution exists for {specs}\n{err}"
        assert len(err.explanation.splitlines()) <= 40
        return
    assert expected, f"naja found a solution where none exists for {specs}"
    chosen = {r.name: r for r in sol.records}
    assert len(chosen) == len(sol.records)
    if virtual is not None:
        chosen["__v"] = virtual
    assert _valid(chosen, specs, pins, keep)


def _pigeons(m: int, n: int) -> list[PackageRecord]:
    return [
        PackageRecord(
            name=f"p{i}",
            version=str(k),
            build="0",
            depends=[f"p{j} !={k}" for j in range(m) if j != i],
        )
        for i in range(m)
        for k in range(1, n + 1)
    ]


def test_pigeonhole_is_unsatisfiable_and_explained_briefly() -> None:
    with pytest.raises(Unsatisfiable) as info:
        solve(SolveRequest(specs=["p0"], channels=[_pigeons(6, 5)]))
    lines = info.value.explanation.splitlines()
    assert lines[0].startswith("cannot install p0")
    assert len(lines) <= 40


def test_pigeons_fit_when_there_are_enough_holes() -> None:
    sol = solve(SolveRequest(specs=["p0"], channels=[_pigeons(6, 6)]))
    assert sorted(r.version for r in sol.records) == ["1", "2", "3", "4", "5", "6"]


def test_conflict_limit_gives_up_without_claiming_unsat() -> None:
    req = SolveRequest(specs=["p0"], channels=[_pigeons(8, 7)], max_conflicts=10)
    with pytest.raises(SolverLimitError):
        solve(req)
