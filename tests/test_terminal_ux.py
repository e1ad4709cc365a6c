"""The terminal experience, checked in a real terminal (tmux): table, colours, prompt, bars."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_cli_lifecycle import CHANNEL

NAJA = str(Path(sys.executable).parent / "naja")


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", *args], capture_output=True, text=True, check=True, timeout=30
    ).stdout


def wait_for(session: str, text: str, *, escapes: bool = False, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux(
            "capture-pane", "-p", *(["-e"] if escapes else []), "-t", session, "-S", "-100"
        )
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; screen:\n{screen}")


@pytest.fixture
def session(tmp_path: Path):
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (./dev/system-deps installs it)")
    name = f"naja-test-{os.getpid()}"
    env_file = tmp_path / "env.sh"
    env_file.write_text(
        f"export NAJA_ROOT_PREFIX={tmp_path / 'root'} NAJA_CACHE_DIR={tmp_path / 'cache'} TERM=xterm-256color\n"
        "unset NO_COLOR\n"
    )
    tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "50", "bash --norc --noprofile")
    tmux("send-keys", "-t", name, f". {env_file}", "Enter")
    yield name
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, timeout=30)


def test_create_asks_shows_colours_and_progress(session: str, tmp_path: Path) -> None:
    cmd = f'{NAJA} create -n ux -c {CHANNEL} --platform linux-64 dependent=2.0; echo "EX""IT=$?"'
    tmux("send-keys", "-t", session, cmd, "Enter")
    screen = wait_for(session, "Proceed?")
    assert "Transaction for" in screen
    assert "dependency" in screen and "dependent" in screen
    coloured = wait_for(session, "Proceed?", escapes=True)
    assert "\x1b[32m" in coloured or "\x1b[38;5;2m" in coloured  # installs in green
    tmux("send-keys", "-t", session, "y", "Enter")
    screen = wait_for(session, "EXIT=")
    assert "EXIT=0" in screen
    assert "download + extract" in screen and "link" in screen
    assert (tmp_path / "root" / "envs" / "ux" / "conda-meta").is_dir()


def test_answering_no_changes_nothing(session: str, tmp_path: Path) -> None:
    cmd = f'{NAJA} create -n ux2 -c {CHANNEL} --platform linux-64 dependency; echo "EX""IT=$?"'
    tmux("send-keys", "-t", session, cmd, "Enter")
    wait_for(session, "Proceed?")
    tmux("send-keys", "-t", session, "n", "Enter")
    screen = wait_for(session, "EXIT=")
    assert "EXIT=130" in screen and "aborted" in screen
    assert not (tmp_path / "root" / "envs" / "ux2" / "conda-meta").exists()


def test_no_colour_or_bars_in_a_pipe(tmp_path: Path) -> None:
    env = dict(
        os.environ, NAJA_ROOT_PREFIX=str(tmp_path / "root"), NAJA_CACHE_DIR=str(tmp_path / "c")
    )
    out = subprocess.run(
        [NAJA, "create", "-y", "-n", "p", "-c", CHANNEL, "--platform", "linux-64", "dependency"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "\x1b[" not in out.stdout + out.stderr
    assert "download + extract" not in out.stderr
