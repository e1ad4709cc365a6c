"""Errors raised while getting channel indexes; every URL in a message is redacted."""

from __future__ import annotations

from naja.errors import NajaError
from naja.specs.url import redact_url


class ChannelNotFound(NajaError):
    """A channel has none of the subdirs asked for (wrong URL, or not a conda channel)."""


class IndexFetchError(NajaError):
    """A channel index could not be downloaded (network, HTTP error, server refusing)."""

    def __init__(self, url: str, what: str, *, hint: str | None = None) -> None:
        self.url = redact_url(url)
        super().__init__(f"cannot fetch the channel index {self.url}: {what}", hint=hint)


class CorruptIndexError(NajaError):
    """An index file (repodata, shard index or shard) does not decode or does not verify."""

    def __init__(self, url: str, what: str) -> None:
        self.url = redact_url(url)
        super().__init__(
            f"the channel index {self.url} is damaged: {what}",
            hint="it was fetched again and is still wrong, so the server's copy is broken; "
            "report it to the channel's maintainers, or use another mirror",
        )


class OfflineIndexMissing(NajaError):
    """Offline mode, and the cache lacks an index (or shards) the request needs."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = [redact_url(m) for m in missing]
        listed = "\n".join(f"  - {m}" for m in self.missing)
        super().__init__(
            f"offline mode: these channel indexes are not in the cache:\n{listed}",
            hint="run once without --offline to fill the cache "
            "(or remove the channels you cannot reach)",
        )


class IndexCacheError(NajaError):
    """The index cache cannot be written (permissions, disk full, a file where a folder goes)."""

    def __init__(self, path: object, what: str) -> None:
        super().__init__(
            f"cannot write the channel index cache at {path}: {what}",
            hint="check its permissions and free space, or point NAJA_CACHE_DIR elsewhere",
        )
