"""`naja create`: a new environment from match specs (dry-run prints the plan)."""

from __future__ import annotations

from pathlib import Path
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
  naja create -n sci -c conda-forge python=3.12 numpy
  naja create -p ./env --dry-run --json -c file:///srv/channel pkg
  naja create -n web -y --platform linux-64 flask"""
)
@click.argument("specs", nargs=-1, shell_complete=complete_package_names)
@file_option("environment.yml, explicit spec file (@EXPLICIT) or specs .txt (repeatable).")
@prefix_options
@channel_options
@transaction_options
@click.pass_context
def create(ctx: click.Context, specs: tuple[str, ...], files: tuple[str, ...], **opts: Any) -> None:
    """Create a new environment with the packages SPECS (conda match specs)."""
    from naja.cli.transact import add_files, solve_and_apply
    from naja.env.prefix import resolve_prefix
    from naja.errors import UserInputError

    locks: list[Path] = []
    if files:  # the lockfile reader (and its imports) only when there are files to look at
        from naja.env.lockfile import is_lockfile

        locks = [Path(f) for f in files if is_lockfile(Path(f))]
    env_spec, specs = add_files(tuple(f for f in files if Path(f) not in locks), specs, opts)
    name, prefix, dry_run = opts["name"], opts["prefix"], opts["dry_run"]
    if env_spec.name and not name and not prefix:
        name = env_spec.name
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
    if locks or env_spec.explicit:
        from naja.cli.transact import install_records
        from naja.env.explicit import record_from_url

        if locks and (env_spec.explicit or specs):
            raise UserInputError(
                "a lockfile cannot be combined with other specs or files",
                hint="a lockfile pins the whole environment; use it alone",
            )
        pypi: list[str] = []
        if locks:
            from naja.env.lockfile import read_lockfile
            from naja.specs.platform import current_platform

            subdir = opts["platform"] or current_platform().value
            locked = [read_lockfile(p, subdir) for p in locks]
            records = [r for env in locked for r in env.conda]
            pypi = [u for env in locked for u in env.pypi]
        else:
            records = [record_from_url(u) for u in env_spec.explicit]
        install_records(
            target,
            records,
            dry_run=dry_run,
            as_json=opts["as_json"],
            yes=opts["yes"],
            link_mode=opts["link_mode"],
            no_scripts=opts["no_scripts"],
            history_cmd="naja create --file " + " ".join(files),
        )
        if pypi and not dry_run and target is not None:
            from naja.env.pip_install import pip_install

            pip_install(target, pypi)
        return
    if not specs:
        raise UserInputError(
            "no packages given", hint="list match specs, e.g. `naja create -n x python=3.12`"
        )
    solve_and_apply(ctx, target, list(specs), opts, history_cmd="naja create " + " ".join(specs))
    if env_spec.pip and not dry_run and target is not None:
        from naja.env.pip_install import pip_install

        pip_install(target, env_spec.pip)
