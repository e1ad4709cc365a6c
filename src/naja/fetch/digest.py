"""Digests computed while bytes stream by, and comparison with what the index promised."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass
class Digests:
    """Running SHA256 (always) and MD5 (only when it is the only checksum to verify).

    MD5 costs more CPU than SHA256 with SHA-NI (0.9 vs 2.1 GB/s here), so it is computed only
    when it is needed to verify.
    """

    want_md5: bool = False
    size: int = 0
    sha256: hashlib._Hash = field(default_factory=hashlib.sha256)
    md5: hashlib._Hash | None = None

    def __post_init__(self) -> None:
        if self.want_md5 and self.md5 is None:
            self.md5 = hashlib.md5(usedforsecurity=False)

    def update(self, data: bytes | memoryview) -> None:
        self.sha256.update(data)
        if self.md5 is not None:
            self.md5.update(data)
        self.size += len(data)

    def reset(self) -> None:
        self.size = 0
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5(usedforsecurity=False) if self.want_md5 else None

    def sha256_hex(self) -> str:
        return self.sha256.hexdigest()

    def md5_hex(self) -> str | None:
        return self.md5.hexdigest() if self.md5 is not None else None


def hash_file(path: str, digests: Digests, limit: int | None = None) -> None:
    """Feed the first `limit` bytes (all when None) of `path` into `digests`."""
    remaining = limit
    with open(path, "rb", buffering=0) as fh:
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        while remaining is None or remaining > 0:
            want = len(buf) if remaining is None else min(len(buf), remaining)
            n = fh.readinto(view[:want])
            if not n:
                break
            digests.update(view[:n])
            if remaining is not None:
                remaining -= n
