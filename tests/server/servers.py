"""Real processes for the server tests: `naja server` under uvicorn, a throwaway PostgreSQL
cluster and moto's S3 server, all on 127.0.0.1 free ports, every wait bounded."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import ClassVar

import httpx

ADMIN_TOKEN = "admin-token-for-tests"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen | None = None, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


class NajaServer:
    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.log = data_dir.parent / f"{data_dir.name}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        # The repository root on the path: test plugins (`--plugin tests.server…`) import.
        pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        full_env = {**os.environ, "NAJA_SERVER_ADMIN_TOKEN": ADMIN_TOKEN, "PYTHONPATH": pythonpath, **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "naja", "server", "--host", "127.0.0.1", "--port", str(self.port),
             "--data-dir", str(data_dir), *args],
            env=full_env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            wait_http(self.url + "/health", self.proc)
        except Exception:
            self.stop()
            raise RuntimeError(self.log.read_text()[-3000:]) from None

    def channel(self, name: str) -> str:
        return f"{self.url}/get/{name}"

    def client(self, token: str | None = ADMIN_TOKEN, **kw) -> httpx.Client:
        headers = {"X-API-Key": token} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kw)

    def stop(self) -> None:
        stop(self.proc)


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    if not found:
        raise FileNotFoundError(name)
    return found


class Postgres:
    """A throwaway cluster owned by the `postgres` user (initdb refuses to run as root)."""

    def __init__(self) -> None:
        # Not below pytest's tmp dir: that one is private to root, and postgres must reach it.
        root = Path(tempfile.mkdtemp(prefix="naja-pg-"))
        self.root = root
        self.port = free_port()
        self.data = root / "data"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(root, "postgres", "postgres")
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(root / "pg.log"), "-w", "-t", "60",
            "-o", f"-p {self.port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off",
            "start",
        )
        self._n = 0

    def _run(self, *cmd: str) -> None:
        full = ["runuser", "-u", "postgres", "--", *cmd] if self._as_root else list(cmd)
        subprocess.run(full, check=True, capture_output=True, timeout=120)

    def new_database(self) -> str:
        self._n += 1
        name = f"naja{self._n}"
        self._run(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


class MotoS3:
    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        root.mkdir(parents=True, exist_ok=True)
        moto = Path(sys.executable).with_name("moto_server")
        self.proc = subprocess.Popen(
            [str(moto), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=(root / "moto.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_http(self.url + "/moto-api/", self.proc)

    env: ClassVar[dict[str, str]] = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}

    def stop(self) -> None:
        stop(self.proc)
