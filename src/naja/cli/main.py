"""Entry point of the `naja` command: the root group, global flags and error handling.

Subcommands live in their own modules and are imported only when invoked, so that
`naja --help` and `naja --version` stay fast (no solver, HTTP or server imports).
"""

from __future__ import annotations

import importlib
import sys

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


def _install_credentials() -> None:
    """Every download of this process uses naja.auth's lookup (read lazily on first use)."""
    from naja.auth.lookup import default_provider
    from naja.credential_hook import set_default_provider

    set_default_provider(default_provider())


def _is_global_flag(arg: str) -> bool:
    if arg in ("-q", "--quiet", "--verbose"):
        return True
    return arg.startswith("-") and not arg.startswith("--") and len(arg) > 1 and set(arg[1:]) == {"v"}


def _global_flags_first(args: list[str]) -> list[str]:
    """`naja create -q ...` means `naja -q create ...` (as in micromamba): -q/-v may follow the
    command. Arguments after `--` belong to the command being run and are left alone."""
    command = next((a for a in args if not a.startswith("-")), None)
    if command == "run":
        return args  # the rest may be the command line to run, flags included
    end = args.index("--") if "--" in args else len(args)
    flags = [a for a in args[:end] if _is_global_flag(a)]
    rest = [a for a in args[:end] if not _is_global_flag(a)]
    return [*flags, *rest, *args[end:]]


def _verbosity(argv: list[str]) -> int:
    count = 0
    for arg in argv:
        if arg == "--verbose":
            count += 1
        elif arg.startswith("-") and not arg.startswith("--") and set(arg[1:]) == {"v"}:
            count += len(arg) - 1
    return count


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; NajaErrors become one message on stderr and a non-zero exit code."""
    from naja.errors import NajaError

    args = _global_flags_first(sys.argv[1:] if argv is None else argv)
    try:
        rv = cli.main(args=args, prog_name="naja", standalone_mode=False)
    except NajaError as exc:
        if _verbosity(args) >= 3:
            raise
        click.echo(f"error: {exc.render()}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except OSError as exc:
        # Disk full, permission denied, missing file: the OS said it; say where.
        if _verbosity(args) >= 3:
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        click.echo(f"error: {exc.strerror or exc}{where}", err=True)
        return 1
    except Exception as exc:
        if _verbosity(args) >= 3:
            raise
        click.echo(
            f"error: internal error: {type(exc).__name__}: {exc}\n"
            "hint: run again with -vvv for the traceback, and please report it",
            err=True,
        )
        return 70
    # Without standalone mode click hands back ctx.exit()'s code instead of exiting.
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
