"""What install, update and remove share: plan against an existing prefix, confirm, apply."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from naja.errors import UserInputError


def existing_prefix(name: str | None, prefix: str | None) -> Path:
    """The environment named by -n/-p, which must exist (have conda-meta/)."""
    from naja.env.prefix import resolve_prefix

    target = resolve_prefix(name, prefix)
    if target is None:
        import os

        active = os.environ.get("CONDA_PREFIX")
        if not active:
            raise UserInputError("no environment given", hint="name it with -n NAME or -p PATH")
        target = Path(active)
    if not (target / "conda-meta").is_dir():
        raise UserInputError(
            f"environment {target} does not exist",
            hint="create it with `naja create`, or check `naja env list`",
        )
    return target


def _index_progress(show: bool) -> Any:
    """A rich line for channel index downloads on a terminal, else nothing."""
    import contextlib

    if not show:
        return contextlib.nullcontext(None)
    from rich.console import Console

    from naja.repodata.progress import rich_progress

    return rich_progress(Console(stderr=True))


def channel_config(cfg: Any) -> Any:
    """The ChannelConfig the configuration describes (alias, custom and default channels)."""
    from naja.specs.channel import ChannelConfig

    kwargs: dict[str, Any] = {
        "channel_alias": cfg.get("channel_alias"),
        "custom_channels": cfg.get("custom_channels"),
        "custom_multichannels": cfg.get("custom_multichannels"),
    }
    if cfg.get("default_channels"):
        kwargs["default_channels"] = cfg.get("default_channels")
    return ChannelConfig(**kwargs)


def package_cache(cfg: Any) -> Any:
    """The package cache: NAJA_CACHE_DIR/pkgs first, then the configured `pkgs_dirs`."""
    import os

    from naja.install import PackageCache

    dirs = list(cfg.get("pkgs_dirs") or [])
    if not dirs:
        return PackageCache()
    root = os.environ.get("NAJA_CACHE_DIR")
    return PackageCache(([os.path.join(root, "pkgs")] if root else []) + dirs)


def apply_plan(
    ctx: click.Context,
    *,
    target: Path | None,
    plan_kwargs: dict[str, Any],
    dry_run: bool,
    as_json: bool,
    yes: bool,
    link_mode: str = "hardlink",
    no_scripts: bool = False,
    history_cmd: str,
    requested: list[str],
) -> None:
    """Solve against the prefix's installed records and apply the change (or show it)."""
    from naja.cli.output import is_quiet, print_json, print_transaction, record_action
    from naja.config import load_config
    from naja.env.plan import PlanRequest, make_plan, read_pins
    from naja.install import install, installed_records
    from naja.solve.errors import Unsatisfiable

    cfg = load_config(prefix=target)
    installed = installed_records(target) if target is not None else []
    pins = read_pins(target) if target is not None else []
    pins += [p for p in cfg.get("pinned_packages") if p not in pins]
    kwargs = dict(plan_kwargs)
    if kwargs.get("channels") is None:
        kwargs["channels"] = cfg.get("channels") or ["conda-forge"]
    if kwargs.get("channel_priority") is None:
        kwargs["channel_priority"] = cfg.get("channel_priority")
    kwargs["offline"] = kwargs.get("offline") or cfg.get("offline")
    kwargs.setdefault("channel_config", channel_config(cfg))
    yes = yes or cfg.get("always_yes")
    show = not as_json and not is_quiet() and sys.stderr.isatty()
    try:
        with _index_progress(show) as on_progress:
            request = PlanRequest(installed=installed, pins=pins, on_progress=on_progress, **kwargs)
            plan = make_plan(request)
    except Unsatisfiable as exc:
        if as_json:
            print_json({"success": False, "error": exc.explanation, "problems": exc.problems})
            ctx.exit(exc.exit_code)
        raise
    summary = {
        "success": True,
        "dry_run": dry_run,
        "prefix": str(target) if target is not None else None,
        "platform": plan.platform.value,
        "actions": {
            "LINK": [record_action(r) for r in plan.to_link],
            "UNLINK": [record_action(r) for r in plan.to_unlink],
        },
        "timings": {k: round(v, 3) for k, v in plan.timings.items()},
    }
    if not plan.to_link and not plan.to_unlink:
        if as_json:
            print_json(summary)
        else:
            click.echo("nothing to do: the environment already satisfies the request")
        return
    if as_json and dry_run:
        print_json(summary)
        return
    quiet = is_quiet()
    if not as_json and not quiet:
        print_transaction(plan.to_link, plan.to_unlink, str(target) if target else None)
    if dry_run:
        if not as_json and not quiet:
            click.echo("dry run: nothing changed")
        return
    if not yes:
        if not sys.stdin.isatty():
            raise UserInputError("confirmation needed but stdin is not a terminal", hint="pass -y")
        if not click.confirm("Proceed?", default=True):
            raise click.exceptions.Abort()
    assert target is not None
    from naja.cli.progress import install_progress

    with install_progress(not as_json and not quiet) as progress:
        install(
            target,
            plan.to_link,
            plan.to_unlink,
            cache=package_cache(cfg),
            link_mode=link_mode,
            run_scripts=not no_scripts,
            requested_specs=requested,
            history_cmd=history_cmd,
            progress=progress,
            warn=lambda msg: click.echo(f"warning: {msg}", err=True),
        )
    from naja.env.registry import register

    register(target)
    if as_json:
        print_json(summary)
    elif not quiet:
        click.echo(f"done: {len(plan.to_link)} linked, {len(plan.to_unlink)} removed in {target}")


