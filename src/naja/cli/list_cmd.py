"""`naja list`: the packages installed in an environment (table, JSON or explicit file)."""

from __future__ import annotations

import re

import click

from naja.cli.common import prefix_options


@click.command(
    "list",
    epilog="""\b
Examples:
  naja list -n sci
  naja list -n sci 'numpy|scipy' --json
  naja list -n sci --explicit --md5 > spec-file.txt""",
)
@click.argument("regex", required=False)
@prefix_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--explicit", is_flag=True, help="An explicit spec file (package URLs).")
@click.option("--md5", is_flag=True, help="With --explicit: append #md5 to each URL.")
@click.option("--sha256", is_flag=True, help="With --explicit: append #sha256 to each URL.")
def list_cmd(
    regex: str | None,
    name: str | None,
    prefix: str | None,
    as_json: bool,
    explicit: bool,
    md5: bool,
    sha256: bool,
) -> None:
    """List the packages of an environment, optionally those whose name matches REGEX."""
    from naja.cli.output import print_json
    from naja.cli.transact import existing_prefix
    from naja.errors import UserInputError
    from naja.install import installed_records
    from naja.specs.url import redact_url

    target = existing_prefix(name, prefix)
    records = installed_records(target)
    if regex:
        try:
            pattern = re.compile(regex)
        except re.error as exc:
            raise UserInputError(f"invalid regular expression {regex!r}: {exc}") from None
        records = [r for r in records if pattern.search(r.name)]
    if explicit:
        click.echo(
            f"# This file may be used to create an environment using:\n"
            f"# $ naja create --name <env> --file <this file>\n# platform: "
            f"{records[0].subdir if records else ''}\n@EXPLICIT"
        )
        for r in records:
            if not r.url:
                continue
            url = redact_url(r.url)
            if sha256 and r.sha256:
                url += f"#sha256:{r.sha256}"
            elif md5 and r.md5:
                url += f"#{r.md5}"
            click.echo(url)
        return
    if as_json:
        print_json(
            [
                {
                    "name": r.name,
                    "version": r.version,
                    "build_string": r.build,
                    "build_number": r.build_number,
                    "channel": r.channel,
                    "platform": r.subdir,
                    "base_url": (r.url or "").rsplit("/", 2)[0] if r.url else None,
                    "dist_name": f"{r.name}-{r.version}-{r.build}",
                }
                for r in records
            ]
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Environment {target}", box=None, title_justify="left")
    for col in ("name", "version", "build", "channel"):
        table.add_column(col)
    for r in records:
        table.add_row(r.name, r.version, r.build, redact_url(str(r.channel or "")))
    Console(highlight=False).print(table)
