"""The state file kept beside each cached index: HTTP validators, freshness and probe results.

One `state.json` per channel x subdir directory. It records, for the full index and the shard
index, the URL fetched, the ETag / Last-Modified / Cache-Control the server sent, when the
server last confirmed it, and the size, mtime and sha256 of the stored file (so a file changed
behind naja's back is not trusted). Negative probes (no shards, no `.zck`, no `.zst`) are
remembered with an expiry so channels without them cost no extra request per run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import msgspec

from naja.specs.url import redact_url

if TYPE_CHECKING:
    from naja.repodata.http import Answer

STATE_FILE = "state.json"
# conda remembers a missing shard index for a week; the same for the other negative probes.
NEGATIVE_PROBE_SECONDS = 7 * 24 * 3600.0
_MAX_AGE_RE = re.compile(r"(?:^|[,\s])max-age\s*=\s*(\d+)", re.I)


class FileState(msgspec.Struct, kw_only=True):
    """One cached file: where it came from and the validators to revalidate it with."""

    url: str
    file: str
    etag: str | None = None
    last_modified: str | None = None
    cache_control: str | None = None
    fetched_at: float = 0.0
    size: int = 0
    mtime_ns: int = 0
    sha256: str = ""

    def matches(self, directory: Path) -> bool:
        """True when the stored file is exactly the one this state describes."""
        try:
            st = (directory / self.file).stat()
        except OSError:
            return False
        return st.st_size == self.size and st.st_mtime_ns == self.mtime_ns

    def max_age(self) -> float:
        m = _MAX_AGE_RE.search(self.cache_control or "")
        return float(m.group(1)) if m else 0.0

    def is_fresh(self, ttl: float | None, now: float | None = None) -> bool:
        """conda's `local_repodata_ttl`: None or 1 follows Cache-Control max-age, 0 always
        revalidates, any other number is the freshness lifetime in seconds."""
        if ttl == 0:
            return False
        age = (now if now is not None else time.time()) - self.fetched_at
        lifetime = self.max_age() if ttl is None or ttl == 1 else float(ttl)
        return 0 <= age < lifetime


class SubdirState(msgspec.Struct, kw_only=True):
    """Everything remembered about one channel x subdir."""

    url: str = ""
    full: FileState | None = None
    shards: FileState | None = None
    run_exports: FileState | None = None
    # time.time() until which the server is known not to offer each form.
    no_shards_until: float = 0.0
    no_zck_until: float = 0.0
    no_zst_until: float = 0.0
    no_run_exports_until: float = 0.0
    # The subdir does not exist on the server (every form answered 404) until then.
    missing_until: float = 0.0


_DECODER = msgspec.json.Decoder(SubdirState)


def load_state(directory: Path) -> SubdirState:
    """The state in `directory`, or an empty one (a damaged state file counts as none)."""
    try:
        return _DECODER.decode((directory / STATE_FILE).read_bytes())
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return SubdirState()


def tmp_name(name: str) -> str:
    """A temporary name beside `name` that no other process or thread uses right now."""
    return f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"


@contextlib.contextmanager
def atomic_file(directory: Path, name: str) -> Iterator[BinaryIO]:
    """A file to write `directory/name` through: it replaces the target only once complete,
    so a reader never sees half of it; a failed write leaves no temporary file behind."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / tmp_name(name)
    try:
        with open(tmp, "wb") as fh:
            yield fh
        os.replace(tmp, directory / name)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def save_state(directory: Path, state: SubdirState) -> None:
    """Write atomically: a reader never sees half a state file."""
    with atomic_file(directory, STATE_FILE) as fh:
        fh.write(msgspec.json.format(msgspec.json.encode(state), indent=2))


def store_file(directory: Path, name: str, data: bytes) -> tuple[int, int]:
    """Write `data` as `directory/name` atomically; (size, mtime_ns) for the state."""
    with atomic_file(directory, name) as fh:
        fh.write(data)
    st = (directory / name).stat()
    return st.st_size, st.st_mtime_ns


def store_answer(url: str, directory: Path, file: str, ans: Answer) -> FileState:
    """Store a 200 answer's body as `directory/file`; its state (validators, size, sha256)."""
    size, mtime_ns = store_file(directory, file, ans.body)
    return FileState(
        url=redact_url(url),
        file=file,
        etag=ans.etag,
        last_modified=ans.last_modified,
        cache_control=ans.cache_control,
        fetched_at=time.time(),
        size=size,
        mtime_ns=mtime_ns,
        sha256=hashlib.sha256(ans.body).hexdigest(),
    )
