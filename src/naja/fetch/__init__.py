"""naja.fetch: the download engine — parallel, verified, resumable downloads with mirrors.

Every part of naja that moves bytes goes through `Downloader`:

    from naja.fetch import Downloader, DownloadRequest, FetchConfig

    requests = [DownloadRequest(url, cache / name, sha256=rec.sha256, size=rec.size), ...]
    with Downloader(FetchConfig(), on_progress=show) as dl:
        for result in dl.iter_completed(requests):   # each file verified and in place
            extract(result.path)                       # ... while the others still download
    # or: dl.download_many(requests), dl.download(request),
    #     async for result in dl.astream(requests), await dl.adownload_many(requests)

- A file lands at `request.target` only once its size and sha256/md5 match (else
  `ChecksumMismatchError` after one retry from scratch); partial bytes live in
  `<target>.part` and are resumed with Range/If-Range after a cut, even in a later run for
  big files.
- Errors are `DownloadError` subclasses naming the redacted URL, what happened and a hint;
  `download_many` raises the first one after the rest finished (`raise_on_error=False`
  returns them in `result.error`).
- `FetchConfig`: limits, timeouts, `RetryPolicy`, proxies, TLS (`ca_bundle`, `ssl_verify`),
  `offline`, `mirrors` (canonical prefix -> mirror URLs; results keep the canonical URL),
  `http2`; `config_from_mapping` reads `.condarc`-style settings.
- Credentials: pass a `CredentialProvider` (`lookup(url) -> Credential | None`);
  `StaticCredentials` maps URL prefixes to bearer / basic / conda-token credentials.
- Progress: `on_progress(ProgressEvent)` from worker threads; plain data (`as_dict()`).
- zchunk: `DownloadRequest(zchunk_base=older_copy)` fetches only the chunks that changed.
- Conditional GET: `if_none_match` / `if_modified_since`; `result.not_modified` on a 304.
- Uploads: `dl.upload(url, path, method="PUT")` streams a file as the request body.
"""

from naja.fetch.config import FetchConfig, RetryPolicy, config_from_mapping
from naja.fetch.credentials import Credential, CredentialProvider, StaticCredentials
from naja.fetch.downloader import Downloader
from naja.fetch.errors import (
    ChecksumMismatchError,
    DownloadError,
    HttpStatusError,
    NetworkError,
    OfflineError,
    SizeMismatchError,
    TlsError,
    ZchunkError,
)
from naja.fetch.progress import ProgressEvent
from naja.fetch.request import DownloadRequest, DownloadResult

__all__ = [
    "ChecksumMismatchError",
    "Credential",
    "CredentialProvider",
    "DownloadError",
    "DownloadRequest",
    "DownloadResult",
    "Downloader",
    "FetchConfig",
    "HttpStatusError",
    "NetworkError",
    "OfflineError",
    "ProgressEvent",
    "RetryPolicy",
    "SizeMismatchError",
    "StaticCredentials",
    "TlsError",
    "ZchunkError",
    "config_from_mapping",
    "download_many",
]


def download_many(
    requests: list[DownloadRequest], config: FetchConfig | None = None, **options: object
) -> list[DownloadResult]:
    """Download every request with a throwaway Downloader (results in request order)."""
    with Downloader(config, **options) as dl:  # type: ignore[arg-type]
        return dl.download_many(requests)
