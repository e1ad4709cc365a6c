"""The README's first command: the end-to-end demo, offline, twice in a row."""

from __future__ import annotations

import subprocess
import sys


def test_demo_runs_end_to_end_twice() -> None:
    for _ in range(2):
        run = subprocess.run(
            [sys.executable, "-m", "naja.demo"], capture_output=True, text=True, timeout=600
        )
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert "Hello, naja!!" in run.stdout
        assert "Hello from Python, naja!" in run.stdout
        assert "what each step took" in run.stdout
        assert "demo finished" in run.stdout
