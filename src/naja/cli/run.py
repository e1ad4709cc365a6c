"""`naja run`, `naja ps`, `naja stop`: run a command in an environment, attached, detached or
sandboxed, and manage the detached ones."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from naja.cli.common import prefix_options

if TYPE_CHECKING:
    from naja.sandbox.launch import Wrapped

STREAMS = {"stdin": 0, "stdout": 1, "stderr": 2}
# Kept by --clearenv besides --keep-env: what a program needs to find its home and terminal.
CLEARENV_KEEP = ("HOME", "USER", "LOGNAME", "TERM", "LANG", "LC_ALL", "NAJA_ROOT_PREFIX")
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def _parse_assignment(text: str, source: str) -> tuple[str, str | None]:
    from naja.errors import UserInputError

    name, sep, value = text.partition("=")
    name = name.strip() if source != "-e" else name
    if not name or not (name.replace("_", "a").isalnum() and not name[0].isdigit()):
        raise UserInputError(f"invalid variable {text!r} in {source}", hint="write KEY=VALUE")
    return name, value if sep else None


def _read_env_file(path: str) -> list[tuple[str, str | None]]:
    """docker's format: KEY=VALUE per line, `#` comments, a bare KEY copies the caller's value."""
    from naja.errors import UserInputError

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"cannot read env file {path}: {exc.strerror}") from None
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, value = _parse_assignment(line, f"{path}:{number}")
        if value is not None and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out.append((name, value))
    return out


def _resolve_program(
    program: str, env: dict[str, str], cwd: Path, where: str, selector: str
) -> str:
    from naja.sandbox.errors import CommandNotExecutable, CommandNotFound

    if "/" in program:
        path = (cwd / program) if not os.path.isabs(program) else Path(program)
        if not path.exists():
            raise CommandNotFound(f"{program}: no such file", hint=f"looked in {cwd}")
    else:
        found = shutil.which(program, path=env.get("PATH", ""))
        if found is None:
            if shutil.which(program, path=env.get("PATH", ""), mode=os.F_OK):
                raise CommandNotExecutable(f"{program}: permission denied (not executable)")
            raise CommandNotFound(
                f"command {program!r} not found in environment {where}",
                hint=f"install the package that provides it (`naja install {selector} ...`), "
                "or give its full path",
            )
        path = Path(found)
    if path.is_dir() or not os.access(path, os.X_OK):
        raise CommandNotExecutable(f"{path}: permission denied (not an executable file)")
    return str(path.absolute())


def _base_environ(clearenv: bool, keep: tuple[str, ...]) -> dict[str, str]:
    if not clearenv:
        return dict(os.environ)
    env = {k: os.environ[k] for k in (*CLEARENV_KEEP, *keep) if k in os.environ}
    env.setdefault("PATH", SYSTEM_PATH)
    return env


@click.command(
    context_settings={"allow_interspersed_args": False},
    epilog="""\b
