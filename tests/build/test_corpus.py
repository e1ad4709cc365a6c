"""Conformance: naja's renders of the public conda-forge corpus against rattler-build's.

The whole corpus (10,415 cases) is rendered in this process and scored with the corpus' own
`compare_render.py` rules (`--allow-context-override`). Measured: 10,400 / 10,415 identical
(99.86 %); the threshold leaves a margin of ~0.36 % (about 37 cases) so that unrelated changes
in shared types do not make the test flaky, while any real regression in a class of recipes
(a few dozen cases at least) fails it. Remaining differences: docs/render-differences.md.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from naja.build.conformance import load_comparer, score, summary
from tests.build.conftest import COMPARER

THRESHOLD = 0.995


@pytest.mark.slow
def test_corpus_pass_rate(render_corpus: Path) -> None:
    comparer = load_comparer(COMPARER)
    results = score(render_corpus, comparer)
    stats = summary(results)
    failures = [r for r in results if r.status != "identical"]
    detail = "\n".join(f"{r.feedstock}/{r.name}: {r.paths[:2]}" for r in failures[:40])
    assert stats["cases"] == 10415
    assert stats["pass_rate"] >= THRESHOLD, f"{stats}\n{detail}"


def test_cli_fits_compare_render(render_corpus: Path, tmp_path: Path) -> None:
    """compare_render.py's documented command template drives `naja build --render-only`."""
    naja = Path(sys.executable).with_name("naja")
    cmd = (
        f"{shlex.quote(str(naja))} build --render-only --variant-config {{variant}} "
        "--target-platform {target_platform} --output-json {out} {recipe_dir}"
    )
    proc = subprocess.run(
        [
            sys.executable,
            str(COMPARER),
            "--corpus",
            str(render_corpus),
            "--actual",
            str(tmp_path / "renders"),
            "--cmd",
            cmd,
            "--feedstock",
            "7zip",
            "ordered_enum",
            "--allow-context-override",
            "--jobs",
            "2",
            "--json-report",
            str(tmp_path / "report.json"),
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["summary"]["cases"] >= 6, proc.stdout + proc.stderr
    assert report["summary"]["identical"] == report["summary"]["cases"], proc.stdout
