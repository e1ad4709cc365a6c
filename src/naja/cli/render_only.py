"""`naja build --render-only`: the render itself, and a click-free reading of its command line.

Render-only is what CI matrices and conformance scripts call once per variant, so its start-up
is most of its cost; naja.cli.main runs it from here without importing click. The hand-written
parser only accepts command lines it understands exactly as click would (see
parse_render_only); for anything else it answers None and the click command runs instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Options of `naja build` that take a value and matter to --render-only -> keyword of
# render_only(). (click's option names; the command's other options send us to click.)
_VALUE_OPTIONS = {
    "--target-platform": "target_platform",
    "--build-platform": "build_platform",
    "--output-json": "output_json",
    "-m": "variant_configs",
    "--variant-config": "variant_configs",
}
_PATH_KEYWORDS = ("output_json", "variant_configs")


def _plain_path(value: str) -> bool:
    """True when click.Path (readable, no other checks) would accept `value` without a message:
    a path that does not exist, or one that exists and can be read."""
    try:
        os.stat(value)
    except OSError:
        return True
    return os.access(value, os.R_OK)


def parse_render_only(args: list[str]) -> dict[str, object] | None:
    """The keyword arguments of render_only() for `naja build ARGS`, or None when ARGS are not
    a plain render-only request (then click parses them, with its help and error messages).

    Understood: --render-only, --target-platform, --build-platform, --output-json,
    -m/--variant-config (repeatable) as `--opt VALUE` or `--opt=VALUE`, and one RECIPE.
    Single options given twice keep the last value, as click does.
    """
    kwargs: dict[str, object] = {}
    configs: list[Path] = []
    recipe: str | None = None
    render = False
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--render-only":
            render = True
            continue
        if not arg.startswith("-") or arg == "-":
            if recipe is not None or arg == "-":
                return None  # an extra argument: click's usage error
            recipe = arg
            continue
        name, eq, value = arg.partition("=")
        if name not in _VALUE_OPTIONS or (eq and not name.startswith("--")):
            return None  # help, --, other build options, -mVALUE, ...
        if not eq:
            if i == len(args):
                return None
            value = args[i]
            i += 1
        if value.startswith("-"):
            return None
        keyword = _VALUE_OPTIONS[name]
        if keyword in _PATH_KEYWORDS and not _plain_path(value):
            return None
        if keyword == "variant_configs":
            configs.append(Path(value))
        elif keyword == "output_json":
            kwargs[keyword] = Path(value)
        else:
            kwargs[keyword] = value
    # click also checks the default of --output-dir ("output"), unused by a render.
    if not render or recipe is None or not _plain_path(recipe) or not _plain_path("output"):
        return None
    return {"recipe": Path(recipe), "variant_configs": configs, **kwargs}


def render_only(
    recipe: Path,
    variant_configs: list[Path],
    target_platform: str | None = None,
    build_platform: str | None = None,
    output_json: Path | None = None,
) -> None:
    """Render RECIPE (the file or its folder) and write the JSON to `output_json` or stdout."""
    from naja.build import libyaml
    from naja.build.output_json import dumps
    from naja.build.render import RecipeRenderer
    from naja.errors import UserInputError
    from naja.specs.platform import Platform

    path = recipe / "recipe.yaml" if recipe.is_dir() else recipe
    if not path.is_file():
        raise UserInputError(f"no recipe found at {path}")
    build_plat = build_platform or str(Platform.current())
    target = target_platform or build_plat
    Platform.parse(target)
    libyaml.allow_light_load()  # a one-shot, single-threaded process: see naja.build.libyaml
    renderer = RecipeRenderer(path, list(variant_configs), target, build_plat)
    text = dumps(renderer.render())
    if output_json is None:
        sys.stdout.write(text)
    else:
        output_json.write_text(text, encoding="utf-8")
