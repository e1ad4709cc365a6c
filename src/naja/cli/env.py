"""`naja env`: list, remove and export environments."""

from __future__ import annotations

import click

from naja.cli.common import prefix_options


@click.group(
    epilog="""\b
Examples:
  naja env list
  naja env export -n sci --from-history > environment.yml
  naja env remove -n old -y"""
)
def env() -> None:
    """Manage environments (there is no base environment)."""


@env.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def env_list(as_json: bool) -> None:
    """List every known environment."""
    from naja.cli.output import print_json
    from naja.env.prefix import root_prefix
    from naja.env.registry import list_environments

    envs = list_environments()
    if as_json:
        print_json({"envs": [str(p) for p in envs]})
        return
    root = root_prefix()
    for p in envs:
        label = p.name if p.parent == root / "envs" else ""
        click.echo(f"{label:20s} {p}")


@env.command("remove")
@prefix_options
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def env_remove(name: str | None, prefix: str | None, yes: bool) -> None:
    """Delete an environment."""
    import shutil
    import sys

    from naja.cli.transact import existing_prefix
    from naja.errors import UserInputError

    target = existing_prefix(name, prefix)
    if not yes:
        if not sys.stdin.isatty():
            raise UserInputError("confirmation needed but stdin is not a terminal", hint="pass -y")
        if not click.confirm(f"Remove the environment {target}?", default=False):
            raise click.exceptions.Abort()
    shutil.rmtree(target)
    click.echo(f"removed {target}")


@env.command("export")
@prefix_options
@click.option("--from-history", is_flag=True, help="Only the specs that were asked for.")
@click.option("--explicit", is_flag=True, help="An explicit spec file of package URLs.")
@click.option("--md5", is_flag=True, help="With --explicit: add md5 checksums.")
@click.option("--sha256", is_flag=True, help="With --explicit: add sha256 checksums.")
@click.option("--no-builds", is_flag=True, help="Leave build strings out.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def env_export(
    name: str | None,
    prefix: str | None,
    from_history: bool,
    explicit: bool,
    md5: bool,
    sha256: bool,
    no_builds: bool,
    as_json: bool,
) -> None:
    """Print an environment as an environment.yml (or an explicit spec file)."""
    from naja.cli.output import print_json
    from naja.cli.transact import existing_prefix
    from naja.env.history_specs import requested_specs
    from naja.install import installed_records
    from naja.specs.url import redact_url

    target = existing_prefix(name, prefix)
    records = installed_records(target)
    if explicit:
        click.echo("@EXPLICIT")
        for r in records:
            if r.url:
                suffix = (
                    f"#sha256:{r.sha256}"
                    if sha256 and r.sha256
                    else (f"#{r.md5}" if md5 and r.md5 else "")
                )
                click.echo(redact_url(r.url) + suffix)
        return
    if from_history:
        deps = requested_specs(target)
    else:
        deps = [
            f"{r.name}={r.version}" if no_builds else f"{r.name}={r.version}={r.build}"
            for r in records
        ]
    channels: list[str] = []
    for r in records:
        if r.channel and redact_url(str(r.channel)) not in channels:
            channels.append(redact_url(str(r.channel)))
    from naja.env.pip_packages import pip_installed

    pip = pip_installed(target)
    doc: dict = {"name": target.name, "channels": channels, "dependencies": list(deps)}
    if pip:
        doc["dependencies"].append({"pip": pip})
    if as_json:
        print_json(doc)
        return
    lines = [f"name: {target.name}", "channels:"]
    lines += [f"  - {c}" for c in channels]
    lines.append("dependencies:")
    lines += [f"  - {d}" for d in deps]
    if pip:
        lines.append("  - pip:")
        lines += [f"    - {p}" for p in pip]
    click.echo("\n".join(lines))
