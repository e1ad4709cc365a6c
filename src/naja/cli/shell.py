"""`naja shell`: init/deinit/reinit start-up files, hook, activate, deactivate, completion."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from naja.env.shells import SHELLS

_shell_opt = click.option(
    "-s",
    "--shell",
    "shell",
    type=click.Choice(SHELLS),
    default=None,
    help="The shell (default: from $SHELL).",
)


def _guess_shell(shell: str | None) -> str:
    if shell:
        return shell
    name = Path(os.environ.get("SHELL", "bash")).name
    return name if name in SHELLS else "bash"


def _exe() -> str:
    """The naja executable the hook should call (this one)."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "naja" and argv0.exists():
        return str(argv0.resolve())
    found = Path(sys.prefix) / "bin" / "naja"
    return str(found) if found.exists() else "naja"


@click.group(
    epilog="""\b
Examples:
  naja shell init -s bash          # then open a new shell
  naja activate sci                # after init: activate an environment
  naja shell hook --json -n sci    # the variables, for tools that exec directly
  naja shell completion -s fish > ~/.config/fish/completions/naja.fish"""
)
def shell() -> None:
    """Shell integration: make `naja activate` work and add completion."""


@shell.command()
@_shell_opt
@click.option("--json", "as_json", is_flag=True, help="Print the activated variables as JSON.")
@click.option("-n", "--name", help="Environment name (with --json).")
@click.option("-p", "--prefix", help="Environment path (with --json).")
def hook(shell: str | None, as_json: bool, name: str | None, prefix: str | None) -> None:
    """Print the shell code that defines the `naja` shell function."""
    if as_json:
        from naja.cli.output import print_json
        from naja.cli.transact import existing_prefix
        from naja.env.activation import activate as activate_env
        from naja.env.shells import env_diff

        target = existing_prefix(name, prefix)
        after = activate_env(target)
        set_vars, unset = env_diff(dict(os.environ), after)
        print_json({"prefix": str(target), "set": set_vars, "unset": unset})
        return
    from naja.env.shells import hook as hook_text

    click.echo(hook_text(_guess_shell(shell), _exe()), nl=False)


def _rc_path(shell: str, rc_file: str | None) -> Path:
    from naja.env.shells import RC_FILES
    from naja.errors import UserInputError

    if rc_file:
        return Path(rc_file).expanduser()
    if shell not in RC_FILES:
        raise UserInputError(
            f"`naja shell init` cannot edit {shell}'s start-up for you",
            hint=f"run `naja shell hook -s {shell}` from your start-up script",
        )
    return Path(RC_FILES[shell]).expanduser()


def _write_block(shell: str, rc_file: str | None, remove: bool) -> Path:
    from naja.env.shells import init_block, replace_block

    path = _rc_path(shell, rc_file)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    new = replace_block(text, None if remove else init_block(shell, _exe()))
    if new != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".naja-tmp")
        tmp.write_text(new, encoding="utf-8")
        os.replace(tmp, path)
    return path


@shell.command()
@_shell_opt
@click.option("--rc-file", help="The start-up file to edit (default: the shell's usual one).")
def init(shell: str | None, rc_file: str | None) -> None:
    """Add naja's hook to the shell's start-up file (idempotent)."""
    path = _write_block(_guess_shell(shell), rc_file, remove=False)
    click.echo(f"naja's hook is in {path}; open a new shell to use `naja activate`")


@shell.command()
@_shell_opt
@click.option("--rc-file", help="The start-up file to edit.")
def reinit(shell: str | None, rc_file: str | None) -> None:
    """Rewrite naja's block in the start-up file (after naja moved)."""
    path = _write_block(_guess_shell(shell), rc_file, remove=False)
    click.echo(f"updated naja's hook in {path}")


@shell.command()
@_shell_opt
@click.option("--rc-file", help="The start-up file to edit.")
def deinit(shell: str | None, rc_file: str | None) -> None:
    """Remove naja's block from the start-up file."""
    path = _write_block(_guess_shell(shell), rc_file, remove=True)
    click.echo(f"removed naja's hook from {path}")


