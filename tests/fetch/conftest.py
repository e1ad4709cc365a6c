"""Fixtures for the download engine tests: nginx, the fault injector, small payloads."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import pytest

from naja.fetch import Downloader, FetchConfig, RetryPolicy
from tests.servers.faulty import faulty  # noqa: F401
from tests.servers.nginx import nginx  # noqa: F401

# Fast retries: tests must not sit in backoff sleeps.
FAST_RETRY = RetryPolicy(attempts=4, backoff_base=0.01, backoff_cap=0.05, max_retry_after=2.0)


def payload(size: int, seed: int = 0) -> bytes:
    return hashlib.sha256(str(seed).encode()).digest() * (size // 32) + os.urandom(size % 32)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fast_config(**options: object) -> FetchConfig:
    defaults: dict[str, object] = {
        "retry": FAST_RETRY,
        "read_timeout": 2.0,
        "connect_timeout": 2.0,
        "trust_env": False,
    }
    defaults.update(options)
    return FetchConfig(**defaults)  # type: ignore[arg-type]


@pytest.fixture
def downloader() -> Iterator[Downloader]:
    with Downloader(fast_config()) as dl:
        yield dl


def access_log(server: object, lines: int, timeout: float = 5.0) -> str:
    """nginx's access log once it has `lines` lines (nginx logs just after responding)."""
    import time
    from pathlib import Path

    path = Path(server.state_dir) / "access.log"  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if text.count("\n") >= lines:
            break
        time.sleep(0.01)
    return text
