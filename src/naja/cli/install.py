"""`naja install`: add packages to an existing environment, keeping what is installed."""

from __future__ import annotations

import click

from naja.cli.common import (
    channel_options,
    complete_package_names,
    default_channels,
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
@click.option(
    "-f",
    "--file",
    "files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="environment.yml or specs .txt to add (repeatable).",
)
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
    force_reinstall: bool,
    no_deps: bool,
    only_deps: bool,
) -> None:
    """Install SPECS into an environment; installed packages change only when needed."""
    from naja.cli.transact import apply_plan, existing_prefix
    from naja.env.env_file import EnvSpec, merge, read_env_file
    from naja.errors import UserInputError

    env_spec = merge([read_env_file(f) for f in files]) if files else EnvSpec()
    if env_spec.explicit:
        raise UserInputError(
            "explicit files describe a whole environment", hint="use them with `naja create -f`"
        )
    specs = (*env_spec.specs, *specs)
    channels = (*channels, *(c for c in env_spec.channels if c not in channels))
    if not specs:
        raise UserInputError("nothing to install", hint="give match specs or -f FILE")
    target = existing_prefix(name, prefix)
    apply_plan(
        ctx,
        target=target,
        plan_kwargs={
            "specs": list(specs),
            "channels": default_channels(channels, override_channels),
            "platform": platform,
            "offline": offline,
            "channel_priority": channel_priority,
            "force_reinstall": force_reinstall,
            "no_deps": no_deps,
            "only_deps": only_deps,
        },
        dry_run=dry_run,
        as_json=as_json,
        yes=yes,
        link_mode=link_mode,
        no_scripts=no_scripts,
        history_cmd="naja install " + " ".join(specs),
        requested=list(specs),
    )
    if env_spec.pip and not dry_run:
        from naja.env.pip_install import pip_install

        pip_install(target, env_spec.pip)
