"""naja server under load and at scale, on loopback. Writes bench/results/server.md.

1. Bounded load: C concurrent clients (default 200) each issue R GETs (repodata.json, .zst,
   the shard index, shards) against a channel of 1,000 packages; zero errors expected; p50,
   p99 and requests/s, for 1 and 2 uvicorn workers.
2. Upload latency on a 10k-package channel: time from the upload request to the package being
   in repodata.json (what "installable" needs), SQLite and files.

Usage: .venv/bin/python bench/bench_server.py [--clients 200] [--per-client 25]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.index.pkgfactory import make_package  # noqa: E402
from tests.server.load import paths_for, run_load  # noqa: E402
from tests.server.seed import seed_channel  # noqa: E402
from tests.server.servers import ADMIN_TOKEN, NajaServer  # noqa: E402


def load_case(tmp: Path, workers: int, clients: int, per_client: int, private: bool) -> dict:
    srv = NajaServer(tmp / f"load-{workers}-{private}", "--workers", str(workers))
    try:
        with srv.client() as c:
            c.post("/api/channels", json={"name": "load", "private": private})
            seed_channel(f"sqlite:///{srv.data_dir}/naja-server.sqlite", "load", 1000, names=200)
            c.post("/api/channels/load/reindex")
        headers = {"X-API-Key": ADMIN_TOKEN} if private else {}
        paths = paths_for(srv.url, "load", headers=headers)
        run_load(srv.url, paths, clients=20, per_client=5, headers=headers)  # warm up
        return run_load(srv.url, paths, clients=clients, per_client=per_client, headers=headers).summary()
    finally:
        srv.stop()


def upload_case(tmp: Path, uploads: int = 10) -> list[float]:
    srv = NajaServer(tmp / "tenk")
    try:
        with srv.client() as c:
            c.post("/api/channels", json={"name": "tenk"})
            seed_channel(f"sqlite:///{srv.data_dir}/naja-server.sqlite", "tenk", 10_000)
            c.post("/api/channels/tenk/reindex")
            out = []
            for i in range(uploads):
                p = make_package(tmp / "pk" / f"fresh-{i}.0-0.conda", "fresh", f"{i}.0")
                t0 = time.perf_counter()
                r = c.post("/api/channels/tenk/files/", files={"files": (p.name, p.read_bytes())})
                assert r.status_code == 201, r.text
                assert p.name in c.get("/get/tenk/noarch/repodata.json").json()["packages.conda"]
                out.append(time.perf_counter() - t0)
            return out
    finally:
        srv.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--per-client", type=int, default=25)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "server.md"))
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="naja-bench-server-") as d:
        tmp = Path(d)
        loads = {
            (w, private): load_case(tmp, w, args.clients, args.per_client, private)
            for w, private in ((1, False), (2, False), (2, True))
        }
        ups = upload_case(tmp)
    load_after = os.getloadavg()[0]
    lines = [
        "# naja server: load and upload latency",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}; load average {load_before:.1f} before, {load_after:.1f} after "
        "(other benchmarks shared the machine). Loopback only; client and server on the same cores.",
        "",
        f"## Bounded load: {args.clients} concurrent clients × {args.per_client} GETs",
        "",
        "Channel of 1,000 packages (200 names); mix: 10% repodata.json (~0.5 MB), 20% .zst, "
        "20% shard index, 50% shards; SQLite, local files. Client: one keep-alive HTTP/1.1 "
        "connection per client on asyncio/uvloop with hand-written requests (httpx would spend "
        "~4 ms CPU per request and measure itself); private = API key on every request.",
        "",
        "| workers | channel | requests | errors | req/s | p50 ms | p99 ms | max ms | MB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (w, private), s in loads.items():
        lines.append(
            f"| {w} | {'private' if private else 'public'} | {s['requests']} | {s['errors']} | {s['req_per_s']} | {s['p50_ms']} | "
            f"{s['p99_ms']} | {s['max_ms']} | {s['MB']} |"
        )
    lines += [
        "",
        "## Upload → in the index, 10,000-package channel",
        "",
        "Seeded rows (2,000 names), index published first; then uploads of a new package, timed "
        "from the POST to repodata.json listing it (SQLite, local files, 1 worker).",
        "",
        f"- median {statistics.median(ups) * 1e3:.0f} ms, max {max(ups) * 1e3:.0f} ms over {len(ups)} uploads",
        f"- all: {', '.join(f'{u * 1e3:.0f}' for u in ups)} ms",
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
