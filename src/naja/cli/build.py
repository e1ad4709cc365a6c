"""`naja build`: build conda packages from recipe.yaml, or only render them (`--render-only`)."""

from __future__ import annotations

from pathlib import Path

import click


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
    "--output-dir",
    type=click.Path(path_type=Path),
    default=Path("output"),
    show_default=True,
    help="Local channel the packages are written to (and read from by later builds).",
)
@click.option(
    "-c", "--channel", "channels", multiple=True, help="Channel for build/host/test environments."
)
@click.option("--no-test", is_flag=True, help="Do not run the package's tests after building.")
@click.option(
    "--package-format", type=click.Choice(["conda", "tar.bz2"]), default="conda", show_default=True
)
@click.option(
    "--work-dir", type=click.Path(path_type=Path), default=None, help="Where builds happen."
)
@click.option("--keep-work", is_flag=True, help="Keep the work directory (sources, prefixes, log).")
@click.option(
    "--sandbox",
    is_flag=True,
    help="Run build scripts in bubblewrap: no network, writes only to the work directory.",
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
    output_dir: Path,
    channels: tuple[str, ...],
    no_test: bool,
    package_format: str,
    work_dir: Path | None,
    keep_work: bool,
    sandbox: bool,
) -> None:
    """Build conda packages from a recipe.yaml (RECIPE: the file or its folder).

    \b
    Examples:
      naja build recipe/ --output-dir ./output -c conda-forge
      naja build --render-only -m variants/linux_64_.yaml recipe/
      naja build --render-only --target-platform osx-arm64 --output-json out.json recipe/
    """
    if render_only:
        from naja.cli.render_only import render_only as render

        render(recipe, list(variant_configs), target_platform, build_platform, output_json)
        return
    from naja.build.builder import BuildOptions, build_recipe

    built = build_recipe(
        BuildOptions(
            recipe=recipe,
            output_dir=output_dir,
            channels=list(channels),
            variant_configs=list(variant_configs),
            target_platform=target_platform,
            work_dir=work_dir,
            test=not no_test,
            package_format=package_format,
            keep_work=keep_work,
            sandbox=sandbox,
        )
    )
    for pkg in built:
        click.echo(f"built {pkg.path} in {pkg.seconds:.1f} s")
