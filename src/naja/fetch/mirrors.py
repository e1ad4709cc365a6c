"""Mirror choice: probe each mirror of a channel once, prefer the fast ones, fail over.

Config maps a canonical channel URL prefix to mirror base URLs. A request for a URL under the
prefix may be served by any mirror (`mirror + rest of the path`); records keep the canonical
URL. The first request under a prefix probes every mirror in parallel (time to first byte and
throughput of a small ranged GET of that same file); results live for the run and, when a
cache path is configured, in a small JSON file reused until it is `ttl` seconds old.
Downloads are spread over healthy mirrors in proportion to their measured speed; a mirror
that fails at the connection level is dropped for the rest of the run.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from naja.specs.url import redact_url

log = logging.getLogger("naja.fetch")

# The file size the score is computed for: small enough that latency matters, big enough
# that a slow link does.
TYPICAL_SIZE = 2 * 1024 * 1024
# Failures (non-connection ones, e.g. 5xx) a mirror may have before it is dropped.
MAX_SOFT_FAILURES = 3

Probe = Callable[[str], tuple[float, float]]


@dataclass
class MirrorState:
    base: str
    latency: float = 0.0
    throughput: float = 0.0
    healthy: bool = True
    probed: bool = False
    failures: int = 0
    active: int = 0

    def cost(self) -> float:
        """Expected seconds for a typical file if one more download joins this mirror."""
        rate = max(self.throughput, 1.0)
        return self.latency + TYPICAL_SIZE * (self.active + 1) / rate


class MirrorGroup:
    """The mirrors of one canonical prefix."""

    def __init__(self, prefix: str, mirrors: list[str]) -> None:
        self.prefix = prefix.rstrip("/")
        self.mirrors = [MirrorState(m.rstrip("/")) for m in mirrors]
        self.probed = False
        self.lock = threading.Lock()

    def matches(self, url: str) -> bool:
        return url == self.prefix or url.startswith(self.prefix + "/")

    def rewrite(self, url: str, mirror: MirrorState) -> str:
        return mirror.base + url[len(self.prefix) :]


class MirrorSet:
    """All configured mirror groups plus the shared probe results and the cache file."""

    def __init__(
        self,
        mirrors: dict[str, list[str]],
        probe: Probe,
        *,
        cache_path: Path | None = None,
        ttl: float = 24 * 3600.0,
    ) -> None:
        # Longest prefix first so a channel-specific mapping beats a host-wide one.
        self.groups = [
            MirrorGroup(prefix, urls)
            for prefix, urls in sorted(mirrors.items(), key=lambda kv: -len(kv[0]))
            if urls
        ]
        self.probe = probe
        self.cache_path = cache_path
        self.ttl = ttl
        self._lock = threading.Lock()

    def group_for(self, url: str) -> MirrorGroup | None:
        for group in self.groups:
            if group.matches(url):
                return group
        return None

    def choose(self, url: str, exclude: set[str] | None = None) -> tuple[str, MirrorState] | None:
        """The URL to fetch `url` from and its mirror (marked active), or None if unmirrored."""
        group = self.group_for(url)
        if group is None:
            return None
        self._ensure_probed(group, url)
        with self._lock:
            pool = [m for m in group.mirrors if m.healthy and m.base not in (exclude or set())]
            if not pool:
                pool = [m for m in group.mirrors if m.healthy] or list(group.mirrors)
            best = min(pool, key=lambda m: (m.cost(), m.failures))
            best.active += 1
            return group.rewrite(url, best), best

    def done(self, mirror: MirrorState, *, nbytes: int = 0, seconds: float = 0.0) -> None:
        with self._lock:
            mirror.active = max(0, mirror.active - 1)
            if nbytes > 256 * 1024 and seconds > 0:
                # Fold real transfers into the estimate so a mirror that slows down mid-run
                # loses its share.
                mirror.throughput = 0.7 * mirror.throughput + 0.3 * (nbytes / seconds)

    def failed(self, mirror: MirrorState, *, connection: bool) -> None:
        with self._lock:
            mirror.active = max(0, mirror.active - 1)
            mirror.failures += 1
            if mirror.healthy and (connection or mirror.failures >= MAX_SOFT_FAILURES):
                mirror.healthy = False
                log.debug("mirror %s dropped for this run", redact_url(mirror.base))

    def _ensure_probed(self, group: MirrorGroup, url: str) -> None:
        if group.probed:
            return
        with group.lock:
            if group.probed:
                return
            cached = self._load_cache()
            to_probe = []
            for mirror in group.mirrors:
                entry = cached.get(mirror.base)
                if entry and time.time() - entry.get("time", 0) < self.ttl:
                    mirror.latency = float(entry["latency"])
                    mirror.throughput = float(entry["throughput"])
                    mirror.healthy = bool(entry["ok"])
                    mirror.probed = True
                else:
                    to_probe.append(mirror)
            if to_probe:
                with ThreadPoolExecutor(len(to_probe)) as pool:
                    results = list(
                        pool.map(lambda m: self._probe_one(group.rewrite(url, m)), to_probe)
                    )
                for mirror, (ok, latency, throughput) in zip(to_probe, results, strict=True):
                    mirror.healthy, mirror.latency, mirror.throughput = ok, latency, throughput
                    mirror.probed = True
                self._save_cache(group)
            for m in group.mirrors:
                log.debug(
                    "mirror %s: %s, latency %.1f ms, %.1f MB/s",
                    redact_url(m.base),
                    "healthy" if m.healthy else "unreachable",
                    m.latency * 1e3,
                    m.throughput / 1e6,
                )
            group.probed = True

    def _probe_one(self, url: str) -> tuple[bool, float, float]:
        try:
            latency, throughput = self.probe(url)
        except Exception:
            return False, float("inf"), 0.0
        return True, latency, throughput

    def _load_cache(self) -> dict[str, dict[str, float]]:
        if self.cache_path is None:
            return {}
        try:
            data = json.loads(self.cache_path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save_cache(self, group: MirrorGroup) -> None:
        if self.cache_path is None:
            return
        data = self._load_cache()
        now = time.time()
        for m in group.mirrors:
            data[m.base] = {
                "latency": m.latency if m.healthy else 1e9,
                "throughput": m.throughput,
                "ok": m.healthy,
                "time": now,
            }
        try:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_path.with_name(self.cache_path.name + f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
            os.replace(tmp, self.cache_path)
        except OSError:
            # The cache only saves a probe next time; failing to write it is not an error.
            pass
