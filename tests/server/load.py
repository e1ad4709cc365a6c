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


def paths_for(base: str, channel: str, subdir: str = "noarch", headers: dict | None = None) -> list[str]:
    """The request mix: repodata.json, .zst, the shard index and every shard."""
    raw = httpx.get(f"{base}/get/{channel}/{subdir}/repodata_shards.msgpack.zst", timeout=60, headers=headers).content
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
    """One keep-alive HTTP/1.1 connection per client, requests written by hand: httpx costs
    ~4 ms of CPU per request, which on a 2-core machine would measure the client instead."""
    result = LoadResult()
    host_port = base.split("://", 1)[1].rstrip("/")
    host, _, port = host_port.partition(":")
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    start_gate = asyncio.Event()

    async def one(seed: int) -> None:
        rng = random.Random(seed)
        reader, writer = await asyncio.open_connection(host, int(port or 80))
        await start_gate.wait()
        try:
            for _ in range(per_client):
                path = pick(paths, rng)
                t0 = time.perf_counter()
                try:
                    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host_port}\r\n{extra}\r\n".encode())
                    head = await reader.readuntil(b"\r\n\r\n")
                    status = int(head.split(b" ", 2)[1])
                    length = 0
                    for line in head.split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value)
                    body = await reader.readexactly(length)
                    if status != 200:
                        result.errors.append(f"{status} {path}")
                    result.bytes += len(body)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    result.errors.append(f"{type(exc).__name__} {path}")
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port or 80))
                result.latencies.append(time.perf_counter() - t0)
                result.requests += 1
        finally:
            writer.close()

    tasks = [asyncio.create_task(one(i)) for i in range(clients)]
    await asyncio.sleep(0.5)  # let every client connect before the clock starts
    t0 = time.perf_counter()
    start_gate.set()
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - t0
    return result


def run_load(base: str, paths: list[str], *, clients: int = 200, per_client: int = 10, headers: dict | None = None) -> LoadResult:
    try:
        import uvloop

        return uvloop.run(_run(base, paths, clients, per_client, headers or {}))
    except ImportError:
        return asyncio.run(_run(base, paths, clients, per_client, headers or {}))
