"""`naja upload` takes its API key from `naja auth` when no --token is given."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import SHARED
from tests.servers.nginx import free_port

NAJA = str(Path(sys.executable).parent / "naja")
PKG = (
    SHARED
    / "corpora"
    / "packages"
    / "conda-tests"
    / "test-recipes"
    / "noarch"
    / "dependency-1.0-0.conda"
)


def test_upload_uses_the_stored_token(tmp_path: Path) -> None:
    token = "stored-admin-token-xyz"
    port = free_port()
    env = dict(
        os.environ,
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "home" / ".config"),
        NAJA_AUTH_STORE="file",
    )
    env.pop("NAJA_TOKEN", None)
    server = subprocess.Popen(
        [
            NAJA,
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        env=dict(env, NAJA_SERVER_ADMIN_TOKEN=token),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url + "/", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.2)
        channel = f"{url}/get/stored"
        denied = subprocess.run(
            [NAJA, "upload", "--to", channel, str(PKG)], env=env, capture_output=True, text=True
        )
        assert denied.returncode != 0
        login = subprocess.run(
            [NAJA, "auth", "login", f"127.0.0.1:{port}", "--token"],
            input=token + "\n",
            env=env,
            capture_output=True,
            text=True,
        )
        assert login.returncode == 0, login.stderr
        ok = subprocess.run(
            [NAJA, "upload", "--to", channel, str(PKG)], env=env, capture_output=True, text=True
        )
        assert ok.returncode == 0, ok.stderr
        assert token not in ok.stdout + ok.stderr + denied.stdout + denied.stderr
        with urllib.request.urlopen(f"{channel}/noarch/repodata.json", timeout=10) as resp:
            assert b"dependency-1.0-0.conda" in resp.read()
    finally:
        server.terminate()
        server.wait(timeout=30)
