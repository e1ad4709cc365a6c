"""Run every side-by-side benchmark against the PyPI peers and write the published report.

    .venv/bin/python bench/run_all.py                      # everything, full inputs
    .venv/bin/python bench/run_all.py --quick              # reduced inputs where supported
    .venv/bin/python bench/run_all.py --quick=render       # only render reduced, the rest full
    .venv/bin/python bench/run_all.py --only solve,render  # some areas (others kept from the work dir)
    .venv/bin/python bench/run_all.py --report-only        # rebuild the report from the work dir
    .venv/bin/python bench/run_all.py --compare bench/results/summary.json --margin 0.2

Each area's script runs as a subprocess with a time limit; its Markdown (and JSON) lands in
the work directory, and bench/results/REPORT.md, summary.json and PNG charts are written
from there. With --compare the fresh report goes to the work directory (the committed one is
left alone) and the exit status is 1 when a ratio worsened by more than --margin.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import gate  # noqa: E402
from bench.report.areas import AREAS, BY_NAME  # noqa: E402
from bench.report.machine import describe  # noqa: E402
from bench.report.runner import run_area  # noqa: E402
from bench.report.writer import collect, summary, write  # noqa: E402

DEFAULT_WORK = (Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())) / "naja-bench-run"


def _names(values: list[str]) -> list[str]:
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise SystemExit(f"unknown area(s): {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    return names


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--quick", nargs="?", const="all", default="", metavar="AREA[,AREA]",
                    help="reduced inputs where the area supports it: every area, or only those named")
    ap.add_argument("--only", action="append", default=[], metavar="AREA[,AREA]",
                    help="run only these areas (repeatable); results of other areas already in the "
                         "work dir stay in the report")
    ap.add_argument("--skip", action="append", default=[], metavar="AREA[,AREA]")
    ap.add_argument("--list", action="store_true", help="list the areas and exit")
    ap.add_argument("--work", type=Path, default=DEFAULT_WORK,
                    help=f"where each area's Markdown, JSON and log go (default {DEFAULT_WORK})")
    ap.add_argument("--out-dir", type=Path, default=None,
                    help="where REPORT.md, summary.json and the charts go (default bench/results; "
                         "with --compare: WORK/report)")
    ap.add_argument("--report-only", action="store_true",
                    help="run nothing: rebuild the report from the work dir")
    ap.add_argument("--timeout-scale", type=float, default=1.0,
                    help="multiply every area's time limit")
    ap.add_argument("--compare", type=Path, default=None, metavar="SUMMARY",
                    help="regression gate: compare the fresh ratios with this summary.json")
    ap.add_argument("--margin", type=float, default=0.2,
                    help="gate: largest allowed relative worsening of a ratio (default 0.2)")
    ap.add_argument("--strict", action="store_true",
                    help="gate: also fail when a baseline metric is missing from the fresh run")
    ap.add_argument("--verbose", action="store_true", help="gate: list unchanged ratios too")
    ap.add_argument("--confirm", action="store_true",
                    help="gate: run areas with a worse ratio once more; the better run counts")
    ap.add_argument("--fresh", type=Path, default=None, metavar="SUMMARY",
                    help="gate: compare this summary.json instead of running anything")
    return ap.parse_args(argv)


def run_gate(base_path: Path, fresh: dict, margin: float, strict: bool, verbose: bool = False,
             confirm: Callable[[set[str]], dict] | None = None) -> int:
    """Compare and print; with `confirm`, areas with a worse ratio run once more and each
    ratio counts with the better of its two runs (load spikes on a shared machine)."""
    base = json.loads(base_path.read_text())
    res = gate.compare(base, fresh, margin)
    if res.worse and confirm is not None:
        areas = {r.area for r in res.worse}
        print(f"worse beyond the margin in {', '.join(sorted(areas))}: running those again ...")
        fresh = gate.best_of(fresh, confirm(areas))
        res = gate.compare(base, fresh, margin)
        res.warnings.append(f"{', '.join(sorted(areas))} ran twice; the better ratio of the two counts")
    print(gate.render(res, strict, everything=verbose))
    return 1 if res.failed(strict) else 0


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    if a.list:
        for area in AREAS:
            print(f"{area.name:14s} {area.title}  [{area.script.relative_to(ROOT.parent)}]"
                  + ("" if area.script.exists() else "  (script missing)"))
        return 0
    if a.fresh is not None:
        if a.compare is None:
            raise SystemExit("--fresh needs --compare BASELINE")
        return run_gate(a.compare, json.loads(a.fresh.read_text()), a.margin, a.strict, a.verbose)
    # Read the baseline before anything is written: it may be the file this run replaces.
    baseline = a.compare.read_text() if a.compare else None
    only, skip = _names(a.only), set(_names(a.skip))
    quick_areas = set(_names([a.quick])) if a.quick not in ("", "all") else set()

    def quick(name: str) -> bool:
        return a.quick == "all" or name in quick_areas

    areas = [x for x in AREAS if (not only or x.name in only) and x.name not in skip]
    out_dir = a.out_dir or (a.work / "report" if a.compare else ROOT / "bench" / "results")
    a.work.mkdir(parents=True, exist_ok=True)
    command = " ".join([".venv/bin/python bench/run_all.py",
                        *(shlex.quote(x) for x in (argv if argv is not None else sys.argv[1:]))])
    if not a.report_only:
        if not only:
            # A whole run starts clean: no area's result of an earlier run may leak in.
            for area in AREAS:
                (a.work / area.name / "status.json").unlink(missing_ok=True)
        if not only or not (a.work / "machine.json").exists():
            machine = describe(ROOT) | {"command": command}
            (a.work / "machine.json").write_text(json.dumps(machine, indent=1))
        t0 = time.monotonic()
        for area in areas:
            print(f"[{time.strftime('%H:%M:%S')}] {area.name}: running "
                  f"({'quick' if quick(area.name) else 'full'}) ...", flush=True)
            st = run_area(area, quick(area.name), a.work, a.timeout_scale)
            took = f" in {st['seconds']:.0f} s" if st.get("seconds") is not None else ""
            print(f"[{time.strftime('%H:%M:%S')}] {area.name}: {st['status']}{took}"
                  + (f" — {st['note']}" if st.get("note") else ""), flush=True)
        print(f"all areas done in {time.monotonic() - t0:.0f} s; work dir {a.work}")
        machine = json.loads((a.work / "machine.json").read_text())
        machine["load_end"] = [round(x, 2) for x in os.getloadavg()]
        machine["minutes"] = round((time.monotonic() - t0) / 60, 1)
        (a.work / "machine.json").write_text(json.dumps(machine, indent=1))
    if a.report_only and (a.work / "machine.json").exists():
        # A rebuilt report names the command that measured, not the one that rebuilt it.
        command = json.loads((a.work / "machine.json").read_text()).get("command") or command
    summ = write(a.work, out_dir, command)
    print(f"wrote {out_dir / 'REPORT.md'} and {out_dir / 'summary.json'} "
          f"({len(summ['headlines'])} ratios)")
    if baseline is not None:
        assert a.compare is not None
        tmp = a.work / "baseline-summary.json"
        tmp.write_text(baseline)

        def again(names: set[str]) -> dict:
            work2 = a.work / "confirm"
            for area in AREAS:
                if area.name in names:
                    st = run_area(area, quick(area.name), work2, a.timeout_scale)
                    print(f"[{time.strftime('%H:%M:%S')}] {area.name} again: {st['status']}", flush=True)
            statuses, extracted = collect(work2, [x for x in AREAS if x.name in names])
            return summary({}, statuses, extracted)

        return run_gate(tmp, summ, a.margin, a.strict, a.verbose,
                        again if a.confirm and not a.report_only else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
