"""naja.solve against py-rattler (resolvo) on the shared solver problem set, in one run.

For every problem: load (naja: read + decode the channels' repodata.json into records and
index them by name; rattler: open SparseRepoData, which parses lazily inside its solve)
and solve, each the median of --repeat runs (naja and rattler alternating; at most 3 for
the pigeonhole sudoku), then ratios naja/rattler. Writes bench/results/solve.md.

    .venv/bin/python bench/bench_solve.py [--repeat 5] [--only id,id] [--out PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NAJA_SHARED", ROOT.parent / "shared"))
REPODATA = SHARED / "corpora" / "repodata"
sys.path.insert(0, str(ROOT / "src"))

from naja.errors import NajaError  # noqa: E402
from naja.solve import ListSource, SolveRequest, Unsatisfiable, solve  # noqa: E402
from naja.solve.engine import ENGINE  # noqa: E402
from naja.specs.repodata import load_repodata  # noqa: E402

# Far above what any problem needs (the pigeonhole sudoku takes about 8,000 conflicts).
CONFLICT_LIMIT = 50000


def channels_of(p: dict) -> list[str]:
    return [p["channel"], *p.get("extra_channels", [])]


def naja_run(p: dict) -> tuple[str, float, float, dict[str, str]]:
    t0 = time.perf_counter()
    chans = []
    for c in channels_of(p):
        recs = []
        for sub in p["subdirs"]:
            f = REPODATA / c / sub / "repodata.json"
            if f.exists():
                recs.extend(load_repodata(f.read_bytes(), channel=c, subdir=sub))
        # Indexed by name once, as rattler's SparseRepoData is when opened.
        chans.append(ListSource(recs))
    t1 = time.perf_counter()
    req = SolveRequest(
        specs=p["specs"],
        channels=chans,
        virtual_packages=p["virtual_packages"],
        max_conflicts=CONFLICT_LIMIT,
    )
    versions: dict[str, str] = {}
    try:
        sol = solve(req)
        outcome = "sat"
        versions = {r.name: r.version for r in sol.records}
    except Unsatisfiable:
        outcome = "unsat"
    except NajaError:
        outcome = "gave up"
    t2 = time.perf_counter()
    return outcome, (t1 - t0) * 1e3, (t2 - t1) * 1e3, versions


def rattler_run(p: dict) -> tuple[str, float, float, dict[str, str]]:
    from rattler import (
        BuildString,
        Channel,
        ChannelConfig,
        GenericVirtualPackage,
        MatchSpec,
        PackageName,
        Version,
        solve_with_sparse_repodata,
    )
    from rattler.repo_data import SparseRepoData

    t0 = time.perf_counter()
    sparse = []
    for c in channels_of(p):
        cdir = (REPODATA / c).resolve()
        ch = Channel(cdir.name, ChannelConfig(channel_alias=cdir.parent.as_uri() + "/"))
        for sub in p["subdirs"]:
            f = cdir / sub / "repodata.json"
            if f.exists():
                sparse.append(SparseRepoData(ch, sub, str(f)))
    t1 = time.perf_counter()
    vps = []
    for s in p["virtual_packages"]:
        parts = s.split("=")
        vps.append(
            GenericVirtualPackage(
                PackageName(parts[0]),
                Version(parts[1] if len(parts) > 1 and parts[1] else "0"),
                BuildString(parts[2] if len(parts) > 2 and parts[2] else "0"),
            )
        )
    versions: dict[str, str] = {}
    try:
        recs = asyncio.run(
            solve_with_sparse_repodata(
                specs=[MatchSpec(s) for s in p["specs"]],
                sparse_repodata=sparse,
                virtual_packages=vps,
            )
        )
        outcome = "sat"
        versions = {r.name.normalized: str(r.version) for r in recs}
    except Exception:
        outcome = "unsat"
    t2 = time.perf_counter()
    for s in sparse:
        s.close()
    return outcome, (t1 - t0) * 1e3, (t2 - t1) * 1e3, versions


def verdict(p: dict, ours: dict[str, str], theirs: dict[str, str]) -> str:
    from rattler import MatchSpec, Version

    out = []
    for spec in p["specs"]:
        name = MatchSpec(spec).name.normalized
        if name not in ours or name not in theirs:
            continue
        a, b = Version(ours[name]), Version(theirs[name])
        out.append("better" if a > b else "worse" if a < b else "tie")
    if "worse" in out:
        return "worse"
    if "better" in out:
        return "better"
    return "tie" if out else ""


def median_of(runs: list) -> tuple[str, float, float, dict[str, str]]:
    return (
        runs[0][0],
        statistics.median(r[1] for r in runs),
        statistics.median(r[2] for r in runs),
        runs[0][3],
    )


def interleaved(p: dict, repeat: int) -> tuple[tuple, tuple]:
    """naja and rattler alternately, `repeat` times each: a burst of load from other work on
    the machine then hits both instead of one."""
    ours, theirs = [], []
    for _ in range(repeat):
        ours.append(naja_run(p))
        theirs.append(rattler_run(p))
    return median_of(ours), median_of(theirs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "solve.md"))
    a = ap.parse_args()
    only = set(filter(None, a.only.split(",")))
    problems = [json.loads(x) for x in (SHARED / "solver" / "problems.jsonl").open() if x.strip()]
    rows = []
    for p in problems:
        if only and p["id"] not in only:
            continue
        # The pigeonhole sudoku runs 3 times at most: naja needs about two seconds to prove
        # it unsatisfiable.
        repeat = min(3, a.repeat) if p["id"] == "u-sudoku-mamba-empty" else a.repeat
        n, r = interleaved(p, repeat)
        row = {
            "id": p["id"],
            "naja": n[0],
            "rattler": r[0],
            "n_load": n[1],
            "n_solve": n[2],
            "r_load": r[1],
            "r_solve": r[2],
            "solve_ratio": n[2] / r[2] if r[2] else float("nan"),
            "total_ratio": (n[1] + n[2]) / (r[1] + r[2]),
            "versions": verdict(p, n[3], r[3]) if n[0] == r[0] == "sat" else "",
        }
        rows.append(row)
        print(
            f"{p['id']:28s} {n[0]:7s} {r[0]:5s} naja {n[1]:7.1f}+{n[2]:8.1f} ms  "
            f"rattler {r[1]:6.1f}+{r[2]:7.1f} ms  solve x{row['solve_ratio']:.2f}",
            flush=True,
        )
    write_report(rows, Path(a.out), a.repeat)
    sys.stdout.flush()
    # py-rattler 0.28 can crash in its destructors at interpreter exit.
    os._exit(0)


def write_report(rows: list[dict], out: Path, repeat: int) -> None:
    solve_ratios = [r["solve_ratio"] for r in rows if r["naja"] != "gave up"]
    total_ratios = [r["total_ratio"] for r in rows if r["naja"] != "gave up"]
    agree = sum(r["naja"] == r["rattler"] for r in rows)
    counts = {k: sum(r["versions"] == k for r in rows) for k in ("better", "tie", "worse")}
    lines = [
        "# naja.solve vs py-rattler 0.28 (resolvo)",
        "",
        f"Shared problem set ({len(rows)} problems), both in one process, median of {repeat} "
        "runs each (at most 3 for u-sudoku-mamba-empty), naja and rattler alternating; "
        "2-core VM shared with other work (load average "
        f"{os.getloadavg()[0]:.1f} at the end of the run: absolute times are noisy, the "
        "ratios less so). *load* is naja reading + "
        "decoding every record of the channels and indexing them by name, rattler opening "
        "its SparseRepoData (it parses the records it needs lazily inside *solve*). Ratios "
        "are naja / rattler.",
        "",
        f"- naja's CDCL engine: **{ENGINE}** (naja.solve.engine; `NAJA_PURE_PYTHON=1` runs sat.py "
        "as Python)",
        f"- outcome agrees with rattler: **{agree}/{len(rows)}**",
        f"- requested versions vs rattler: better {counts['better']}, tie {counts['tie']}, "
        f"worse {counts['worse']}",
    ]
    if solve_ratios:
        lines += [
            f"- solve ratio: median **{statistics.median(solve_ratios):.2f}x**, "
            f"max {max(solve_ratios):.2f}x "
            f"({max(rows, key=lambda r: r['solve_ratio'] if r['naja'] != 'gave up' else 0)['id']})",
            f"- load+solve ratio: median {statistics.median(total_ratios):.2f}x, "
            f"max {max(total_ratios):.2f}x",
        ]
    gave_up = [r["id"] for r in rows if r["naja"] == "gave up"]
    if gave_up:
        lines.append(
            f"- naja gave up (conflict limit {CONFLICT_LIMIT}) on: {', '.join(gave_up)} "
            "(left out of the ratios)"
        )
    lines += [
        "",
        "| problem | naja | rattler | naja load ms | naja solve ms | rattler load ms "
        "| rattler solve ms | solve ratio | load+solve ratio | versions |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['id']} | {r['naja']} | {r['rattler']} | {r['n_load']:.1f} | "
            f"{r['n_solve']:.1f} | {r['r_load']:.1f} | {r['r_solve']:.1f} | "
            f"{r['solve_ratio']:.2f} | {r['total_ratio']:.2f} | {r['versions']} |"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
