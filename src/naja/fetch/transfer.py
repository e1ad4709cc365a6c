"""One file from URL to verified target: attempts, resume, redirects, digests, atomic rename.

Bytes go to `<target>.part` beside the target; only a file whose size and digests check out
is renamed onto the target, so a fault can leave a `.part` file but never a corrupt target.
A cut transfer resumes with `Range` + `If-Range` (strong ETag or Last-Modified) when the
server gave a validator, and for files of 4 MiB and more `<target>.part.json` remembers the
validator so a later run can resume too; a server that ignores the range (200) or whose file
changed restarts from zero. Retries follow `RetryPolicy`; a digest mismatch gets one retry
from scratch of its own; a transfer slower than `low_speed_limit` is abandoned and resumed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import ssl
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from naja.fetch.credentials import apply_credential
from naja.fetch.digest import Digests, hash_file
from naja.fetch.errors import (
    ChecksumMismatchError,
    DownloadError,
    HttpStatusError,
    NetworkError,
    OfflineError,
    SizeMismatchError,
    TlsError,
)
from naja.fetch.http11 import IncompleteBody, ProtocolError, ProxyError, Response
from naja.fetch.progress import ProgressTracker
from naja.fetch.request import DownloadRequest, DownloadResult
from naja.fetch.retry import backoff_delay, is_retryable_status, parse_retry_after
from naja.fetch.schemes import SchemeNotFound, is_resolved_scheme
from naja.fetch.schemes import resolve as resolve_scheme
from naja.specs.url import redact_text, redact_url, url_to_path

if TYPE_CHECKING:
    from naja.fetch.downloader import Downloader
    from naja.fetch.mirrors import MirrorState

# Files at least this big get a `.part.json` so an interrupted run can resume them later.
RESUME_ACROSS_RUNS = 4 * 1024 * 1024
log = logging.getLogger("naja.fetch")
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Socket errors that are not ConnectionError subclasses but still mean "the network".
NETWORK_ERRNOS = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN, errno.ENONET}
)


class Retryable(Exception):
    """An attempt failed in a way another attempt may fix."""

    def __init__(
        self,
        what: str,
        *,
        retry_after: float | None = None,
        connection: bool = False,
        final: DownloadError | None = None,
    ) -> None:
        super().__init__(what)
        self.what = what
        self.retry_after = retry_after
        self.connection = connection
        # The error to raise if no attempt is left.
        self.final = final


class _NotModified(Exception):
    """304: the caller's copy is current."""


class _Restart(Exception):
    """The partial bytes cannot be continued (range ignored/mismatched): start from zero."""


@dataclass
class Partial:
    """What is on disk in `<target>.part` and the digest state of exactly those bytes."""

    path: Path
    digests: Digests
    validator: str | None = None
    source: str | None = None
    resumed: int = 0
    fd: int = -1
    meta: Path = field(init=False)

    def __post_init__(self) -> None:
        self.meta = self.path.with_name(self.path.name + ".json")

    @property
    def offset(self) -> int:
        return self.digests.size

    def open(self) -> None:
        if self.fd < 0:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
            os.lseek(self.fd, self.offset, os.SEEK_SET)

    def truncate(self) -> None:
        self.digests.reset()
        self.validator = None
        if self.fd >= 0:
            os.ftruncate(self.fd, 0)
            os.lseek(self.fd, 0, os.SEEK_SET)
        with contextlib.suppress(FileNotFoundError):
            self.meta.unlink()

    def remember(self, validator: str | None, source: str, length: int | None) -> None:
        self.validator = validator
        self.source = source
        # Only big files are worth resuming in a later run; small ones skip the extra file.
        if validator and (length is None or length >= RESUME_ACROSS_RUNS):
            with contextlib.suppress(OSError):
                self.meta.write_text(json.dumps({"validator": validator, "url": source}))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def discard(self) -> None:
        self.close()
        self.digests.reset()
        self.validator = None
        for p in (self.path, self.meta):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    def restore(self, canonical: str) -> None:
        """Pick up a `.part` left by an earlier run if its validator was recorded."""
        try:
            meta = json.loads(self.meta.read_text())
            size = self.path.stat().st_size
        except (OSError, ValueError):
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            return
        if meta.get("url") != canonical or not meta.get("validator") or size == 0:
            self.discard()
            return
        hash_file(str(self.path), self.digests)
        self.validator = meta["validator"]
        self.source = canonical


def validator_of(response: Response) -> str | None:
    """A validator usable in If-Range: a strong ETag, else Last-Modified."""
    etag = response.headers.get("etag")
    if etag and not etag.startswith("W/"):
        return etag
    return response.headers.get("last-modified")


