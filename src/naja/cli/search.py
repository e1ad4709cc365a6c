"""`naja search`: find packages matching a spec across channels and subdirs."""

from __future__ import annotations

import click

from naja.cli.common import channel_options


@click.command(
    epilog="""\b
Examples:
  naja search numpy
  naja search "numpy>=1.20" -c conda-forge --platform osx-arm64
  naja search "*scikit*" --json"""
)
@click.argument("spec")
@channel_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--latest", is_flag=True, help="Only the newest version of each package.")
def search(
    spec: str,
    channels: tuple[str, ...],
    override_channels: bool,
    platform: str | None,
    offline: bool,
    channel_priority: str | None,
    as_json: bool,
    latest: bool,
) -> None:
    """Search the channels for packages matching SPEC (a match spec; globs in the name work)."""
    import fnmatch

    from naja.cli.common import default_channels
    from naja.cli.output import print_json, record_action
    from naja.cli.transact import channel_config
    from naja.config import load_config
    from naja.repodata import load_indexes
    from naja.specs.channel import parse_channels
    from naja.specs.match_spec import MatchSpec
    from naja.specs.platform import Platform, current_platform
    from naja.specs.version import Version

    cfg = load_config()
    names = default_channels(channels, override_channels)
    if names is None:
        names = cfg.get("channels") or ["conda-forge"]
    target = Platform.parse(platform) if platform else current_platform()
    chans = parse_channels(names, channel_config(cfg), use_default=False)
    glob = None
    head = spec.split()[0].split("[")[0]
    if any(ch in head for ch in "*?"):
        glob = head
        spec = spec.replace(head, "*", 1)
    ms = MatchSpec.parse(spec)
    found = []
    for index in load_indexes(chans, [target], offline=offline or cfg.get("offline")):
        for rec in index.records:
            if glob is not None and not fnmatch.fnmatchcase(rec.name, glob):
                continue
            if ms.matches(rec):
                found.append(rec)
    found.sort(key=lambda r: (r.name, Version.parse(r.version), r.build_number), reverse=False)
    if latest:
        best: dict[str, object] = {}
        for rec in found:
            best[rec.name] = rec
        found = list(best.values())  # type: ignore[arg-type]
    if as_json:
        print_json({"query": spec, "result": [record_action(r) for r in found]})
        return
    if not found:
        click.echo(f"no package matches {spec!r} in {', '.join(str(c) for c in chans)}")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None)
    for col in ("name", "version", "build", "channel", "subdir"):
        table.add_column(col)
    for r in found:
        table.add_row(r.name, r.version, r.build, str(r.channel), r.subdir)
    Console(highlight=False).print(table)
