"""Unit tests of the recipe reader's parts: YAML typing, templates, variants, hashing, specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from naja.build.dependency import format_dependency
from naja.build.errors import RecipeError
from naja.build.hashing import default_build_string, hash_prefix, variant_hash
from naja.build.jinja_env import evaluate_expression, render_template, template_variables
from naja.build.jinja_functions import recipe_functions, version_to_buildstring
from naja.build.platform_vars import platform_variables
from naja.build.selectors import evaluate
from naja.build.variants import load_variant_config
from naja.build.yaml_nodes import Map, parse_yaml, to_python


def test_yaml_typing_keeps_versions_as_text() -> None:
    root = parse_yaml("a: 0\nb: '0'\nc: 3.10\nd: true\ne:\nf: yes\n")
    assert to_python(root) == {"a": 0, "b": "0", "c": "3.10", "d": True, "e": None, "f": "yes"}


def test_yaml_error_points_at_line_and_column() -> None:
    with pytest.raises(RecipeError) as info:
        parse_yaml("a: [b\nc: d\n", "recipe.yaml")
    text = str(info.value)
    assert text.startswith("recipe.yaml:2:")
    assert "\n  c: d\n" in text


def test_single_expression_keeps_native_value() -> None:
    assert render_template("${{ v | split('.') | list }}", {"v": "1.2.3"}) == ["1", "2", "3"]
    assert render_template("${{ n + 1 }}", {"n": 4}) == 5
    assert render_template("a-${{ x }}-${{ y }}", {"x": True}) == "a-true-"


def test_short_circuit_records_only_names_read() -> None:
    used: set[str] = set()
    assert evaluate_expression("win and vc < 14", {"win": False}, used) is False
    assert used == {"win"}
    used.clear()
    evaluate_expression("'a' if cond else other", {"cond": True}, used)
    assert used == {"cond"}


def test_compiler_and_stdlib_imply_variant_keys() -> None:
    names = template_variables("${{ compiler('go-cgo') }} ${{ stdlib('c') }}")
    assert {"go_cgo_compiler", "go_cgo_compiler_version", "c_stdlib", "c_stdlib_version"} <= names


def test_compiler_functions() -> None:
    fns = recipe_functions({"cxx_compiler": "gxx", "cxx_compiler_version": "14"}, "linux-64")
    assert fns["compiler"]("cxx") == "gxx_linux-64 14.*"
    assert fns["compiler"]("c") == "gcc_linux-64"
    win = recipe_functions({}, "win-64")
    assert win["compiler"]("c") == "vs2017_win-64"
    assert version_to_buildstring("3.11.* *_cpython") == "311"


def test_selectors_in_lists_and_values() -> None:
    root = parse_yaml(
        "deps:\n  - a\n  - if: linux\n    then: [b, c]\n    else: d\n"
        "n:\n  if: win\n  then: 1\n  else: 2\n"
    )
    assert isinstance(root, Map)
    linux = platform_variables("linux-64", "linux-64")
    win = platform_variables("win-64", "linux-64")
    assert evaluate(root, linux) == {"deps": ["a", "b", "c"], "n": 2}
    assert evaluate(root, win) == {"deps": ["a", "d"], "n": 1}


def test_platform_flags_are_booleans() -> None:
    v = platform_variables("linux-64", "linux-64")
    assert v["linux"] is True and v["osx"] is False and v["aarch64"] is False
    assert v["linux64"] is True and v["unix"] is True


def test_variant_files_zip_keys_and_legacy_selectors(tmp_path: Path) -> None:
    cbc = tmp_path / "conda_build_config.yaml"
    cbc.write_text("c_stdlib_version:   # [osx]\n  - '10.13'   # [osx]\nblas:\n  - openblas\n")
    ci = tmp_path / "ci.yaml"
    ci.write_text(
        "python: ['3.10', '3.11']\nnumpy: ['1.26', '2']\nzip_keys:\n  - [python, numpy]\n"
        "blas:\n  - if: linux\n    then: mkl\n"
    )
    config = load_variant_config([cbc, ci], platform_variables("linux-64", "linux-64"))
    assert "c_stdlib_version" not in config.values
    assert config.values["blas"] == ["mkl"]
    combos = config.combinations(["python", "numpy"])
    assert combos == [{"python": "3.10", "numpy": "1.26"}, {"python": "3.11", "numpy": "2"}]


def test_hash_and_build_string() -> None:
    variant = {"python": "3.11.* *_cpython", "target_platform": "linux-64"}
    expected = __import__("hashlib").sha1(
        b'{"python": "3.11.* *_cpython", "target_platform": "linux-64"}'
    ).hexdigest()[:7]
    assert variant_hash(variant) == expected
    assert hash_prefix({"numpy": "2", "python": "3.9", "perl": "5.32.1"}, None) == "np2py39pl5321"
    assert hash_prefix({"python": "3.9"}, "python") == "py"
    assert default_build_string("py311", "abcdef0", 2) == "py311habcdef0_2"


@pytest.mark.parametrize(
    ("spec", "printed"),
    [
        ("sleef =3.8", "sleef 3.8.*"),
        ("ffmpeg * [build=lgpl_*]", "ffmpeg * lgpl_*"),
        ("blas[build=openblas]", "blas openblas"),
        ("foo>=1,<2", "foo >=1,<2"),
        ("pyOpenSSL >=24", "pyopenssl >=24"),
        ("x >=1.0, < 2 | >=3", "x >=1.0,<2|>=3"),
        ("python 3.10*", "python 3.10.*"),
        ("amrex ==26.01", "amrex ==26.1"),
        ("python 3.11.* *_cpython", "python 3.11.* *_cpython"),
    ],
)
def test_dependency_printing(spec: str, printed: str) -> None:
    assert format_dependency(spec) == printed


def test_zip_keys_with_unequal_lengths_point_at_the_file(tmp_path: Path) -> None:
    ci = tmp_path / "ci.yaml"
    ci.write_text("python: ['3.10', '3.11']\nnumpy: ['2']\nzip_keys:\n  - [python, numpy]\n")
    with pytest.raises(RecipeError) as info:
        load_variant_config([ci], platform_variables("linux-64", "linux-64"))
    assert f"{ci}:4:3" in str(info.value)
    assert "python: 2, numpy: 1" in str(info.value)