def _resolve_env(env: str | None, name: str | None, prefix: str | None) -> Path:
    from naja.cli.transact import existing_prefix

    if env and not name and not prefix:
        if "/" in env or env.startswith("."):
            prefix = env
        else:
            name = env
    return existing_prefix(name, prefix)


@shell.command()
@click.argument("env", required=False)
@click.option("-n", "--name", help="Environment name.")
@click.option("-p", "--prefix", help="Environment path.")
@_shell_opt
def activate(env: str | None, name: str | None, prefix: str | None, shell: str | None) -> None:
    """Print the code that activates ENV (a name or a path) in the shell."""
    from naja.env.activation import activate as activate_env
    from naja.env.shells import env_diff, render_changes

    target = _resolve_env(env, name, prefix)
    after = activate_env(target)
    set_vars, unset = env_diff(dict(os.environ), after)
    click.echo(render_changes(_guess_shell(shell), set_vars, unset, os.pathsep), nl=False)


@shell.command()
@_shell_opt
def deactivate(shell: str | None) -> None:
    """Print the code that deactivates the active environment."""
    from naja.env.shells import env_diff, render_changes, source_scripts
    from naja.errors import UserInputError

    sh = _guess_shell(shell)
    before = dict(os.environ)
    current = before.get("CONDA_PREFIX")
    if not current:
        raise UserInputError("no environment is active")
    after = _deactivated(before)
    scripts_dir = Path(current) / "etc" / "conda" / "deactivate.d"
    scripts = sorted(str(p) for p in scripts_dir.glob("*")) if scripts_dir.is_dir() else []
    set_vars, unset = env_diff(before, after)
    click.echo(
        source_scripts(sh, scripts) + render_changes(sh, set_vars, unset, os.pathsep), nl=False
    )


@shell.command()
@_shell_opt
def reactivate(shell: str | None) -> None:
    """Print the code that re-activates the active environment (after packages changed)."""
    from naja.env.activation import activate as activate_env
    from naja.env.shells import env_diff, render_changes
    from naja.errors import UserInputError

    before = dict(os.environ)
    current = before.get("CONDA_PREFIX")
    if not current:
        raise UserInputError("no environment is active")
    base = _deactivated(before)
    after = activate_env(Path(current), base)
    set_vars, unset = env_diff(before, after)
    click.echo(render_changes(_guess_shell(shell), set_vars, unset, os.pathsep), nl=False)


def _deactivated(env: dict[str, str]) -> dict[str, str]:
    """`env` with the active environment taken off (and the one below it back on)."""
    from naja.env.activation import activate as activate_env
    from naja.env.activation import path_entries

    out = dict(env)
    current = Path(env["CONDA_PREFIX"])
    stale = set(path_entries(current))
    out["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and p not in stale
    )
    try:
        level = int(env.get("CONDA_SHLVL", "1") or "1")
    except ValueError:
        level = 1
    for key in ("CONDA_PREFIX", "CONDA_DEFAULT_ENV", "CONDA_PROMPT_MODIFIER"):
        out.pop(key, None)
    below = env.get(f"CONDA_PREFIX_{level - 1}")
    if below and Path(below, "conda-meta").is_dir():
        out.pop(f"CONDA_PREFIX_{level - 1}", None)
        out["CONDA_SHLVL"] = str(level - 2)
        return activate_env(Path(below), out)
    out["CONDA_SHLVL"] = str(max(level - 1, 0))
    return out


@shell.command()
@_shell_opt
def completion(shell: str | None) -> None:
    """Print the completion script (bash, zsh or fish)."""
    from click.shell_completion import get_completion_class

    from naja.cli.main import cli
    from naja.errors import UserInputError

    sh = _guess_shell(shell)
    cls = get_completion_class(sh)
    if cls is None:
        raise UserInputError(f"no completion for {sh}", hint="use bash, zsh or fish")
    click.echo(cls(cli, {}, "naja", "_NAJA_COMPLETE").source())
