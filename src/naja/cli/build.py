"""`naja build`: render recipes (`--render-only`) — building packages is not implemented yet."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from naja.errors import UserInputError


@click.command("build", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("recipe", type=click.Path(path_type=Path))
@click.option("--render-only", is_flag=True, help="Only render the recipe (no solve, no build).")
@click.option(
    "-m",
    "--variant-config",
    "variant_configs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Variant config file (repeatable; later files win).",
)
@click.option("--target-platform", default=None, help="Platform to build for (default: this one).")
@click.option(
    "--build-platform", default=None, help="Platform the build runs on (default: this one)."
)
@click.option(
    "--output-json",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the render here instead of stdout.",
)
def build(
    recipe: Path,
    render_only: bool,
    variant_configs: tuple[Path, ...],
    target_platform: str | None,
    build_platform: str | None,
    output_json: Path | None,
) -> None:
    """Build conda packages from a recipe.yaml (RECIPE: the file or its folder).

    \b
    Examples:
      naja build --render-only -m variants/linux_64_.yaml recipe/
      naja build --render-only --target-platform osx-arm64 --output-json out.json recipe/
    """
    from naja.build.output_json import dumps
    from naja.build.render import RecipeRenderer
    from naja.specs.platform import Platform

    if not render_only:
        raise UserInputError(
            "building packages is not implemented yet", hint="use --render-only to render"
        )
    path = recipe / "recipe.yaml" if recipe.is_dir() else recipe
    if not path.is_file():
        raise UserInputError(f"no recipe found at {path}")
    build_plat = build_platform or str(Platform.current())
    target = target_platform or build_plat
    Platform.parse(target)
    renderer = RecipeRenderer(path, list(variant_configs), target, build_plat)
    text = dumps(renderer.render())
    if output_json is None:
        sys.stdout.write(text)
    else:
        output_json.write_text(text, encoding="utf-8")
