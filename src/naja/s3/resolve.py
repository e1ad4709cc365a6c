"""The download engine's hook for `s3://` URLs (see `naja.fetch.schemes`): a signed GET.

The signature covers host, date and the (empty) payload hash only, so the engine's Range,
If-Range and If-None-Match headers still apply; it is made per attempt, so it never expires
mid-retry, and it travels in a header, never in a URL that could end up in a log. Without
credentials the object URL is used unsigned (public buckets).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from naja.fetch.errors import DownloadError
from naja.fetch.http11 import ProtocolError
from naja.fetch.schemes import Resolved, SchemeNotFound
from naja.s3.errors import AUTH_CODES, error_code, refused
from naja.s3.settings import S3Location, S3Settings, settings_for
from naja.s3.sigv4 import sign_headers

if TYPE_CHECKING:
    from naja.fetch.downloader import Downloader

# Settings per (provider, bucket): reading the AWS chain can mean file reads or botocore.
_cache: dict[tuple[int, str], tuple[object, float, S3Settings]] = {}
SETTINGS_TTL = 300.0
_lock = threading.Lock()
INDEX_FILES = frozenset(
    {
        "repodata.json",
        "repodata.json.zst",
        "repodata.json.zck",
        "repodata_shards.msgpack.zst",
        "run_exports.json",
    }
)


def settings_cached(location: S3Location, provider: object) -> S3Settings:
    """`settings_for`, remembered per provider and bucket for `SETTINGS_TTL` seconds (so that
    rotating credentials — instance roles, SSO — are read again in a long-lived process)."""
    key = (id(provider), location.bucket)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    # The provider itself is kept in the entry: an id can be reused once an object is gone.
    if hit is not None and hit[0] is provider and now - hit[1] < SETTINGS_TTL:
        return hit[2]
    settings = settings_for(location, provider)
    with _lock:
        _cache[key] = (provider, now, settings)
    return settings


def exists(dl: Downloader, settings: S3Settings, location: S3Location) -> bool:
    """Whether the object is there: a signed one-byte GET on the engine's connections.

    Wrong credentials raise; a plain 403 AccessDenied counts as absent, since S3 answers that
    for a missing key to anyone without s3:ListBucket.
    """
    url = settings.object_url(location)
    assert settings.credentials is not None
    headers = sign_headers(
        "GET", url, {"Range": "bytes=0-0"}, settings.credentials, settings.region
    )
    headers["User-Agent"] = dl.config.user_agent
    try:
        with dl.host_slot(url):
            response = dl.send(url, headers)
            try:
                status, reason = response.status, response.reason
                body = response.read(1 << 16)
            finally:
                response.close()
    except (OSError, ProtocolError) as exc:
        raise DownloadError(
            location.url,
            f"cannot reach {settings.endpoint}: {exc}",
            hint="check the endpoint (AWS_ENDPOINT_URL_S3) and your network",
        ) from None
    if status in (200, 206, 416):
        return True
    code = error_code(body, reason)
    if status == 401 or (status == 403 and code in AUTH_CODES):
        error = refused(settings.endpoint, location.url, status, code, settings.credentials.source)
        raise DownloadError(location.url, error.message, hint=error.hint)
    if status in (403, 404):
        return False
    raise DownloadError(location.url, f"HTTP {status} {code}".rstrip())


def resolve(dl: Downloader, url: str, *, sha256: str | None = None) -> Resolved:
    location = S3Location.parse(url)
    settings = settings_cached(location, dl.credentials)
    target = settings.object_url(location)
    # The index layer reads 403 as "this form is absent"; check first, so that wrong
    # credentials are named as such instead of "the channel has no repodata.json".
    is_index = location.key.rpartition("/")[2] in INDEX_FILES
    if settings.credentials is not None and is_index and not exists(dl, settings, location):
        raise SchemeNotFound(f"{location.url} does not exist")
    if settings.credentials is None:
        return Resolved(target)
    return Resolved(target, sign_headers("GET", target, {}, settings.credentials, settings.region))
