"""`naja repoquery`: what a package depends on, and what depends on it (lists or trees).

With -n/-p it answers about an environment's installed packages; otherwise about the newest
matching records in the channels.
"""

from __future__ import annotations

from typing import Any

import click

from naja.cli.common import channel_options, prefix_options


def _pool(
    name: str | None,
    prefix: str | None,
    channels: tuple[str, ...],
    override: bool,
    platform: str | None,
    offline: bool,
) -> dict[str, Any]:
    """One record per package name: installed ones, or the newest of each in the channels."""
    if name or prefix:
        from naja.cli.transact import existing_prefix
        from naja.install import installed_records

        return {r.name: r for r in installed_records(existing_prefix(name, prefix))}
    from naja.cli.common import default_channels
    from naja.cli.transact import channel_config
    from naja.config import load_config
    from naja.repodata import load_indexes
    from naja.specs.channel import parse_channels
    from naja.specs.platform import Platform, current_platform
    from naja.specs.version import Version

    cfg = load_config()
    names = default_channels(channels, override) or cfg.get("channels") or ["conda-forge"]
    chans = parse_channels(names, channel_config(cfg), use_default=False)
    target = Platform.parse(platform) if platform else current_platform()
    best: dict[str, Any] = {}
    for index in load_indexes(chans, [target], offline=offline):
        for rec in index.records:
            old = best.get(rec.name)
            key = (Version.parse(rec.version), rec.build_number)
            if old is None or key > (Version.parse(old.version), old.build_number):
                best[rec.name] = rec
    return best


def _pool_from(opts: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "prefix", "channels", "override_channels", "platform", "offline")
    return _pool(*(opts[k] for k in keys))


def _dep_name(spec: str) -> str:
    from naja.specs.match_spec import MatchSpec

    return MatchSpec.parse(spec).name or spec.split()[0]


def _label(rec: Any) -> str:
    return f"{rec.name} {rec.version} {rec.build}"


@click.group(
    epilog="""\b
Examples:
  naja repoquery depends -n sci pandas --tree
  naja repoquery whoneeds -n sci numpy
  naja repoquery depends -c conda-forge scipy --json"""
)
def repoquery() -> None:
    """Query dependencies: `depends` (what PACKAGE needs) and `whoneeds` (what needs it)."""


def _common(func):  # type: ignore[no-untyped-def]
    func = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(func)
    func = click.option("--tree", is_flag=True, help="Show the whole chain as a tree.")(func)
    func = channel_options(func)
    func = prefix_options(func)
    return click.argument("package")(func)


@repoquery.command()
@_common
def depends(package: str, tree: bool, as_json: bool, **opts: Any) -> None:
    """What PACKAGE depends on."""
    pool = _pool_from(opts)
    _show(
        package,
        pool,
        tree,
        as_json,
        lambda rec: [pool[n] for n in (_dep_name(d) for d in rec.depends) if n in pool],
        "depends",
    )


@repoquery.command()
@_common
def whoneeds(package: str, tree: bool, as_json: bool, **opts: Any) -> None:
    """Which packages depend on PACKAGE."""
    pool = _pool_from(opts)
    needers: dict[str, list[Any]] = {}
    for rec in pool.values():
        for d in rec.depends:
            needers.setdefault(_dep_name(d), []).append(rec)
    _show(package, pool, tree, as_json, lambda rec: needers.get(rec.name, []), "whoneeds")


def _show(
    package: str, pool: dict[str, Any], tree: bool, as_json: bool, children, kind: str
) -> None:  # type: ignore[no-untyped-def]
    from naja.cli.output import print_json
    from naja.errors import UserInputError

    root = pool.get(package)
    if root is None:
        from naja.solve.suggest import closest_names

        close = closest_names(package, pool)
        raise UserInputError(
            f"no package named {package!r} here",
            hint=f"did you mean {', '.join(close)}?" if close else None,
        )

    def node(rec: Any, seen: frozenset[str]) -> dict[str, Any]:
        kids = []
        if tree:
            for child in sorted(children(rec), key=lambda r: r.name):
                if child.name in seen:
                    kids.append({"name": child.name, "version": child.version, "cycle": True})
                else:
                    kids.append(node(child, seen | {child.name}))
        return {"name": rec.name, "version": rec.version, "build": rec.build, kind: kids}

    if as_json:
        if tree:
            print_json(node(root, frozenset({root.name})))
        else:
            print_json(
                {
                    "query": package,
                    kind: [
                        {"name": r.name, "version": r.version, "build": r.build}
                        for r in children(root)
                    ],
                }
            )
        return
    if not tree:
        for rec in sorted(children(root), key=lambda r: r.name):
            click.echo(_label(rec))
        return

    def walk(n: dict[str, Any], indent: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        extra = " (cycle)" if n.get("cycle") else ""
        click.echo(f"{indent}{branch}{n['name']} {n['version']}{extra}")
        kids = n.get(kind, [])
        for i, k in enumerate(kids):
            walk(k, indent + ("" if top else ("   " if last else "│  ")), i == len(kids) - 1, False)

    walk(node(root, frozenset({root.name})), "", True, True)
