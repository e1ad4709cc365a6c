"""naja's main job end to end, offline, with no configuration (the README's first command).

1. start the embedded package server (SQLite and files in a temporary directory);
2. build the demo recipes shipped in `examples/recipes` (a C library, a C tool linked against
   it, a noarch python package with an entry point, and a python shim for it);
3. upload the packages to the server;
4. create an environment from the server's channel;
5. run the tool in it, sandboxed with no network, and the python entry point.

Every step runs the `naja` command as a user would and prints what it took. Everything lives
in a temporary directory that is removed at the end, so running it twice works.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "examples" / "recipes"
DEMO_RECIPES = ("python-system", "libgreet", "greet", "greetpy")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Demo:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.naja = str(Path(sys.executable).parent / "naja")
        self.token = secrets.token_urlsafe(24)
        self.env = dict(
            os.environ,
            NAJA_ROOT_PREFIX=str(work / "root"),
            NAJA_CACHE_DIR=str(work / "cache"),
            HOME=str(work / "home"),
            XDG_CONFIG_HOME=str(work / "home" / ".config"),
            NAJA_TOKEN=self.token,
            NAJA_AUTH_STORE="file",
        )
        (work / "home").mkdir(parents=True)
        self.timings: list[tuple[str, float]] = []
        self.server: subprocess.Popen[bytes] | None = None

    def step(self, label: str, *args: str, env: dict[str, str] | None = None) -> str:
        shown = " ".join(a if self.token not in a else "********" for a in args)
        print(f"\n$ naja {shown}", flush=True)
        t = time.perf_counter()
        run = subprocess.run(
            [self.naja, *args], env=env or self.env, capture_output=True, text=True
        )
        took = time.perf_counter() - t
        self.timings.append((label, took))
        out = (run.stdout + run.stderr).rstrip()
        if out:
            print(out.replace(self.token, "********"), flush=True)
        if run.returncode != 0:
            raise SystemExit(f"demo step failed: {label} (exit {run.returncode})")
        return run.stdout

    def start_server(self) -> str:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        print(
            f"\n$ naja server --host 127.0.0.1 --port {port} --data-dir {self.work / 'server'}",
            flush=True,
        )
        t = time.perf_counter()
        env = dict(self.env, NAJA_SERVER_ADMIN_TOKEN=self.token)
        log = (self.work / "server.log").open("wb")
        self.server = subprocess.Popen(
            [
                self.naja,
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--data-dir",
                str(self.work / "server"),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise SystemExit(
                    "the server exited; see its log:\n" + (self.work / "server.log").read_text()
                )
            try:
                with urllib.request.urlopen(url + "/", timeout=2):
                    break
            except urllib.error.HTTPError:
                break  # any HTTP answer means the server is up
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("the server did not answer within 60 s")
        self.timings.append(("start the server", time.perf_counter() - t))
        print(f"server up at {url}", flush=True)
        return url

    def stop_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.server.kill()

    def run(self) -> None:
        url = self.start_server()
        channel = f"{url}/get/demo"
        out = self.work / "output"
        python_version = ".".join(map(str, sys.version_info[:3]))
        system_python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
        build_env = dict(self.env, NAJA_SYSTEM_PYTHON=system_python)
        probe = subprocess.run(
            [system_python, "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
        )
        build_env["NAJA_SYSTEM_PYTHON_VERSION"] = probe.stdout.strip() or python_version
        for recipe in DEMO_RECIPES:
            self.step(
                f"build {recipe}",
                "build",
                str(RECIPES / recipe),
                "--output-dir",
                str(out),
                "--work-dir",
                str(self.work / "build"),
                env=build_env,
            )
        packages = sorted(str(p) for p in out.glob("*/*.conda"))
        self.step("upload", "upload", "--to", channel, "--token", self.token, *packages)
        prefix = self.work / "root" / "envs" / "demo"
        self.step(
            "create the environment",
            "create",
            "-y",
            "-n",
            "demo",
            "-c",
            channel,
            "greet",
            "greetpy",
        )
        said = self.step(
            "run greet (sandboxed, no network)",
            "run",
            "-n",
            "demo",
            "--sandbox",
            "--no-network",
            "--",
            "greet",
            "naja",
        )
        if said.strip() != "Hello, naja!!":
            raise SystemExit(f"greet said {said!r}")
        self.step("run greetpy", "run", "-n", "demo", "--", "greetpy", "naja")
        assert prefix.is_dir()

    def report(self) -> None:
        print("\nwhat each step took:")
        width = max(len(label) for label, _ in self.timings)
        for label, took in self.timings:
            print(f"  {label:<{width}}  {took:6.2f} s")
        print(f"  {'total':<{width}}  {sum(t for _, t in self.timings):6.2f} s")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="naja-demo-"))
    demo = Demo(work)
    try:
        demo.run()
        demo.report()
        print("\ndemo finished: built, served, installed and ran in a sandbox, all offline")
        return 0
    finally:
        demo.stop_server()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
