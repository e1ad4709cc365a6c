"""Conditional GETs of index files, with the response headers HTTP caching needs.

The download engine's `DownloadResult` does not carry `Cache-Control`, which repodata caching
needs, so index files (small enough to hold in memory) are fetched here on top of the engine's
connection pool, proxies, credentials and retry policy: one request, redirects followed,
retried on connection errors and retryable statuses, gzip transfer-encoding accepted.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from naja.fetch import Downloader
from naja.fetch.credentials import apply_credential
from naja.fetch.http11 import ProtocolError
from naja.fetch.retry import backoff_delay, is_retryable_status, parse_retry_after
from naja.fetch.schemes import SchemeNotFound
from naja.fetch.schemes import resolve as resolve_scheme
from naja.repodata.errors import IndexFetchError
from naja.specs.url import redact_text

# Bigger than any real index (conda-forge's decompressed repodata.json is ~250 MB today).
MAX_BODY = 2 << 30
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(slots=True)
class Answer:
    """What the server said: status, body (empty for 304/404) and the caching headers."""

    status: int
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    cache_control: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def _once(
    dl: Downloader, url: str, headers: dict[str, str]
) -> tuple[int, str, dict[str, str | None], bytes]:
    credential = None if "Authorization" in headers else dl.credential_for(url)
    send_url, hdrs = apply_credential(url, headers, credential)
    with dl.host_slot(send_url):
        response = dl.send(send_url, hdrs)
        try:
            status = response.status
            head = {
                k: response.headers.get(k)
                for k in (
                    "etag",
                    "last-modified",
                    "cache-control",
                    "content-encoding",
                    "location",
                    "retry-after",
                )
            }
            body = response.read(MAX_BODY) if status in (200, *_REDIRECTS) else b""
            short = response.length is not None and response.length <= 65536
            if status not in (200, *_REDIRECTS) and short:
                # Drain a short error page so the connection can be reused.
                response.read()
        finally:
            response.close()
    return status, response.reason, head, body


def get(
    dl: Downloader,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    gzip: bool = False,
) -> Answer:
    """GET `url` (conditional when validators are given). 404/403/410 come back as an Answer
    (the caller decides what "absent" means); anything else that fails raises IndexFetchError."""
    headers = {
        "User-Agent": dl.config.user_agent,
        "Accept-Encoding": "gzip" if gzip else "identity",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    policy = dl.config.retry
    attempt = 0
    current = url
    try:
        # oci://, s3://: the scheme's resolver names the HTTP request (naja.fetch.schemes).
        resolved = resolve_scheme(dl, url)
    except SchemeNotFound:
        return Answer(404)
    if resolved is not None:
        current = resolved.url
        headers.update(resolved.headers)
    redirects = 0
    exclude: set[str] = set()
    while True:
        attempt += 1
        # Mirrors configured for the channel serve its index files too: one is picked per
        # attempt, and one that fails is left out of the next.
        chosen = None
        if dl.mirrors.groups and resolved is None and not redirects:
            chosen = dl.mirrors.choose(url, exclude)
            if chosen is not None:
                current = chosen[0]
        try:
            status, reason, head, body = _once(dl, current, headers)
        except (OSError, ProtocolError) as exc:
            if chosen is not None:
                dl.mirrors.failed(chosen[1], connection=True)
                exclude.add(chosen[1].base)
            if attempt >= policy.attempts:
                raise IndexFetchError(
                    url,
                    redact_text(str(exc)) or type(exc).__name__,
                    hint="check your network and proxy settings, or use --offline "
                    "to work from the cached indexes",
                ) from None
            if dl.sleep(backoff_delay(policy, attempt)):
                raise IndexFetchError(url, "cancelled") from None
            continue
        if chosen is not None:
            dl.mirrors.done(chosen[1], nbytes=len(body))
        if status in _REDIRECTS and head["location"] and redirects < dl.config.max_redirects:
            redirects += 1
            target = urljoin(current, head["location"])
            if urlsplit(target).hostname != urlsplit(current).hostname:
                # A resolver's token or signature is for its own host (registry blobs redirect
                # to a CDN); the credential lookup still applies to the new host.
                for key in resolved.headers if resolved is not None else ():
                    headers.pop(key, None)
            current = target
            if urlsplit(current).scheme not in ("http", "https"):
                raise IndexFetchError(url, "redirected to a non-HTTP URL")
            continue
        if is_retryable_status(status) and attempt < policy.attempts:
            delay = backoff_delay(policy, attempt, parse_retry_after(head.get("retry-after")))
            if dl.sleep(delay):
                raise IndexFetchError(url, "cancelled") from None
            continue
        if status in (200, 304, 404, 403, 410):
            if status == 200 and head["content-encoding"] == "gzip":
                try:
                    body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
                except zlib.error as exc:
                    raise IndexFetchError(url, f"bad gzip body: {exc}") from None
            cache_control = head["cache-control"]
            if resolved is not None and resolved.cache_control is not None:
                cache_control = resolved.cache_control
            return Answer(status, body, head["etag"], head["last-modified"], cache_control)
        hint = None
        if status == 401:
            hint = "the channel needs credentials (a token or user/password)"
        raise IndexFetchError(url, f"HTTP {status} {reason}".strip(), hint=hint)
