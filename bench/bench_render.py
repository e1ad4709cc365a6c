"""Benchmark recipe rendering: naja vs py-rattler-build (0.73) on the public render corpus.

Two figures per tool, measured in the same run:
  * in process: every case of the corpus (or --cases N of them) rendered one after the other in
    one interpreter (naja's template caches warm up as they would in a long-running tool);
  * per process: a sample of --proc-sample cases, each in a fresh process (`naja build
    --render-only ...` vs `python -c` importing rattler_build and rendering), i.e. what a CI job
    calling the tool once per variant pays, start-up included.
Writes bench/results/render.md with both tables and naja/rattler ratios (< 1: naja faster).

    .venv/bin/python bench/bench_render.py [--cases 0] [--proc-sample 50] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NAJA_SHARED", ROOT.parent / "shared"))
sys.path.insert(0, str(ROOT / "src"))

import rattler_build as rb  # noqa: E402

from naja.build import jinja_env  # noqa: E402
from naja.build.conformance import load_comparer  # noqa: E402
from naja.build.output_json import output_document  # noqa: E402
from naja.build.render import RecipeRenderer  # noqa: E402
from naja.build.variants import recipe_variant_files  # noqa: E402

RATTLER_ONE = """
import sys, rattler_build as rb
recipe, tp, files = sys.argv[1], sys.argv[2], sys.argv[3:]
r = rb.Stage0Recipe.from_file(recipe)
vc = rb.VariantConfig.from_files(files) if files else rb.VariantConfig()
rc = rb.RenderConfig(platform=rb.PlatformConfig(
    target_platform=tp, build_platform="linux-64", host_platform=tp))
