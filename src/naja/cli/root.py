"""The click side of the `naja` command: the root group, its global flags and lazy subcommands.

Subcommands live in their own modules and are imported only when invoked, so that
`naja --help` and `naja --version` stay fast (no solver, HTTP or server imports). This module
itself is imported only when click is needed: naja.cli.main handles a few common command lines
(`naja --version`, `naja build --render-only ...`) without it.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from naja import __version__

# name -> (module, attribute, one-line help). Modules load only when the command runs; a
# command whose module is not there yet is not offered.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "create": ("naja.cli.create", "create", "Create a new environment from specs or files."),
    "install": ("naja.cli.install", "install", "Install packages into an existing environment."),
    "update": ("naja.cli.update", "update", "Update packages in an environment."),
    "remove": ("naja.cli.remove", "remove", "Remove packages or a whole environment."),
    "list": ("naja.cli.list_cmd", "list_cmd", "List the packages of an environment."),
    "search": ("naja.cli.search", "search", "Search channels for packages."),
    "repoquery": ("naja.cli.repoquery", "repoquery", "Who depends on what, as lists or trees."),
    "info": ("naja.cli.info", "info", "Show naja's configuration and this machine."),
    "env": ("naja.cli.env", "env", "List, remove and export environments."),
    "clean": ("naja.cli.clean", "clean", "Remove cached indexes, packages and locks."),
    "config": ("naja.cli.config", "config", "Show and change configuration."),
    "shell": ("naja.cli.shell", "shell", "Shell integration: init, hook, activate."),
    "activate": ("naja.cli.shell", "activate", "Activate an environment (needs `naja shell init`)."),
    "deactivate": ("naja.cli.shell", "deactivate", "Deactivate the active environment."),
    "run": ("naja.cli.run", "run", "Run a command in an environment (optionally sandboxed)."),
    "ps": ("naja.cli.run", "ps", "List detached `naja run` processes."),
    "stop": ("naja.cli.run", "stop", "Stop a detached `naja run` process."),
    "lock": ("naja.cli.lock", "lock", "Write a lockfile for a request."),
    "auth": ("naja.cli.auth", "auth", "Store and manage credentials."),
    "build": ("naja.cli.build", "build", "Build conda packages from recipe.yaml."),
    "index": ("naja.cli.index", "index", "Write repodata for a local channel."),
    "upload": ("naja.cli.upload", "upload", "Upload packages to a channel."),
    "server": ("naja.cli.server", "server", "Run the package server."),
}


def _available(module_name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module_name) is not None


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, entry in COMMANDS.items() if _available(entry[0]))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None or not _available(entry[0]):
            return None
        module_name, attr, _ = entry
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help for the group must not import every subcommand module.
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "-V", "--version", prog_name="naja", message="%(prog)s %(version)s"
)
@click.option("-v", "--verbose", count=True, help="More output; -vvv shows tracebacks.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """naja: conda environments, packages, builds and channels — fast and clear.

    \b
    Examples:
      naja create -n sci numpy pandas
      naja create --dry-run -c conda-forge python=3.12
    """
    if ctx.invoked_subcommand not in (None, "shell", "config", "auth", "info"):
        _install_credentials()
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    ctx.obj["quiet"] = quiet


class _LazyCredentials:
    """naja.auth's lookup, imported on first use: most commands never download anything (or
    not before their --help), and naja.auth's stores cost a few ms to import."""

    _provider: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._provider is None:
            from naja.auth.lookup import default_provider

            self._provider = default_provider()
        return getattr(self._provider, name)


def _install_credentials() -> None:
    """Every download of this process uses naja.auth's lookup (read lazily on first use)."""
    from naja.credential_hook import set_default_provider

    set_default_provider(_LazyCredentials())


def run_click(args: list[str]) -> int:
    """Run the click CLI on `args`; click's own errors (usage, abort) become messages here,
    naja's errors are left to the caller (naja.cli.main.main)."""
    try:
        rv = cli.main(args=args, prog_name="naja", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    # Without standalone mode click hands back ctx.exit()'s code instead of exiting.
    return rv if isinstance(rv, int) else 0
