"""The CLI's entry points: version, help, and error rendering."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from naja import __version__


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "naja", *args], capture_output=True, text=True, timeout=60
    )


def test_version() -> None:
    out = run("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"naja {__version__}"


def test_help_lists_commands() -> None:
    out = run("--help")
    assert out.returncode == 0
    assert "create" in out.stdout


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys; from naja.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('httpx', 'rich', 'fastapi', 'naja.solve', 'msgspec') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "HEAVY="


def test_global_flags_may_follow_the_command() -> None:
    from naja.cli.main import _global_flags_first

    assert _global_flags_first(["create", "-q", "-y", "x"]) == ["-q", "create", "-y", "x"]
    assert _global_flags_first(["install", "-vv", "x", "--", "-q"]) == [
        "-vv",
        "install",
        "x",
        "--",
        "-q",
    ]
    # `run` takes a command line that may carry its own -v/-q: nothing moves.
    assert _global_flags_first(["run", "-n", "e", "ls", "-v"]) == ["run", "-n", "e", "ls", "-v"]
    out = run("info", "-q", "--json")
    assert out.returncode == 0, out.stderr


QUICK_EXIT = """
import atexit, sys
from naja.cli.main import run
atexit.register(lambda: print("atexit ran"))
sys.argv = ["naja", *sys.argv[1:]]
print("buffered before", end=" ")
run()
"""


@pytest.mark.parametrize(("args", "code"), [(["--version"], 0), (["no-such-command"], 2)])
def test_console_script_quick_exit_keeps_code_output_and_atexit(args: list[str], code: int) -> None:
    # run() ends with os._exit: the exit code, buffered output and atexit handlers must survive.
    out = subprocess.run(
        [sys.executable, "-c", QUICK_EXIT, *args], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == code, out.stderr
    assert out.stdout.startswith("buffered before")
    assert out.stdout.rstrip().endswith("atexit ran")
    if code == 0:
        assert "naja " in out.stdout


def test_console_script_output_lost_is_a_failure() -> None:
    # stdout block-buffered (no PYTHONUNBUFFERED) into a full device: the flush at exit fails,
    # and the exit status must say so, as the interpreter's own exit would (120).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with open("/dev/full", "w") as full:
        out = subprocess.run(
            [sys.executable, "-c", QUICK_EXIT, "--version"],
            stdout=full, stderr=subprocess.PIPE, text=True, env=env, timeout=60,
        )
    assert out.returncode == 120, out.stderr
