"""A small blocking HTTP/1.1 client for the data path: keep-alive, TLS, proxies, readinto.

httpx moves ~0.5 GB/s through Python on loopback; reading bodies straight into a reusable
buffer with `socket.recv_into` moves ~1.4 GB/s (bench/results/fetch.md), and downloads are
where naja spends its bytes. This module only does what the engine needs: one request at a
time per connection, Content-Length / chunked / read-until-close bodies, CONNECT tunnels, and
connection reuse when a body was fully read.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

MAX_HEAD = 64 * 1024


class ProtocolError(OSError):
    """The peer spoke something that is not HTTP/1.1, or closed the connection early."""


class IncompleteBody(ProtocolError):
    """The connection ended before the announced body length arrived."""

    def __init__(self, received: int, expected: int | None) -> None:
        self.received = received
        self.expected = expected
        super().__init__(f"connection closed after {received} of {expected} body bytes")


class Headers:
    """Response headers, looked up case-insensitively; repeated headers keep every value."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.items = items
        self._map: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            self._map[key] = f"{self._map[key]}, {value}" if key in self._map else value

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._map.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._map


@dataclass(frozen=True)
class Origin:
    """Where a connection goes: the server, and the proxy in between (if any)."""

    scheme: str
    host: str
    port: int
    proxy: str | None = None


def origin_of(url: str, proxy: str | None) -> Origin:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return Origin(scheme, parts.hostname or "", port, proxy)


class Connection:
    """One TCP (or TLS) connection speaking HTTP/1.1 to an origin."""

    def __init__(self, sock: socket.socket, origin: Origin) -> None:
        self.sock = sock
        self.origin = origin
        self.buffer = bytearray()
        self.reused = False
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.sock.close()

    def settimeout(self, timeout: float | None) -> None:
        self.sock.settimeout(timeout)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def fill(self) -> int:
        """Read more bytes into the buffer; 0 means the peer closed.

        Small reads: what arrives after the head is body, which is better read straight into
        the caller's buffer than copied through this one.
        """
        chunk = self.sock.recv(16 * 1024)
        self.buffer += chunk
        return len(chunk)

    def read_head(self) -> tuple[int, str, Headers]:
        start = 0
        while True:
            end = self.buffer.find(b"\r\n\r\n", start)
            if end >= 0:
                break
            start = max(0, len(self.buffer) - 3)
            if len(self.buffer) > MAX_HEAD:
                raise ProtocolError("response head larger than 64 KiB")
            if not self.fill():
                if self.buffer:
                    raise ProtocolError("connection closed inside the response head")
                raise ProtocolError("connection closed before any response")
        head = bytes(self.buffer[:end]).decode("iso-8859-1")
        del self.buffer[: end + 4]
        status_line, *lines = head.split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
        items: list[tuple[str, str]] = []
        for line in lines:
            name, sep, value = line.partition(":")
            if sep:
                items.append((name.strip(), value.strip()))
        return int(parts[1]), parts[2] if len(parts) > 2 else "", Headers(items)

    def readline(self) -> bytes:
        while True:
            end = self.buffer.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[: end + 2]
                return line
            if len(self.buffer) > MAX_HEAD:
                raise ProtocolError("chunk header line too long")
            if not self.fill():
                raise IncompleteBody(0, None)

    def readinto(self, view: memoryview) -> int:
        """Up to len(view) bytes: first what is buffered, then straight from the socket."""
        if self.buffer:
            n = min(len(view), len(self.buffer))
            view[:n] = self.buffer[:n]
            del self.buffer[:n]
            return n
        return self.sock.recv_into(view)


