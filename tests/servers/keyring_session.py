"""A private D-Bus session with gnome-keyring's Secret Service, unlocked, for keyring tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path


class KeyringSession:
    """Starts `dbus-daemon --session` and `gnome-keyring-daemon` under a throwaway HOME."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env: dict[str, str] = {}
        self._pids: list[int] = []

    def start(self) -> KeyringSession:
        for tool in ("dbus-daemon", "gnome-keyring-daemon"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is missing (./dev/system-deps installs it)")
        runtime = self.home / "run"
        runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
        env = dict(
            os.environ,
            HOME=str(self.home),
            XDG_RUNTIME_DIR=str(runtime),
            XDG_DATA_HOME=str(self.home / ".local" / "share"),
            XDG_CONFIG_HOME=str(self.home / ".config"),
        )
        out = subprocess.run(
            ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
            check=True,
        ).stdout.split()
        env["DBUS_SESSION_BUS_ADDRESS"], pid = out[0], int(out[1])
        self._pids.append(pid)
        proc = subprocess.run(
            ["gnome-keyring-daemon", "--unlock", "--components=secrets", "--daemonize"],
            input="naja-test-password",
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
        for line in proc.stdout.splitlines():
            key, _, value = line.partition("=")
            if key == "GNOME_KEYRING_CONTROL":
                env[key] = value
        self.env = env
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        probe = "import keyring,os; keyring.get_keyring().get_password('naja','probe'); os._exit(0)"
        import sys

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            r = subprocess.run(
                [sys.executable, "-c", probe], env=self.env, capture_output=True, timeout=30
            )
            if r.returncode == 0:
                return
            time.sleep(0.3)
        raise RuntimeError("gnome-keyring did not come up")

    def stop(self) -> None:
        # gnome-keyring exits when its bus goes away.
        subprocess.run(
            ["pkill", "-u", str(os.getuid()), "-f", "gnome-keyring-daemon.*"], capture_output=True
        )
        for pid in self._pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
