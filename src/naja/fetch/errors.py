"""Errors of the download engine: each names the (redacted) URL, what happened and the fix."""

from __future__ import annotations

from naja.errors import NajaError
from naja.specs.url import redact_url


class DownloadError(NajaError):
    """A download that did not produce a verified file at its target path."""

    def __init__(
        self, url: str, what: str, *, hint: str | None = None, action: str = "download of"
    ) -> None:
        self.url = redact_url(url)
        self.what = what
        super().__init__(f"{action} {self.url} failed: {what}", hint=hint)


class HttpStatusError(DownloadError):
    """The server answered with an error status (after any retries it deserved)."""

    def __init__(
        self, url: str, status: int, reason: str = "", *, action: str = "download of"
    ) -> None:
        self.status = status
        hint = None
        if status in (401, 403):
            hint = "check the credentials for this channel (token, user/password) or your access"
        elif status == 404:
            hint = "the file is not on the server: refresh the channel index or check the URL"
        elif status == 429:
            hint = "the server is rate-limiting; wait and try again, or configure a mirror"
        elif status >= 500:
            hint = "the server is failing; try again later or configure a mirror"
        text = f"HTTP {status}" + (f" {reason}" if reason else "")
        super().__init__(url, text, hint=hint, action=action)


class ChecksumMismatchError(DownloadError):
    """The bytes received do not have the digest the index promised (twice in a row)."""

    def __init__(self, url: str, algorithm: str, expected: str, actual: str) -> None:
        self.algorithm = algorithm
        self.expected = expected
        self.actual = actual
        super().__init__(
            url,
            f"{algorithm} mismatch: expected {expected}, got {actual}",
            hint="the file on the server differs from the channel index; refresh the index, "
            "or report it to the channel's maintainers if it persists",
        )


class SizeMismatchError(DownloadError):
    """The server sent a different number of bytes than expected."""

    def __init__(self, url: str, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            url,
            f"expected {expected} bytes, received {actual}",
            hint="the connection was cut or the file changed on the server; try again",
        )


class NetworkError(DownloadError):
    """The connection failed or timed out on every attempt."""

    def __init__(self, url: str, what: str, *, action: str = "download of") -> None:
        super().__init__(
            url,
            what,
            hint="check your network, proxy settings (HTTPS_PROXY, NO_PROXY) and the server; "
            "raise the timeout or retry count if the link is slow",
            action=action,
        )


class TlsError(DownloadError):
    """The TLS handshake failed (certificate not trusted, wrong host, ...)."""

    def __init__(self, url: str, what: str, *, action: str = "download of") -> None:
        super().__init__(
            url,
            f"TLS error: {what}",
            action=action,
            hint="point ca_bundle (or SSL_CERT_FILE) at your organisation's CA certificate; "
            "ssl_verify: false disables checking (unsafe)",
        )


class OfflineError(DownloadError):
    """A network access was requested while the offline switch is on."""

    def __init__(self, url: str) -> None:
        super().__init__(
            url,
            "naja is in offline mode and this file is not available locally",
            hint="turn offline mode off, or use only packages already in the cache",
        )


class ZchunkError(DownloadError):
    """A zchunk file whose header or chunks do not parse or do not verify."""
