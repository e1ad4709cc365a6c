"""Channel indexes: getting each channel x subdir's repodata, caching it, and parsing it.

`load_indexes(channels, platforms, specs=...)` is the entry point: it returns one `SubdirIndex`
per channel and subdir, in channel priority order; `channel_sources` turns them into the
solver's per-channel `RecordSource`s. See docs/channels.md for the forms, caching and offline.
"""

from naja.repodata.errors import (
    ChannelNotFound,
    CorruptIndexError,
    IndexFetchError,
    OfflineIndexMissing,
)
from naja.repodata.gateway import load_indexes
from naja.repodata.index import ChannelSource, SubdirIndex, channel_sources
from naja.repodata.progress import IndexProgress

__all__ = [
    "ChannelNotFound",
    "ChannelSource",
    "CorruptIndexError",
    "IndexFetchError",
    "IndexProgress",
    "OfflineIndexMissing",
    "SubdirIndex",
    "channel_sources",
    "load_indexes",
]
