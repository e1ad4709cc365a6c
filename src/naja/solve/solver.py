"""`solve(request) -> Solution`: turns a SolveRequest into an encoding, searches, reports.

Job semantics (micromamba's): installed packages stay installed and keep their record unless
the request needs them to change; `update` lets the named packages move to their best
version, `update_all` every installed one; `remove` forbids the named packages and drops
installed packages that cannot stay without them. `no_deps` / `only_deps` filter what gets
linked after an ordinary solve.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from naja.solve.encoding import KEEP, ROOT, Encoding, Memo, parse_spec
from naja.solve.errors import SolverLimitError
from naja.solve.index import Index
from naja.solve.request import ChannelPriority, Job, Solution, SolveRequest

REMOVE = "remove"  # ("remove", spec_index): a package the request removes
VIRTUAL = "virtual"  # ("virtual", name): a virtual package the system has


def _key(rec: Any) -> tuple[str, str, str]:
    return (rec.name, rec.version, rec.build)


def build(
    request: SolveRequest,
    allowed: set[Any] | None = None,
    index: Index | None = None,
    memo: Memo | None = None,
) -> tuple[Encoding, list[Any]]:
    """The encoding of a request with its root clauses added (nothing searched yet).

    `allowed` keeps only the clauses of those statements (to shrink a conflict); `index`
    and `memo` reuse the channels' per-name view and the sorted, matched candidates of an
    earlier build of the same request.
    """
    priority = ChannelPriority(request.channel_priority)
    job = Job(request.job)
    specs = [parse_spec(s) for s in request.specs]
    if index is None:
        index = Index(request.channels, request.virtual_packages, request.installed, priority)
    installed = index.installed()
    named = {ms.name for ms in specs}
    if request.update_all:
        prefer: set[str] = set()
    elif job is Job.UPDATE:
        prefer = set(installed) - named
    else:
        prefer = set(installed)
    enc = Encoding(
        index,
        prefer_installed=prefer,
        pins=list(request.pins),
        flexible=priority is ChannelPriority.FLEXIBLE,
        allowed=allowed,
        memo=memo,
    )
    if job is Job.REMOVE:
        for i, ms in enumerate(specs):
            tag = (REMOVE, i)
            if allowed is not None and tag not in allowed:
                continue
            n = enc.name(ms.name)
            if n is None:
                continue
            for v, c in zip(n.vars, n.cands, strict=True):
                if ms.matches(c.record):
                    enc.sat.add_clause([2 * v + 1], tag)
        # Whatever else is installed stays if it still can.
        enc.soft = [name for name in installed if name not in named]
    else:
        # Installed packages come first: each keeps its record unless that makes the request
        # impossible (a learnt clause then rules the installed record out).
        for name in installed:
            if name not in named:
                enc.require(0, name, (KEEP, name))
        for i, spec in enumerate(request.specs):
            enc.require(0, spec, (ROOT, i))
    # Virtual packages describe the machine: they are always there, so their constraints
    # (a record's `constrains: __cuda <11`) apply even when nothing depends on them.
    for name in index.virtual_names():
        enc.require(0, name, (VIRTUAL, name))
    return enc, specs


def solve(request: SolveRequest) -> Solution:
    """Solve `request`; raises `Unsatisfiable` (with an explanation) when it cannot be met,
    `SolverLimitError` when `max_conflicts` ran out first (no answer either way)."""
    t0 = time.perf_counter()
    enc, specs = build(request)
    # The search allocates a list per learnt clause and per watch list it rebuilds, and
    # makes no reference cycles: the collector's passes over the growing heap are pure cost
    # (about 5% of a hard search), so it pauses while the search runs.
    collecting = gc.isenabled()
    gc.disable()
    try:
        ok = enc.sat.solve(enc, limit=request.max_conflicts)
    finally:
        if collecting:
            gc.enable()
    t1 = time.perf_counter()
    if ok is None:
        raise SolverLimitError(
            f"gave up after {request.max_conflicts} conflicts without an answer",
            hint="raise max_conflicts (the request may still be satisfiable)",
        )
    if not ok:
        from naja.solve.explain import explain

        raise explain(request, enc)
    chosen = [c for c in enc.model() if not c.virtual]
    records = [c.record for c in chosen]
    installed = list(request.installed)
    requested = {ms.name for ms in specs}
    if request.no_deps and Job(request.job) is not Job.REMOVE:
        by_name = {r.name: r for r in installed}
        for r in records:
            if r.name in requested:
                by_name[r.name] = r
        records = list(by_name.values())
    elif request.only_deps:
        was = {r.name for r in installed}
        records = [r for r in records if r.name not in requested or r.name in was]
    records.sort(key=lambda r: r.name)
    old = {_key(r): r for r in installed}
    new = {_key(r) for r in records}
    to_link = [r for r in records if _key(r) not in old]
    to_unlink = [r for k, r in old.items() if k not in new]
    if request.force_reinstall:
        for r in records:
            if r.name in requested and _key(r) in old:
                to_link.append(r)
                to_unlink.append(old[_key(r)])
    stats = {
        "solve_ms": (t1 - t0) * 1e3,
        "decisions": enc.sat.decisions,
        "conflicts": enc.sat.conflicts,
        "variables": enc.sat.nvars,
    }
    return Solution(records=records, to_link=to_link, to_unlink=to_unlink, stats=stats)
