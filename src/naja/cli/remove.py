"""`naja remove`: take packages out of an environment, or delete it whole with --all."""

from __future__ import annotations

import shutil

import click

from naja.cli.common import prefix_options
from naja.errors import UserInputError


@click.command(
    epilog="""\b
Examples:
  naja remove -n sci scipy
  naja remove -n sci --all -y"""
)
@click.argument("specs", nargs=-1)
@prefix_options
@click.option("-a", "--all", "remove_all", is_flag=True, help="Remove the whole environment.")
@click.option("--dry-run", is_flag=True, help="Show what would be removed; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def remove(
    ctx: click.Context,
    specs: tuple[str, ...],
    name: str | None,
    prefix: str | None,
    remove_all: bool,
    dry_run: bool,
    as_json: bool,
    yes: bool,
) -> None:
    """Remove SPECS and whatever cannot stay without them."""
    import sys

    from naja.cli.output import print_json
    from naja.cli.transact import apply_plan, existing_prefix

    target = existing_prefix(name, prefix)
    if remove_all:
        if dry_run:
            click.echo(f"would remove the environment {target}")
            return
        if not yes:
            if not sys.stdin.isatty():
                raise UserInputError(
                    "confirmation needed but stdin is not a terminal", hint="pass -y"
                )
            if not click.confirm(f"Remove the environment {target}?", default=False):
                raise click.exceptions.Abort()
        shutil.rmtree(target)
        if as_json:
            print_json({"success": True, "removed": str(target)})
        else:
            click.echo(f"removed {target}")
        return
    if not specs:
        raise UserInputError("nothing to remove", hint="name packages, or pass --all")
    # Solving against the installed packages only: removal never pulls anything new in.
    apply_plan(
        ctx,
        target=target,
        plan_kwargs={
            "specs": list(specs),
            "channels": [],
            "job": "remove",
        },
        dry_run=dry_run,
        as_json=as_json,
        yes=yes,
        history_cmd="naja remove " + " ".join(specs),
        requested=[],
    )
