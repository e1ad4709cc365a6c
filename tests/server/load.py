"""A bounded load generator for the server: N concurrent clients on loopback issue a fixed
number of repodata and shard GETs each; returns latencies and errors (used by the load test
and bench/bench_server.py)."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from dataclasses import dataclass, field

import httpx

from naja.repodata.shards import decode_index


@dataclass
class LoadResult:
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    bytes: int = 0

    def pct(self, q: float) -> float:
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(q * len(data)))] * 1e3 if data else 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        return {
            "requests": self.requests, "errors": len(self.errors), "seconds": round(self.seconds, 2),
            "req_per_s": round(self.rps, 1), "p50_ms": round(self.pct(0.50), 1),
            "p99_ms": round(self.pct(0.99), 1), "max_ms": round(max(self.latencies, default=0) * 1e3, 1),
            "mean_ms": round(statistics.fmean(self.latencies) * 1e3, 1) if self.latencies else 0.0,
            "MB": round(self.bytes / 1e6, 1),
        }


def paths_for(base: str, channel: str, subdir: str = "noarch") -> list[str]:
    """The request mix: repodata.json, .zst, the shard index and every shard."""
    raw = httpx.get(f"{base}/get/{channel}/{subdir}/repodata_shards.msgpack.zst", timeout=60).content
    shards = [f"/get/{channel}/{subdir}/shards/{d.hex()}.msgpack.zst" for d in decode_index(raw).shards.values()]
    return [
        f"/get/{channel}/{subdir}/repodata.json",
        f"/get/{channel}/{subdir}/repodata.json.zst",
        f"/get/{channel}/{subdir}/repodata_shards.msgpack.zst",
        *shards,
    ]


def pick(paths: list[str], rng: random.Random) -> str:
    # 10% full repodata.json, 20% .zst, 20% shard index, 50% shards.
    r = rng.random()
    if r < 0.1:
        return paths[0]
    if r < 0.3:
        return paths[1]
    if r < 0.5:
        return paths[2]
    return rng.choice(paths[3:]) if len(paths) > 3 else paths[2]


async def _run(base: str, paths: list[str], clients: int, per_client: int, headers: dict) -> LoadResult:
    result = LoadResult()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60, headers=headers) as client:
        start_gate = asyncio.Event()

        async def one(seed: int) -> None:
            rng = random.Random(seed)
            await start_gate.wait()
            for _ in range(per_client):
                path = pick(paths, rng)
                t0 = time.perf_counter()
                try:
                    resp = await client.get(path)
                    body = resp.content
                    if resp.status_code != 200:
                        result.errors.append(f"{resp.status_code} {path}")
                    result.bytes += len(body)
                except httpx.HTTPError as exc:
                    result.errors.append(f"{type(exc).__name__} {path}")
                result.latencies.append(time.perf_counter() - t0)
                result.requests += 1

        tasks = [asyncio.create_task(one(i)) for i in range(clients)]
        await asyncio.sleep(0)
        t0 = time.perf_counter()
        start_gate.set()
        await asyncio.gather(*tasks)
        result.seconds = time.perf_counter() - t0
    return result


def run_load(base: str, paths: list[str], *, clients: int = 200, per_client: int = 10, headers: dict | None = None) -> LoadResult:
    return asyncio.run(_run(base, paths, clients, per_client, headers or {}))
