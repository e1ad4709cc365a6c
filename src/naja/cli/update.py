"""`naja update`: move packages (or all with --all) to their best versions."""

from __future__ import annotations

from typing import Any

import click

from naja.cli.common import (
    channel_options,
    complete_package_names,
    prefix_options,
    transaction_options,
)
from naja.errors import UserInputError


@click.command(
    epilog="""\b
Examples:
  naja update -n sci numpy
  naja update -n sci --all -y"""
)
@click.argument("specs", nargs=-1, shell_complete=complete_package_names)
@prefix_options
@channel_options
@transaction_options
@click.option("-a", "--all", "update_all", is_flag=True, help="Update every installed package.")
@click.pass_context
def update(ctx: click.Context, specs: tuple[str, ...], update_all: bool, **opts: Any) -> None:
    """Update SPECS (or every package with --all) in an environment."""
    from naja.cli.transact import existing_prefix, solve_and_apply
    from naja.install import installed_records

    if not specs and not update_all:
        raise UserInputError("nothing to update", hint="name packages, or pass --all")
    target = existing_prefix(opts["name"], opts["prefix"])
    wanted = list(specs)
    if update_all and not wanted:
        wanted = [r.name for r in installed_records(target)]
    solve_and_apply(
        ctx,
        target,
        wanted,
        opts,
        history_cmd="naja update " + (" ".join(specs) or "--all"),
        requested=list(specs),
        job="update",
        update_all=update_all,
    )
