"""Option groups shared by several commands (prefix selection, channels)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

F = Callable[..., Any]


def complete_env_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion for -n: the environments under the root prefix."""
    from naja.env.prefix import root_prefix

    envs = root_prefix() / "envs"
    try:
        names = sorted(p.name for p in envs.iterdir() if (p / "conda-meta").is_dir())
    except OSError:
        return []
    return [n for n in names if n.startswith(incomplete)]


def complete_package_names(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[str]:
    """Shell completion for specs: package names found in the package cache."""
    from naja.install.cache import default_pkgs_dirs

    names: set[str] = set()
    for d in default_pkgs_dirs():
        try:
            for entry in d.iterdir():
                if entry.is_dir() and (entry / "info").is_dir():
                    names.add(entry.name.rsplit("-", 2)[0])
        except OSError:
            continue
    return sorted(n for n in names if n.startswith(incomplete))


def prefix_options(func: F) -> F:
    func = click.option("-p", "--prefix", help="Path of the environment.")(func)
    func = click.option(
        "-n",
        "--name",
        help="Name of the environment (under the root prefix).",
        shell_complete=complete_env_names,
    )(func)
    return func


def channel_options(func: F) -> F:
    func = click.option(
        "--channel-priority",
        type=click.Choice(["strict", "flexible", "disabled"]),
        default=None,
        help="How channel order limits the choice of packages (default: config, else strict).",
    )(func)
    func = click.option("--offline", is_flag=True, help="Use only cached indexes and packages.")(
        func
    )
    func = click.option("--platform", help="Target platform (subdir), e.g. linux-64, osx-arm64.")(
        func
    )
    func = click.option(
        "--override-channels", is_flag=True, help="Use only the channels given with -c."
    )(func)
    func = click.option(
        "-c",
        "--channel",
        "channels",
        multiple=True,
        help="Channel to use (repeatable, highest priority first).",
    )(func)
    return func


def transaction_options(func: F) -> F:
    func = click.option("--no-scripts", is_flag=True, help="Do not run packages' link scripts.")(
        func
    )
    func = click.option(
        "--link-mode",
        type=click.Choice(["hardlink", "copy", "softlink"]),
        default="hardlink",
        show_default=True,
        help="How files get into the environment.",
    )(func)
    func = click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")(func)
    func = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(func)
    func = click.option("--dry-run", is_flag=True, help="Solve and show the plan; change nothing.")(
        func
    )
    return func


def default_channels(channels: tuple[str, ...], override: bool) -> list[str] | None:
    """The channels given on the command line; None means "from the configuration"."""
    if channels or override:
        return list(channels)
    return None


def file_option(help_text: str) -> Callable[[F], F]:
    """`-f/--file FILE` (repeatable): environment files for create/install/lock."""
    return click.option(
        "-f", "--file", "files", multiple=True, type=click.Path(dir_okay=False), help=help_text
    )