r.render(vc, rc)
"""


def case_paths(tests: Path, case: dict) -> tuple[Path, list[Path], str]:
    fs = tests / case["feedstock"]
    recipe = fs / "recipe" / "recipe.yaml"
    files = [fs / "variants" / case["variant_file"]] if case["variant_file"] else []
    return recipe, files, case["target_platform"] or "linux-64"


def naja_render(tests: Path, case: dict) -> None:
    recipe, files, tp = case_paths(tests, case)
    output_document(RecipeRenderer(recipe, files, tp, "linux-64").render())


def naja_render_cold(tests: Path, case: dict) -> None:
    # Forget every compiled expression first: each case pays its own parsing, as a fresh
    # process would (without the interpreter start-up).
    jinja_env._expr_cache.clear()
    jinja_env._vars_cache.clear()
    naja_render(tests, case)


def rattler_render(tests: Path, case: dict) -> None:
    recipe, files, tp = case_paths(tests, case)
    all_files = [*recipe_variant_files(recipe.parent), *files]
    r = rb.Stage0Recipe.from_file(str(recipe))
    vc = rb.VariantConfig.from_files([str(p) for p in all_files]) if all_files else rb.VariantConfig()
    rc = rb.RenderConfig(
        platform=rb.PlatformConfig(target_platform=tp, build_platform="linux-64", host_platform=tp)
    )
    r.render(vc, rc)


def interleaved(runners, cases: list[dict]) -> list[tuple[str, list[float], int]]:
    """Time every runner on each case in turn (rotating who starts), so load changes on this
    shared machine and cold file caches hit all tools alike. A runner returns False on failure."""
    times: dict[str, list[float]] = {label: [] for label, _ in runners}
    errors: dict[str, int] = dict.fromkeys(times, 0)
    for index, case in enumerate(cases):
        # Rotate who goes first: the first reader of a case pays for cold file caches.
        shift = index % len(runners)
        for label, fn in (*runners[shift:], *runners[:shift]):
            t0 = time.perf_counter()
            ok = fn(case)
            times[label].append(time.perf_counter() - t0)
            errors[label] += not ok
    return [(label, times[label], errors[label]) for label, _ in runners]


def in_process(fn, tests: Path):
    def run(case: dict) -> bool:
        try:
            fn(tests, case)
        except Exception:
            return False
        return True

    return run


def per_process(argv_for, tests: Path, env: dict[str, str], cpu: list[float]):
    """A runner for fresh processes; `cpu` collects each one's CPU time (user + system), which
    other jobs on this machine disturb less than wall time."""

    def run(case: dict) -> bool:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(argv_for(tests, case), capture_output=True, env=env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        return proc.returncode == 0

    return run


def naja_argv(out_dir: Path):
    naja = Path(sys.executable).with_name("naja")

    def argv(tests: Path, case: dict) -> list[str]:
        recipe, files, tp = case_paths(tests, case)
        cmd = [str(naja), "build", "--render-only", "--target-platform", tp]
        for f in files:
            cmd += ["--variant-config", str(f)]
        return [*cmd, "--output-json", str(out_dir / "out.json"), str(recipe.parent)]

    return argv


def rattler_argv(tests: Path, case: dict) -> list[str]:
    recipe, files, tp = case_paths(tests, case)
    all_files = [*recipe_variant_files(recipe.parent), *files]
    return [sys.executable, "-c", RATTLER_ONE, str(recipe), tp, *map(str, all_files)]


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=0, help="in-process cases (0: whole corpus)")
    ap.add_argument("--proc-sample", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "render.md")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-render-"))
    with tarfile.open(SHARED / "corpora" / "recipe-render-public.tar.gz") as tar:
        tar.extractall(tmp, filter="data")
    tests = tmp / "rendering-tests"
    comparer = load_comparer(SHARED / "corpora" / "compare_render.py")
    cases = comparer.list_cases(tests)
    rng = random.Random(args.seed)
    inproc = cases if not args.cases else rng.sample(cases, args.cases)
    sample = rng.sample(cases, args.proc_sample)

    rows = []
    runners = (
        ("naja", in_process(naja_render, tests)),
        ("naja, expression caches cleared per case", in_process(naja_render_cold, tests)),
        ("py-rattler-build 0.73", in_process(rattler_render, tests)),
    )
    rows = interleaved(runners, inproc)
    for label, times, errors in rows:
        print(f"in process {label}: {sum(times):.2f} s, {errors} errors", flush=True)
    # This machine sets PYTHONDONTWRITEBYTECODE, which would make every fresh process recompile
    # every Python module it imports; an installed tool has its bytecode cached.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    cpu: dict[str, list[float]] = {"naja": [], "py-rattler-build 0.73": []}
    proc_runners = (
        ("naja", per_process(naja_argv(tmp), tests, env, cpu["naja"])),
        ("py-rattler-build 0.73", per_process(rattler_argv, tests, env, cpu["py-rattler-build 0.73"])),
    )
    for _, run in proc_runners:
        run(sample[0])  # untimed: writes the bytecode cache
    for times in cpu.values():
        times.clear()
    load_before = os.getloadavg()
    prows = interleaved(proc_runners, sample)
    load_after = os.getloadavg()
    for label, times, _ in prows:
        print(
            f"per process {label}: median {statistics.median(times) * 1000:.1f} ms, "
            f"CPU {statistics.median(cpu[label]) * 1000:.1f} ms",
            flush=True,
        )

    def table(title: str, data: list[tuple[str, list[float], int]], n: int) -> list[str]:
        base = data[-1][1]
        lines = [
            f"### {title} ({n} cases)",
            "",
            "| tool | total | mean / case | median / case | p95 / case | errors | total vs rattler |",
            "|---|---|---|---|---|---|---|",
        ]
        for label, times, errors in data:
            p95 = sorted(times)[int(len(times) * 0.95) - 1]
            ratio = sum(times) / sum(base)
            lines.append(
                f"| {label} | {sum(times):.2f} s | {fmt_ms(statistics.mean(times))} | "
                f"{fmt_ms(statistics.median(times))} | {fmt_ms(p95)} | {errors} | {ratio:.2f}x |"
            )
        return [*lines, ""]

    md = [
        "# Render throughput: naja vs py-rattler-build",
        "",
        f"`bench/bench_render.py` on the public render corpus; {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Ratios < 1 mean naja is faster.",
        "naja's in-process figure includes building the JSON document; py-rattler-build's is",
        "`Stage0Recipe.from_file` + `VariantConfig.from_files` + `render` (objects, no JSON).",
        "Per process: `naja build --render-only` vs `python -c 'import rattler_build; ...'`,",
        "both including interpreter start-up and imports, with bytecode cached (the machine's",
        "PYTHONDONTWRITEBYTECODE is lifted for the children, as for an installed tool).",
        "Other jobs shared the 2 cores while this ran, so wall times are noisy; the tools run",
        "interleaved case by case, so load changes hit them alike and the ratios stay fair.",
        "`naja build --render-only` runs without click and imports only what rendering needs",
        "(see naja.cli.main, naja.build.libyaml).",
        "",
        *table("In process", rows, len(inproc)),
        *table("Per fresh process", prows, len(sample)),
        "CPU time per fresh process (user + system, median): "
        + ", ".join(f"{label} {statistics.median(t) * 1000:.1f} ms" for label, t in cpu.items())
        + f" ({statistics.median(cpu['naja']) / statistics.median(cpu['py-rattler-build 0.73']):.2f}x);"
        f" load average {load_before[0]:.2f} before, {load_after[0]:.2f} after the per-process runs.",
        "",
    ]
    args.out.write_text("\n".join(md) + "\n")
    print("\n".join(md))
    sys.stdout.flush()
    shutil.rmtree(tmp, ignore_errors=True)  # the unpacked corpus
    os._exit(0)


if __name__ == "__main__":
    main()
