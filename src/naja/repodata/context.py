"""What one `load_indexes` call shares between its worker threads: settings, cache, network."""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from naja.fetch import CredentialProvider, Downloader, FetchConfig
from naja.repodata.progress import ProgressFeed
from naja.repodata.state import SubdirState, save_state
from naja.specs.channel import Channel
from naja.specs.platform import Platform
from naja.specs.url import redact_url

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Context:
    cache_root: Path
    offline: bool = False
    # conda's local_repodata_ttl (see state.FileState.is_fresh).
    ttl: float | None = None
    config: FetchConfig = field(default_factory=FetchConfig)
    progress: ProgressFeed = field(default_factory=lambda: ProgressFeed(None))
    # Index forms to try (config keys repodata_use_zst / repodata_use_shards).
    use_zst: bool = True
    use_zchunk: bool = True
    use_shards: bool = True
    credentials: CredentialProvider | None = None
    _dl: Downloader | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def shard_cache(self) -> Path:
        return self.cache_root / "shards"

    def downloader(self) -> Downloader:
        with self._lock:
            if self._dl is None:
                self._dl = Downloader(self.config, credentials=self.credentials)
            return self._dl

    def close(self) -> None:
        with self._lock:
            dl, self._dl = self._dl, None
        if dl is not None:
            dl.close()

    def subdir_dir(self, channel: Channel, subdir: Platform) -> Path:
        """`<cache>/<readable name>-<hash of the URL>/`: the token never reaches the name."""
        url = channel.platform_url(subdir)
        digest = hashlib.sha256(url.encode()).hexdigest()[:16]
        readable = _UNSAFE.sub("_", redact_url(channel.canonical_name)).strip("_")[-40:]
        return self.cache_root / f"{readable}-{subdir.value}-{digest}"

    def save(self, directory: Path, state: SubdirState) -> None:
        if not self.offline:
            # A read-only cache still works; it just revalidates next time.
            with contextlib.suppress(OSError):
                save_state(directory, state)
