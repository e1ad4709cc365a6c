"""Entry point of the `naja` command: global flags, error handling, and the click-free fast paths.

Importing click and building the command tree costs ~15 ms, more than a whole recipe render.
So a few command lines that are run once per process in bulk (`naja --version`, `naja build
--render-only ...` as CI and conformance scripts call it) are recognised here by hand and run
without click. Anything not fully understood (help, unknown or repeated flags, completion,
errors in the command line) goes to the click CLI in naja.cli.root, so messages and behaviour
are the same either way.
"""

from __future__ import annotations

import os
import sys

from naja import __version__


def __getattr__(name: str) -> object:
    # `from naja.cli.main import cli` (shell completion) still works; click loads only then.
    if name in ("cli", "COMMANDS", "LazyGroup"):
        from naja.cli import root

        return getattr(root, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


def _echo_err(message: str) -> None:
    # click.echo (imported only now, on the error path) so that the fast paths print errors
    # exactly as the click path does (it strips ANSI codes when stderr is not a terminal).
    import click

    click.echo(message, err=True)


def _run(args: list[str]) -> int:
    """Run one command line: a fast path when it is one of those, else the click CLI."""
    if "_NAJA_COMPLETE" not in os.environ:  # shell completion is click's business
        if args in (["--version"], ["-V"]):
            sys.stdout.write(f"naja {__version__}\n")
            return 0
        if args[:1] == ["build"]:
            from naja.cli.render_only import parse_render_only, render_only

            request = parse_render_only(args[1:])
            if request is not None:
                render_only(**request)
                return 0
    from naja.cli.root import run_click

    return run_click(args)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; NajaErrors become one message on stderr and a non-zero exit code."""
    from naja.errors import NajaError

    args = _global_flags_first(sys.argv[1:] if argv is None else argv)
    try:
        return _run(args)
    except NajaError as exc:
        if _verbosity(args) >= 3:
            raise
        _echo_err(f"error: {exc.render()}")
        return exc.exit_code
    except KeyboardInterrupt:
        _echo_err("interrupted")
        return 130
    except OSError as exc:
        # Disk full, permission denied, missing file: the OS said it; say where.
        if _verbosity(args) >= 3:
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        _echo_err(f"error: {exc.strerror or exc}{where}")
        return 1
    except Exception as exc:
        if _verbosity(args) >= 3:
            raise
        _echo_err(
            f"error: internal error: {type(exc).__name__}: {exc}\n"
            "hint: run again with -vvv for the traceback, and please report it"
        )
        return 70


def run() -> None:
    """The `naja` console script: `main()`, then a quick exit.

    Why not a plain `sys.exit(main())`: the interpreter's normal exit tears down every module
    and frees every object one by one, ~40 ms after a `naja create` of a data-science stack (a
    tenth of a warm install) spent on memory the OS reclaims anyway. atexit handlers still run
    and the standard streams are flushed first; while a non-daemon thread is alive the normal
    exit (which waits for it) is taken instead.
    """
    code = main()
    threading = sys.modules.get("threading")  # never imported: no other thread can exist
    if threading is not None and any(
        not t.daemon for t in threading.enumerate() if t is not threading.main_thread()
    ):
        sys.exit(code)
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with the descriptor closed
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            # Output that could not be written (a full disk, a closed pipe) is a failure, as
            # it is for the interpreter's own exit (status 120).
            if code == 0:
                code = 120
    os._exit(code)


if __name__ == "__main__":
    run()
