"""A tiny environment for `naja run` tests: `conda-meta/` plus shell scripts in `bin/`, a home
directory with a secret, a root prefix, and a helper that runs the real `naja` CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HELLO = """#!/bin/sh
echo "hello from $CONDA_PREFIX ($CONDA_DEFAULT_ENV)"
for a in "$@"; do echo "arg: $a"; done
"""


@dataclass
class FakeEnv:
    """Paths of one test's world; `environ` is what naja runs with (HOME, root prefix)."""

    tmp: Path
    prefix: Path
    root: Path
    home: Path
    work: Path
    environ: dict[str, str]

    def add_script(self, name: str, body: str) -> Path:
        path = self.prefix / "bin" / name
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(0o755)
        return path

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "naja", *args]

    def naja_in_terminal(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run `naja ARGS` with a real pseudo-terminal as its stdin/stdout (util-linux `script`)."""
        import shlex

        return subprocess.run(
            ["script", "-qec", shlex.join(self.argv(*args)), "/dev/null"],
            capture_output=True,
            text=True,
            env=self.environ,
            cwd=self.work,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def naja(
        self, *args: str, timeout: float = 60, **kwargs: object
    ) -> subprocess.CompletedProcess[str]:
        """Run `naja ARGS` to completion (text output captured)."""
        opts: dict[str, object] = {
            "capture_output": True,
            "text": True,
            "cwd": self.work,
            "env": self.environ,
        }
        opts.update(kwargs)
        return subprocess.run(self.argv(*args), timeout=timeout, **opts)  # type: ignore[call-overload]

    def start(self, *args: str, **kwargs: object) -> subprocess.Popen[str]:
        opts: dict[str, object] = {
            "stdout": subprocess.PIPE,
            "stderr": subprocess.PIPE,
            "text": True,
            "cwd": self.work,
            "env": self.environ,
        }
        opts.update(kwargs)
        return subprocess.Popen(self.argv(*args), **opts)  # type: ignore[call-overload]


def make_env(tmp: Path, name: str = "demo") -> FakeEnv:
    root = tmp / "root"
    prefix = root / "envs" / name
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "bin").mkdir()
    home = tmp / "home"
    home.mkdir()
    (home / "secret.txt").write_text("TOP-SECRET\n")
    work = tmp / "work"
    work.mkdir()
    environ = dict(os.environ)
    environ.update({"HOME": str(home), "NAJA_ROOT_PREFIX": str(root)})
    for var in ("CONDA_PREFIX", "CONDA_SHLVL", "CONDA_DEFAULT_ENV", "TMPDIR"):
        environ.pop(var, None)
    env = FakeEnv(tmp, prefix, root, home, work, environ)
    env.add_script("hello", HELLO[len("#!/bin/sh\n") :])
    return env


def wait_for(check: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> object:
    """Poll `check` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
