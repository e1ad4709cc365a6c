"""The few S3 object operations uploads need (GET, HEAD, PUT), header-signed, over httpx.

PUT takes `If-None-Match: *` (create only) and `If-Match: <etag>` (replace only that
version) — S3's conditional writes, which keep two uploaders from silently overwriting each
other's packages or index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx

from naja.s3 import multipart
from naja.s3.errors import S3AuthError, S3Error, error_code, refused
from naja.s3.settings import S3Location, S3Settings
from naja.s3.sigv4 import UNSIGNED, sign_headers

CHUNK = 1 << 20


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


class PreconditionFailed(S3Error):
    """A conditional PUT whose condition did not hold (the object exists, or changed)."""


class S3Client:
    def __init__(self, settings: S3Settings, *, timeout: float = 60.0) -> None:
        self.settings = settings
        self.http = httpx.Client(timeout=timeout, transport=httpx.HTTPTransport(retries=2))

    def close(self) -> None:
        self.http.close()

    def _request(
        self,
        method: str,
        location: S3Location,
        *,
        headers: dict[str, str] | None = None,
        content: bytes | Path | None = None,
        payload_sha256: str | None = None,
        query: str = "",
    ) -> httpx.Response:
        url = self.settings.object_url(location) + (f"?{query}" if query else "")
        sent = dict(headers or {})
        body: object = content
        if isinstance(content, Path):
            sent["Content-Length"] = str(content.stat().st_size)
            body = _file_chunks(content)
            # A streamed file whose hash the caller does not know is sent unsigned.
            payload_sha256 = payload_sha256 or UNSIGNED
        elif isinstance(content, bytes):
            payload_sha256 = payload_sha256 or hashlib.sha256(content).hexdigest()
        creds = self.settings.credentials
        if creds is not None:
            sent = sign_headers(
                method,
                url,
                sent,
                creds,
                self.settings.region,
                payload_sha256=payload_sha256 or hashlib.sha256(b"").hexdigest(),
            )
        try:
            response = self.http.request(method, url, headers=sent, content=body)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise S3Error(
                f"cannot reach {self.settings.endpoint} for {location.url}: "
                f"{type(exc).__name__} {exc}",
                hint="check the endpoint (AWS_ENDPOINT_URL_S3) and your network",
            ) from None
        if response.status_code in (401, 403):
            raise self._auth_error(location, response)
        return response

    def _auth_error(self, location: S3Location, response: httpx.Response) -> S3AuthError:
        creds = self.settings.credentials
        return refused(
            self.settings.endpoint,
            location.url,
            response.status_code,
            _code(response),
            creds.source if creds else None,
        )

    def _error(self, doing: str, location: S3Location, response: httpx.Response) -> S3Error:
        code = _code(response)
        hint = None
        if code == "NoSuchBucket":
            hint = (
                f"create the bucket {location.bucket!r} first, or check the name and the "
                f"endpoint ({self.settings.endpoint})"
            )
        return S3Error(
            f"could not {doing} {location.url}: HTTP {response.status_code} {code}", hint=hint
        )

    def call(
        self,
        method: str,
        location: S3Location,
        query: str,
        *,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        ok: tuple[int, ...] = (200,),
        doing: str = "write",
    ) -> httpx.Response:
        """One request with a query (multipart steps); any status outside `ok` raises."""
        response = self._request(method, location, headers=headers, content=content, query=query)
        if response.status_code in (409, 412):
            raise PreconditionFailed(
                f"{location.url} changed or exists (HTTP {response.status_code})"
            )
        if response.status_code not in ok:
            raise self._error(doing, location, response)
        return response

    def get(self, location: S3Location) -> tuple[bytes, str | None] | None:
        response = self._request("GET", location)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._error("read", location, response)
        return response.content, response.headers.get("etag")

    def head(self, location: S3Location) -> str | None:
        """The object's ETag, or None when it does not exist."""
        response = self._request("HEAD", location)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._error("look up", location, response)
        return response.headers.get("etag") or ""

    def put(
        self,
        location: S3Location,
        content: bytes | Path,
        *,
        content_type: str = "application/octet-stream",
        payload_sha256: str | None = None,
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> str:
        headers = {"Content-Type": content_type}
        if if_none_match:
            headers["If-None-Match"] = "*"
        if if_match:
            headers["If-Match"] = if_match
        if isinstance(content, Path) and content.stat().st_size >= multipart.MULTIPART_MIN:
            return multipart.put_multipart(self, location, content, headers)
        response = self._request(
            "PUT", location, headers=headers, content=content, payload_sha256=payload_sha256
        )
        if response.status_code in (409, 412):
            raise PreconditionFailed(
                f"{location.url} changed or exists (HTTP {response.status_code})"
            )
        if response.status_code not in (200, 201):
            raise self._error("write", location, response)
        return response.headers.get("etag") or ""


def _code(response: httpx.Response) -> str:
    return error_code(response.content, response.reason_phrase)
