#!/usr/bin/env python3
"""naja.install vs py-rattler's installer, in process, on the bench channel (no solver).

Both install the same records (every package of the channel's repodata, `.conda` artifacts)
into a fresh prefix: cold (empty package cache) and warm (cache filled by the cold run). The
channel is served over HTTP on loopback by the shared harness's server (nginx when available)
so downloads count in the cold numbers, as in ../../shared/bench/bench_install.py. Then the two
resulting trees are compared with the harness's `compare_trees`, and `cp -al` of naja's tree is
timed as the warm floor. Results go to stdout and, with --out, to a markdown file.

    python bench/bench_install_naja.py --channels /dev/shm/naja-bench/channels \\
        --work /dev/shm/naja-bench/work --runs 3 --out bench/results/install.md
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NAJA_SHARED", ROOT.parent / "shared"))
sys.path.insert(0, str(ROOT / "src"))


def _harness():
    spec = importlib.util.spec_from_file_location("bench_install", SHARED / "bench" / "bench_install.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def naja_records(channel_url: str, channel_dir: Path, names: set[str] | None):
    from naja.specs.repodata import load_repodata

    out = []
    for sd in ("linux-64", "noarch"):
        data = (channel_dir / sd / "repodata.json").read_bytes()
        out += load_repodata(data, channel=channel_url, subdir=sd)
    return [r for r in out if names is None or r.name in names]


def rattler_records(channel_url: str, channel_dir: Path, names: set[str] | None):
    from rattler import Channel, RepoData

    out = []
    for sd in ("linux-64", "noarch"):
        rd = RepoData.from_path(channel_dir / sd / "repodata.json")
        out += [
            r
            for r in rd.into_repo_data(Channel(channel_url))
            if r.file_name.endswith(".conda")
        ]
    return [r for r in out if names is None or r.name.normalized in names]


def _cpu() -> float:
    # This process, its threads and its finished child processes (naja's link and extraction
    # helpers), user + system: comparable even on a busy machine.
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def run_naja(records, prefix: Path, cache: Path) -> tuple[float, float]:
    from naja.install import PackageCache, install

    c0, t0 = _cpu(), time.perf_counter()
    install(prefix, records, cache=PackageCache([cache / "pkgs"]), warn=lambda m: None)
    return time.perf_counter() - t0, _cpu() - c0


def run_rattler(records, prefix: Path, cache: Path) -> tuple[float, float]:
    from rattler import install

    c0, t0 = _cpu(), time.perf_counter()
    asyncio.run(install(records, target_prefix=prefix, cache_dir=cache / "pkgs", show_progress=False))
    return time.perf_counter() - t0, _cpu() - c0


def rm(p: Path) -> None:
    if os.path.lexists(p):
        shutil.rmtree(p, ignore_errors=True)


def med(xs):
    return round(statistics.median(xs), 3) if xs else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--channels", default="/dev/shm/naja-bench/channels")
    ap.add_argument("--channel-name", default="bench")
    ap.add_argument("--work", default="/dev/shm/naja-bench/work-install")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", choices=["naja", "rattler", "both"], default="both")
    ap.add_argument("--out", default=None, help="markdown file for the results")
    a = ap.parse_args()
    a.runs = max(1, min(a.runs, 10))
    h = _harness()
    chan_root = Path(a.channels).resolve()
    chan_dir = chan_root / a.channel_name
    work = Path(a.work)
    rm(work)
    work.mkdir(parents=True)
    srv = h.Server(chan_root, "auto", 0, work / "server").start()
    url = f"http://127.0.0.1:{srv.port}/{a.channel_name}"
    res: dict = {"server": srv.kind, "channel": url, "runs": a.runs,
                 "load_before": round(os.getloadavg()[0], 2)}
    tools = []
    if a.only in ("naja", "both"):
        tools.append(("naja", naja_records(url, chan_dir, None), run_naja))
    if a.only in ("rattler", "both"):
        tools.append(("rattler", rattler_records(url, chan_dir, None), run_rattler))
    final = {}
    # The tools take turns (naja, rattler, naja, ...) so that the load of a shared machine,
    # which drifts over minutes, weighs on both alike.
    times = {name: {"cold": [], "warm": [], "cold_cpu": [], "warm_cpu": []} for name, _, _ in tools}
    caches = {}
    try:
        for i in range(a.runs):
            for name, records, fn in tools:
                cache = work / f"{name}-cache-{i}"
                prefix = work / f"{name}-cold-{i}"
                rm(cache)
                subprocess.run(["sync"])
                wall, cpu = fn(records, prefix, cache)
                times[name]["cold"].append(wall)
                times[name]["cold_cpu"].append(cpu)
                rm(prefix)
                if name in caches:
                    rm(caches[name])
                caches[name] = cache
        for i in range(a.runs):
            for name, records, fn in tools:
                prefix = work / f"{name}-warm-{i}"
                subprocess.run(["sync"])
                wall, cpu = fn(records, prefix, caches[name])
                times[name]["warm"].append(wall)
                times[name]["warm_cpu"].append(cpu)
                if i < a.runs - 1:
                    rm(prefix)
                final[name] = prefix
        for name, records, _ in tools:
            t = times[name]
            res[name] = {"n_records": len(records), "cold": med(t["cold"]), "warm": med(t["warm"]),
                         "cold_cpu": med(t["cold_cpu"]), "warm_cpu": med(t["warm_cpu"]),
                         "cold_all": [round(x, 3) for x in t["cold"]],
                         "warm_all": [round(x, 3) for x in t["warm"]]}
            print(name, json.dumps(res[name]), flush=True)
        if "naja" in final:
            ts = []
            for i in range(a.runs):
                dst = work / f"cp-al-{i}"
                rm(dst)
                subprocess.run(["sync"])
                t0 = time.perf_counter()
                subprocess.run(["cp", "-al", str(final["naja"]), str(dst)], check=True)
                ts.append(time.perf_counter() - t0)
                rm(dst)
            res["cp_al"] = med(ts)
            res["naja_tree"] = h.tree_stats(final["naja"])
            res["naja_placeholder_left"] = h.check_prefix_replaced(final["naja"])[:10]
        if len(final) == 2:
            res["tree_vs_rattler"] = h.compare_trees(final["rattler"], final["naja"])
            n, r = res["naja"], res["rattler"]
            res["ratio_cold"] = round(n["cold"] / r["cold"], 3)
            res["ratio_warm"] = round(n["warm"] / r["warm"], 3)
        if "cp_al" in res:
            res["ratio_warm_vs_cp_al"] = round(res["naja"]["warm"] / res["cp_al"], 3)
    finally:
        srv.stop()
        for p in final.values():
            rm(p)
    res["load_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(res, indent=1))
    if a.out:
        Path(a.out).write_text(render(res))
    sys.stdout.flush()
    os._exit(0)  # py-rattler 0.28 may crash in interpreter finalisation


def render(r: dict) -> str:
    lines = [
        "# naja.install vs py-rattler (in process, no solver)",
        "",
        f"`bench/bench_install_naja.py`, {r['runs']} runs each (the tools take turns), median wall "
        f"seconds; channel served by {r['server']} on loopback; work dir on tmpfs.",
        "",
        f"Load average (1 min) before/after: {r.get('load_before')} / {r.get('load_after')} on "
        f"{os.cpu_count()} cores — other work shares the machine, so CPU seconds (user+system of the "
        "process, its threads and its helper processes, the same for both tools) are given too.",
        "",
        "| what | median wall (s) | runs | median CPU (s) | wall ratio naja/rattler |",
        "|---|---:|---|---:|---:|",
    ]
    for name in ("naja", "rattler"):
        if name in r:
            t = r[name]
            rc = r.get("ratio_cold") if name == "naja" else ""
            rw = r.get("ratio_warm") if name == "naja" else ""
            lines.append(f"| {name} cold ({t['n_records']} packages) | {t['cold']} | {t['cold_all']} | {t['cold_cpu']} | {rc or ''} |")
            lines.append(f"| {name} warm | {t['warm']} | {t['warm_all']} | {t['warm_cpu']} | {rw or ''} |")
    if "cp_al" in r:
        lines.append(f"| `cp -al` of naja's tree | {r['cp_al']} | | | naja warm / cp -al = {r.get('ratio_warm_vs_cp_al')} |")
    lines.append("")
    if "tree_vs_rattler" in r:
        lines.append("Tree comparison (rattler's tree vs naja's, conda-meta excluded, prefix normalised):")
        lines.append("")
        lines.append("```")
        lines.append(json.dumps(r["tree_vs_rattler"], indent=1))
        lines.append("```")
    if "naja_tree" in r:
        lines.append(f"\nnaja's tree: {r['naja_tree']}; files still holding the placeholder: {r['naja_placeholder_left']}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
