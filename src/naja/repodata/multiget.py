"""Many small GETs from one thread: keep-alive HTTP/1.1 connections driven by a selector.

Why: a shard is a few KB and a dependency closure is a hundred or more of them. With a
worker thread per request, the threads' wake-ups and turns on the GIL cost more CPU than the
HTTP itself (125 shards from nginx on loopback: ~35 ms of switching on 8 threads against
~5 ms of requests on one). Here one thread keeps up to `max_connections_per_host`
non-blocking connections per server busy, one request in flight on each, and hands back
each body as it completes, so the caller decodes one shard while the next ones are on the
wire. New connections are opened (connect, TLS handshake) on the caller's executor and join
when ready; idle connections of the download engine's pool are used first and given back
at the end.

Only the plain case is done here: a direct http(s) connection (no proxy, mirror, URL scheme
resolver or HTTP/2) and a 200 answer with a Content-Length or chunked body. Anything else (a
redirect, an error status, a connection that fails or stalls) comes back as `None`: the
caller then sends that request through `naja.repodata.http.get`, which follows redirects,
retries, and words errors as for every other index file.
"""

from __future__ import annotations

import collections
import contextlib
import selectors
import socket
import ssl
import time
from collections.abc import Hashable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import urlsplit

from naja.fetch import Downloader
from naja.fetch.credentials import apply_credential
from naja.fetch.http11 import (
    Connection,
    ConnectionPool,
    Origin,
    ProtocolError,
    Response,
    origin_of,
)
from naja.fetch.proxy import select_proxy

_NO_DATA = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
_RECV = 64 * 1024


@dataclass(slots=True, eq=False)
class _Request:
    key: Hashable
    origin: Origin
    payload: bytes
    # Sent again on another connection once when a reused one turns out closed.
    retried: bool = False


@dataclass(slots=True, eq=False)
class _Busy:
    """A connection with one request on it: what is left to send, and the answer so far."""

    conn: Connection
    request: _Request
    unsent: bytes
    response: Response | None = None
    writing: bool = False
    last_io: float = field(default_factory=time.monotonic)


