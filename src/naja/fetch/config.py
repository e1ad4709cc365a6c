"""Settings of the download engine: limits, timeouts, retries, TLS, proxies, mirrors, offline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from naja import __version__

DEFAULT_USER_AGENT = f"naja/{__version__}"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt n waits U(0, min(cap, base * 2**n)).

    A server's `Retry-After` replaces the computed wait (capped at `max_retry_after`).
    """

    attempts: int = 4
    backoff_base: float = 0.25
    backoff_cap: float = 10.0
    max_retry_after: float = 60.0
    # Digest mismatches get their own budget: one retry from scratch, then an error.
    checksum_retries: int = 1


@dataclass(frozen=True)
class FetchConfig:
    """How the engine talks to servers.

    `proxies` maps a scheme (`http`, `https`) or `scheme://host` to a proxy URL and overrides
    the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`), which is read when
    `trust_env` is true. `mirrors` maps a channel URL prefix to the mirror URLs that serve the
    same files (the prefix itself is not used unless listed). `http2` lets HTTPS connections
    negotiate HTTP/2 via httpx; the default HTTP/1.1 engine is several times faster per byte
    in Python (see bench/results/fetch.md), and HTTP/1.1 with a few connections per host is
    what every conda server serves well.
    """

    max_connections: int = 8
    max_connections_per_host: int = 6
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    ssl_verify: bool = True
    ca_bundle: Path | None = None
    proxies: dict[str, str] = field(default_factory=dict)
    no_proxy: str | None = None
    trust_env: bool = True
    user_agent: str = DEFAULT_USER_AGENT
    offline: bool = False
    http2: bool = False
    mirrors: dict[str, list[str]] = field(default_factory=dict)
    mirror_cache: Path | None = None
    mirror_cache_ttl: float = 24 * 3600.0
    max_redirects: int = 10
    resume: bool = True
    # Report every file's sha256 even when the request gives none to verify (the package
    # cache records it); off saves ~30% CPU per byte on unverified downloads.
    always_sha256: bool = True
    # Progress callbacks fire at most this often per file (the last one always fires).
    progress_interval: float = 0.1
