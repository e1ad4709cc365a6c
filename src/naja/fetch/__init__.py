"""naja.fetch: the download engine — parallel, verified, resumable downloads with mirrors.

Every part of naja that moves bytes goes through `Downloader`; see `downloader.py` for the
API and `config.py` for the settings.
"""

from naja.fetch.config import FetchConfig, RetryPolicy
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
    "download_many",
]


def download_many(
    requests: list[DownloadRequest], config: FetchConfig | None = None, **options: object
) -> list[DownloadResult]:
    """Download every request with a throwaway Downloader (results in request order)."""
    with Downloader(config, **options) as dl:  # type: ignore[arg-type]
        return dl.download_many(requests)
