"""Rendering small recipes end to end: outputs, variants, skips, pins, errors and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naja.build.errors import RecipeError
from naja.build.render import RecipeRenderer
from naja.cli.main import main

MULTI = """\
context:
  name: demo
  version: "1.0"
recipe:
  name: ${{ name }}
  version: ${{ version }}
build:
  number: 3
outputs:
  - package:
      name: libdemo
    requirements:
      build:
        - ${{ compiler('c') }}
      host:
        - zlib
      run_exports:
        - ${{ pin_subpackage('libdemo', upper_bound='x.x') }}
  - package:
      name: py-demo
    build:
      skip: match(python, "<3.11")
    requirements:
      host:
        - python
        - ${{ pin_subpackage('libdemo', exact=True) }}
      run:
        - python
        - ${{ pin_subpackage('libdemo', exact=True) }}
    tests:
      - python:
          imports: [demo]
  - package:
      name: demo-docs
    build:
      noarch: generic
"""

VARIANTS = """\
c_compiler: [gcc]
c_compiler_version: ['14']
zlib: ['1.3']
python: ['3.10.* *_cpython', '3.11.* *_cpython', '3.12.* *_cpython']
channel_targets: [conda-forge main]
target_platform: [linux-64]
"""


def _recipe(tmp_path: Path, text: str, variants: str = VARIANTS) -> tuple[Path, Path]:
    recipe_dir = tmp_path / "recipe"
    recipe_dir.mkdir()
    (recipe_dir / "recipe.yaml").write_text(text)
    variant = tmp_path / "variant.yaml"
    variant.write_text(variants)
    return recipe_dir, variant


def test_multi_output_render(tmp_path: Path) -> None:
    recipe_dir, variant = _recipe(tmp_path, MULTI)
    outputs = RecipeRenderer(recipe_dir / "recipe.yaml", [variant], "linux-64").render()
    names = sorted(o.name for o in outputs)
    # py-demo is skipped for 3.10; one lib, one docs package.
    assert names == ["demo-docs", "libdemo", "py-demo", "py-demo"]
    lib = next(o for o in outputs if o.name == "libdemo")
    assert lib.recipe["requirements"]["build"] == ["gcc_linux-64 14.*"]
    assert lib.variant == {
        "c_compiler": "gcc",
        "c_compiler_version": "14",
        "zlib": "1.3",
        "channel_targets": "conda-forge main",
        "target_platform": "linux-64",
    }
    assert lib.recipe["requirements"]["run_exports"] == {
        "weak": [
            {"pin_subpackage": {"name": "libdemo", "lower_bound": "x.x.x.x.x.x", "upper_bound": "x.x"}}
        ]
    }
    assert lib.build_string == f"h{lib.hash}_3"
    py = sorted((o for o in outputs if o.name == "py-demo"), key=lambda o: o.build_string)
    assert [o.prefix for o in py] == ["py311", "py312"]
    assert py[0].variant["libdemo"] == f"1.0 {lib.build_string}"
    docs = next(o for o in outputs if o.name == "demo-docs")
    assert docs.target_platform == "noarch"
    assert docs.variant["target_platform"] == "noarch"


def test_template_error_points_at_recipe(tmp_path: Path) -> None:
    recipe_dir, variant = _recipe(
        tmp_path, "package:\n  name: x\n  version: ${{ 1 + }}\n", "target_platform: [linux-64]\n"
    )
    with pytest.raises(RecipeError) as info:
        RecipeRenderer(recipe_dir / "recipe.yaml", [variant], "linux-64").render()
    text = str(info.value)
    assert "recipe.yaml:3:12" in text
    assert "version: ${{ 1 + }}" in text


def test_cli_render_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe_dir, variant = _recipe(tmp_path, MULTI)
    out = tmp_path / "render.json"
    code = main(
        [
            "build",
            "--render-only",
            "--variant-config",
            str(variant),
            "--target-platform",
            "linux-64",
            "--output-json",
            str(out),
            str(recipe_dir),
        ]
    )
    assert code == 0
    doc = json.loads(out.read_text())
    assert {o["recipe"]["package"]["name"] for o in doc} == {"libdemo", "py-demo", "demo-docs"}
    first = doc[0]["build_configuration"]
    assert first["channels"] == ["https://conda.anaconda.org/conda-forge"]
    assert first["hash"]["hash"] in doc[0]["recipe"]["build"]["string"]


def test_cli_error_is_one_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["build", "--render-only", str(tmp_path / "nope")])
    assert code == 2
    assert "no recipe found" in capsys.readouterr().err


def test_unknown_key_is_an_error_with_a_hint(tmp_path: Path) -> None:
    recipe_dir, variant = _recipe(
        tmp_path,
        "package:\n  name: x\n  version: '1'\nrequirements:\n  - if: win\n    then: []\n"
        "about:\n  lisence: MIT\n",
        "target_platform: [linux-64]\n",
    )
    (recipe_dir / "recipe.yaml").write_text(
        "package:\n  name: x\n  version: '1'\nabout:\n  lisence: MIT\n"
    )
    with pytest.raises(RecipeError) as info:
        RecipeRenderer(recipe_dir / "recipe.yaml", [variant], "linux-64")
    err = info.value
    assert "recipe.yaml:5:3" in str(err)
    assert "unknown key `lisence` in `about`" in str(err)
    assert err.hint == "did you mean `license`?"


def test_typo_behind_a_selector_is_caught_on_every_platform(tmp_path: Path) -> None:
    recipe_dir, variant = _recipe(
        tmp_path,
        "package:\n  name: x\n  version: '1'\nsource:\n  - if: win\n    then:\n"
        "      url: https://example.com/x.tar.gz\n      sha265: abc\n",
        "target_platform: [linux-64]\n",
    )
    with pytest.raises(RecipeError, match="unknown key `sha265` in `source`"):
        RecipeRenderer(recipe_dir / "recipe.yaml", [variant], "linux-64")


STAGING = """\
recipe:
  name: split
  version: "2.0"