def content_range_start(value: str | None) -> int | None:
    if not value or not value.startswith("bytes "):
        return None
    first = value[6:].split("-", 1)[0].strip()
    return int(first) if first.isdigit() else None


@dataclass(eq=False)
class Job:
    """One request in flight: where its progress goes and its worker's read buffer."""

    request: DownloadRequest
    progress: ProgressTracker
    buffer: Callable[[], memoryview]
    low_speed_limit: int = 0
    low_speed_time: float = 30.0
    etag: str | None = None
    last_modified: str | None = None


def fetch(dl: Downloader, job: Job) -> DownloadResult:
    """Download `job.request`; never raises for download problems (they go into `error`)."""
    req = job.request
    started = time.monotonic()
    result = DownloadResult(request=req, path=req.target)
    job.progress.start(job, req.target.name, req.url, req.size)
    try:
        with dl.target_lock(req.target):
            _fetch_any(dl, req, job, result)
    except DownloadError as exc:
        result.error = exc
    except OSError as exc:
        # Local trouble: disk full, no permission on the target directory...
        result.error = DownloadError(
            req.url,
            redact_text(f"cannot write {req.target}: {exc.strerror or exc}"),
            hint="check free space and permissions of the target directory",
        )
    except Exception as exc:
        # A bug must fail this one download with its story, not the caller's whole batch.
        result.error = DownloadError(
            req.url,
            redact_text(f"internal error: {type(exc).__name__}: {exc}"),
            hint="please report this as a naja bug",
        )
    result.elapsed = time.monotonic() - started
    job.progress.finish(job, result.ok, result.error.message if result.error else None)
    return result


def _fetch_any(dl: Downloader, req: DownloadRequest, job: Job, result: DownloadResult) -> None:
    if req.url.lower().startswith("file:"):
        _copy_local(dl, req, job, result)
        return
    if dl.config.offline:
        raise OfflineError(req.url)
    if req.zchunk_base is not None and req.zchunk_base.exists():
        from naja.fetch.zchunk.delta import fetch_zchunk

        if fetch_zchunk(dl, req, job, result):
            return
    _fetch_http(dl, req, job, result)


def _copy_local(dl: Downloader, req: DownloadRequest, job: Job, result: DownloadResult) -> None:
    source = Path(url_to_path(req.url))
    part = Partial(req.target.with_name(req.target.name + ".part"), _digests_for(dl, req))
    req.target.parent.mkdir(parents=True, exist_ok=True)
    try:
        src = open(source, "rb", buffering=0)  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise DownloadError(req.url, "no such file", hint="check the local channel path") from None
    try:
        part.open()
        view = job.buffer()
        while n := src.readinto(view):
            part.digests.update(view[:n])
            _write_all(part.fd, view[:n])
            job.progress.advance(job, n)
    finally:
        src.close()
        part.close()
    result.attempts = 1
    _verify(req, part, req.url)
    _commit(job, part, result, req.url)


def _digests_for(dl: Downloader, req: DownloadRequest) -> Digests:
    return Digests(
        want_md5=req.md5 is not None and req.sha256 is None,
        want_sha256=req.sha256 is not None or dl.config.always_sha256,
    )


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        n = os.write(fd, data)
        data = data[n:]


def _verify(req: DownloadRequest, part: Partial, url: str) -> None:
    """Raise a Retryable or final error unless `part` holds exactly the promised bytes."""
    size = part.digests.size
    if req.size is not None and size != req.size:
        if size < req.size:
            raise Retryable(
                f"received {size} of {req.size} bytes",
                final=SizeMismatchError(url, req.size, size),
            )
        raise ChecksumMismatchError(url, "size", str(req.size), str(size))
    if req.sha256 is not None:
        actual = part.digests.sha256_hex() or ""
        if actual != req.sha256.lower():
            raise ChecksumMismatchError(url, "sha256", req.sha256.lower(), actual)
    elif req.md5 is not None:
        actual_md5 = part.digests.md5_hex() or ""
        if actual_md5 != req.md5.lower():
            raise ChecksumMismatchError(url, "md5", req.md5.lower(), actual_md5)


def _commit(job: Job, part: Partial, result: DownloadResult, source: str) -> None:
    req = job.request
    os.replace(part.path, req.target)
    with contextlib.suppress(FileNotFoundError):
        part.meta.unlink()
    result.size = part.digests.size
    result.sha256 = part.digests.sha256_hex()
    result.md5 = part.digests.md5_hex()
    result.source_url = redact_url(source)
    result.resumed_bytes = part.resumed
    result.etag = job.etag
    result.last_modified = job.last_modified


