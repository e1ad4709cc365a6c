"""`naja upload --to URL PKG...`: upload packages to a channel; the URL's scheme picks how.

Only naja/quetz-style servers (`http(s)://HOST/get/CHANNEL`) are wired in here; other targets
(oci://, s3://) register in `UPLOADERS` as `scheme -> (module, function)` with the same
signature: `fn(url, packages, *, token, force) -> list[dict]`.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import click

UPLOADERS: dict[str, tuple[str, str]] = {
    "http": ("naja.server.client", "upload_http"),
    "https": ("naja.server.client", "upload_http"),
}


@click.command(
    epilog="""\b
Examples:
  naja upload --to http://127.0.0.1:8000/get/mychannel --token $T pkg-1.0-0.conda
  NAJA_TOKEN=$T naja upload --to https://conda.example.org/get/team *.conda"""
)
@click.argument("packages", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True))
@click.option("--to", "target", required=True, help="Channel URL to upload to.")
@click.option("--token", envvar="NAJA_TOKEN", help="API key (default: $NAJA_TOKEN).")
@click.option("--force", is_flag=True, help="Replace a package that is already there.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def upload(packages: tuple[str, ...], target: str, token: str | None, force: bool, as_json: bool) -> None:
    """Upload conda packages (.conda, .tar.bz2) to a channel."""
    from naja.errors import UserInputError

    scheme = target.split("://", 1)[0].lower() if "://" in target else ""
    entry = UPLOADERS.get(scheme)
    if entry is None:
        raise UserInputError(
            f"cannot upload to {target!r}: no uploader for {scheme or 'that'} URLs yet",
            hint=f"supported: {', '.join(s + '://' for s in sorted(UPLOADERS))}",
        )
    fn = getattr(importlib.import_module(entry[0]), entry[1])
    # A credential store (`naja auth`) can fill this in later; env and flag work today.
    token = token or os.environ.get("NAJA_TOKEN")
    results = fn(target, [Path(p) for p in packages], token=token, force=force)
    if as_json:
        from naja.cli.output import print_json

        print_json(results)
    else:
        for r in results:
            click.echo(f"uploaded {r['subdir']}/{r['filename']} to {r['channel']}")
