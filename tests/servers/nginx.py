"""A real nginx serving a directory on 127.0.0.1, for tests and benchmarks.

    server = NginxServer(root).start()      # plain HTTP/1.1 at server.url
    server.https_url                        # TLS with HTTP/2 (ALPN h2, http/1.1 fallback)
    server.ca_cert                          # the self-signed certificate to trust
    server.stop()

or, in pytest, the `nginx` fixture factory (import it into your conftest or test module):

    from tests.servers.nginx import nginx  # noqa: F401

    def test_x(nginx, tmp_path):
        server = nginx(tmp_path / "channel")      # started; stopped at teardown

Static files get nginx's own Range (single and multipart), keep-alive, ETag/Last-Modified and
304 handling. Each server has its own generated config, pid, logs and temp dirs in a private
directory; the ports are free ports picked at start.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.servers.process import stop_process

NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")


def find_nginx() -> str | None:
    for candidate in NGINX_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost and its key, written as PEM into `directory`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "naja test server")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        # A CA flag lets OpenSSL-based clients accept it as its own trust anchor.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


_CONFIG = """\
{user}
worker_processes {workers};
daemon off;
master_process on;
pid {state}/nginx.pid;
error_log {state}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {access_log};
    client_body_temp_path {state}/client_body;
    proxy_temp_path {state}/proxy;
    fastcgi_temp_path {state}/fastcgi;
    uwsgi_temp_path {state}/uwsgi;
    scgi_temp_path {state}/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 10000;
    server {{
        listen 127.0.0.1:{port};
        listen 127.0.0.1:{tls_port} ssl http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        server_name localhost;
        root {root};
        autoindex on;
        {limit_rate}
        {extra}
    }}
}}
"""


class NginxServer:
    """One nginx process serving `root`: HTTP/1.1 on `url`, TLS + HTTP/2 on `https_url`.

    `limit_rate` (nginx syntax, e.g. "200k") throttles every response — a slow mirror;
    `extra` is appended inside the server block (locations, headers); `workers` sets
    worker_processes; `access_log` keeps a log at `state_dir/access.log`.
    """

    def __init__(
        self,
        root: Path,
        *,
        limit_rate: str | None = None,
        extra: str = "",
        workers: int = 1,
        access_log: bool = False,
        state_dir: Path | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.limit_rate = limit_rate
        self.extra = extra
        self.workers = workers
        self.access_log = access_log
        self._own_state = state_dir is None
        self.state_dir = Path(state_dir or tempfile.mkdtemp(prefix="naja-nginx-"))
        self.port = 0
        self.tls_port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.tls_port}"

    @property
    def ca_cert(self) -> Path:
        return self.state_dir / "cert.pem"

    @property
    def error_log(self) -> Path:
        return self.state_dir / "error.log"

    def start(self) -> NginxServer:
        binary = find_nginx()
        if binary is None:
            pytest.skip("nginx not installed (run ./dev/system-deps)")
        self.root.mkdir(parents=True, exist_ok=True)
        cert, key = self_signed_cert(self.state_dir)
        for attempt in range(5):
            self.port, self.tls_port = free_port(), free_port()
            if self.port == self.tls_port:
                continue
            conf = self.state_dir / "nginx.conf"
            conf.write_text(
                _CONFIG.format(
                    # As root the workers would drop to `nobody`, who cannot enter pytest's
                    # private tmp dirs; keep them as the invoking user.
                    user="user root;" if os.geteuid() == 0 else "",
                    workers=self.workers,
                    state=self.state_dir,
                    access_log=f"{self.state_dir}/access.log" if self.access_log else "off",
                    port=self.port,
                    tls_port=self.tls_port,
                    cert=cert,
                    key=key,
                    root=self.root,
                    limit_rate=f"limit_rate {self.limit_rate};" if self.limit_rate else "",
                    extra=self.extra,
                )
            )
            self.process = subprocess.Popen(
                [binary, "-p", str(self.state_dir), "-e", str(self.error_log), "-c", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if wait_for_port(self.port) and wait_for_port(self.tls_port):
                return self
            self._kill()
            # A port taken between picking and binding: pick again.
            if attempt == 4:
                log = self.error_log.read_text() if self.error_log.exists() else ""
                raise RuntimeError(f"nginx did not start:\n{log}")
        raise RuntimeError("nginx did not start")

    def _kill(self) -> None:
        stop_process(self.process)
        self.process = None

    def stop(self) -> None:
        self._kill()
        if self._own_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> NginxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., NginxServer]]:
    """Factory: `nginx(root, **options)` starts an NginxServer; all are stopped at teardown."""
    servers: list[NginxServer] = []

    def start(root: Path, **options: object) -> NginxServer:
        state = tmp_path_factory.mktemp("nginx")
        server = NginxServer(root, state_dir=state, **options).start()  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
