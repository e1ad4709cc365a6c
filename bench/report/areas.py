"""The benchmark areas `run_all.py` drives: which script, with which arguments (full and
`--quick`), how its Markdown comes back, and how long it may take.

Each area's script belongs to the engineer who owns that area; nothing here edits them. Where a
script lacks something the runner needs (an `--out` option, a reduced input), the adapter is
here: `bench_startup.py` is run from a copy so it writes next to the copy, and the shared
install harness's JSON is turned into a Markdown table (`bench/report/adapters.py`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("NAJA_SHARED", ROOT.parent / "shared"))
BENCH = ROOT / "bench"
# The bench channel (make_bench_channel.py) that bench_fetch.py generates and keeps on tmpfs;
# the install areas use the same one so it is generated at most once.
BENCH_CHANNELS = Path("/dev/shm/naja-fetch-bench")


@dataclass
class Area:
    """One side-by-side benchmark."""

    name: str
    title: str
    script: Path
    # argv after the script for a full and a quick run; `work` is the area's scratch directory.
    args: Callable[[bool, Path], list[str]]
    timeout: float  # seconds, full run
    quick_timeout: float
    # how the Markdown comes back: "out" (`--out PATH`), "copy" (the script writes
    # results/<results_name> next to itself: run a copy), "json" (`--json PATH`, then an
    # adapter renders Markdown), "inplace" (the script writes bench/results/<results_name>).
    output: str = "out"
    results_name: str = ""
    needs_bench_channel: bool = False
    peer: str = "py-rattler 0.28"

    def source(self) -> str:
        return self.script.read_text() if self.script.exists() else ""


def _solve_args(quick: bool, work: Path) -> list[str]:
    if not quick:
        return []
    # The pigeonhole sudoku takes naja ~40 s to give up on and is left out of the ratios anyway.
    problems = SHARED / "solver" / "problems.jsonl"
    ids = [json.loads(x)["id"] for x in problems.open() if x.strip()]
    return ["--repeat", "3", "--only", ",".join(i for i in ids if i != "u-sudoku-mamba-empty")]


def _install_args(quick: bool, work: Path) -> list[str]:
    return ["--channels", str(BENCH_CHANNELS), "--channel-name", "bench",
            "--work", str(work / "scratch"), "--runs", "1" if quick else "3"]


def _install_cli_args(quick: bool, work: Path) -> list[str]:
    naja = Path(os.environ.get("NAJA_BIN", ROOT / ".venv" / "bin" / "naja"))
    return ["--channels", str(BENCH_CHANNELS), "--channel-name", "bench",
            "--work", str(work / "scratch"), "--runs", "1" if quick else "2", "--no-floors",
            "--rattler-cli", "--cmd-name", "naja",
            "--cmd", f"{naja} create -y --override-channels -p {{prefix}} -c {{channel_url}} {{specs}}"]


def _repodata_args(quick: bool, work: Path) -> list[str]:
    # Its own data directory: the script empties `<data>/caches` at start and end, which would
    # disturb (or be disturbed by) the owner running it by hand at the same time. Kept next
    # to the areas' directories so the generated channel is reused from run to run.
    return ["--data", str(work.parent / "repodata-data"), *(["--rounds", "1"] if quick else [])]


def _fixed(full: list[str], quick: list[str]) -> Callable[[bool, Path], list[str]]:
    return lambda q, _work: list(quick if q else full)


AREAS: list[Area] = [
    Area("solve", "Solver: the shared problem set", BENCH / "bench_solve.py", _solve_args, 1500, 400),
    Area("install", "Install, cold and warm, in process", BENCH / "bench_install_naja.py",
         _install_args, 900, 400, needs_bench_channel=True),
    Area("install-cli", "Install as a fresh process: `naja create` vs rattler's CLI path",
         SHARED / "bench" / "bench_install.py", _install_cli_args, 1200, 500, output="json",
         needs_bench_channel=True),
    Area("repodata", "Channel indexes over HTTP (shards and .zst)", BENCH / "bench_repodata.py",
         _repodata_args, 1500, 500, peer="py-rattler 0.28 Gateway"),
    Area("fetch", "Package downloads", BENCH / "bench_fetch.py",
         _fixed([], ["--rounds", "2"]), 900, 300, peer="py-rattler 0.28, curl"),
    Area("render", "Recipe rendering", BENCH / "bench_render.py",
         _fixed([], ["--cases", "800", "--proc-sample", "10"]), 1500, 400,
         peer="py-rattler-build 0.73"),
    # No peer server comes from PyPI: the report holds naja's figures against issue 12's goals.
    Area("server", "Package server under load", BENCH / "bench_server.py",
         _fixed([], ["--per-client", "5"]), 1200, 400, results_name="server.md",
         peer="goals (no peer)"),
    Area("version", "Versions and version specs", BENCH / "bench_version.py",
         _fixed([], ["--repeat", "2"]), 600, 200),
    Area("matchspec", "Match specs", BENCH / "bench_matchspec.py",
         _fixed([], ["--repeat", "3"]), 600, 200),
    Area("repodata-load", "Decoding repodata.json", BENCH / "bench_repodata_load.py",
         _fixed([], ["--records", "60000", "--repeat", "3"]), 600, 200),
    Area("startup", "Start-up of the `naja` command", BENCH / "bench_startup.py",
         _fixed([], []), 300, 200, output="copy", results_name="startup.md",
         peer="goal 150 ms"),
]

BY_NAME = {a.name: a for a in AREAS}


def resolve_output(area: Area) -> str:
    """The output mode to use: the registry's, but an area declared "out" whose script has no
    `--out` option falls back to running in place (its default results file)."""
    if area.output == "out" and '"--out"' not in area.source():
        return "inplace"
    return area.output


def argv(area: Area, quick: bool, work: Path) -> list[str]:
    """The script's arguments; a script with its own `--quick` gets that instead of ours."""
    if quick and '"--quick"' in area.source():
        return ["--quick"]
    return area.args(quick, work)
