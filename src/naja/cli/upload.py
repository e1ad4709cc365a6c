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
    "oci": ("naja.upload.oci", "upload_oci"),
    "s3": ("naja.upload.s3", "upload_s3"),
}


@click.command(
    epilog="""\b
Examples:
  naja upload --to http://127.0.0.1:8000/get/mychannel --token $T pkg-1.0-0.conda
  NAJA_TOKEN=$T naja upload --to https://conda.example.org/get/team *.conda
  naja upload --to oci://ghcr.io/org/channel pkg-1.0-0.conda   # staged
  naja upload --to oci://ghcr.io/org/channel --promote         # staged -> latest
  naja upload --to s3://bucket/channel pkg-1.0-0.conda"""
)
@click.argument("packages", nargs=-1, type=click.Path(dir_okay=False, exists=True))
@click.option("--to", "target", required=True, help="Channel URL to upload to.")
@click.option("--token", envvar="NAJA_TOKEN", help="API key (default: $NAJA_TOKEN).")
@click.option("--force", is_flag=True, help="Replace a package that is already there.")
@click.option(
    "--promote",
    is_flag=True,
    help="oci:// only: make the staged index `latest` (with or without PKGs).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def upload(
    packages: tuple[str, ...],
    target: str,
    token: str | None,
    force: bool,
    promote: bool,
    as_json: bool,
) -> None:
    """Upload conda packages (.conda, .tar.bz2) to a channel."""
    from naja.errors import UserInputError

    scheme = target.split("://", 1)[0].lower() if "://" in target else ""
    entry = UPLOADERS.get(scheme)
    if entry is None:
        raise UserInputError(
            f"cannot upload to {target!r}: no uploader for {scheme or 'that'} URLs yet",
            hint=f"supported: {', '.join(s + '://' for s in sorted(UPLOADERS))}",
        )
    if not packages and not promote:
        raise UserInputError("no packages to upload", hint="name .conda or .tar.bz2 files")
    if promote and scheme != "oci":
        raise UserInputError("--promote applies to oci:// channels only")
    if not packages:
        from naja.upload.oci import promote_oci

        click.echo(f"latest now points at staging in: {', '.join(promote_oci(target)) or 'none'}")
        return
    extra = {"promote_now": True} if promote else {}
    fn = getattr(importlib.import_module(entry[0]), entry[1])
    # The flag, then $NAJA_TOKEN, then what `naja auth login HOST --token` stored for the URL.
    token = token or os.environ.get("NAJA_TOKEN")
    if not token and target.startswith(("http://", "https://")):
        from naja.auth.lookup import default_provider

        entry = default_provider().entry_for(target)
        if entry is not None and entry.kind in ("bearer", "conda_token"):
            token = entry.token
    results = fn(target, [Path(p) for p in packages], token=token, force=force, **extra)
    if as_json:
        from naja.cli.output import print_json

        print_json(results)
    else:
        for r in results:
            click.echo(f"uploaded {r['subdir']}/{r['filename']} to {r['channel']}")
        if scheme == "oci":
            state = "published (latest)" if promote else "staged"
            click.echo(
                f"index {state}"
                + ("" if promote else f"; publish: naja upload --to {target} --promote")
            )
