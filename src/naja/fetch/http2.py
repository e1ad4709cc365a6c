"""HTTP/2 for HTTPS origins when `FetchConfig.http2` is on, through httpx (h2).

The engine's own HTTP/1.1 path is the default because it moves several times more bytes per
CPU second; HTTP/2 helps on high-latency links with many small files (one TLS connection,
multiplexed streams). The server picks the protocol through ALPN: an origin that does not
offer h2 is served over HTTP/1.1 by httpx just the same. Responses here look like
`http11.Response` to the rest of the engine (status, headers, readinto, close).
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator

import httpx

from naja.fetch.http11 import IncompleteBody


class _Headers:
    def __init__(self, headers: httpx.Headers) -> None:
        self._headers = headers

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._headers.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._headers


class Http2Response:
    """An httpx streaming response behind the `readinto` interface."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.reason = response.reason_phrase
        self.headers = _Headers(response.headers)
        self.http_version = response.http_version
        length = response.headers.get("content-length")
        self.length = int(length) if length and length.isdigit() else None
        self.received = 0
        self._chunks: Iterator[bytes] = response.iter_raw()
        self._pending = memoryview(b"")
        self._done = False

    def readinto(self, view: memoryview) -> int:
        while not self._pending:
            try:
                self._pending = memoryview(next(self._chunks))
            except StopIteration:
                self._done = True
                if self.length is not None and self.received < self.length:
                    raise IncompleteBody(self.received, self.length) from None
                return 0
            except httpx.TimeoutException as exc:
                raise TimeoutError(str(exc) or "read timed out") from exc
            except httpx.HTTPError as exc:
                # Stream reset, connection lost, h2 state errors: the body is cut here.
                raise IncompleteBody(self.received, self.length) from exc
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        self.received += n
        return n

    def read(self, limit: int = 16 * 1024 * 1024) -> bytes:
        out = bytearray()
        buf = memoryview(bytearray(65536))
        while n := self.readinto(buf):
            out += buf[:n]
            if len(out) > limit:
                raise IncompleteBody(len(out), limit)
        return bytes(out)

    @property
    def complete(self) -> bool:
        return self._done

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> Http2Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Http2Client:
    """httpx clients with HTTP/2, one per worker thread.

    httpcore's HTTP/2 connection is not safe to drive from several threads at once (its
    stream bookkeeping fails with "deque mutated during iteration" under load), so each
    worker gets its own client and connection; streams of one thread still share it.
    """

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
    ) -> None:
        self._ssl_context = ssl_context
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._max_connections = max_connections
        self._local = threading.local()
        self._all: list[httpx.Client] = []
        self._lock = threading.Lock()

    def send(self, url: str, headers: dict[str, str], method: str, proxy: str | None):
        client = self._client(proxy)
        request = client.build_request(method, url, headers=headers)
        try:
            response = client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise TimeoutError(str(exc) or "timed out") from exc
        except httpx.ConnectError as exc:
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, ssl.SSLError):
                raise cause from exc
            raise ConnectionError(str(exc)) from exc
        except httpx.HTTPError as exc:
            # Protocol and transport failures (h2 stream or connection state included) are
            # worth another attempt, like a dropped HTTP/1.1 connection.
            raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
        return Http2Response(response)

    def _client(self, proxy: str | None) -> httpx.Client:
        clients: dict[str | None, httpx.Client] | None = getattr(self._local, "clients", None)
        if clients is None:
            clients = self._local.clients = {}
        client = clients.get(proxy)
        if client is None:
            client = clients[proxy] = httpx.Client(
                http2=True,
                verify=self._ssl_context,
                trust_env=False,
                proxy=proxy,
                follow_redirects=False,
                timeout=self._timeout,
                limits=httpx.Limits(max_connections=self._max_connections),
            )
            with self._lock:
                self._all.append(client)
        return client

    def close(self) -> None:
        with self._lock:
            clients, self._all = self._all, []
        for client in clients:
            client.close()
