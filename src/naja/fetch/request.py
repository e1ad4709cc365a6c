"""What to download and what came of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from naja.fetch.errors import DownloadError


@dataclass(frozen=True)
class DownloadRequest:
    """One file to fetch from `url` (canonical; mirrors are applied at fetch time) to `target`.

    `sha256`/`md5`/`size` are what the index promises; any given one is verified. `headers`
    are extra request headers. `zchunk_base` names an older local copy of a `.zck` file whose
    chunks may be reused.
    """

    url: str
    target: Path
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    zchunk_base: Path | None = None
    # Conditional GET (repodata caches): a 304 leaves `target` as it is.
    if_none_match: str | None = None
    if_modified_since: str | None = None
    # Anything the caller wants back with the result (a record, an index...).
    tag: object = None


@dataclass
class DownloadResult:
    """A finished request: the verified file at `path`, or `error`."""

    request: DownloadRequest
    path: Path
    size: int = 0
    sha256: str | None = None
    md5: str | None = None
    # The URL the bytes came from (a mirror's, redacted) while `request.url` stays canonical.
    source_url: str | None = None
    attempts: int = 0
    resumed_bytes: int = 0
    reused_bytes: int = 0
    elapsed: float = 0.0
    # Validators the server sent (for the next conditional request), and whether it said 304.
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    error: DownloadError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
