"""`naja info`: naja's version, this machine, and where naja keeps things."""

from __future__ import annotations

import click


@click.command(epilog="Examples:\n  naja info\n  naja info --json")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def info(as_json: bool) -> None:
    """Show naja's configuration and this machine."""
    import os
    import platform as _platform
    import sys

    from naja import __version__
    from naja.cli.output import print_json
    from naja.cli.transact import package_cache
    from naja.config import load_config
    from naja.env.prefix import root_prefix
    from naja.env.virtual_packages import detect_virtual_packages
    from naja.solve.engine import ENGINE
    from naja.specs.platform import current_platform

    cfg = load_config()
    cache = package_cache(cfg)
    data = {
        "naja version": __version__,
        "python": sys.version.split()[0],
        "platform": current_platform().value,
        "os": f"{_platform.system()} {_platform.release()}",
        "virtual packages": [str(v) for v in detect_virtual_packages()],
        "root prefix": str(root_prefix()),
        "active environment": os.environ.get("CONDA_PREFIX"),
        "package cache": [str(p) for p in cache.pkgs_dirs],
        "channels": cfg.get("channels") or ["conda-forge"],
        "channel priority": cfg.get("channel_priority"),
        "config files": [s.name for s in cfg.sources if s.name != "env"],
        "user agent": f"naja/{__version__}",
        "solver engine": ENGINE,
    }
    if as_json:
        print_json(data)
        return
    width = max(len(k) for k in data)
    for key, value in data.items():
        if isinstance(value, list):
            value = ", ".join(value) if value else "-"
        click.echo(f"{key:>{width}} : {value if value is not None else '-'}")
