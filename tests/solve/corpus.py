"""The shared solver problem set: problems, rattler's answers, channels, and an independent
consistency check of a solution (py-rattler's MatchSpec against the channel's own records)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from naja.solve import SolveRequest
from naja.specs.repodata import load_repodata
from tests.conftest import REPODATA, SHARED

PROBLEMS_FILE = SHARED / "solver" / "problems.jsonl"
RESULTS_FILE = SHARED / "solver" / "rattler_results.jsonl"

# The heaviest problems (hundreds of packages or a sudoku): marked, still run.
HEAVY = {
    "idx4-kitchen-sink-py27",
    "idx4-r-python-mega",
    "idx4-r-py27-jupyter",
    "idx4-r-essentials",
    "sudoku-wikipedia",
    "sudoku-empty",
    "u-sudoku-mamba-empty",
}


def problems() -> list[dict[str, Any]]:
    if not PROBLEMS_FILE.exists():
        return []
    return [json.loads(line) for line in PROBLEMS_FILE.read_text().splitlines() if line.strip()]


@functools.cache
def rattler_results() -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in RESULTS_FILE.read_text().splitlines() if line.strip()]
    return {r["id"]: r for r in rows}


@functools.cache
def subdir_records(channel: str, subdir: str) -> tuple[Any, ...]:
    path = REPODATA / channel / subdir / "repodata.json"
    if not path.exists():
        return ()
    return tuple(load_repodata(path.read_bytes(), channel=channel, subdir=subdir))


def channel_names(problem: dict[str, Any]) -> list[str]:
    return [problem["channel"], *problem.get("extra_channels", [])]


def request_for(problem: dict[str, Any]) -> SolveRequest:
    channels = [
        [r for sub in problem["subdirs"] for r in subdir_records(c, sub)]
        for c in channel_names(problem)
    ]
    return SolveRequest(
        specs=problem["specs"], channels=channels, virtual_packages=problem["virtual_packages"]
    )


class RattlerChannels:
    """The problem's channels as py-rattler records, looked up by name (lazily)."""

    def __init__(self, problem: dict[str, Any]) -> None:
        from rattler import Channel, ChannelConfig
        from rattler.repo_data import SparseRepoData

        self.sparse = []
        for c in channel_names(problem):
            cdir = (REPODATA / c).resolve()
            ch = Channel(cdir.name, ChannelConfig(channel_alias=cdir.parent.as_uri() + "/"))
            for sub in problem["subdirs"]:
                f = cdir / sub / "repodata.json"
                if f.exists():
                    self.sparse.append(SparseRepoData(ch, sub, str(f)))
        self.cache: dict[str, list[Any]] = {}

    def find(self, name: str, version: str, build: str) -> list[Any]:
        from rattler import PackageName

        if name not in self.cache:
            recs: list[Any] = []
            for s in self.sparse:
                recs += s.load_records(PackageName(name))
            self.cache[name] = recs
        return [r for r in self.cache[name] if str(r.version) == version and str(r.build) == build]

    def close(self) -> None:
        for s in self.sparse:
            s.close()


def check_consistent(problem: dict[str, Any], records: list[Any]) -> list[str]:
    """Violations of the solution (empty when consistent), judged by py-rattler alone."""
    from rattler import BuildString, MatchSpec, PackageRecord

    out: list[str] = []
    chans = RattlerChannels(problem)
    try:
        pool: dict[str, Any] = {}
        for vp in problem["virtual_packages"]:
            parts = vp.split("=")
            pool[parts[0]] = PackageRecord(
                name=parts[0],
                version=parts[1] if len(parts) > 1 else "0",
                build=BuildString(parts[2] if len(parts) > 2 else "0"),
                build_number=0,
                subdir=problem["subdirs"][0],
            )
        for rec in records:
            if rec.name in pool and not rec.name.startswith("__"):
                out.append(f"two records for {rec.name}")
                continue
            found = chans.find(rec.name, rec.version, rec.build)
            if not found:
                out.append(f"{rec.name}={rec.version}={rec.build} is not in the channels")
                continue
            pool[rec.name] = found[0]
        for name, r in pool.items():
            if name.startswith("__"):
                continue
            for dep in r.depends:
                ms = MatchSpec(dep)
                dn = ms.name.normalized
                if dn not in pool:
                    out.append(f"{name}: dependency {dep!r} is not installed")
                elif not ms.matches(pool[dn]):
                    out.append(f"{name}: dependency {dep!r} not met by {pool[dn]}")
            for con in r.constrains:
                ms = MatchSpec(con)
                cn = ms.name.normalized
                if cn in pool and not ms.matches(pool[cn]):
                    out.append(f"{name}: constraint {con!r} violated by {pool[cn]}")
        for spec in problem["specs"]:
            ms = MatchSpec(spec)
            n = ms.name.normalized
            if n not in pool:
                out.append(f"requested {spec!r} is not installed")
            elif not ms.matches(pool[n]):
                out.append(f"requested {spec!r} not met by {pool[n]}")
    finally:
        chans.close()
    return out


def compare_versions(problem: dict[str, Any], records: list[Any]) -> dict[str, str]:
    """Per requested name: "better" / "tie" / "worse" than rattler's version (py-rattler's
    Version ordering, so naja's own version code is not the judge)."""
    from rattler import MatchSpec, Version

    theirs = {}
    for entry in rattler_results()[problem["id"]]["solution"]:
        name, version, _ = entry.split("=")
        theirs[name] = version
    ours = {r.name: r.version for r in records}
    out = {}
    for spec in problem["specs"]:
        name = MatchSpec(spec).name.normalized
        a, b = Version(ours[name]), Version(theirs[name])
        out[name] = "better" if a > b else "worse" if a < b else "tie"
    return out


def problem_path() -> Path:
    return PROBLEMS_FILE