def install_records(
    target: Path | None,
    records: list[Any],
    *,
    dry_run: bool,
    as_json: bool,
    yes: bool,
    link_mode: str = "hardlink",
    no_scripts: bool = False,
    history_cmd: str,
) -> None:
    """Install exactly `records` (from an explicit file or a lockfile): no solving."""
    from naja.cli.output import is_quiet, print_json, print_transaction, record_action
    from naja.config import load_config
    from naja.install import install

    if as_json:
        print_json(
            {
                "success": True,
                "dry_run": dry_run,
                "prefix": str(target) if target else None,
                "actions": {"LINK": [record_action(r) for r in records], "UNLINK": []},
            }
        )
    elif not is_quiet():
        print_transaction(records, [], str(target) if target else None)
    if dry_run:
        return
    if target is None:
        raise UserInputError("no environment given", hint="name it with -n NAME or -p PATH")
    cfg = load_config(prefix=target)
    if not (yes or as_json or cfg.get("always_yes")):
        if not sys.stdin.isatty():
            raise UserInputError("confirmation needed but stdin is not a terminal", hint="pass -y")
        if not click.confirm("Proceed?", default=True):
            raise click.exceptions.Abort()
    from naja.cli.progress import install_progress

    with install_progress(not as_json and not is_quiet()) as progress:
        install(
            target,
            records,
            cache=package_cache(cfg),
            link_mode=link_mode,
            run_scripts=not no_scripts,
            history_cmd=history_cmd,
            progress=progress,
            warn=lambda msg: click.echo(f"warning: {msg}", err=True),
        )
    from naja.env.registry import register

    register(target)


def add_files(
    files: tuple[str, ...], specs: tuple[str, ...], opts: dict[str, Any]
) -> tuple[Any, tuple[str, ...]]:
    """Environment files' specs before the command line's, their channels after -c's."""
    from naja.env.env_file import EnvSpec, merge, read_env_file

    env_spec = merge([read_env_file(f) for f in files]) if files else EnvSpec()
    given = tuple(opts["channels"])
    opts["channels"] = (*given, *(c for c in env_spec.channels if c not in given))
    return env_spec, (*env_spec.specs, *specs)


def solve_and_apply(
    ctx: click.Context,
    target: Path | None,
    specs: list[str],
    opts: dict[str, Any],
    *,
    history_cmd: str,
    requested: list[str] | None = None,
    **plan_extra: Any,
) -> None:
    """`apply_plan` with the options every create/install/update command shares."""
    from naja.cli.common import default_channels

    apply_plan(
        ctx,
        target=target,
        plan_kwargs={
            "specs": list(specs),
            "channels": default_channels(opts["channels"], opts["override_channels"]),
            "platform": opts["platform"],
            "offline": opts["offline"],
            "channel_priority": opts["channel_priority"],
            **plan_extra,
        },
        dry_run=opts["dry_run"],
        as_json=opts["as_json"],
        yes=opts["yes"],
        link_mode=opts["link_mode"],
        no_scripts=opts["no_scripts"],
        history_cmd=history_cmd,
        requested=list(specs) if requested is None else requested,
    )
