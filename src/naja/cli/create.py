"""`naja create`: a new environment from match specs (dry-run prints the plan)."""

from __future__ import annotations

import sys

import click

from naja.cli.common import channel_options, prefix_options


@click.command(
    epilog="""\b
Examples:
  naja create -n sci -c conda-forge python=3.12 numpy
  naja create -p ./env --dry-run --json -c file:///srv/channel pkg
  naja create -n web -y --platform linux-64 flask"""
)
@click.argument("specs", nargs=-1)
@prefix_options
@channel_options
@click.option("--dry-run", is_flag=True, help="Solve and show the plan; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--link-mode",
    type=click.Choice(["hardlink", "copy", "softlink"]),
    default="hardlink",
    show_default=True,
    help="How files get into the environment.",
)
@click.option("--no-scripts", is_flag=True, help="Do not run packages' post-link scripts.")
@click.pass_context
def create(
    ctx: click.Context,
    specs: tuple[str, ...],
    name: str | None,
    prefix: str | None,
    channels: tuple[str, ...],
    override_channels: bool,
    platform: str | None,
    offline: bool,
    channel_priority: str,
    dry_run: bool,
    as_json: bool,
    yes: bool,
    link_mode: str,
    no_scripts: bool,
) -> None:
    """Create a new environment with the packages SPECS (conda match specs)."""
    from naja.cli.output import print_json, print_transaction, record_action
    from naja.env.plan import PlanRequest, make_plan
    from naja.env.prefix import resolve_prefix
    from naja.errors import UserInputError
    from naja.solve.errors import Unsatisfiable

    target = resolve_prefix(name, prefix)
    if target is None and not dry_run:
        raise UserInputError(
            "no environment given", hint="name it with -n NAME or -p PATH (or use --dry-run)"
        )
    if target is not None and not dry_run and target.exists() and any(target.iterdir()):
        if not (target / "conda-meta").is_dir():
            raise UserInputError(
                f"{target} exists and is not an environment",
                hint="pick another path, or empty the directory first",
            )
        raise UserInputError(
            f"environment {target} already exists",
            hint="use `naja install` to add packages, or remove it first",
        )
    if not specs:
        raise UserInputError("no packages given", hint="list match specs, e.g. `naja create -n x python=3.12`")
    if not channels and not override_channels:
        channels = ("conda-forge",)

    request = PlanRequest(
        specs=list(specs),
        channels=list(channels),
        platform=platform,
        offline=offline,
        channel_priority=channel_priority,
    )
    try:
        plan = make_plan(request)
    except Unsatisfiable as exc:
        if as_json:
            print_json({"success": False, "error": exc.explanation, "problems": exc.problems})
            ctx.exit(exc.exit_code)
        raise

    if as_json and dry_run:
        print_json(
            {
                "success": True,
                "dry_run": True,
                "prefix": str(target) if target else None,
                "platform": plan.platform.value,
                "actions": {
                    "LINK": [record_action(r) for r in plan.to_link],
                    "UNLINK": [record_action(r) for r in plan.to_unlink],
                },
                "timings": {k: round(v, 3) for k, v in plan.timings.items()},
            }
        )
        return
    if not as_json:
        print_transaction(plan.to_link, plan.to_unlink, str(target) if target else None)
    if dry_run:
        if not as_json:
            click.echo("dry run: nothing changed")
        return
    if not yes:
        if not sys.stdin.isatty():
            raise UserInputError("confirmation needed but stdin is not a terminal", hint="pass -y")
        if not click.confirm("Proceed?", default=True):
            raise click.exceptions.Abort()

    from naja.install import install

    assert target is not None
    result = install(
        target,
        plan.to_link,
        plan.to_unlink,
        link_mode=link_mode,
        run_scripts=not no_scripts,
        requested_specs=list(specs),
        history_cmd="naja create " + " ".join(specs),
        warn=lambda msg: click.echo(f"warning: {msg}", err=True),
    )
    if as_json:
        print_json(
            {
                "success": True,
                "prefix": str(target),
                "actions": {
                    "LINK": [record_action(r) for r in plan.to_link],
                    "UNLINK": [record_action(r) for r in plan.to_unlink],
                },
                "timings": {k: round(v, 3) for k, v in plan.timings.items()},
            }
        )
    else:
        click.echo(f"created {target} ({len(result.linked)} packages)")
