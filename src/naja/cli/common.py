"""Option groups shared by several commands (prefix selection, channels)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

F = Callable[..., Any]


def prefix_options(func: F) -> F:
    func = click.option("-p", "--prefix", help="Path of the environment.")(func)
    func = click.option("-n", "--name", help="Name of the environment (under the root prefix).")(func)
    return func


def channel_options(func: F) -> F:
    func = click.option(
        "--channel-priority",
        type=click.Choice(["strict", "flexible", "disabled"]),
        default="strict",
        show_default=True,
        help="How channel order limits the choice of packages.",
    )(func)
    func = click.option("--offline", is_flag=True, help="Use only cached indexes and packages.")(func)
    func = click.option("--platform", help="Target platform (subdir), e.g. linux-64, osx-arm64.")(func)
    func = click.option(
        "--override-channels", is_flag=True, help="Use only the channels given with -c."
    )(func)
    func = click.option(
        "-c", "--channel", "channels", multiple=True, help="Channel to use (repeatable, highest priority first)."
    )(func)
    return func
