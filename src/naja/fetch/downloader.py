"""The download engine: many files in parallel, bounded per host and overall, sync or async.

    with Downloader(FetchConfig()) as dl:
        for result in dl.iter_completed(requests):      # as each file is verified
            extract(result.path)
        results = dl.download_many(requests)             # all at once, in request order

    async with Downloader() as dl:
        async for result in dl.astream(requests):        # same, from an event loop
            ...

Transfers run on a pool of `max_connections` worker threads using blocking sockets: hashing
and file writes release the GIL, so two cores really work in parallel, and a caller's
extraction can overlap with the remaining downloads. Per-host slots cap connections to one
server at `max_connections_per_host`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from naja.fetch.config import FetchConfig
from naja.fetch.credentials import Credential, CredentialProvider
from naja.fetch.errors import DownloadError, OfflineError
from naja.fetch.http11 import ConnectionPool, Response, send_request
from naja.fetch.mirrors import MirrorSet
from naja.fetch.progress import ProgressCallback, ProgressTracker
from naja.fetch.proxy import select_proxy
from naja.fetch.request import DownloadRequest, DownloadResult
from naja.fetch.transfer import Job, fetch

if TYPE_CHECKING:
    from naja.fetch.http2 import Http2Client
    from naja.fetch.upload import UploadResult

BUFFER_SIZE = 1024 * 1024
PROBE_BYTES = 256 * 1024
# A probe stops after this long; a mirror too slow to send PROBE_BYTES by then is slow enough.
PROBE_SECONDS = 1.0
PROBE_TIMEOUT = 3.0


def make_ssl_context(config: FetchConfig, alpn: tuple[str, ...] = ("http/1.1",)) -> ssl.SSLContext:
    """A TLS context for `config`; shared by every Downloader with the same TLS settings."""
    return _ssl_context(config.ssl_verify, str(config.ca_bundle or ""), alpn)


@functools.lru_cache(maxsize=16)
def _ssl_context(verify: bool, ca_bundle: str, alpn: tuple[str, ...]) -> ssl.SSLContext:
    if not verify:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif ca_bundle:
        ctx = ssl.create_default_context(cafile=ca_bundle)
    else:
        ctx = ssl.create_default_context()
    ctx.set_alpn_protocols(list(alpn))
    return ctx


class Downloader:
    """Parallel, verified, resumable downloads; see the module docstring for the API."""

    def __init__(
        self,
        config: FetchConfig | None = None,
        *,
        credentials: CredentialProvider | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.config = config or FetchConfig()
        if credentials is None:
            from naja.fetch.credentials import default_provider

            credentials = default_provider()
        self.credentials = credentials
        self.on_progress = on_progress
        self.pool = ConnectionPool(
            ssl_context=lambda: make_ssl_context(self.config),
            connect_timeout=self.config.connect_timeout,
            read_timeout=self.config.read_timeout,
            max_idle_per_origin=max(self.config.max_connections_per_host, 1),
        )
        self._probe_pool = ConnectionPool(
            ssl_context=self.pool.ssl_context,
            connect_timeout=min(self.config.connect_timeout, PROBE_TIMEOUT),
            read_timeout=min(self.config.read_timeout, PROBE_TIMEOUT),
            max_idle_per_origin=0,
        )
        self._h2: Http2Client | None = None
        if self.config.http2:
            from naja.fetch.http2 import Http2Client

            # A context of its own: httpx sets its ALPN list on the context it gets, and the
            # HTTP/1.1 pool must keep offering only http/1.1.
            self._h2 = Http2Client(
                make_ssl_context(self.config, ("h2", "http/1.1")),
                connect_timeout=self.config.connect_timeout,
                read_timeout=self.config.read_timeout,
                max_connections=max(1, self.config.max_connections_per_host),
            )
        self.mirrors = MirrorSet(
            self.config.mirrors,
            self._probe,
            cache_path=self.config.mirror_cache,
            ttl=self.config.mirror_cache_ttl,
        )
        self._executor: ThreadPoolExecutor | None = None
        self._host_slots: dict[str, threading.BoundedSemaphore] = {}
        self._target_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._closed = threading.Event()

    # -- public API ---------------------------------------------------------------------

    def download(self, request: DownloadRequest) -> DownloadResult:
        """One file, in the calling thread; raises DownloadError on failure."""
        progress = ProgressTracker(
            self.on_progress,
            files_total=1,
            bytes_total=request.size,
            interval=self.config.progress_interval,
        )
        result = fetch(self, self._job(request, progress))
        if result.error is not None:
            raise result.error
        return result

    def iter_completed(
        self, requests: Iterable[DownloadRequest], *, raise_on_error: bool = False
    ) -> Iterator[DownloadResult]:
        """Results in completion order, each as soon as its file is verified and in place.

        Leaving the loop early cancels the downloads that have not started.
        """
        futures = self._submit(list(requests))
        try:
            for future in as_completed(futures):
                result = future.result()
                if raise_on_error and result.error is not None:
                    raise result.error
                yield result
        finally:
            for future in futures:
                future.cancel()

    def download_many(
        self,
        requests: Iterable[DownloadRequest],
        *,
        on_complete: Callable[[DownloadResult], None] | None = None,
        raise_on_error: bool = True,
    ) -> list[DownloadResult]:
        """Every request, results in request order. `on_complete` runs (in the calling
        thread) as each finishes. With `raise_on_error` the first failure is raised after
        the other downloads have finished."""
        requests = list(requests)
        index = {id(r): i for i, r in enumerate(requests)}
        results: list[DownloadResult | None] = [None] * len(requests)
        for result in self.iter_completed(requests):
            results[index[id(result.request)]] = result
            if on_complete is not None:
                on_complete(result)
        done = [r for r in results if r is not None]
        if raise_on_error:
            for r in done:
                if r.error is not None:
                    raise r.error
        return done

    async def astream(self, requests: Iterable[DownloadRequest]) -> AsyncIterator[DownloadResult]:
        """Async iterator of results in completion order (transfers run on worker threads)."""
        futures = self._submit(list(requests))
        import asyncio  # only async callers pay for importing it

        wrapped = [asyncio.wrap_future(f) for f in futures]
        try:
            for next_done in asyncio.as_completed(wrapped):
                yield await next_done
        finally:
            for future in futures:
                future.cancel()

    async def adownload_many(
        self, requests: Iterable[DownloadRequest], *, raise_on_error: bool = True
    ) -> list[DownloadResult]:
        requests = list(requests)
        futures = self._submit(requests)
        import asyncio

        results = list(await asyncio.gather(*(asyncio.wrap_future(f) for f in futures)))
        if raise_on_error:
            for r in results:
                if r.error is not None:
                    raise r.error
        return results

    def upload(
        self,
        url: str,
        path: Path,
        *,
        method: str = "PUT",
        content_type: str = "application/octet-stream",
        headers: dict[str, str] | None = None,
    ) -> UploadResult:
        """Stream `path` as the body of `method url` (retried from the start on failures)."""
        from naja.fetch.upload import upload

        return upload(self, url, path, method=method, content_type=content_type, headers=headers)

    def close(self) -> None:
        self._closed.set()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self.pool.close()
        self._probe_pool.close()
        if self._h2 is not None:
            self._h2.close()

    def __enter__(self) -> Downloader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Downloader:
        return self

    async def __aexit__(self, *exc: object) -> None:
        import asyncio

        await asyncio.to_thread(self.close)

    # -- used by transfer ---------------------------------------------------------------

    def buffer(self) -> memoryview:
        """This worker thread's reusable read buffer."""
        view = getattr(self._local, "view", None)
        if view is None:
            view = self._local.view = memoryview(bytearray(BUFFER_SIZE))
        return view

    def credential_for(self, url: str) -> Credential | None:
        return self.credentials.lookup(url) if self.credentials is not None else None

    def send(self, url: str, headers: dict[str, str], method: str = "GET") -> Response:
        if self.config.offline:
            raise OfflineError(url)
        proxy = select_proxy(
            url,
            self.config.proxies,
            no_proxy=self.config.no_proxy,
            trust_env=self.config.trust_env,
        )
        if self._h2 is not None and url[:6].lower() == "https:":
            return self._h2.send(url, headers, method, proxy)  # type: ignore[return-value]
        return send_request(self.pool, url, method=method, headers=headers, proxy=proxy)

    @contextlib.contextmanager
    def host_slot(self, url: str) -> Iterator[None]:
        host = urlsplit(url).netloc.rpartition("@")[2].lower()
        with self._lock:
            slot = self._host_slots.get(host)
            if slot is None:
                slot = self._host_slots[host] = threading.BoundedSemaphore(
                    max(1, self.config.max_connections_per_host)
                )
        with slot:
            yield

    @contextlib.contextmanager
    def target_lock(self, target: Path) -> Iterator[None]:
        """One transfer at a time per target path: both would write the same `.part` file."""
        key = os.path.abspath(target)
        with self._lock:
            lock = self._target_locks.setdefault(key, threading.Lock())
        with lock:
            yield

    def sleep(self, seconds: float) -> bool:
        """Wait between attempts; True when the downloader was closed meanwhile."""
        return self._closed.wait(seconds)

    # -- internals ----------------------------------------------------------------------

    def _submit(self, requests: list[DownloadRequest]) -> list[Future[DownloadResult]]:
        if self._closed.is_set():
            raise DownloadError("", "the downloader is closed")
        sizes = [r.size for r in requests]
        progress = ProgressTracker(
            self.on_progress,
            files_total=len(requests),
            bytes_total=sum(s for s in sizes if s is not None) if None not in sizes else None,
            interval=self.config.progress_interval,
        )
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max(1, self.config.max_connections), thread_name_prefix="naja-fetch"
                )
            executor = self._executor
        # Largest first: the long transfers start early and the small ones fill the gaps.
        order = sorted(range(len(requests)), key=lambda i: -(requests[i].size or 0))
        futures: list[Future[DownloadResult] | None] = [None] * len(requests)
        for i in order:
            futures[i] = executor.submit(fetch, self, self._job(requests[i], progress))
        return [f for f in futures if f is not None]

    def _job(self, request: DownloadRequest, progress: ProgressTracker) -> Job:
        return Job(
            request,
            progress,
            self.buffer,
            low_speed_limit=self.config.low_speed_limit,
            low_speed_time=self.config.low_speed_time,
        )

    def _probe(self, url: str) -> tuple[float, float]:
        """Latency (s to first byte) and throughput (B/s) of a small ranged GET of `url`."""
        headers = {
            "User-Agent": self.config.user_agent,
            "Accept-Encoding": "identity",
            "Range": f"bytes=0-{PROBE_BYTES - 1}",
        }
        from naja.fetch.credentials import apply_credential

        send_url, headers = apply_credential(url, headers, self.credential_for(url))
        if self.config.offline:
            raise OfflineError(url)
        proxy = select_proxy(
            send_url,
            self.config.proxies,
            no_proxy=self.config.no_proxy,
            trust_env=self.config.trust_env,
        )
        t0 = time.monotonic()
        # Its own pool with short timeouts: a black-holed mirror must not hold the first
        # download for the full connect timeout.
        response = send_request(self._probe_pool, send_url, headers=headers, proxy=proxy)
        try:
            if response.status >= 400:
                raise DownloadError(url, f"probe answered HTTP {response.status}")
            view = self.buffer()
            first: float | None = None
            received = 0
            while n := response.readinto(view):
                if first is None:
                    first = time.monotonic()
                received += n
                if time.monotonic() - t0 > PROBE_SECONDS:
                    break
        finally:
            response.close()
        t1 = time.monotonic()
        latency = (first or t1) - t0
        return latency, received / max(t1 - t0, 1e-6)
