"""An HTTP/1.1 server on 127.0.0.1 that misbehaves on purpose, one planned fault per request.

    server = FaultyServer().start()
    server.add("/pkg.conda", data)                      # served with ETag and Range support
    server.plan("/pkg.conda", Fault("drop", after=1000), Fault("status", status=503))
    # 1st request: headers + 1000 bytes, then the connection dies; 2nd: a 503; then normal.
    server.requests                                      # what the clients sent (method, path, headers)
    server.stop()

Fault kinds: `drop` (cut after `after` body bytes), `stall` (send `after` bytes then hang for
`delay` s), `status` (answer `status`, with `Retry-After: retry_after` if given), `truncate`
(no Content-Length, close after `after` bytes), `flip` (full length, byte at `after` inverted),
`norange` (ignore Range, send the whole file as 200), `redirect` (302 to `location`),
`changed` (serve `data` — another version of the file — with a new ETag), and `chunked` (no
fault: the body in chunked transfer coding, `after` bytes per chunk), `trickle` (`after` bytes
every `delay` s).

PUT/POST bodies are stored in `server.uploads[path]` (201); `status` and `drop` (hang up after
`after` body bytes) faults apply to them too.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Fault:
    kind: str
    after: int = 0
    status: int = 500
    retry_after: str | None = None
    delay: float = 5.0
    location: str = ""
    data: bytes = b""


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_PUT(self) -> None:
        owner = self.server.owner
        path = self.path.split("?", 1)[0]
        owner.record(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        fault = owner.next_fault(path)
        length = int(self.headers.get("Content-Length", "0"))
        if fault is not None and fault.kind == "drop":
            # Take part of the body, then hang up.
            self.rfile.read(min(fault.after, length))
            self.close_connection = True
            return
        data = self.rfile.read(length)
        need = owner.auth.get(path)
        if need is not None and self.headers.get("Authorization") != need:
            return self._simple(401, b"unauthorized")
        if fault is not None and fault.kind == "status":
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return self._simple(fault.status, b"planned failure", extra)
        owner.uploads[path] = data
        self._simple(201, b'{"ok": true}', {"ETag": f'"{len(data)}"'})

    do_POST = do_PUT

    def do_GET(self) -> None:
        owner = self.server.owner
        path = self.path.split("?", 1)[0]
        owner.record(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        fault = owner.next_fault(path)
        files = owner.files
        need = owner.auth.get(path)
        if need is not None and self.headers.get("Authorization") != need:
            return self._simple(401, b"unauthorized")
        if fault is not None and fault.kind == "status":
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return self._simple(fault.status, b"planned failure", extra)
        if fault is not None and fault.kind == "redirect":
            return self._simple(302, b"", {"Location": fault.location})
        if path not in files:
            return self._simple(404, b"not found")
        data, etag = files[path]
        if fault is not None and fault.kind == "changed":
            data, etag = fault.data, f'"changed-{len(fault.data)}"'
        start = 0
        status = 200
        rng = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        honour = rng and (fault is None or fault.kind != "norange")
        if honour and (if_range is None or if_range == etag):
            spec = rng.removeprefix("bytes=").split(",")[0]
            first, _, last = spec.partition("-")
            start = int(first or 0)
            end = int(last) if last else len(data) - 1
            if start >= len(data):
                return self._simple(416, b"", {"Content-Range": f"bytes */{len(data)}"})
            data_slice = data[start : end + 1]
            status = 206
        else:
            data_slice = data
        self.send_response(status)
        self.send_header("ETag", etag)
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header(
                "Content-Range", f"bytes {start}-{start + len(data_slice) - 1}/{len(data)}"
            )
        body = data_slice
        if fault is not None and fault.kind == "chunked":
            # Not a fault: the body in chunked transfer coding, as streaming servers send it.
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            step = max(1, fault.after or 10_000)
            for i in range(0, len(body), step):
                piece = body[i : i + step]
                self._write(b"%x;ext=1\r\n" % len(piece) + piece + b"\r\n")
            self._write(b"0\r\nX-Trailer: yes\r\n\r\n")
            return
        if fault is not None and fault.kind == "truncate":
            self.send_header("Connection", "close")
            self.end_headers()
            self._write(body[: fault.after])
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if fault is not None and fault.kind == "flip" and body:
            pos = min(fault.after, len(body) - 1)
            body = body[:pos] + bytes([body[pos] ^ 0xFF]) + body[pos + 1 :]
        if fault is not None and fault.kind == "trickle":
            # `after` bytes every `delay` seconds: alive, but hopelessly slow.
            for i in range(0, len(body), max(1, fault.after)):
                if owner.stopping.wait(fault.delay):
                    break
                self._write(body[i : i + max(1, fault.after)])
                if self.close_connection:
                    break
            self.close_connection = True
            return
        if fault is not None and fault.kind in ("drop", "stall"):
            self._write(body[: fault.after])
            if fault.kind == "stall":
                owner.stopping.wait(fault.delay)
            self.close_connection = True
            return
        self._write(body)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            for i in range(0, len(view), 65536):
                self.wfile.write(view[i : i + 65536])
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _simple(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self._write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FaultyServer

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        # Clients cutting connections is routine here; anything else is a bug to show.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class FaultyServer:
    """A file server whose planned faults are consumed one per request for that path."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.auth: dict[str, str] = {}
        self.plans: dict[str, collections.deque[Fault]] = {}
        self.requests: list[Seen] = []
        self.uploads: dict[str, bytes] = {}
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "call start() first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def add(self, path: str, data: bytes, *, auth: str | None = None) -> str:
        """Serve `data` at `path`; with `auth`, only to requests whose Authorization equals it."""
        self.files[path] = (data, f'"{hash(data) & 0xFFFFFFFF:x}-{len(data)}"')
        if auth is not None:
            self.auth[path] = auth
        return self.url + path

    def plan(self, path: str, *faults: Fault) -> None:
        with self._lock:
            self.plans.setdefault(path, collections.deque()).extend(faults)

    def next_fault(self, path: str) -> Fault | None:
        with self._lock:
            queue = self.plans.get(path)
            return queue.popleft() if queue else None

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.requests.append(seen)

    def requests_for(self, path: str) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if r.path.split("?", 1)[0] == path]

    def start(self) -> FaultyServer:
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> FaultyServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def faulty() -> Iterator[FaultyServer]:
    server = FaultyServer().start()
    try:
        yield server
    finally:
        server.stop()


def wait_until(predicate: object, timeout: float = 10.0) -> bool:
    """Poll `predicate()` until true or `timeout` s pass (bounded waits for tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False
