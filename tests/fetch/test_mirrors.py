"""Mirrors: the fast one wins, a dead one is skipped, a killed one fails over, cache reused."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from naja.fetch import Downloader, DownloadRequest, ProgressEvent
from tests.fetch.conftest import fast_config, payload, sha256
from tests.servers.faulty import Fault, FaultyServer
from tests.servers.nginx import free_port

CANONICAL = "https://conda.example.invalid/channel"


def make_channel(root: Path, count: int, size: int) -> dict[str, bytes]:
    files = {f"noarch/p{i}-1.0-0.conda": payload(size + i, seed=i) for i in range(count)}
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return files


def requests_for(files: dict[str, bytes], out: Path) -> list[DownloadRequest]:
    return [
        DownloadRequest(f"{CANONICAL}/{n}", out / n, sha256=sha256(d), size=len(d))
        for n, d in files.items()
    ]


def mirror_of(result, servers: dict[str, str]) -> str:
    for name, url in servers.items():
        if result.source_url.startswith(url):
            return name
    raise AssertionError(result.source_url)


def test_fast_mirror_is_chosen_over_slow_and_dead(nginx, tmp_path) -> None:
    root = tmp_path / "www"
    files = make_channel(root, 10, 200_000)
    fast = nginx(root)
    slow = nginx(root, limit_rate="100k")
    dead = f"http://127.0.0.1:{free_port()}"
    servers = {"fast": fast.url, "slow": slow.url, "dead": dead}
    cache = tmp_path / "mirrors.json"
    config = fast_config(
        mirrors={CANONICAL: [dead, slow.url, fast.url]}, mirror_cache=cache, max_connections=3
    )
    with Downloader(config) as dl:
        results = dl.download_many(requests_for(files, tmp_path / "out"))
    assert Counter(mirror_of(r, servers) for r in results) == {"fast": 10}
    for r in results:
        # Records keep the canonical URL; only the source differs.
        assert r.request.url.startswith(CANONICAL)
        assert r.path.read_bytes() == files[r.path.relative_to(tmp_path / "out").as_posix()]
    cached = json.loads(cache.read_text())
    assert cached[dead]["ok"] is False
    assert cached[fast.url]["throughput"] > cached[slow.url]["throughput"]


def test_killing_the_fast_mirror_mid_run_fails_over(nginx, tmp_path) -> None:
    root = tmp_path / "www"
    # nginx sends the first second's allowance of limit_rate at once: files must be bigger
    # than that for the throttle to show (in the probe and in the transfer).
    files = make_channel(root, 5, 270_000)
    fast = nginx(root)
    slow = nginx(root, limit_rate="250k")
    dead = f"http://127.0.0.1:{free_port()}"
    servers = {"fast": fast.url, "slow": slow.url}
    done = 0

    def on_progress(event: ProgressEvent) -> None:
        nonlocal done
        if event.kind == "done":
            done += 1
            if done == 2:
                # Runs in the (only) worker before it takes the next file: a kill mid-run.
                fast.stop()

    config = fast_config(mirrors={CANONICAL: [dead, slow.url, fast.url]}, max_connections=1)
    with Downloader(config, on_progress=on_progress) as dl:
        results = list(dl.iter_completed(requests_for(files, tmp_path / "out")))
    assert len(results) == 5 and all(r.ok for r in results)
    assert Counter(mirror_of(r, servers) for r in results) == {"fast": 2, "slow": 3}
    for r in results:
        assert sha256(r.path.read_bytes()) == r.request.sha256


def test_a_mirror_failing_mid_body_hands_the_file_to_another(tmp_path) -> None:
    data = payload(500_000, seed=3)
    name = "/noarch/big.conda"
    with FaultyServer() as a, FaultyServer() as b:
        a.add(name, data)
        b.add(name, data)
        # Mirror a cuts every transfer of the file; b serves it.
        a.plan(name, *[Fault("drop", after=1000)] * 10)
        cache = tmp_path / "mirrors.json"
        stats = {"latency": 0.001, "throughput": 1e9, "ok": True, "time": time.time()}
        cache.write_text(json.dumps({a.url: stats, b.url: {**stats, "throughput": 1e6}}))
        config = fast_config(mirrors={CANONICAL: [a.url, b.url]}, mirror_cache=cache)
        with Downloader(config) as dl:
            result = dl.download(
                DownloadRequest(f"{CANONICAL}{name}", tmp_path / "big.conda", sha256=sha256(data))
            )
        assert result.path.read_bytes() == data
        assert result.source_url.startswith(b.url)
        # A cut is resumed on the same mirror once, then the download moves on.
        assert len(a.requests_for(name)) == 2


def test_equal_mirrors_share_parallel_downloads_and_cache_skips_probes(tmp_path) -> None:
    files = {f"/noarch/q{i}.conda": payload(30_000, seed=i) for i in range(12)}
    with FaultyServer() as a, FaultyServer() as b:
        for name, data in files.items():
            a.add(name, data)
            b.add(name, data)
        cache = tmp_path / "mirrors.json"
        # Pre-seeded equal measurements: choice is then decided by current load alone.
        stats = {"latency": 0.001, "throughput": 1e8, "ok": True, "time": time.time()}
        cache.write_text(json.dumps({a.url: stats, b.url: stats}))
        config = fast_config(
            mirrors={CANONICAL: [a.url, b.url]}, mirror_cache=cache, max_connections=4
        )
        reqs = [
            DownloadRequest(f"{CANONICAL}{n}", tmp_path / n.lstrip("/"), sha256=sha256(d))
            for n, d in files.items()
        ]
        with Downloader(config) as dl:
            results = dl.download_many(reqs)
        used = Counter(mirror_of(r, {"a": a.url, "b": b.url}) for r in results)
        assert used["a"] >= 2 and used["b"] >= 2
        # No probe requests: the cached measurements were fresh.
        for server in (a, b):
            assert all("range" not in r.headers for r in server.requests)


def test_probe_happens_once_per_run(tmp_path) -> None:
    files = {f"/noarch/r{i}.conda": payload(10_000, seed=i) for i in range(5)}
    with FaultyServer() as a:
        for name, data in files.items():
            a.add(name, data)
        config = fast_config(mirrors={CANONICAL: [a.url]}, max_connections=2)
        reqs = [
            DownloadRequest(f"{CANONICAL}{n}", tmp_path / n.lstrip("/"), sha256=sha256(d))
            for n, d in files.items()
        ]
        with Downloader(config) as dl:
            dl.download_many(reqs)
            dl.download_many(reqs)
        probes = [r for r in a.requests if r.headers.get("range", "").startswith("bytes=0-")]
        assert len(probes) == 1
