"""`naja clean`: remove cached indexes, package tarballs, extracted packages and stale locks."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import click


def _size(path: Path) -> int:
    if path.is_file() or path.is_symlink():
        return path.lstat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, f)).st_size
    return total


def _in_use() -> list[str]:
    """The extracted package folders that known environments were linked from."""
    from naja.env.registry import list_environments
    from naja.install import installed_records

    out = []
    for prefix in list_environments():
        try:
            records = installed_records(prefix)
        except Exception:  # a broken environment must not stop a clean
            continue
        out += [r.extracted_package_dir for r in records if r.extracted_package_dir]
    return out


@click.command(
    epilog="""\b
Examples:
  naja clean --tarballs
  naja clean -a -y
  naja clean --index --dry-run"""
)
@click.option("-a", "--all", "everything", is_flag=True, help="Everything below.")
@click.option("-i", "--index", "index", is_flag=True, help="Cached channel indexes.")
@click.option("-t", "--tarballs", is_flag=True, help="Downloaded package archives.")
@click.option("-p", "--packages", is_flag=True, help="Extracted packages.")
@click.option("-l", "--locks", is_flag=True, help="Stale lock files.")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def clean(
    everything: bool,
    index: bool,
    tarballs: bool,
    packages: bool,
    locks: bool,
    dry_run: bool,
    as_json: bool,
    yes: bool,
) -> None:
    """Free disk space used by naja's caches (environments are never touched)."""
    from naja.cli.output import print_json
    from naja.cli.transact import package_cache
    from naja.config import load_config
    from naja.errors import UserInputError
    from naja.repodata.cache_dir import index_cache_dir

    if everything:
        index = tarballs = packages = locks = True
    if not (index or tarballs or packages or locks):
        raise UserInputError(
            "nothing selected", hint="pass -a, --index, --tarballs, --packages or --locks"
        )
    cache = package_cache(load_config())
    doomed: list[Path] = []
    if index:
        d = index_cache_dir()
        if d.is_dir():
            doomed += sorted(d.iterdir())
    # Package archives and folders go through the cache itself: each entry is removed under
    # its package lock (never from under a running install), and extracted folders that an
    # environment still points at are kept.
    cache_report = None
    if tarballs or packages:
        cache_report = cache.clean(
            tarballs=tarballs, extracted=packages, in_use=_in_use(), dry_run=True
        )
        doomed += [Path(p) for p, _kind, _size in cache_report.removed]
    if locks:
        for pkgs in cache.pkgs_dirs:
            if pkgs.is_dir() and os.access(pkgs, os.W_OK):
                doomed += [e for e in sorted(pkgs.iterdir()) if e.name.endswith(".lock")]
    freed = sum(_size(p) for p in doomed)
    if as_json:
        print_json({"dry_run": dry_run, "removed": [str(p) for p in doomed], "bytes": freed})
    else:
        for p in doomed:
            click.echo(f"{'would remove' if dry_run else 'removing'} {p}")
        click.echo(f"{len(doomed)} items, {freed / 1e6:.1f} MB")
    if dry_run or not doomed:
        return
    if not yes and not as_json:
        import sys

        if not sys.stdin.isatty():
            raise UserInputError("confirmation needed but stdin is not a terminal", hint="pass -y")
        if not click.confirm("Proceed?", default=True):
            raise click.exceptions.Abort()
    if cache_report is not None:
        cache.clean(tarballs=tarballs, extracted=packages, in_use=_in_use())
    for p in doomed:
        if not p.exists() and not p.is_symlink():
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
