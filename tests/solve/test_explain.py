"""Explanations of unsatisfiable requests: short, top-down, about the root cause."""

from __future__ import annotations

import json

import pytest

from naja.solve import SolveRequest, Unsatisfiable, solve
from naja.solve.ranges import merge_ranges
from naja.solve.suggest import closest_names
from naja.specs.records import PackageRecord
from tests.solve.corpus import problems, request_for

# Per unsat problem: words the explanation must contain (the packages at the root of the
# conflict) and words it must not (requested packages that play no part in it).
ROOT_CAUSES: dict[str, tuple[list[str], list[str]]] = {
    "u-idx1-py26-sklearn013": (["python=2.6", "scikit-learn", "python 2.7"], []),
    "u-idx1-globstr": (["np17", "np16", "accelerate"], []),
    "u-idx1-cudatoolkit-nocuda": (["cudatoolkit", "__cuda", "CONDA_OVERRIDE_CUDA"], []),
    "u-idx1-cuda-constrain": (["cuda-constrain", "__cuda", "12.1", "CONDA_OVERRIDE_CUDA"], []),
    "u-idx2-bokeh0125-py34": (["bokeh", "python=3.4"], ["six"]),
    "u-idx4-missing": (["scikit-learn", "no package named"], ["scipy", "pandas"]),
    "u-idx4-pandas020-py37": (["pandas", "python=3.7"], []),
    "u-idx4-qt59-pyqt56": (["qt=5.9", "pyqt", "qt 5.6"], []),
    "u-idx4-revoked": (["numpy", "libgcc-ng=5.4", "libgcc-ng >=7.2"], []),
    "u-idx4-range": (["setuptools<30", "36.5.0"], ["conda=4.4.10"]),
    "u-idx4-constrains-cb": (["conda-build", "conda-verify", ">=3.12"], []),
    "u-r-idx4-rbase33": (["r-base", "icu 54"], ["r-tidyverse"]),
    "u-pt-idx4-pytorch-cpu04": (["pytorch-cpu", "ninja", "no package named"], []),
}


def _unsat_problems() -> list[object]:
    return [pytest.param(p, id=p["id"]) for p in problems() if p["id"] in ROOT_CAUSES]


@pytest.mark.parametrize("problem", _unsat_problems())
def test_explanation_names_the_root_cause(problem: dict) -> None:
    with pytest.raises(Unsatisfiable) as info:
        solve(request_for(problem))
    err = info.value
    text = err.explanation
    must, must_not = ROOT_CAUSES[problem["id"]]
    for word in must:
        assert word in text, f"{word!r} missing from:\n{text}"
    for word in must_not:
        assert word not in text, f"{word!r} is not part of the conflict:\n{text}"
    lines = text.splitlines()
    assert len(lines) <= 12, text
    assert sum(line.startswith("hint:") for line in lines) <= 1
    # The structured form carries the same content and is JSON.
    tree = json.loads(json.dumps(err.problems))
    assert tree["requested"] and all(s in text for s in tree["requested"])
    assert tree["tree"][0]["kind"] in {"requested", "pin", "installed"}


def test_explanation_is_top_down_with_provenance() -> None:
    chan = [
        PackageRecord(name="app", version="2.0", build="0", depends=["lib >=2"]),
        PackageRecord(name="app", version="1.0", build="0", depends=["lib >=2"]),
        PackageRecord(name="lib", version="2.1", build="0", depends=["base 2.*"]),
        PackageRecord(name="lib", version="2.0", build="0", depends=["base 2.*"]),
        PackageRecord(name="base", version="1.0", build="0"),
        PackageRecord(name="base", version="2.0", build="0"),
    ]
    with pytest.raises(Unsatisfiable) as info:
        solve(SolveRequest(specs=["app", "base <2"], channels=[chan]))
    lines = info.value.explanation.splitlines()
    text = "\n".join(lines)
    assert lines[0].startswith("cannot install app, base <2 together")
    # The chain app -> lib -> base, each step with who asked for it; versions merged.
    assert "app (all 2 builds) requires lib >=2" in text
    assert "lib (all 2 builds) requires base 2.*" in text
    assert "base <2 (requested)" in text
    app_line = next(i for i, line in enumerate(lines) if "requires lib" in line)
    lib_line = next(i for i, line in enumerate(lines) if "requires base" in line)
    assert app_line < lib_line
    conflict = next(line for line in lines if "conflict:" in line)
    assert "dependency of lib" in conflict and "requested" in conflict


def test_missing_requested_name_suggests_close_names() -> None:
    chan = [PackageRecord(name="numpy", version="1.0", build="0")]
    with pytest.raises(Unsatisfiable) as info:
        solve(SolveRequest(specs=["nunpy"], channels=[chan]))
    assert "no package named nunpy" in info.value.explanation
    assert info.value.hint is not None and "numpy" in info.value.hint


def test_glibc_too_old_hint() -> None:
    chan = [PackageRecord(name="tool", version="1.0", build="0", depends=["__glibc >=2.28"])]
    with pytest.raises(Unsatisfiable) as info:
        solve(SolveRequest(specs=["tool"], channels=[chan], virtual_packages=["__glibc=2.17=0"]))
    assert "__glibc 2.17" in info.value.explanation
    assert "CONDA_OVERRIDE_GLIBC" in (info.value.hint or "")


def test_merge_ranges() -> None:
    avail = ["1.18", "1.19", "1.20", "1.21", "1.22", "1.23", "2.0"]
    assert merge_ranges(["1.20", "1.21", "1.22"], avail) == ">=1.20,<=1.22"
    assert merge_ranges(["1.18", "1.19"], avail) == "<=1.19"
    assert merge_ranges(["1.23", "2.0"], avail) == ">=1.23"
    assert merge_ranges(["1.19", "1.22"], avail) == "1.19|1.22"
    assert merge_ranges(avail, avail) == "any version"


def test_closest_names() -> None:
    names = ["scikit-image", "scipy", "numpy", "numba", "pandas"]
    assert closest_names("scikit_image", names)[0] == "scikit-image"
    assert closest_names("nunpy", names)[0] == "numpy"
    assert closest_names("zzz", names) == []


def test_installed_package_in_the_way_is_named_with_a_hint() -> None:
    chan = [
        PackageRecord(name="python", version="3.11.2", build="0"),
        PackageRecord(name="python", version="3.12.0", build="0"),
    ]
    installed = [
        PackageRecord(name="python", version="3.11.2", build="0"),
        PackageRecord(name="oldlib", version="1.0", build="0", depends=["python 3.11.*"]),
    ]
    with pytest.raises(Unsatisfiable) as info:
        solve(SolveRequest(specs=["python 3.12.*"], channels=[chan], installed=installed))
    text = info.value.explanation
    assert "oldlib 1.0 (installed)" in text
    assert "requires python 3.11.*" in text
    assert info.value.hint is not None and "oldlib" in info.value.hint
