"""`naja config`: show the merged configuration and change one configuration file."""

from __future__ import annotations

from pathlib import Path

import click

from naja.cli.common import prefix_options


def _target(file: str | None, name: str | None, prefix: str | None) -> Path:
    from naja.config.loader import user_config_file
    from naja.env.prefix import resolve_prefix

    if file:
        return Path(file).expanduser()
    env = resolve_prefix(name, prefix)
    if env is not None:
        return env / ".condarc"
    return user_config_file()


def _file_options(func):  # type: ignore[no-untyped-def]
    func = click.option("--file", "file", help="The file to change (default: naja's user file).")(
        func
    )
    return prefix_options(func)


@click.group(
    epilog="""\b
Examples:
  naja config list --show-sources
  naja config prepend channels conda-forge
  naja config set channel_priority flexible
  naja config get channels --json"""
)
def config() -> None:
    """Show and change configuration (.condarc files, naja's config.yaml, NAJA_* variables)."""


@config.command("list")
@click.option("--show-sources", is_flag=True, help="Show which file set each key.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@prefix_options
def config_list(show_sources: bool, as_json: bool, name: str | None, prefix: str | None) -> None:
    """Print the merged configuration."""
    from naja.cli.output import print_json
    from naja.config import load_config
    from naja.env.prefix import resolve_prefix

    cfg = load_config(prefix=resolve_prefix(name, prefix))
    if as_json:
        data: dict = {"values": cfg.values}
        if show_sources:
            data["sources"] = {s.name: s.values for s in cfg.sources}
        print_json(data)
        return
    if show_sources:
        for source in cfg.sources:
            click.echo(f"==> {source.name} <==")
            click.echo(_yaml(source.values) or "(empty)")
        return
    click.echo(_yaml(cfg.values) or "(no configuration set; defaults apply)")


@config.command("get")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@prefix_options
def config_get(key: str, as_json: bool, name: str | None, prefix: str | None) -> None:
    """Print the value of KEY (merged over every source)."""
    from naja.cli.output import print_json
    from naja.config import load_config
    from naja.config.edit import _check_key
    from naja.env.prefix import resolve_prefix

    _check_key(key)
    cfg = load_config(prefix=resolve_prefix(name, prefix))
    value = cfg.get(key)
    if as_json:
        print_json({key: value, "sources": cfg.origin.get(key, [])})
    else:
        click.echo(_yaml({key: value}))


@config.command("set")
@click.argument("key")
@click.argument("value")
@_file_options
def config_set(
    key: str, value: str, file: str | None, name: str | None, prefix: str | None
) -> None:
    """Set the scalar KEY to VALUE in one file."""
    from naja.config.edit import set_value

    path = _target(file, name, prefix)
    set_value(path, key, value)
    click.echo(f"set {key} in {path}")


@config.command("append")
@click.argument("key")
@click.argument("value")
@_file_options
def config_append(
    key: str, value: str, file: str | None, name: str | None, prefix: str | None
) -> None:
    """Add VALUE at the end of the list KEY (lowest priority)."""
    from naja.config.edit import add_to_list

    path = _target(file, name, prefix)
    add_to_list(path, key, value, front=False)
    click.echo(f"appended {value} to {key} in {path}")


@config.command("prepend")
@click.argument("key")
@click.argument("value")
@_file_options
def config_prepend(
    key: str, value: str, file: str | None, name: str | None, prefix: str | None
) -> None:
    """Add VALUE at the front of the list KEY (highest priority)."""
    from naja.config.edit import add_to_list

    path = _target(file, name, prefix)
    add_to_list(path, key, value, front=True)
    click.echo(f"prepended {value} to {key} in {path}")


@config.command("remove")
@click.argument("key")
@click.argument("value", required=False)
@_file_options
def config_remove(
    key: str, value: str | None, file: str | None, name: str | None, prefix: str | None
) -> None:
    """Remove VALUE from the list KEY, or KEY itself when no VALUE is given."""
    from naja.config.edit import remove_value
    from naja.errors import UserInputError

    path = _target(file, name, prefix)
    if not remove_value(path, key, value):
        what = f"{value!r} in {key}" if value else key
        raise UserInputError(
            f"{what} is not set in {path}", hint="see `naja config list --show-sources`"
        )
    click.echo(f"removed {value + ' from ' if value else ''}{key} in {path}")


def _yaml(data: dict) -> str:
    import io

    from ruamel.yaml import YAML

    from naja.specs.url import redact_text

    if not data:
        return ""
    buf = io.StringIO()
    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    yaml.dump(data, buf)
    return redact_text(buf.getvalue().rstrip())
