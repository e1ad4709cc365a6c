"""naja.solve: a conda solver (CDCL over package records) whose conflicts explain themselves.

Entry point::

    from naja.solve import SolveRequest, solve, Unsatisfiable

    request = SolveRequest(
        specs=["numpy >=1.20", "python=3.11"],      # str or MatchSpec
        channels=[conda_forge_records, defaults_records],  # highest priority first; each a
                                                    # sequence of records or a RecordSource
        virtual_packages=["__glibc=2.17=0", "__unix=0=0"],  # strings or records
        installed=prefix_records,                   # what the prefix holds now
        pins=["python 3.11.*"],                     # conda-meta/pinned + pinned_packages
        channel_priority="strict",                  # or "flexible" / "disabled"
        job="install",                              # or "update" / "remove"
        update_all=False, force_reinstall=False, no_deps=False, only_deps=False,
        max_conflicts=None,                         # give up (SolverLimitError) past this
    )
    try:
        solution = solve(request)
    except Unsatisfiable as err:
        print(err.explanation)   # plain words, top-down, with at most one `hint:` line
        err.problems             # the same as a JSON-able tree (for --json)
    else:
        solution.records         # the whole resulting environment, sorted by name
        solution.to_link, solution.to_unlink   # the changes against `installed`

Records are `naja.specs.records` records (or anything with the same attributes: name,
version, build, build_number, depends, constrains, track_features, timestamp, ...).
A `RecordSource` (`by_name(name)`, `names()`) lets a channel be loaded lazily per name;
`ListSource(records)` indexes a list by name once, to reuse across several solves.

Modules: `sat` (CDCL core), `encoding` (conda rules as lazily built clauses and the decision
order), `index` (records per name, channel priority, virtual and installed packages),
`solver` (the `solve` entry point and job semantics), `core` (the shrunk unsat core),
`explain` / `ranges` / `suggest` (conflict explanations), `request` / `errors` (the API types).
"""

from naja.solve.errors import SolverLimitError, Unsatisfiable
from naja.solve.index import ListSource
from naja.solve.request import ChannelPriority, Job, RecordSource, Solution, SolveRequest
from naja.solve.solver import solve

__all__ = [
    "ChannelPriority",
    "Job",
    "ListSource",
    "RecordSource",
    "Solution",
    "SolveRequest",
    "SolverLimitError",
    "Unsatisfiable",
    "solve",
]