Examples:
  naja run -n sci -- python -c 'import numpy'
  naja run -n web -e PORT=8080 --env-file .env -d --label web -- gunicorn app:app
  naja run -n tools --sandbox --no-network --allow-write . -- make test
  naja run -p ./env -a stdout -- ./script.sh < /dev/null""",
)
@prefix_options
@click.option(
    "-e", "--env", "env_vars", multiple=True, metavar="KEY=VAL", help="Set a variable (repeatable)."
)
@click.option(
    "--env-file", "env_files", multiple=True, metavar="FILE", help="Read KEY=VAL lines from FILE."
)
@click.option(
    "--cwd", type=click.Path(file_okay=False), help="Working directory (default: the current one)."
)
@click.option(
    "-a",
    "--attach",
    multiple=True,
    type=click.Choice(list(STREAMS)),
    help="Attach only these streams (repeatable); the others read/write /dev/null.",
)
@click.option("-d", "--detach", is_flag=True, help="Run in the background; output goes to a log.")
@click.option(
    "--label",
    "labels",
    multiple=True,
    help="Label a detached run (shown and filtered by `naja ps`).",
)
@click.option(
    "--sandbox/--no-sandbox",
    default=None,
    help="Confine the file system (default: the env's config).",
)
@click.option("--network/--no-network", default=None, help="--no-network: no network but loopback.")
@click.option(
    "--allow-read", multiple=True, metavar="PATH", help="Make PATH readable in the sandbox."
)
@click.option(
    "--allow-write", multiple=True, metavar="PATH", help="Make PATH writable in the sandbox."
)
@click.option(
    "--deny-read", multiple=True, metavar="PATH", help="Hide PATH, even under an allowed parent."
)
@click.option(
    "--home",
    type=click.Choice(["tmpfs", "ro", "rw"]),
    help="The home directory: empty (default), read-only or read-write.",
)
@click.option("--clearenv", is_flag=True, help="Start from an empty environment (see --keep-env).")
@click.option("--keep-env", multiple=True, metavar="VAR", help="With --clearenv: keep VAR.")
@click.option(
    "--dry-run", is_flag=True, help="Print the command line that would run (JSON) and exit."
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def run(
    ctx: click.Context,
    name: str | None,
    prefix: str | None,
    env_vars: tuple[str, ...],
    env_files: tuple[str, ...],
    cwd: str | None,
    attach: tuple[str, ...],
    detach: bool,
    labels: tuple[str, ...],
    sandbox: bool | None,
    network: bool | None,
    allow_read: tuple[str, ...],
    allow_write: tuple[str, ...],
    deny_read: tuple[str, ...],
    home: str | None,
    clearenv: bool,
    keep_env: tuple[str, ...],
    dry_run: bool,
    command: tuple[str, ...],
) -> None:
    """Run COMMAND inside an environment: activated, with its exit code and signals.

    Everything after `--` is the command. Exit codes: the command's own; 128+N when a signal N
    killed it; 125 when naja could not set it up (e.g. no sandbox here); 126 not executable;
    127 not found.
    """
    from naja.env.activation import activate
    from naja.env.prefix import resolve_prefix, root_prefix
    from naja.errors import UserInputError
    from naja.sandbox.config import load_env_settings, merge_flags
    from naja.sandbox.launch import wrap

    target = resolve_prefix(name, prefix)
    if target is None:
        raise UserInputError("no environment given", hint="name it with -n NAME or -p PATH")
    where = name or str(target)
    selector = f"-n {name}" if name else f"-p {target}"
    if not (target / "conda-meta").is_dir():
        # Exit 2 like every command's "missing environment" (docs/exit-codes.md).
        raise UserInputError(
            f"environment {where} does not exist"
            + ("" if not target.exists() else f" ({target} has no conda-meta/)"),
            hint=f"create it with `naja create {selector} ...`",
        )
    if detach and attach:
        raise UserInputError(
            "-a/--attach and -d/--detach cannot be combined", hint="a detached run attaches nothing"
        )
    if keep_env and not clearenv:
        raise UserInputError("--keep-env only makes sense with --clearenv")
    workdir = Path(cwd).absolute() if cwd else Path.cwd()
    if not workdir.is_dir():
        raise UserInputError(f"working directory {workdir} does not exist")

    settings = merge_flags(
        load_env_settings(target),
        sandbox=sandbox,
        network=network,
        home=home,
        allow_read=allow_read,
        allow_write=allow_write,
        deny_read=deny_read,
        clearenv=clearenv,
        keep_env=keep_env,
    )
    root = root_prefix()
    env = activate(target, _base_environ(settings.clearenv, settings.keep_env), root=root)
    # Shells trust an inherited PWD that names the working directory; keep it truthful.
    env["PWD"] = str(workdir)
    for path in env_files:
        for key, value in _read_env_file(path):
            if value is None:
                if key in os.environ:
                    env[key] = os.environ[key]
            else:
                env[key] = value
    for item in env_vars:
        key, value = _parse_assignment(item, "-e")
        if value is None:
            if key in os.environ:
                env[key] = os.environ[key]
        else:
            env[key] = value

    program = _resolve_program(command[0], env, workdir, where, selector)
    argv = [program, *command[1:]]
    attached = set(attach) if attach else ({"stdin", "stdout", "stderr"} if not detach else set())
    tty = any(os.isatty(STREAMS[s]) for s in attached)
    wrapped = wrap(settings, argv, env, prefix=target, cwd=workdir, attached_tty=tty)

    if dry_run:
        click.echo(
            json.dumps(
                {
                    "argv": wrapped.argv,
                    "sandbox": wrapped.backend,
                    "cwd": str(workdir),
                    "env": wrapped.env,
                },
                indent=2,
            )
        )
        return
    if detach:
        run_id, log = _detach(root, target, list(command), list(labels), wrapped, workdir)
        click.echo(run_id)
        click.echo(f"log: {log}", err=True)
        return

    from naja.sandbox.errors import CommandNotExecutable
    from naja.sandbox.process import Supervisor, exec_command

    detached_fds = [fd for s, fd in STREAMS.items() if s not in attached]
    if wrapped.exec_ok:
        try:
            exec_command(wrapped.argv, wrapped.env, workdir, detached_fds)
        except OSError as exc:
            # e.g. a script without a #! line, or a binary for another machine.
            raise CommandNotExecutable(f"cannot run {program}: {exc.strerror or exc}") from None
    null = open(os.devnull, "r+b")  # noqa: SIM115 - lives until the command ends
    streams = {s: (None if s in attached else null) for s in STREAMS}
    code = Supervisor(sandboxed=True, tty=tty, ignore_in_wrapper=wrapped.signals_reset).run(
        wrapped.argv,
        wrapped.env,
        workdir,
        stdin=streams["stdin"],
        stdout=streams["stdout"],
        stderr=streams["stderr"],
        pass_fds=wrapped.pass_fds,
    )
    ctx.exit(code)


def _detach(
    root: Path,
    prefix: Path,
    command: list[str],
    labels: list[str],
    wrapped: Wrapped,
    cwd: Path,
) -> tuple[str, str]:
    """Fork a monitor in a new session that runs the command and records how it ended."""
    from naja.env import detached
    from naja.sandbox.process import Supervisor

    record = detached.new_run(root, command, prefix, labels, sandboxed=wrapped.backend is not None)
    argv, env = wrapped.argv, wrapped.env
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the monitor
        code = 70
        try:
            os.close(read_fd)
            os.setsid()
            log = os.open(record.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.close(null)
            os.close(log)
            record.monitor_pid = os.getpid()
            record.monitor_start = detached.process_start(os.getpid())

            def started(proc: object) -> None:
                record.pid = proc.pid  # type: ignore[attr-defined]
                record.pid_start = detached.process_start(record.pid)  # type: ignore[arg-type]
                detached.save(root, record)
                os.write(write_fd, b"ok")
                os.close(write_fd)

            try:
                supervisor = Supervisor(
                    sandboxed=not wrapped.exec_ok,
                    tty=False,
                    ignore_in_wrapper=wrapped.signals_reset,
                )
                result = supervisor.run(
                    argv,
                    env,
                    cwd,
                    stdin=0,
                    stdout=1,
                    stderr=2,
                    on_start=started,
                    pass_fds=wrapped.pass_fds,
                )
            except OSError as exc:
                record.error = f"cannot start {argv[0]}: {exc.strerror or exc}"
                record.finished = detached.now()
                detached.save(root, record)
                os.write(write_fd, b"failed")
                raise
            record.exit_code = result
            record.finished = detached.now()
            detached.save(root, record)
            code = 0
        except BaseException as exc:  # the monitor must never return into the CLI
            print(f"naja run: monitor failed: {exc}", file=sys.stderr)
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        answer = pipe.read()
    if answer != b"ok":
        from naja.sandbox.errors import StartFailed

        raise StartFailed(f"the detached command did not start (see {record.log})")
    return record.id, record.log


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--running", is_flag=True, help="Only runs that are still running.")
@click.option(
    "--label", "labels", multiple=True, help="Only runs with this label (repeatable: all of them)."
)
@click.option(
    "--prune", is_flag=True, help="Forget finished runs (their records and logs) after listing."
)
def ps(as_json: bool, running: bool, labels: tuple[str, ...], prune: bool) -> None:
    """List detached `naja run` processes: id, pid, labels, command, status, started."""
    from naja.env import detached
    from naja.env.prefix import root_prefix

    root = root_prefix()
    runs = detached.load_all(root)
    if prune:
        for run in runs:
            if run.status not in ("running", "starting"):
                detached.forget(root, run)
    if running:
        runs = [r for r in runs if r.status == "running"]
    if labels:
        runs = [r for r in runs if set(labels) <= set(r.labels)]
    if as_json:
        click.echo(json.dumps([r.to_json() for r in runs], indent=2))
        return
    if not runs:
        click.echo("no detached runs")
        return
    rows = [("ID", "PID", "STATUS", "STARTED", "LABELS", "COMMAND")]
    for r in runs:
        rows.append(
            (
                r.id,
                str(r.pid or "-"),
                r.status,
                r.started[:19].replace("T", " "),
                ",".join(r.labels) or "-",
                " ".join(r.command),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(w) for cell, w in zip(row[:5], widths, strict=True))
            + "  "
            + row[5]
        )


def _signal_number(text: str) -> int:
    from naja.errors import UserInputError

    name = text.upper()
    if name.isdigit():
        return int(name)
    if not name.startswith("SIG"):
        name = "SIG" + name
    try:
        return int(signal.Signals[name])
    except KeyError:
        raise UserInputError(
            f"unknown signal {text!r}", hint="e.g. TERM, INT, HUP, KILL or a number"
        ) from None


@click.command()
@click.argument("run_id", metavar="ID")
@click.option(
    "-s", "--signal", "sig", default="TERM", show_default=True, help="Signal to send first."
)
@click.option(
    "-t", "--time", "grace", default=10.0, show_default=True, help="Seconds to wait before SIGKILL."
)
def stop(run_id: str, sig: str, grace: float) -> None:
    """Stop a detached run: send the signal, wait, then SIGKILL if it is still running."""
    from naja.env import detached
    from naja.env.prefix import root_prefix

    number = _signal_number(sig)
    root = root_prefix()
    record = detached.find(root, run_id)
    if record.status != "running":
        click.echo(f"{record.id} is not running ({record.status})")
        return
    # The monitor forwards the signal the right way (into the sandbox, to the whole group).
    with contextlib.suppress(ProcessLookupError):  # it may end on its own meanwhile
        if record.monitor_alive():
            os.kill(record.monitor_pid, number)  # type: ignore[arg-type]
        else:
            os.killpg(record.pid, number)  # type: ignore[arg-type]
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and record.command_alive():
        time.sleep(0.05)
    if record.command_alive():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(record.pid, signal.SIGKILL)  # type: ignore[arg-type]
    # Give the monitor a moment to record the exit status before reporting.
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and record.monitor_alive():
        time.sleep(0.02)
    click.echo(record.id)
