"""Uploads: stream a local file as a request body (PUT/POST), with the engine's retries.

The body goes out with `socket.sendfile` in 1 MiB steps (zero-copy on plain HTTP), so a large
package is never held in memory and progress events flow as it is sent. An upload cannot be
resumed: a retryable failure (connection error, 5xx, 429 with Retry-After) sends it again
from the start; other 4xx answers fail at once with the server's message.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from naja.fetch.credentials import apply_credential
from naja.fetch.errors import DownloadError, HttpStatusError, NetworkError, OfflineError, TlsError
from naja.fetch.http11 import Connection, ProtocolError, send_request
from naja.fetch.progress import ProgressTracker
from naja.fetch.proxy import select_proxy
from naja.fetch.retry import backoff_delay, is_retryable_status, parse_retry_after
from naja.specs.url import redact_text

if TYPE_CHECKING:
    from naja.fetch.downloader import Downloader

ACTION = "upload to"
STEP = 1024 * 1024
# Enough of an error page to show the server's reason.
ERROR_BODY = 2000


@dataclass
class UploadResult:
    status: int
    body: bytes
    size: int
    attempts: int
    elapsed: float
    etag: str | None = None


def upload(
    dl: Downloader,
    url: str,
    path: Path,
    *,
    method: str = "PUT",
    content_type: str = "application/octet-stream",
    headers: dict[str, str] | None = None,
) -> UploadResult:
    """Send `path` as the body of `method url`; returns the final answer (2xx/3xx)."""
    if dl.config.offline:
        raise OfflineError(url)
    if not path.is_file():
        raise DownloadError(url, f"{path} is not a file", action=ACTION)
    size = path.stat().st_size
    base = {
        "User-Agent": dl.config.user_agent,
        "Content-Type": content_type,
        "Content-Length": str(size),
        "Accept-Encoding": "identity",
        **(headers or {}),
    }
    send_url, base = apply_credential(url, base, dl.credential_for(url))
    proxy = select_proxy(
        send_url, dl.config.proxies, no_proxy=dl.config.no_proxy, trust_env=dl.config.trust_env
    )
    progress = ProgressTracker(
        dl.on_progress, files_total=1, bytes_total=size, interval=dl.config.progress_interval
    )
    key = object()
    progress.start(key, path.name, url, size)
    policy = dl.config.retry
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        sent = 0

        def body(conn: Connection) -> None:
            nonlocal sent
            if sent:
                progress.rewind(key, sent, "sending again on a fresh connection")
                sent = 0
            with open(path, "rb") as fh:
                while sent < size:
                    step = min(STEP, size - sent)
                    if isinstance(conn.sock, ssl.SSLSocket):
                        # SSL sockets cannot sendfile: plain sendall of the same step.
                        fh.seek(sent)
                        conn.sock.sendall(fh.read(step))
                        n = step
                    else:
                        n = conn.sock.sendfile(fh, offset=sent, count=step)
                    if not n:
                        raise ProtocolError("the file shrank while being uploaded")
                    sent += n
                    progress.advance(key, n)

        retry_after = None
        try:
            with dl.host_slot(send_url):
                response = send_request(
                    dl.pool, send_url, method=method, headers=base, proxy=proxy, body=body
                )
                try:
                    answer = response.read(limit=16 * 1024 * 1024)
                finally:
                    response.close()
            status = response.status
            if status < 400:
                progress.finish(key, True)
                return UploadResult(
                    status,
                    answer,
                    size,
                    attempt,
                    time.monotonic() - started,
                    response.headers.get("etag"),
                )
            if not is_retryable_status(status):
                progress.finish(key, False)
                text = redact_text(answer[:ERROR_BODY].decode("utf-8", "replace")).strip()
                error = HttpStatusError(url, status, response.reason, action=ACTION)
                if text:
                    error.message += f": {text}"
                raise error
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            what = f"HTTP {status} {response.reason}".strip()
            final: DownloadError = HttpStatusError(url, status, response.reason, action=ACTION)
        except ssl.SSLCertVerificationError as exc:
            progress.finish(key, False)
            raise TlsError(url, exc.verify_message or str(exc), action=ACTION) from None
        except (OSError, ProtocolError) as exc:
            what = redact_text(str(exc)) or type(exc).__name__
            final = NetworkError(url, what, action=ACTION)
        if attempt >= policy.attempts:
            progress.finish(key, False)
            raise final
        delay = backoff_delay(policy, attempt, retry_after)
        progress.rewind(key, sent, f"retrying in {delay:.1f}s: {what}")
        if dl.sleep(delay):
            raise NetworkError(url, "cancelled", action=ACTION)
