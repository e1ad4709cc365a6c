"""Channel indexes: getting each channel x subdir's repodata, caching it, and parsing it.

`load_indexes(channels, platforms)` is the entry point: it returns one `SubdirIndex` per channel
and subdir, in channel priority order.
"""

from naja.repodata.gateway import SubdirIndex, load_indexes

__all__ = ["SubdirIndex", "load_indexes"]
