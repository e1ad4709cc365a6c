"""Benchmark: decoding repodata.json into records, naja next to py-rattler in the same run.

Cases: the real index4/linux-64 repodata (5.3k records) and a synthetic 300k-record file made by
replicating its records under new names. For each, the time to get every record as an object
(naja `load_repodata` from the bytes read off disk; rattler `SparseRepoData` + `load_all_records`
and `RepoData.from_path`), and the time to open the file and get the records of one package name (naja `LazyRepoData`,
rattler `SparseRepoData.load_records`).

    .venv/bin/python bench/bench_repodata_load.py [--out bench/results/repodata_load.md]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.timing import pair  # noqa: E402
from tests.conftest import REPODATA  # noqa: E402

from naja.specs.repodata import LazyRepoData, load_repodata  # noqa: E402

INDEX4 = REPODATA / "index4" / "linux-64" / "repodata.json"


def make_synthetic(target: int, path: Path) -> int:
    """Write a repodata.json of about `target` records, index4's records under new names."""
    data = json.loads(INDEX4.read_bytes())
    base = data["packages"]
    packages = {}
    copy = 0
    while len(packages) < target:
        for fn, rec in base.items():
            name = rec["name"]
            new_name = f"{name}-x{copy}"
            packages[new_name + fn[len(name) :]] = {**rec, "name": new_name}
            if len(packages) >= target:
                break
        copy += 1
    path.write_text(json.dumps({"info": data["info"], "packages": packages, "packages.conda": {}}))
    return len(packages)


def bench_file(label: str, path: Path, name: str, repeat: int) -> list[tuple[str, float, float]]:
    import rattler

    channel = rattler.Channel("bench")
    subdir = "linux-64"

    def naja_all() -> object:
        return load_repodata(path.read_bytes(), channel="bench", subdir=subdir)

    def rattler_sparse_all() -> object:
        return rattler.SparseRepoData(channel, subdir, str(path)).load_all_records()

    def rattler_repodata() -> object:
        return rattler.RepoData.from_path(str(path))

    def naja_one() -> object:
        return LazyRepoData(path.read_bytes(), channel="bench", subdir=subdir).records(name)

    def rattler_one() -> object:
        return rattler.SparseRepoData(channel, subdir, str(path)).load_records(
            rattler.PackageName(name)
        )

    n_ours = len(naja_all())  # type: ignore[arg-type]
    n_theirs = len(rattler_sparse_all())  # type: ignore[arg-type]
    assert n_ours == n_theirs, (n_ours, n_theirs)
    return [
        (
            f"{label}: all {n_ours} records (vs SparseRepoData.load_all_records)",
            *pair(naja_all, rattler_sparse_all, repeat),
        ),
        (
            f"{label}: all records (vs RepoData.from_path, no record objects)",
            *pair(naja_all, rattler_repodata, repeat),
        ),
        (
            f"{label}: records of `{name}` (LazyRepoData vs SparseRepoData.load_records)",
            *pair(naja_one, rattler_one, repeat),
        ),
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--records", type=int, default=300_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()

    rows = bench_file("index4/linux-64", INDEX4, "numpy", args.repeat * 3)
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "repodata.json"
        count = make_synthetic(args.records, big)
        size_mb = big.stat().st_size / 1e6
        rows += bench_file(
            f"synthetic {count // 1000}k ({size_mb:.0f} MB)", big, "numpy-x7", args.repeat
        )

    lines = [
        "# repodata.json loading: naja vs py-rattler",
        "",
        f"Machine: {os.cpu_count()} cores, shared with other jobs; best of N alternating runs,"
        " collector paused while timing; file read included on both sides. `bench/bench_repodata_load.py`.",
        "",
        "| case | naja | py-rattler | naja / rattler |",
        "|---|---:|---:|---:|",
    ]
    for label, ours, theirs in rows:
        lines.append(
            f"| {label} | {ours * 1e3:.1f} ms | {theirs * 1e3:.1f} ms | {ours / theirs:.2f}x |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