def _fetch_http(dl: Downloader, req: DownloadRequest, job: Job, result: DownloadResult) -> None:
    policy = dl.config.retry
    req.target.parent.mkdir(parents=True, exist_ok=True)
    part = Partial(req.target.with_name(req.target.name + ".part"), _digests_for(dl, req))
    if dl.config.resume and part.path.exists():
        part.restore(req.url)
        if part.offset:
            job.progress.advance(job, part.offset)
    checksum_failures = 0
    exclude: set[str] = set()
    failures_here: Counter[str] = Counter()
    attempt = 0
    source = req.url
    try:
        while True:
            attempt += 1
            result.attempts = attempt
            chosen = dl.mirrors.choose(req.url, exclude) if dl.mirrors.groups else None
            mirror: MirrorState | None = chosen[1] if chosen else None
            source = chosen[0] if chosen else req.url
            t0 = time.monotonic()
            before = part.offset
            try:
                if not dl.config.resume and part.offset:
                    _restart(job, part, "resume disabled")
                if part.offset and part.source != source and mirror is not None:
                    # A validator from one mirror means nothing to another.
                    part.validator = None
                try:
                    _attempt(dl, req, job, part, source)
                except _NotModified:
                    part.discard()
                    if mirror is not None:
                        dl.mirrors.done(mirror)
                    result.not_modified = True
                    result.source_url = redact_url(source)
                    if req.target.exists():
                        result.size = req.target.stat().st_size
                    return
                part.close()
                _verify(req, part, source)
            except Retryable as exc:
                part.close()
                if mirror is not None:
                    dl.mirrors.failed(mirror, connection=exc.connection)
                    failures_here[mirror.base] += 1
                    # A cut body is resumed on the same mirror once; a refused connection or
                    # a second failure moves this download to another mirror.
                    if exc.connection or failures_here[mirror.base] >= 2:
                        exclude.add(mirror.base)
                if attempt >= policy.attempts:
                    raise exc.final or NetworkError(source, exc.what) from None
                delay = backoff_delay(policy, attempt, exc.retry_after)
                job.progress.rewind(job, 0, f"retrying in {delay:.1f}s: {exc.what}")
                log.debug(
                    "%s: attempt %d failed (%s); retrying in %.2fs",
                    redact_url(source),
                    attempt,
                    redact_text(exc.what),
                    delay,
                )
                if dl.sleep(delay):
                    raise NetworkError(source, "cancelled") from None
                continue
            except ChecksumMismatchError:
                if mirror is not None:
                    dl.mirrors.failed(mirror, connection=False)
                _restart(job, part, "checksum mismatch")
                part.discard()
                checksum_failures += 1
                if checksum_failures > policy.checksum_retries:
                    raise
                attempt -= 1  # a digest retry has its own budget
                continue
            except BaseException:
                part.close()
                if mirror is not None:
                    dl.mirrors.failed(mirror, connection=False)
                raise
            if mirror is not None:
                dl.mirrors.done(mirror, nbytes=part.offset - before, seconds=time.monotonic() - t0)
            _commit(job, part, result, source)
            log.debug(
                "%s: %d bytes from %s in %d attempt(s), %d resumed",
                redact_url(req.url),
                result.size,
                result.source_url,
                attempt,
                part.resumed,
            )
            return
    except BaseException:
        # Keep a resumable .part (with its validator) for the next run; drop anything else.
        part.close()
        if not (dl.config.resume and part.offset and part.meta.exists()):
            part.discard()
        raise


def _restart(job: Job, part: Partial, why: str) -> None:
    job.progress.rewind(job, part.offset, f"restarting: {why}")
    log.debug("%s: restarting from zero: %s", redact_url(job.request.url), why)
    part.truncate()