class Response:
    """Status, headers and a body read with `readinto` (no copies beyond the kernel's)."""

    def __init__(
        self,
        conn: Connection,
        pool: ConnectionPool,
        status: int,
        reason: str,
        headers: Headers,
        method: str,
    ) -> None:
        self.conn = conn
        self.pool = pool
        self.status = status
        self.reason = reason
        self.headers = headers
        self.received = 0
        self._done = False
        conn_header = (headers.get("connection") or "").lower()
        self._keep_alive = "close" not in conn_header
        te = (headers.get("transfer-encoding") or "").lower()
        self._chunked = "chunked" in te
        self._chunk_left = 0
        length = headers.get("content-length")
        self.length: int | None = None
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            self.length = 0
        elif not self._chunked and length is not None:
            try:
                self.length = int(length.split(",")[0])
            except ValueError as exc:
                raise ProtocolError(f"bad Content-Length {length!r}") from exc
        elif not self._chunked:
            # Body runs until the server closes: the connection cannot be reused.
            self._keep_alive = False
        if self.length == 0:
            self._finish()

    def readinto(self, view: memoryview) -> int:
        """Fill part of `view`; 0 once the body is complete. Raises IncompleteBody on a cut."""
        if self._done:
            return 0
        if self._chunked:
            return self._readinto_chunked(view)
        if self.length is not None:
            remaining = self.length - self.received
            n = self.conn.readinto(view[: min(len(view), remaining)])
            if n == 0:
                self._keep_alive = False
                raise IncompleteBody(self.received, self.length)
            self.received += n
            if self.received >= self.length:
                self._finish()
            return n
        n = self.conn.readinto(view)
        if n == 0:
            self._finish()
        self.received += n
        return n

    def _readinto_chunked(self, view: memoryview) -> int:
        if self._chunk_left == 0:
            line = self.conn.readline().split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError as exc:
                raise ProtocolError(f"bad chunk size {line[:20]!r}") from exc
            if size == 0:
                # Trailers (usually none), then the blank line.
                while self.conn.readline():
                    pass
                self._finish()
                return 0
            self._chunk_left = size
        n = self.conn.readinto(view[: min(len(view), self._chunk_left)])
        if n == 0:
            self._keep_alive = False
            raise IncompleteBody(self.received, None)
        self._chunk_left -= n
        self.received += n
        if self._chunk_left == 0 and self.conn.readline() != b"":
            raise ProtocolError("chunk not followed by CRLF")
        return n

    def read(self, limit: int = 16 * 1024 * 1024) -> bytes:
        """The whole (small) body; for error pages and multipart parts, not for packages."""
        out = bytearray()
        buf = bytearray(64 * 1024)
        view = memoryview(buf)
        while True:
            n = self.readinto(view)
            if not n:
                return bytes(out)
            out += view[:n]
            if len(out) > limit:
                raise ProtocolError(f"body larger than {limit} bytes")

    def iter_bytes(self, size: int = 256 * 1024) -> Iterator[memoryview]:
        """The body in pieces; each view is only valid until the next one is produced."""
        buf = bytearray(size)
        view = memoryview(buf)
        while True:
            n = self.readinto(view)
            if not n:
                return
            yield view[:n]

    @property
    def complete(self) -> bool:
        return self._done

    def _finish(self) -> None:
        self._done = True

    def close(self) -> None:
        """Give the connection back when the body was read to the end, else drop it."""
        if self.conn.closed:
            return
        if self._done and self._keep_alive:
            self.pool.release(self.conn)
        else:
            self.conn.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ConnectionPool:
    """Idle keep-alive connections per origin, plus how to open new ones."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | Callable[[], ssl.SSLContext],
        connect_timeout: float,
        read_timeout: float,
        max_idle_per_origin: int = 16,
    ) -> None:
        # A factory is called on the first TLS connection: loading the CA store takes
        # 50-80 ms, which plain-HTTP and file:// work should not pay.
        self._ssl_context = ssl_context
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_idle_per_origin = max_idle_per_origin
        self._idle: dict[Origin, list[Connection]] = {}
        self._lock = threading.Lock()

    def ssl_context(self) -> ssl.SSLContext:
        if not isinstance(self._ssl_context, ssl.SSLContext):
            self._ssl_context = self._ssl_context()
        return self._ssl_context

    def acquire(self, origin: Origin) -> Connection:
        """An idle keep-alive connection to `origin`, else a new one."""
        return self.take_idle(origin) or self._open(origin)

    def take_idle(self, origin: Origin) -> Connection | None:
        """An idle keep-alive connection to `origin`, or None (never opens one)."""
        with self._lock:
            idle = self._idle.get(origin)
            if idle:
                conn = idle.pop()
                conn.reused = True
                return conn
        return None

    def release(self, conn: Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(conn.origin, [])
            if len(idle) < self.max_idle_per_origin and not conn.buffer:
                idle.append(conn)
                return
        conn.close()

    def drop_idle(self, origin: Origin | None = None) -> None:
        """Close idle connections (to one origin, or all): after a failure they may be stale."""
        with self._lock:
            if origin is None:
                groups = list(self._idle.values())
                self._idle.clear()
            else:
                groups = [self._idle.pop(origin, [])]
        for group in groups:
            for conn in group:
                conn.close()

    def close(self) -> None:
        self.drop_idle()

    def _open(self, origin: Origin) -> Connection:
        if origin.proxy:
            proxy = urlsplit(origin.proxy)
            sock = socket.create_connection(
                (_host_arg(proxy.hostname or ""), proxy.port or 8080), timeout=self.connect_timeout
            )
            if origin.scheme == "https":
                self._tunnel(sock, origin, proxy_auth(origin.proxy))
        else:
            sock = socket.create_connection(
                (_host_arg(origin.host), origin.port), timeout=self.connect_timeout
            )
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if origin.scheme == "https":
            try:
                sock = self.ssl_context().wrap_socket(sock, server_hostname=origin.host)
            except BaseException:
                sock.close()
                raise
        sock.settimeout(self.read_timeout)
        return Connection(sock, origin)

    def _tunnel(self, sock: socket.socket, origin: Origin, auth: str | None) -> None:
        target = f"{origin.host}:{origin.port}"
        lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
        if auth:
            lines.append(f"Proxy-Authorization: {auth}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        conn = Connection(sock, origin)
        status, reason, _headers = conn.read_head()
        if status != 200:
            sock.close()
            raise ProxyError(status, reason)


def _host_arg(host: str) -> str | bytes:
    # getaddrinfo encodes a str host with the "idna" codec, whose first use imports
    # encodings.idna, stringprep and unicodedata (1-3 ms per process); an ASCII host needs
    # no encoding, and bytes skip the codec.
    return host.encode("ascii") if host.isascii() else host


class ProxyError(OSError):
    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        super().__init__(f"proxy refused the tunnel: HTTP {status} {reason}".strip())


def proxy_auth(proxy_url: str) -> str | None:
    parts = urlsplit(proxy_url)
    if parts.username is None:
        return None
    raw = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def send_request(
    pool: ConnectionPool,
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str],
    proxy: str | None = None,
    body: Callable[[Connection], None] | None = None,
) -> Response:
    """Send one request and read the response head; the body is left to the caller.

    `body` writes the request body (after the head) on the connection; the caller puts its
    Content-Length in `headers`. It may be called twice when a stale connection is replaced.

    A reused keep-alive connection that turns out to be closed by the server is replaced by a
    fresh one once (no bytes of a response were seen, so nothing is lost).
    """
    origin = origin_of(url, proxy)
    parts = urlsplit(url)
    if proxy and origin.scheme == "http":
        # Plain HTTP goes through the proxy in absolute form; HTTPS uses a CONNECT tunnel.
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        target = f"{parts.scheme}://{netloc}{parts.path or '/'}"
        if parts.query:
            target += "?" + parts.query
    else:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default_port = 443 if origin.scheme == "https" else 80
    if origin.port != default_port:
        host += f":{origin.port}"
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if proxy and origin.scheme == "http":
        auth = proxy_auth(proxy)
        if auth:
            lines.append(f"Proxy-Authorization: {auth}")
    payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    for _ in range(2):
        conn = pool.acquire(origin)
        try:
            conn.send(payload)
            if body is not None:
                body(conn)
            status, reason, head = conn.read_head()
            while 100 <= status < 200 and status != 101:
                # Interim answers (100 Continue, 103 Early Hints) precede the real one.
                status, reason, head = conn.read_head()
        except (ProtocolError, ConnectionError):
            conn.close()
            if conn.reused and not conn.buffer:
                # A keep-alive connection the server had already closed: its idle siblings
                # are likely stale too.
                pool.drop_idle(origin)
                continue
            raise
        except BaseException:
            conn.close()
            raise
        try:
            return Response(conn, pool, status, reason, head, method)
        except BaseException:
            conn.close()
            raise
    raise ProtocolError("the server closed every connection before answering")
