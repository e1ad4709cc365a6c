"""A real OCI registry (Debian's `docker-registry`, the distribution project) on 127.0.0.1.

    registry = Registry(tmp_path).start()                 # anonymous, at registry.url
    registry = Registry(tmp_path, auth=("user", "pw")).start()   # htpasswd (bcrypt) Basic auth
    registry.stop()

or, in pytest, the `registry` fixture factory:

    from tests.servers.registry import registry  # noqa: F401

    def test_x(registry):
        reg = registry()                          # started; stopped at teardown
        reg.oci_url("ns/channel")                 # "oci://127.0.0.1:PORT/ns/channel"

Storage is a filesystem directory (`registry.storage`), so tests can damage blobs on disk.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers.nginx import free_port

REGISTRY = "docker-registry"


def find_registry() -> str | None:
    return shutil.which(REGISTRY) or (
        "/usr/bin/docker-registry" if Path("/usr/bin/docker-registry").exists() else None
    )


def htpasswd_line(user: str, password: str) -> str:
    """A bcrypt htpasswd entry (the only hash the distribution registry accepts)."""
    tool = shutil.which("htpasswd")
    if tool:
        out = subprocess.run(
            [tool, "-nbB", user, password], check=True, capture_output=True, text=True
        ).stdout
        return out.strip()
    import bcrypt

    return f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()}"


class Registry:
    def __init__(self, root: Path, *, auth: tuple[str, str] | None = None) -> None:
        self.root = root
        self.auth = auth
        self.storage = root / "storage"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}"

    def oci_url(self, path: str) -> str:
        return f"oci://{self.host}/{path.strip('/')}"

    def start(self) -> Registry:
        binary = find_registry()
        if binary is None:
            pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
        self.root.mkdir(parents=True, exist_ok=True)
        self.storage.mkdir(exist_ok=True)
        self.port = free_port()
        lines = [
            "version: 0.1",
            "log:",
            "  level: error",
            "  accesslog:",
            "    disabled: true",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {self.storage}",
            "  delete:",
            "    enabled: true",
            "http:",
            f"  addr: 127.0.0.1:{self.port}",
            "  secret: naja-test-secret",
        ]
        if self.auth is not None:
            htpasswd = self.root / "htpasswd"
            htpasswd.write_text(htpasswd_line(*self.auth) + "\n")
            lines += ["auth:", "  htpasswd:", "    realm: naja-test", f"    path: {htpasswd}"]
        config = self.root / "config.yml"
        config.write_text("\n".join(lines) + "\n")
        log = open(self.root / "registry.log", "wb")  # noqa: SIM115 - lives with the process
        self.proc = subprocess.Popen(
            [binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"docker-registry exited: {(self.root / 'registry.log').read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"{self.http_url}/v2/", timeout=0.5).status_code in (200, 401):
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("docker-registry did not start")

    def blob_path(self, digest: str) -> Path:
        algo, _, hexdigest = digest.partition(":")
        return self.storage / "docker/registry/v2/blobs" / algo / hexdigest[:2] / hexdigest / "data"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Registry]]:
    started: list[Registry] = []

    def start(*, auth: tuple[str, str] | None = None) -> Registry:
        reg = Registry(tmp_path_factory.mktemp("registry"), auth=auth).start()
        started.append(reg)
        return reg

    yield start
    for reg in started:
        reg.stop()