outputs:
  - staging:
      name: split-build
    requirements:
      build:
        - ${{ compiler('cxx') }}
    build:
      script: make install
  - package:
      name: libsplit
    inherit: split-build
    requirements:
      run_exports:
        - ${{ pin_subpackage('libsplit') }}
  - package:
      name: split-docs
    build:
      noarch: generic
"""


def test_staging_output_is_not_a_package_and_feeds_its_variant(tmp_path: Path) -> None:
    recipe_dir, variant = _recipe(
        tmp_path,
        STAGING,
        "cxx_compiler: [gxx]\ncxx_compiler_version: ['14']\ntarget_platform: [linux-64]\n",
    )
    outputs = RecipeRenderer(recipe_dir / "recipe.yaml", [variant], "linux-64").render()
    by_name = {o.name: o for o in outputs}
    assert set(by_name) == {"libsplit", "split-docs"}
    assert by_name["libsplit"].variant["cxx_compiler_version"] == "14"
    assert "cxx_compiler" not in by_name["split-docs"].variant


def test_inherit_from_unknown_staging_is_an_error(tmp_path: Path) -> None:
    recipe_dir, variant = _recipe(
        tmp_path, STAGING.replace("inherit: split-build", "inherit: nope"), "target_platform: [linux-64]\n"
    )
    with pytest.raises(RecipeError, match="no staging output named `nope`"):
        RecipeRenderer(recipe_dir / "recipe.yaml", [variant], "linux-64").render()


def test_load_from_file(tmp_path: Path) -> None:
    recipe_dir, variant = _recipe(
        tmp_path,
        "context:\n  meta: ${{ load_from_file('pyproject.toml') }}\n"
        "package:\n  name: ${{ meta.project.name }}\n  version: ${{ meta.project.version }}\n",
        "target_platform: [linux-64]\n",
    )
    (recipe_dir / "pyproject.toml").write_text('[project]\nname = "tool"\nversion = "0.3"\n')
    (out,) = RecipeRenderer(recipe_dir / "recipe.yaml", [variant], "linux-64").render()
    assert out.recipe["package"] == {"name": "tool", "version": "0.3"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("tests:\n  - python: mymod\n", "`tests.python` must be a mapping"),
        ("requirements:\n  run:\n    python: 3\n", "`requirements.run` must be a list"),
        ("build:\n  python: [a]\n", "`build.python` must be a mapping"),
    ],
)
def test_wrong_shapes_are_errors(tmp_path: Path, body: str, message: str) -> None:
    recipe_dir, variant = _recipe(
        tmp_path, "package:\n  name: x\n  version: '1'\n" + body, "target_platform: [linux-64]\n"
    )
    with pytest.raises(RecipeError, match=message.replace("`", "`").replace(".", r"\.")):
        RecipeRenderer(recipe_dir / "recipe.yaml", [variant], "linux-64").render()
