"""Benchmark naja's Version / VersionSpec next to py-rattler's in the same process.

Operations: parse every corpus version (cold cache, and again warm), sort the corpus, parse every
version constraint found in the repodata corpus, and match those specs against corpus versions.
Writes bench/results/version.md (per-operation times and the naja/rattler ratio).

    .venv/bin/python bench/bench_version.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NAJA_SHARED", ROOT.parent / "shared"))
sys.path.insert(0, str(ROOT / "src"))

import rattler  # noqa: E402

from naja.specs.version import Version  # noqa: E402
from naja.specs.version_spec import VersionSpec, clear_caches  # noqa: E402


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def load() -> tuple[list[str], list[str]]:
    path = SHARED / "corpora" / "versions" / "versions.txt"
    versions = sorted({line for line in path.read_text().splitlines() if line})
    specs: set[str] = set()
    for repodata in sorted((SHARED / "corpora" / "repodata").glob("*/*/repodata.json")):
        data = json.loads(repodata.read_bytes())
        for key in ("packages", "packages.conda"):
            for record in data.get(key, {}).values():
                for dep in record.get("depends", ()):
                    parts = dep.split()
                    if len(parts) >= 2:
                        specs.add(parts[1])
    return versions, sorted(specs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "version.md")
    args = ap.parse_args()
    versions, spec_texts = load()
    # Match candidates: every 10th corpus version (2.8k), against every spec.
    match_texts = versions[::10]
    rows: list[tuple[str, int, float, float]] = []

    shuffled = versions[::-1]

    def cold_parse() -> None:
        Version._cache.clear()
        for t in versions:
            Version.parse(t)

    def cold_parse_and_sort() -> None:
        # Parsing defers the comparison key of plain versions to first use: this row pays it.
        Version._cache.clear()
        sorted([Version.parse(t) for t in shuffled])

    def warm_parse() -> None:
        for t in versions:
            Version.parse(t)

    def rattler_parse() -> None:
        for t in versions:
            rattler.Version(t)

    def rattler_parse_and_sort() -> None:
        sorted([rattler.Version(t) for t in shuffled])

    rattler_p = best(rattler_parse, args.repeat)
    rows.append(
        ("Version parse (cold cache)", len(versions), best(cold_parse, args.repeat), rattler_p)
    )
    rows.append(
        (
            "Version parse + sort (cold cache)",
            len(versions),
            best(cold_parse_and_sort, args.repeat),
            best(rattler_parse_and_sort, args.repeat),
        )
    )
    cold_parse()
    rows.append(("Version parse (cached)", len(versions), best(warm_parse, args.repeat), rattler_p))

    ours = [Version(t) for t in versions[::-1]]
    theirs = [rattler.Version(t) for t in versions[::-1]]
    rows.append(
        (
            "sort the corpus (parsed versions)",
            len(versions),
            best(lambda: sorted(ours), args.repeat),
            best(lambda: sorted(theirs), args.repeat),
        )
    )
    rows.append(
        (
            "sort the corpus, `key=sort_key`",
            len(versions),
            best(lambda: sorted(ours, key=lambda v: v.sort_key), args.repeat),
            best(lambda: sorted(theirs), args.repeat),
        )
    )
    rows.append(
        (
            "hash into a set",
            len(versions),
            best(lambda: set(ours), args.repeat),
            best(lambda: set(theirs), args.repeat),
        )
    )

    def spec_parse_cold() -> None:
        clear_caches()
        Version._cache.clear()
        for s in spec_texts:
            VersionSpec.parse(s)

    def spec_parse_warm_constraints() -> None:
        # Specs new, but the constraints they are made of (`>=1.2`, `<2.0a0`) seen before, as
        # when reading a channel's repodata after the first few thousand records.
        VersionSpec._cache.clear()
        for s in spec_texts:
            VersionSpec.parse(s)

    probe = Version("1.0")

    def spec_parse_and_use_cold() -> None:
        # Flat specs of plain versions build their matcher on first use: this row pays it.
        clear_caches()
        Version._cache.clear()
        for s in spec_texts:
            VersionSpec.parse(s).matches(probe)

    rprobe = rattler.Version("1.0")

    def rattler_spec_parse_and_use() -> None:
        for s in spec_texts:
            rattler.VersionSpec(s).matches(rprobe)

    def rattler_spec_parse() -> None:
        for s in spec_texts:
            rattler.VersionSpec(s)

    rattler_spec = best(rattler_spec_parse, args.repeat)
    rows.append(
        (
            "VersionSpec parse (all caches cold)",
            len(spec_texts),
            best(spec_parse_cold, args.repeat),
            rattler_spec,
        )
    )
    rows.append(
        (
            "VersionSpec parse + first match (all caches cold)",
            len(spec_texts),
            best(spec_parse_and_use_cold, args.repeat),
            best(rattler_spec_parse_and_use, args.repeat),
        )
    )
    rows.append(
        (
            "VersionSpec parse (constraints seen before)",
            len(spec_texts),
            best(spec_parse_warm_constraints, args.repeat),
            rattler_spec,
        )
    )

    our_specs = [VersionSpec.parse(s) for s in spec_texts]
    their_specs = [rattler.VersionSpec(s) for s in spec_texts]
    our_vs = [Version(t) for t in match_texts]
    their_vs = [rattler.Version(t) for t in match_texts]

    def match() -> int:
        n = 0
        for s in our_specs:
            m = s.matches
            for v in our_vs:
                n += m(v)
        return n

    def rattler_match() -> int:
        n = 0
        for s in their_specs:
            m = s.matches
            for v in their_vs:
                n += m(v)
        return n

    n_match = len(our_specs) * len(our_vs)
    assert abs(match() - rattler_match()) < 50  # same answers (but for documented differences)
    rows.append(("VersionSpec.matches", n_match, best(match, 3), best(rattler_match, 3)))

    def raw_match() -> int:
        n = 0
        for s in our_specs:
            m = s.matcher
            for v in our_vs:
                n += m(v)
        return n

    rows.append(
        ("VersionSpec.matcher (no str check)", n_match, best(raw_match, 3), best(rattler_match, 3))
    )

    lines = [
        "# Version benchmarks: naja vs py-rattler",
        "",
        f"`bench/bench_version.py`, CPU time (process_time: the machine is shared), best of {args.repeat} (matching: best of 3), same process;"
        f" Python {platform.python_version()}, py-rattler {rattler.__version__ if hasattr(rattler, '__version__') else '?'},"
        f" {os.cpu_count()} cores. Corpus: {len(versions)} distinct versions,"
        f" {len(spec_texts)} distinct version constraints from the repodata corpus,"
        f" matched against {len(match_texts)} versions.",
        "",
        "| operation | items | naja µs/item | rattler µs/item | naja/rattler |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, n, ours_t, theirs_t in rows:
        lines.append(
            f"| {name} | {n} | {ours_t / n * 1e6:.3f} | {theirs_t / n * 1e6:.3f} | {ours_t / theirs_t:.2f} |"
        )
    lines += [
        "",
        "Notes:",
        "",
        "- A plain version (`1.2.3`, `2.0rc1`: lower-case dotted runs, 94% of the corpus) is"
        " validated by one regular expression at parse time; its components and comparison key"
        " are computed on first comparison. `Version parse + sort` pays for both; `sort the"
        " corpus` compares versions whose keys exist (flat tuples, one tuple comparison each).",
        "- A flat spec of plain versions (`>=1.2,<2.0a0`) is likewise validated by one match and"
        " compiled on first use; `parse + first match` pays for the compilation and for the"
        " first comparison of the versions involved. `constraints seen before` is the steady"
        " state when reading repodata, where the same constraints recur across records.",
        "- `VersionSpec.matches` accepts a `Version` or a string; `.matcher` is the bare"
        " `Version -> bool` function a solver keeps.",
    ]
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)  # py-rattler 0.28 can crash at interpreter exit
