"""The download engine's hook for `s3://` URLs (see `naja.fetch.schemes`): a signed GET.

The signature covers host, date and the (empty) payload hash only, so the engine's Range,
If-Range and If-None-Match headers still apply; it is made per attempt, so it never expires
mid-retry, and it travels in a header, never in a URL that could end up in a log. Without
credentials the object URL is used unsigned (public buckets).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from naja.fetch.errors import DownloadError
from naja.fetch.schemes import Resolved, SchemeNotFound
from naja.s3.client import S3Client
from naja.s3.errors import S3Error
from naja.s3.settings import S3Location, S3Settings, settings_for
from naja.s3.sigv4 import sign_headers

if TYPE_CHECKING:
    from naja.fetch.downloader import Downloader

# Settings per (provider, bucket): reading the AWS chain can mean file reads or botocore.
_cache: dict[tuple[int, str], S3Settings] = {}
_clients: dict[S3Settings, S3Client] = {}
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
    key = (id(provider), location.bucket)
    with _lock:
        hit = _cache.get(key)
    if hit is None:
        hit = settings_for(location, provider)
        with _lock:
            _cache[key] = hit
    return hit


def _client(settings: S3Settings) -> S3Client:
    with _lock:
        client = _clients.get(settings)
        if client is None:
            client = _clients[settings] = S3Client(settings)
        return client


def resolve(dl: Downloader, url: str, *, sha256: str | None = None) -> Resolved:
    location = S3Location.parse(url)
    settings = settings_cached(location, dl.credentials)
    target = settings.object_url(location)
    if settings.credentials is not None and location.key.rpartition("/")[2] in INDEX_FILES:
        # The index layer reads 403 as "this form is absent"; check first, so that wrong
        # credentials are named as such instead of "the channel has no repodata.json".
        try:
            if not _client(settings).exists(location):
                raise SchemeNotFound(f"{location.url} does not exist")
        except S3Error as exc:
            raise DownloadError(url, exc.message, hint=exc.hint) from None
    if settings.credentials is None:
        return Resolved(target)
    return Resolved(target, sign_headers("GET", target, {}, settings.credentials, settings.region))
