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
    # Abort (and retry/resume) a transfer slower than this many bytes/s over
    # `low_speed_time` seconds; 0 turns it off.
    low_speed_limit: int = 1024
    low_speed_time: float = 30.0
    resume: bool = True
    # Report every file's sha256 even when the request gives none to verify (the package
    # cache records it); off saves ~30% CPU per byte on unverified downloads.
    always_sha256: bool = True
    # Progress callbacks fire at most this often per file (the last one always fires).
    progress_interval: float = 0.1


def config_from_mapping(
    settings: dict[str, object], base: FetchConfig | None = None
) -> FetchConfig:
    """A FetchConfig from `.condarc`-style settings (unknown keys are ignored).

    Understood: `proxy_servers` (scheme or scheme://host -> proxy URL), `ssl_verify` (bool or
    a CA bundle path), `remote_connect_timeout_secs`, `remote_read_timeout_secs`,
    `remote_max_retries`, `offline`, `mirrors` / `mirrored_channels` (channel URL -> mirror
    URLs), `max_connections`, `max_connections_per_host`, `http2`.
    """
    import dataclasses

    config = base or FetchConfig()
    changes: dict[str, object] = {}
    proxies = settings.get("proxy_servers")
    if isinstance(proxies, dict):
        changes["proxies"] = {str(k): str(v) for k, v in proxies.items()}
    ssl_verify = settings.get("ssl_verify")
    if isinstance(ssl_verify, bool):
        changes["ssl_verify"] = ssl_verify
    elif isinstance(ssl_verify, str) and ssl_verify.lower() in ("false", "true"):
        changes["ssl_verify"] = ssl_verify.lower() == "true"
    elif isinstance(ssl_verify, str) and ssl_verify:
        changes["ssl_verify"] = True
        changes["ca_bundle"] = Path(ssl_verify).expanduser()
    for key, field_name in (
        ("remote_connect_timeout_secs", "connect_timeout"),
        ("remote_read_timeout_secs", "read_timeout"),
    ):
        if isinstance(settings.get(key), int | float):
            changes[field_name] = float(settings[key])  # type: ignore[arg-type]
    retries = settings.get("remote_max_retries")
    if isinstance(retries, int) and retries >= 0:
        changes["retry"] = dataclasses.replace(config.retry, attempts=retries + 1)
    for key in ("offline", "http2"):
        if isinstance(settings.get(key), bool):
            changes[key] = settings[key]
    for key in ("max_connections", "max_connections_per_host"):
        if isinstance(settings.get(key), int) and settings[key] > 0:  # type: ignore[operator]
            changes[key] = settings[key]
    mirrors = settings.get("mirrors", settings.get("mirrored_channels"))
    if isinstance(mirrors, dict):
        changes["mirrors"] = {
            str(channel): [str(u) for u in urls]
            for channel, urls in mirrors.items()
            if isinstance(urls, list)
        }
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]
