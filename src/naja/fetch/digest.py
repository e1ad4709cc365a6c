"""Digests computed while bytes stream by, and comparison with what the index promised."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass
class Digests:
    """Running SHA256 and MD5 over the bytes of one file, each only when wanted.

    Hashing is most of the engine's CPU per byte (SHA256 2.1 GB/s with SHA-NI, MD5 0.9 GB/s
    here), so MD5 runs only when it is the checksum to verify, and SHA256 only when it is to
    be verified or reported.
    """

    want_md5: bool = False
    want_sha256: bool = True
    size: int = 0
    sha256: hashlib._Hash | None = None
    md5: hashlib._Hash | None = None

    def __post_init__(self) -> None:
        self.reset()

    def update(self, data: bytes | memoryview) -> None:
        if self.sha256 is not None:
            self.sha256.update(data)
        if self.md5 is not None:
            self.md5.update(data)
        self.size += len(data)

    def reset(self) -> None:
        self.size = 0
        self.sha256 = hashlib.sha256() if self.want_sha256 else None
        self.md5 = hashlib.md5(usedforsecurity=False) if self.want_md5 else None

    def sha256_hex(self) -> str | None:
        return self.sha256.hexdigest() if self.sha256 is not None else None

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
