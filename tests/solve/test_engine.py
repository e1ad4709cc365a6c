"""The compiled engine (mypyc build of sat.py) and the Python one give the same answers, and the
loader only ever runs a compiled build made from the sat.py beside it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from naja.solve import Unsatisfiable, encoding, engine, sat, solve
from tests.solve.corpus import problems, request_for

SRC = Path(engine.__file__).resolve().parents[2]
needs_build = pytest.mark.skipif(
    not engine.COMPILED, reason=f"no current compiled engine here: {engine.ENGINE}"
)


def engine_in(pythonpath: Path, **env: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", "from naja.solve import engine; print(engine.ENGINE)"],
        env={**os.environ, "PYTHONPATH": str(pythonpath), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_pure_python_switch() -> None:
    assert engine_in(SRC, NAJA_PURE_PYTHON="1").startswith("python (NAJA_PURE_PYTHON")


@needs_build
def test_compiled_build_is_used_when_current() -> None:
    assert engine_in(SRC) == "compiled (mypyc)"


@needs_build
def test_stale_build_is_ignored(tmp_path: Path) -> None:
    # A copy of the package whose sat.py was edited after the build: the build must not run.
    shutil.copytree(SRC / "naja", tmp_path / "naja", ignore=shutil.ignore_patterns("__pycache__"))
    edited = tmp_path / "naja" / "solve" / "sat.py"
    edited.write_text(edited.read_text() + "\n# edited after the build\n")
    assert engine_in(tmp_path).startswith("python (the compiled build is older")


def outcome(problem: dict, sat_class: type) -> object:
    saved = encoding.Sat
    encoding.Sat = sat_class  # the engine the encoder instantiates
    try:
        result = solve(request_for(problem))
    except Unsatisfiable as exc:
        return ("unsat", str(exc))  # the explanation too: both walk the same proof
    finally:
        encoding.Sat = saved
    return sorted(f"{r.name}={r.version}={r.build}" for r in result.records)


@needs_build
@pytest.mark.parametrize("problem", problems(), ids=lambda p: p["id"])
def test_engines_agree_on_the_problem_set(problem: dict) -> None:
    assert outcome(problem, engine.Sat) == outcome(problem, sat.Sat)
