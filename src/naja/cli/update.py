"""`naja update`: move packages (or all with --all) to their best versions."""

from __future__ import annotations

import click

from naja.cli.common import (
    channel_options,
    complete_package_names,
    default_channels,
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
def update(
    ctx: click.Context,
    specs: tuple[str, ...],
    name: str | None,
    prefix: str | None,
    channels: tuple[str, ...],
    override_channels: bool,
    platform: str | None,
    offline: bool,
    channel_priority: str | None,
    dry_run: bool,
    as_json: bool,
    yes: bool,
    link_mode: str,
    no_scripts: bool,
    update_all: bool,
) -> None:
    """Update SPECS (or every package with --all) in an environment."""
    from naja.cli.transact import apply_plan, existing_prefix
    from naja.install import installed_records

    if not specs and not update_all:
        raise UserInputError("nothing to update", hint="name packages, or pass --all")
    target = existing_prefix(name, prefix)
    wanted = list(specs)
    if update_all and not wanted:
        wanted = [r.name for r in installed_records(target)]
    apply_plan(
        ctx,
        target=target,
        plan_kwargs={
            "specs": wanted,
            "channels": default_channels(channels, override_channels),
            "platform": platform,
            "offline": offline,
            "channel_priority": channel_priority,
            "job": "update",
            "update_all": update_all,
        },
        dry_run=dry_run,
        as_json=as_json,
        yes=yes,
        link_mode=link_mode,
        no_scripts=no_scripts,
        history_cmd="naja update " + (" ".join(specs) or "--all"),
        requested=list(specs),
    )
