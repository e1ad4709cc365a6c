"""`naja index DIR`: write repodata.json, .zst and CEP-16 shards for a local channel."""

from __future__ import annotations

import click


@click.command(
    epilog="""\b
Examples:
  naja index ./channel
  naja index ./channel --subdir linux-64 --subdir noarch
  naja index ./channel --validate --json"""
)
@click.argument("directory", type=click.Path(file_okay=False, exists=True))
@click.option("--subdir", "subdirs", multiple=True, help="Only these subdirs (repeatable).")
@click.option(
    "--validate", is_flag=True, help="Check every member of new packages, not just info/."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def index(directory: str, subdirs: tuple[str, ...], validate: bool, as_json: bool) -> None:
    """Index a channel folder: one subfolder per subdir (noarch, linux-64, ...).

    Only new or changed package files are read again; every file is replaced atomically.
    """
    from naja.cli.output import print_json
    from naja.index.channel import index_channel

    results = index_channel(directory, subdirs=list(subdirs) or None, full=validate)
    if as_json:
        print_json(
            [
                {
                    "subdir": r.subdir,
                    "packages": r.packages,
                    "read": r.read,
                    "reused": r.reused,
                    "errors": [str(e) for e in r.errors],
                }
                for r in results
            ]
        )
    else:
        for r in results:
            click.echo(f"{r.subdir}: {r.packages} packages ({r.read} read, {r.reused} unchanged)")
            for err in r.errors:
                click.echo(f"  skipped: {err}", err=True)
    if any(r.errors for r in results):
        raise SystemExit(1)
