"""`naja build --render-only` start-up: the click-free command line and the light YAML loader.

The fast path must behave exactly as the click command (same output, same messages, click for
anything it does not fully understand); the light libyaml loading must leave a process whose
`yaml` package is the complete, ordinary one as soon as anything else uses it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from naja.cli.main import main
from naja.cli.render_only import parse_render_only
from naja.cli.root import run_click

RECIPE = """\
context:
  version: "1.2"
package:
  name: demo
  version: ${{ version }}
requirements:
  host:
    - python
"""


@pytest.fixture
def recipe_dir(tmp_path: Path) -> Path:
    d = tmp_path / "recipe"
    d.mkdir()
    (d / "recipe.yaml").write_text(RECIPE)
    (tmp_path / "v.yaml").write_text("python: ['3.11', '3.12']\n")
    return d


def test_parse_understood_command_lines(recipe_dir: Path) -> None:
    v = str(recipe_dir.parent / "v.yaml")
    assert parse_render_only(["--render-only", str(recipe_dir)]) == {
        "recipe": recipe_dir,
        "variant_configs": [],
    }
    got = parse_render_only(
        [
            "--render-only",
            "-m",
            v,
            f"--variant-config={v}",
            "--target-platform",
            "osx-64",
            "--target-platform=linux-64",  # the last one wins, as in click
            "--build-platform",
            "linux-64",
            str(recipe_dir),
            "--output-json",
            "out.json",
        ]
    )
    assert got == {
        "recipe": recipe_dir,
        "variant_configs": [Path(v), Path(v)],
        "target_platform": "linux-64",
        "build_platform": "linux-64",
        "output_json": Path("out.json"),
    }


@pytest.mark.parametrize(
    "args",
    [
        ["RECIPE"],  # not render-only: a real build
        ["--render-only"],  # no recipe: click's usage error
        ["--render-only", "RECIPE", "other"],
        ["--render-only", "--help", "RECIPE"],
        ["--render-only", "-h", "RECIPE"],
        ["--render-only", "--output-dir", "x", "RECIPE"],
        ["--render-only", "--bogus", "RECIPE"],
        ["--render-only", "-mfile.yaml", "RECIPE"],
        ["--render-only", "RECIPE", "--target-platform"],
        ["--render-only", "--target-platform", "--render-only", "RECIPE"],
        ["--render-only", "--", "RECIPE"],
        ["--render-only", "-", "RECIPE"],
        ["--render-only=1", "RECIPE"],
    ],
)
def test_parse_leaves_the_rest_to_click(args: list[str]) -> None:
    assert parse_render_only(args) is None


def _render(tmp_path: Path, recipe_dir: Path, name: str, run) -> dict:
    out = tmp_path / name
    args = [
        "build",
        "--render-only",
        "-m",
        str(recipe_dir.parent / "v.yaml"),
        "--target-platform",
        "linux-64",
        "--output-json",
        str(out),
        str(recipe_dir),
    ]
    assert run(args) == 0
    doc = json.loads(out.read_text())
    for output in doc:
        output["build_configuration"].pop("timestamp")
    return doc


def test_fast_path_renders_as_the_click_command(tmp_path: Path, recipe_dir: Path) -> None:
    fast = _render(tmp_path, recipe_dir, "fast.json", main)
    slow = _render(tmp_path, recipe_dir, "click.json", run_click)
    assert fast == slow
    assert len(fast) == 2


def _naja(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "naja", *args], capture_output=True, text=True, timeout=60
    )


def test_errors_read_the_same_either_way(tmp_path: Path, recipe_dir: Path) -> None:
    missing = str(tmp_path / "nope")
    # -q sends the same command line to click (global flags are not the fast path's).
    for args in (
        ["--render-only", missing],
        ["--render-only", "--target-platform", "linux-65", str(recipe_dir)],
    ):
        fast, slow = _naja("build", *args), _naja("-q", "build", *args)
        assert fast.returncode == slow.returncode == 2
        assert fast.stderr == slow.stderr
        assert fast.stderr.startswith("error: ")
    usage = _naja("build", "--render-only")
    assert usage.returncode == 2
    assert "Missing argument 'RECIPE'" in usage.stderr


def test_render_only_process_imports_little(recipe_dir: Path) -> None:
    """What makes the fast path fast: none of these load while rendering a plain recipe."""
    code = (
        "import sys\nfrom naja.cli.main import main\n"
        f"assert main(['build', '--render-only', '--output-json', {str(recipe_dir / 'o.json')!r},"
        f" {str(recipe_dir)!r}]) == 0\n"
        "heavy = ('click', 'typing', 'dataclasses', 'hashlib', 'naja.auth', 'yaml.reader',"
        " 'yaml.constructor', 'datetime')\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


LIGHT_THEN_FULL = """
import sys
from naja.build import libyaml
from naja.build.yaml_nodes import parse_yaml

libyaml.allow_light_load()  # as `naja build --render-only` does

assert parse_yaml("a: [1, 'b']").items["a"].items[1].plain is False
assert "yaml.reader" not in sys.modules
{use}
import yaml, yaml.cyaml, yaml._yaml as ext

assert type(yaml) is type(sys) and yaml.__version__
assert yaml.CSafeLoader is yaml.cyaml.CSafeLoader
assert ext.ReaderError is yaml.reader.ReaderError
assert ext.ScannerError is yaml.scanner.ScannerError
assert ext.StreamStartToken is yaml.tokens.StreamStartToken
assert yaml.YAMLError is yaml.error.YAMLError
assert yaml.load("x: [1, 2]", Loader=yaml.CSafeLoader) == {{"x": [1, 2]}}
try:
    yaml.load("x: \\x01", Loader=yaml.CSafeLoader)
except yaml.reader.ReaderError:
    pass
else:
    raise AssertionError("no ReaderError")
print("ok")
"""


@pytest.mark.parametrize(
    "use",
    [
        "import yaml; yaml.safe_load('a: 1')",
        "from yaml import safe_dump",
        "import yaml.cyaml",
        "import yaml.error",
        "import yaml.nodes",
        "from naja.build.yaml_nodes import parse_yaml as p\ntry:\n    p('a: b: c')\n"
        "except Exception as e:\n    assert 'mapping values' in str(e)",
    ],
)
def test_light_yaml_completes_into_the_real_package(use: str) -> None:
    code = LIGHT_THEN_FULL.format(use=use)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_yaml_errors_are_recipe_errors(tmp_path: Path) -> None:
    from naja.build.errors import RecipeError
    from naja.build.yaml_nodes import parse_yaml

    with pytest.raises(RecipeError, match=r"r.yaml:1:5: invalid YAML: mapping values"):
        parse_yaml("a: b: c\n", "r.yaml")
    # Control characters: a reader error (no mark), still one message pointing at the place.
    with pytest.raises(RecipeError, match=r"r.yaml:2:4: invalid YAML: unacceptable character"):
        parse_yaml("x: 1\na: \x01\n", "r.yaml")


def test_light_yaml_is_opt_in() -> None:
    # The library (threads, the server, whole builds) gets the ordinary `yaml` package.
    code = (
        "import sys\nfrom naja.build.yaml_nodes import parse_yaml\n"
        "parse_yaml('a: 1')\nprint(type(sys.modules['yaml']).__name__, 'yaml.reader' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["module", "True"], out.stderr
