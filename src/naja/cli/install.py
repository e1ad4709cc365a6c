"""`naja install`: add packages to an existing environment, keeping what is installed."""

from __future__ import annotations

from typing import Any

import click

from naja.cli.common import (
    channel_options,
    complete_package_names,
    file_option,
    prefix_options,
    transaction_options,
)


@click.command(
    epilog="""\b
Examples:
  naja install -n sci scipy
  naja install -p ./env -c conda-forge "pandas>=2" --dry-run"""
)
@click.argument("specs", nargs=-1, shell_complete=complete_package_names)
@file_option("environment.yml or specs .txt to add (repeatable).")
@prefix_options
@channel_options
@transaction_options
@click.option("--force-reinstall", is_flag=True, help="Reinstall the named packages.")
@click.option("--no-deps", is_flag=True, help="Install only the named packages.")
@click.option(
    "--only-deps", is_flag=True, help="Install only the dependencies of the named packages."
)
@click.pass_context
def install(
    ctx: click.Context,
    specs: tuple[str, ...],
    files: tuple[str, ...],
    force_reinstall: bool,
    no_deps: bool,
    only_deps: bool,
    **opts: Any,
) -> None:
    """Install SPECS into an environment; installed packages change only when needed."""
    from naja.cli.transact import add_files, existing_prefix, solve_and_apply
    from naja.errors import UserInputError

    env_spec, specs = add_files(files, specs, opts)
    if env_spec.explicit:
        raise UserInputError(
            "explicit files describe a whole environment", hint="use them with `naja create -f`"
        )
    if not specs:
        raise UserInputError("nothing to install", hint="give match specs or -f FILE")
    target = existing_prefix(opts["name"], opts["prefix"])
    solve_and_apply(
        ctx,
        target,
        list(specs),
        opts,
        history_cmd="naja install " + " ".join(specs),
        force_reinstall=force_reinstall,
        no_deps=no_deps,
        only_deps=only_deps,
    )
    if env_spec.pip and not opts["dry_run"]:
        from naja.env.pip_install import pip_install

        pip_install(target, env_spec.pip)