class MultiGet:
    """Queue GETs with `submit`; `poll` returns `(key, body or None)` as they finish."""

    def __init__(self, dl: Downloader, executor: Executor) -> None:
        self.dl = dl
        self.executor = executor
        self.per_origin = max(1, dl.config.max_connections_per_host)
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._queue: dict[Origin, collections.deque[_Request]] = {}
        self._idle: dict[Origin, list[Connection]] = {}
        self._count: dict[Origin, int] = {}  # connections open or being opened
        self._opening: dict[Future[Connection], Origin] = {}
        self._busy: dict[Connection, _Busy] = {}
        self._done: list[tuple[Hashable, bytes | None]] = []
        self._direct: dict[tuple[str, str], bool] = {}
        self.pending = 0

    # -- API ------------------------------------------------------------------------------

    def submit(self, key: Hashable, url: str) -> bool:
        """Queue a GET of `url`; False when it needs the full path (`http.get`) instead."""
        if self.dl.config.offline or self.dl.mirrors.groups:
            return False
        scheme = url.partition("://")[0].lower()
        if scheme not in ("http", "https") or (scheme == "https" and self.dl.config.http2):
            return False
        headers = {"User-Agent": self.dl.config.user_agent, "Accept-Encoding": "identity"}
        send_url, headers = apply_credential(url, headers, self.dl.credential_for(url))
        origin = origin_of(send_url, None)
        where = (origin.scheme, origin.host)
        direct = self._direct.get(where)
        if direct is None:
            cfg = self.dl.config
            direct = self._direct[where] = (
                select_proxy(send_url, cfg.proxies, no_proxy=cfg.no_proxy, trust_env=cfg.trust_env)
                is None
            )
        if not direct:
            return False
        self._queue.setdefault(origin, collections.deque()).append(
            _Request(key, origin, _request_head(send_url, origin, headers))
        )
        self.pending += 1
        self._dispatch(origin)
        return True

    def wake(self) -> None:
        """Make a `poll` waiting in another thread return (thread-safe)."""
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def poll(self, timeout: float | None) -> list[tuple[Hashable, bytes | None]]:
        """Finished requests (waiting up to `timeout` for one; None waits until one finishes
        or `wake` is called). A body of None: send that request through `http.get`."""
        if not self._done:
            if self._stalled():
                return self._take_done()
            if self._busy:
                # Wake in time to notice a stalled request.
                oldest = min(b.last_io for b in self._busy.values())
                left = max(0.0, oldest + self.dl.pool.read_timeout - time.monotonic())
                timeout = left if timeout is None else min(timeout, left)
            events = self._selector.select(timeout)
            for sel_key, mask in events:
                busy = sel_key.data
                if busy is None:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                    continue
                if mask & selectors.EVENT_WRITE and busy.unsent:
                    self._send_more(busy)
                if mask & selectors.EVENT_READ and busy.conn in self._busy:
                    self._receive(busy)
            self._collect_opened()
        return self._take_done()

    def close(self) -> None:
        """Give idle connections back to the engine's pool; close the rest."""
        for busy in list(self._busy.values()):
            self._drop(busy.conn)
        for opening in self._opening:
            opening.add_done_callback(partial(_release_opened, self.dl.pool))
        self._opening.clear()
        for conns in self._idle.values():
            for conn in conns:
                try:
                    conn.sock.settimeout(self.dl.pool.read_timeout)
                except OSError:
                    conn.close()
                    continue
                self.dl.pool.release(conn)
        self._idle.clear()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    # -- internals ------------------------------------------------------------------------

    def _take_done(self) -> list[tuple[Hashable, bytes | None]]:
        done, self._done = self._done, []
        self.pending -= len(done)
        return done

    def _finish(self, request: _Request, body: bytes | None) -> None:
        self._done.append((request.key, body))

    def _dispatch(self, origin: Origin) -> None:
        queue = self._queue.get(origin)
        while queue:
            conn = self._take_connection(origin)
            if conn is None:
                return
            request = queue.popleft()
            busy = _Busy(conn, request, request.payload)
            self._busy[conn] = busy
            try:
                if conn.sock.gettimeout() != 0.0:
                    conn.sock.setblocking(False)
                self._selector.register(conn.sock, selectors.EVENT_READ, busy)
            except (OSError, ValueError):
                self._fail(busy, answered=False)
                continue
            self._send_more(busy)

    def _take_connection(self, origin: Origin) -> Connection | None:
        idle = self._idle.get(origin)
        if idle:
            return idle.pop()
        count = self._count.get(origin, 0)
        if count >= self.per_origin:
            return None
        conn = self.dl.pool.take_idle(origin)
        if conn is not None:
            self._count[origin] = count + 1
            return conn
        # Open in the executor (connect and TLS handshake block); it joins when ready.
        queued = len(self._queue.get(origin) or ())
        opening = sum(1 for o in self._opening.values() if o == origin)
        if opening < queued:
            self._count[origin] = count + 1
            future = self.executor.submit(self.dl.pool.acquire, origin)
            self._opening[future] = origin
            future.add_done_callback(lambda _f: self.wake())
        return None

    def _collect_opened(self) -> None:
        ready = [f for f in self._opening if f.done()]
        for future in ready:
            origin = self._opening.pop(future)
            try:
                conn = future.result()
            except Exception:
                self._count[origin] -= 1
                if not self._count[origin]:
                    # Nothing to this server works from here: the full path retries each
                    # request and reports the failure.
                    for request in self._queue.pop(origin, ()):
                        self._finish(request, None)
                continue
            self._idle.setdefault(origin, []).append(conn)
            self._dispatch(origin)

    def _send_more(self, busy: _Busy) -> None:
        try:
            sent = busy.conn.sock.send(busy.unsent)
        except _NO_DATA:
            sent = 0
        except OSError:
            self._fail(busy, answered=False)
            return
        busy.unsent = busy.unsent[sent:]
        writing = bool(busy.unsent)
        if writing != busy.writing:
            busy.writing = writing
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if writing else 0)
            self._selector.modify(busy.conn.sock, events, busy)

    def _receive(self, busy: _Busy) -> None:
        conn = busy.conn
        closed = False
        try:
            while True:
                chunk = conn.sock.recv(_RECV)
                if not chunk:
                    closed = True
                    break
                conn.buffer += chunk
                if len(chunk) < _RECV and not isinstance(conn.sock, ssl.SSLSocket):
                    # A short read emptied the socket; TLS may still hold decrypted bytes.
                    break
        except _NO_DATA:
            pass
        except OSError:
            closed = True
        busy.last_io = time.monotonic()
        try:
            body = self._parse(busy)
        except (ProtocolError, ValueError):
            self._fail(busy, answered=True)
            return
        if body is not None:
            self._complete(busy, body, reusable=not closed)
        elif closed:
            self._fail(busy, answered=bool(conn.buffer) or busy.response is not None)

    def _parse(self, busy: _Busy) -> bytes | None:
        """The body once it is all in the buffer; raises ProtocolError for anything this
        module leaves to the full path."""
        conn = busy.conn
        while busy.response is None:
            if conn.buffer.find(b"\r\n\r\n") < 0:
                if len(conn.buffer) > 64 * 1024:
                    raise ProtocolError("response head larger than 64 KiB")
                return None
            status, reason, headers = conn.read_head()  # the head is buffered: no blocking
            if 100 <= status < 200 and status != 101:
                continue  # an interim answer (100 Continue, 103 Early Hints)
            if status != 200 or (headers.get("content-encoding") or "identity") != "identity":
                raise ProtocolError(f"HTTP {status}")
            busy.response = Response(conn, self.dl.pool, status, reason, headers, "GET")
        response = busy.response
        if response.length is not None:
            if len(conn.buffer) < response.length:
                return None
            body = bytes(conn.buffer[: response.length])
            del conn.buffer[: response.length]
            return body
        if "chunked" not in (response.headers.get("transfer-encoding") or "").lower():
            raise ProtocolError("a body that ends when the connection closes")
        if _chunked_end(conn.buffer) is None:
            return None
        return response.read()  # every chunk is buffered: no blocking

    def _complete(self, busy: _Busy, body: bytes, *, reusable: bool) -> None:
        conn = busy.conn
        response = busy.response
        assert response is not None
        self._unregister(conn)
        keep = (
            reusable
            and not conn.buffer
            and "close" not in (response.headers.get("connection") or "").lower()
        )
        if keep:
            conn.reused = True
            self._idle.setdefault(conn.origin, []).append(conn)
        else:
            self._drop(conn)
        self._finish(busy.request, body)
        self._dispatch(busy.request.origin)

    def _fail(self, busy: _Busy, *, answered: bool) -> None:
        """A connection failed: a reused one that had not answered yet (the server closed it
        while idle) gets the request once more, anything else goes to the full path."""
        request = busy.request
        retry = not answered and busy.conn.reused and not request.retried
        self._drop(busy.conn)
        if retry:
            request.retried = True
            self._queue.setdefault(request.origin, collections.deque()).appendleft(request)
        else:
            self._finish(request, None)
        self._dispatch(request.origin)

    def _unregister(self, conn: Connection) -> None:
        self._busy.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(conn.sock)

    def _drop(self, conn: Connection) -> None:
        self._unregister(conn)
        conn.close()
        self._count[conn.origin] = self._count.get(conn.origin, 1) - 1

    def _stalled(self) -> bool:
        """Requests without a byte for longer than the read timeout go to the full path."""
        if not self._busy:
            return False
        limit = time.monotonic() - self.dl.pool.read_timeout
        late = [b for b in self._busy.values() if b.last_io < limit]
        for busy in late:
            self._drop(busy.conn)
            self._finish(busy.request, None)
        return bool(late)


def _release_opened(pool: ConnectionPool, future: Future[Connection]) -> None:
    with contextlib.suppress(Exception):
        pool.release(future.result())


def _request_head(url: str, origin: Origin, headers: dict[str, str]) -> bytes:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = origin.host if ":" not in origin.host else f"[{origin.host}]"
    if origin.port != (443 if origin.scheme == "https" else 80):
        host += f":{origin.port}"
    lines = [f"GET {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _chunked_end(buf: bytearray) -> int | None:
    """Where a complete chunked body (last chunk and trailers included) ends in `buf`, or
    None while it is incomplete. Raises ProtocolError on a bad chunk size."""
    pos = 0
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        line = bytes(buf[pos:eol]).split(b";", 1)[0].strip()
        try:
            size = int(line, 16)
        except ValueError as exc:
            raise ProtocolError(f"bad chunk size {line[:20]!r}") from exc
        pos = eol + 2
        if size == 0:
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    return None
                if eol == pos:
                    return eol + 2
                pos = eol + 2
        pos += size + 2
        if pos > len(buf):
            return None
