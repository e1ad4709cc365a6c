"""Start-up time of the naja command: `naja --version` and `naja --help` as fresh processes.

The floor is a bare `python -c pass` of the same interpreter; the goal (issue 7) is under
150 ms for both. Writes bench/results/startup.md.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 20
NAJA = str(Path(sys.executable).parent / "naja")
CASES = {
    "python -c pass (floor)": [sys.executable, "-c", "pass"],
    "naja --version": [NAJA, "--version"],
    "naja --help": [NAJA, "--help"],
    "naja create --help": [NAJA, "create", "--help"],
}


def measure(cmd: list[str]) -> list[float]:
    subprocess.run(cmd, capture_output=True, check=True)  # warm the page cache
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append((time.perf_counter() - t) * 1e3)
    return times


def main() -> None:
    rows = []
    floor = None
    for label, cmd in CASES.items():
        times = measure(cmd)
        med = statistics.median(times)
        floor = floor or med
        rows.append(f"| {label} | {med:.1f} | {min(times):.1f} | {med - floor:+.1f} |")
        print(rows[-1])
    out = Path(__file__).parent / "results" / "startup.md"
    out.write_text(
        "# naja start-up\n\n"
        f"Fresh processes, median and best of {RUNS} runs (2-core VM). Goal: < 150 ms.\n\n"
        "| command | median ms | best ms | over the floor ms |\n|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n"
    )


if __name__ == "__main__":
    main()
