"""`naja lock`: solve a request for one or more platforms and write a pixi.lock for it."""

from __future__ import annotations

import click

from naja.cli.common import complete_package_names


@click.command(
    epilog="""\b
Examples:
  naja lock -f environment.yml --platform linux-64 --platform osx-arm64
  naja lock -c conda-forge python=3.12 numpy -o pixi.lock
  naja create -n sci -f pixi.lock        # install exactly what was locked"""
)
@click.argument("specs", nargs=-1, shell_complete=complete_package_names)
@click.option(
    "-f",
    "--file",
    "files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="environment.yml or specs .txt (repeatable).",
)
@click.option("-c", "--channel", "channels", multiple=True, help="Channel (repeatable).")
@click.option("--override-channels", is_flag=True, help="Use only the channels given with -c.")
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    help="Platform to lock for (repeatable; default: this machine's).",
)
@click.option(
    "--channel-priority", type=click.Choice(["strict", "flexible", "disabled"]), default=None
)
@click.option("--offline", is_flag=True, help="Use only cached indexes.")
@click.option("-o", "--output", default="pixi.lock", show_default=True, help="Where to write.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary.")
def lock(
    specs: tuple[str, ...],
    files: tuple[str, ...],
    channels: tuple[str, ...],
    override_channels: bool,
    platforms: tuple[str, ...],
    channel_priority: str | None,
    offline: bool,
    output: str,
    as_json: bool,
) -> None:
    """Solve SPECS (and files) for each platform and write a lockfile (pixi.lock format)."""
    from naja.cli.common import default_channels
    from naja.cli.output import print_json
    from naja.cli.transact import channel_config
    from naja.config import load_config
    from naja.env.env_file import EnvSpec, merge, read_env_file
    from naja.env.lockfile import write_pixi_lock
    from naja.env.plan import PlanRequest, make_plan
    from naja.errors import UserInputError
    from naja.specs.platform import current_platform

    env_spec = merge([read_env_file(f) for f in files]) if files else EnvSpec()
    all_specs = [*env_spec.specs, *specs]
    if not all_specs:
        raise UserInputError("nothing to lock", hint="give match specs or -f environment.yml")
    cfg = load_config()
    names = default_channels(channels, override_channels)
    if names is None:
        names = env_spec.channels or cfg.get("channels") or ["conda-forge"]
    else:
        names += [c for c in env_spec.channels if c not in names]
    targets = list(platforms) or [current_platform().value]
    solved = {}
    for target in targets:
        plan = make_plan(
            PlanRequest(
                specs=all_specs,
                channels=names,
                platform=target,
                offline=offline or cfg.get("offline"),
                channel_priority=channel_priority or cfg.get("channel_priority"),
                pins=cfg.get("pinned_packages"),
                channel_config=channel_config(cfg),
            )
        )
        solved[target] = plan.records
    write_pixi_lock(output, [str(c) for c in plan.channels], solved)
    summary = {p: len(r) for p, r in solved.items()}
    if as_json:
        print_json({"success": True, "output": output, "packages": summary})
    else:
        counts = ", ".join(f"{p}: {n} packages" for p, n in summary.items())
        click.echo(f"wrote {output} ({counts})")
