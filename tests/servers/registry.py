"""A real OCI registry (Debian's `docker-registry`, the distribution project) on 127.0.0.1.

    registry = Registry(tmp_path).start()                 # anonymous, at registry.url
    registry = Registry(tmp_path, auth=("user", "pw")).start()   # htpasswd (bcrypt) Basic auth
    registry = Registry(tmp_path, auth=("user", "pw"), token=True).start()
        # token auth (ghcr.io/Docker Hub style): a token server on another port issues signed
        # JWTs — pull for anyone, pull+push for the user; `registry.token_requests` logs them
    registry.stop()

or, in pytest, the `registry` fixture factory:

    from tests.servers.registry import registry  # noqa: F401

    def test_x(registry):
        reg = registry()                          # started; stopped at teardown
        reg.oci_url("ns/channel")                 # "oci://127.0.0.1:PORT/ns/channel"

Storage is a filesystem directory (`registry.storage`), so tests can damage blobs on disk.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.servers.nginx import free_port
from tests.servers.process import stop_process

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


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """The registry's token service: signs RS256 JWTs with a self-signed certificate (sent in
    the `x5c` header; the registry trusts it through `rootcertbundle`)."""

    ISSUER = "naja-test-issuer"
    SERVICE = "naja-test-registry"

    def __init__(self, root: Path, user: tuple[str, str] | None) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.user = user
        self.requests: list[dict[str, str]] = []
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "naja-test-token")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_der = cert.public_bytes(serialization.Encoding.DER)
        self.cert_path = root / "token-cert.pem"
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def mint(self, subject: str, access: list[dict[str, object]]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self.cert_der).decode()]}
        now = int(time.time())
        claims = {
            "iss": self.ISSUER,
            "sub": subject,
            "aud": self.SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                auth = self.headers.get("Authorization", "")
                subject = ""
                if auth.startswith("Basic "):
                    user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                    if server.user is None or (user, password) != server.user:
                        self.send_response(401)
                        self.end_headers()
                        return
                    subject = user
                server.requests.append({"scope": query.get("scope", ""), "subject": subject})
                access = []
                scope = query.get("scope", "")
                if scope.startswith("repository:"):
                    _, name, actions = scope.split(":")
                    granted = [a for a in actions.split(",") if a == "pull" or subject]
                    access.append({"type": "repository", "name": name, "actions": granted})
                body = json.dumps({"token": server.mint(subject, access), "expires_in": 300})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

        return Handler

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Registry:
    def __init__(
        self, root: Path, *, auth: tuple[str, str] | None = None, token: bool = False
    ) -> None:
        self.root = root
        self.auth = auth
        self.token = token
        self.token_server: TokenServer | None = None
        self.storage = root / "storage"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def token_requests(self) -> list[dict[str, str]]:
        return self.token_server.requests if self.token_server else []

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
        if self.token:
            self.token_server = TokenServer(self.root, self.auth)
            lines += [
                "auth:",
                "  token:",
                f"    realm: {self.token_server.realm}",
                f"    service: {TokenServer.SERVICE}",
                f"    issuer: {TokenServer.ISSUER}",
                f"    rootcertbundle: {self.token_server.cert_path}",
            ]
        elif self.auth is not None:
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
        if self.token_server is not None:
            self.token_server.stop()
            self.token_server = None
        stop_process(self.proc, timeout=5)
        self.proc = None


@pytest.fixture
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Registry]]:
    started: list[Registry] = []

    def start(*, auth: tuple[str, str] | None = None, token: bool = False) -> Registry:
        reg = Registry(tmp_path_factory.mktemp("registry"), auth=auth, token=token).start()
        started.append(reg)
        return reg

    yield start
    for reg in started:
        reg.stop()