def _attempt(dl: Downloader, req: DownloadRequest, job: Job, part: Partial, url: str) -> None:
    """One request (following redirects) that streams the body into `part`."""
    base_headers = {
        "User-Agent": dl.config.user_agent,
        "Accept-Encoding": "identity",
        **req.headers,
    }
    if req.if_none_match:
        base_headers["If-None-Match"] = req.if_none_match
    if req.if_modified_since:
        base_headers["If-Modified-Since"] = req.if_modified_since
    try:
        resolved = resolve_scheme(dl, url, sha256=req.sha256)
    except SchemeNotFound as exc:
        raise HttpStatusError(url, 404, str(exc)) from None
    if resolved is not None:
        # oci://, s3://: resolved per attempt, so a retry gets a fresh token or signature.
        url = resolved.url
        base_headers.update(resolved.headers)
    origin_host = urlsplit(url).hostname
    current = url
    for _ in range(dl.config.max_redirects + 1):
        credential = None if "Authorization" in base_headers else dl.credential_for(current)
        send_url, headers = apply_credential(current, base_headers, credential)
        if urlsplit(current).hostname != origin_host:
            # Never carry credentials to another host a redirect points at (nor what a
            # resolver signed for its own host: tokens, S3 session tokens).
            headers.pop("Authorization", None)
            for key in resolved.headers if resolved is not None else ():
                headers.pop(key, None)
        if part.offset and part.validator:
            headers["Range"] = f"bytes={part.offset}-"
            headers["If-Range"] = part.validator
        elif part.offset:
            _restart(job, part, "the server gave no validator to resume against")
        try:
            with dl.host_slot(send_url):
                response = dl.send(send_url, headers)
                try:
                    location = _handle(job, part, response, current)
                finally:
                    response.close()
        except TimeoutError as exc:
            raise Retryable(f"timed out ({exc or 'no data'})", connection=True) from None
        except ssl.SSLCertVerificationError as exc:
            raise TlsError(current, exc.verify_message or str(exc)) from None
        except IncompleteBody as exc:
            raise Retryable(f"connection cut after {exc.received} bytes") from None
        except ProxyError as exc:
            if exc.status == 407:
                raise NetworkError(current, f"{exc} (proxy credentials needed)") from None
            raise Retryable(str(exc), connection=True) from None
        except (ConnectionError, ProtocolError, ssl.SSLError, socket.gaierror) as exc:
            raise Retryable(redact_text(str(exc)) or type(exc).__name__, connection=True) from None
        except OSError as exc:
            if exc.errno in NETWORK_ERRNOS:
                raise Retryable(exc.strerror or str(exc), connection=True) from None
            raise
        except _Restart as exc:
            _restart(job, part, str(exc))
            continue
        if location is None:
            return
        current = urljoin(current, location)
        if current.lower().startswith("file:"):
            raise DownloadError(url, "redirected to a local file URL", hint="fix the server")
    raise DownloadError(url, f"more than {dl.config.max_redirects} redirects")


def _handle(job: Job, part: Partial, response: Response, url: str) -> str | None:
    status = response.status
    if status in REDIRECTS:
        location = response.headers.get("location")
        if not location:
            raise DownloadError(url, f"HTTP {status} redirect without a Location")
        if response.length is not None and response.length <= 65536:
            response.read()
        return location
    if status == 206 and part.offset:
        start = content_range_start(response.headers.get("content-range"))
        if start != part.offset:
            raise _Restart("the server answered a different range")
        part.resumed += part.offset
    elif status == 304 and (job.request.if_none_match or job.request.if_modified_since):
        raise _NotModified
    elif status == 416 and part.offset:
        raise _Restart("the server refused the range")
    elif status == 200:
        if part.offset:
            # Range ignored, or If-Range said the file changed: the body is the whole file.
            _restart(job, part, "the server sent the whole file")
        # oci:// and s3:// resolve to a new request per attempt: their own URL names the file.
        canonical = job.request.url if is_resolved_scheme(job.request.url) else url
        part.remember(validator_of(response), canonical, response.length)
        job.etag = response.headers.get("etag")
        job.last_modified = response.headers.get("last-modified")
    elif is_retryable_status(status):
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise Retryable(
            f"HTTP {status} {response.reason}".strip(),
            retry_after=retry_after,
            final=HttpStatusError(url, status, response.reason),
        )
    else:
        raise HttpStatusError(url, status, response.reason)
    part.open()
    view = job.buffer()
    fd = part.fd
    digests = part.digests
    progress = job.progress
    # A server trickling a few bytes now and then never trips the read timeout; this does
    # (curl's --speed-limit/--speed-time).
    window = job.low_speed_time
    floor = job.low_speed_limit * window
    window_start = time.monotonic()
    window_bytes = 0
    while n := response.readinto(view):
        chunk = view[:n]
        digests.update(chunk)
        _write_all(fd, chunk)
        progress.advance(job, n)
        if floor:
            window_bytes += n
            now = time.monotonic()
            if now - window_start >= window:
                if window_bytes < floor:
                    raise Retryable(
                        f"slower than {job.low_speed_limit} bytes/s for {window:g}s",
                        connection=True,
                    )
                window_start, window_bytes = now, 0
    return None
