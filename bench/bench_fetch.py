"""Download every package of the benchmark channel from nginx on loopback, side by side.

    .venv/bin/python bench/bench_fetch.py [--rounds 5] [--connections 4] [--out bench/results/fetch.md]

Contenders, same run, interleaved round by round (median reported):
  naja         naja.fetch.Downloader.download_many, sha256 verified while streaming
  naja-http2   the same with FetchConfig(http2=True) (HTTPS only)
  naja-nohash  naja without any digest (size checked only): the same work as py-rattler/curl
  py-rattler   rattler.package_streaming.download_to_path (py-rattler 0.28's package download
               API) for every file, `connections` at a time on one rattler Client; no digest check
  py-rattler+sha256  the same, then each file's SHA-256 computed by hashlib in a worker thread
               (overlapping the other downloads) and compared with the index: fetch-and-verify,
               the work naja does, with py-rattler moving the bytes
  curl         `curl --parallel --parallel-max N` (the floor: C, no digest check)
and naja and curl again over HTTPS (nginx TLS; curl negotiates HTTP/2, naja HTTP/1.1;
py-rattler's Python API cannot be given the test CA, so it sits that one out).

The channel comes from ../shared/bench/make_bench_channel.py --zstd-level 3, generated once
into /dev/shm and reused; downloads go to /dev/shm too, so the disk is not what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.conftest import SHARED  # noqa: E402
from tests.servers.nginx import NginxServer  # noqa: E402

from naja.fetch import Downloader, DownloadRequest, FetchConfig  # noqa: E402

CHANNEL_DIR = Path("/dev/shm/naja-fetch-bench")
OUT_DIR = Path("/dev/shm/naja-bench-fetch-out")


def ensure_channel() -> Path:
    root = CHANNEL_DIR / "bench"
    if (root / "noarch" / "repodata.json").exists() and (root / "linux-64" / "repodata.json").exists():
        return root
    maker = SHARED / "bench" / "make_bench_channel.py"
    print(f"generating the bench channel into {CHANNEL_DIR} ...", file=sys.stderr)
    subprocess.run(
        [sys.executable, str(maker), "--zstd-level", "3", str(CHANNEL_DIR)], check=True
    )
    return root


def packages(root: Path) -> list[tuple[str, dict]]:
    out = []
    for subdir in ("linux-64", "noarch"):
        repodata = json.loads((root / subdir / "repodata.json").read_text())
        for key in ("packages", "packages.conda"):
            for name, record in repodata.get(key, {}).items():
                out.append((f"{subdir}/{name}", record))
    return out


def fresh_out() -> Path:
    shutil.rmtree(OUT_DIR, ignore_errors=True)
    OUT_DIR.mkdir(parents=True)
    return OUT_DIR


def run_naja(
    base: str,
    pkgs: list[tuple[str, dict]],
    conns: int,
    ca: Path | None,
    http2: bool = False,
    verify: bool = True,
) -> None:
    out = fresh_out()
    requests = [
        DownloadRequest(
            f"{base}/{name}",
            out / name,
            sha256=rec["sha256"] if verify else None,
            size=rec["size"],
        )
        for name, rec in pkgs
    ]
    config = FetchConfig(
        max_connections=conns,
        max_connections_per_host=conns,
        ca_bundle=ca,
        trust_env=False,
        http2=http2,
        always_sha256=verify,
    )
    with Downloader(config) as dl:
        dl.download_many(requests)


def run_naja_h2(base: str, pkgs: list[tuple[str, dict]], conns: int, ca: Path | None) -> None:
    run_naja(base, pkgs, conns, ca, http2=True)


def run_naja_nohash(base: str, pkgs: list[tuple[str, dict]], conns: int, ca: Path | None):
    run_naja(base, pkgs, conns, ca, verify=False)


def run_rattler(
    base: str, pkgs: list[tuple[str, dict]], conns: int, ca: Path | None, verify: bool = False
) -> None:
    from rattler.networking import Client
    from rattler.package_streaming import download_to_path

    out = fresh_out()
    for sub in ("linux-64", "noarch"):
        (out / sub).mkdir()

    async def main() -> None:
        client = Client()
        gate = asyncio.Semaphore(conns)

        async def one(name: str, rec: dict) -> None:
            async with gate:
                await download_to_path(client, f"{base}/{name}", out / name)
            if verify:
                # Hashed off the event loop (hashlib releases the GIL), so the next downloads
                # proceed meanwhile, as naja's download threads do.
                got = await asyncio.to_thread(sha256_file, out / name)
                if got != rec["sha256"]:
                    raise SystemExit(f"{name}: sha256 {got}, expected {rec['sha256']}")

        await asyncio.gather(*(one(name, rec) for name, rec in pkgs))

    asyncio.run(main())


def run_rattler_sha256(base: str, pkgs: list[tuple[str, dict]], conns: int, ca: Path | None):
    run_rattler(base, pkgs, conns, ca, verify=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as fh:
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        while n := fh.readinto(buf):
            digest.update(view[:n])
    return digest.hexdigest()


def run_curl(base: str, pkgs: list[tuple[str, dict]], conns: int, ca: Path | None) -> None:
    out = fresh_out()
    config = out / "curl.cfg"
    lines = []
    for name, _ in pkgs:
        lines.append(f'url = "{base}/{name}"')
        lines.append(f'output = "{out / name}"')
    config.write_text("\n".join(lines) + "\n")
    cmd = ["curl", "-sS", "--fail", "--create-dirs", "--parallel", "--parallel-max", str(conns)]
    if ca is not None:
        cmd += ["--cacert", str(ca)]
    # curl 7.88 prints its parallel progress meter even with -s: keep stderr for failures.
    done = subprocess.run([*cmd, "-K", str(config)], stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit(f"curl failed: {done.stderr[-2000:]}")


def cpu_seconds() -> float:
    """User + system CPU of this process (its threads, py-rattler's runtime) and its children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def verify(pkgs: list[tuple[str, dict]]) -> None:
    for name, rec in pkgs:
        size = (OUT_DIR / name).stat().st_size
        if size != rec["size"]:
            raise SystemExit(f"{name}: {size} bytes, expected {rec['size']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "fetch.md")
    parser.add_argument("--no-https", action="store_true")
    args = parser.parse_args()

    root = ensure_channel()
    pkgs = packages(root)
    total = sum(rec["size"] for _, rec in pkgs)
    contenders = {
        "naja": run_naja,
        "naja-http2": run_naja_h2,
        "naja-nohash": run_naja_nohash,
        "py-rattler": run_rattler,
        "py-rattler+sha256": run_rattler_sha256,
        "curl": run_curl,
    }
    times: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    with NginxServer(root, workers=2) as server:
        schemes = [("http", server.url, None)]
        if not args.no_https:
            schemes.append(("https", server.https_url, server.ca_cert))
        for round_no in range(args.rounds):
            for scheme, base, ca in schemes:
                for name, run in contenders.items():
                    if ca is not None and name.startswith("py-rattler"):
                        # Its Python API takes no CA bundle (webpki/system roots only).
                        continue
                    if ca is None and name == "naja-http2":
                        continue
                    fresh_out()
                    c0 = cpu_seconds()
                    t0 = time.perf_counter()
                    run(base, pkgs, args.connections, ca)
                    elapsed = time.perf_counter() - t0
                    cpu.setdefault((scheme, name), []).append(cpu_seconds() - c0)
                    verify(pkgs)
                    times.setdefault((scheme, name), []).append(elapsed)
                    print(
                        f"round {round_no + 1} {scheme:5s} {name:10s} {elapsed:.3f}s "
                        f"{total / elapsed / 1e6:7.0f} MB/s cpu {cpu[(scheme, name)][-1]:.3f}s",
                        file=sys.stderr,
                    )
    shutil.rmtree(OUT_DIR, ignore_errors=True)

    lines = [
        "# naja.fetch vs py-rattler vs curl: download the bench channel from nginx on loopback",
        "",
        f"- {len(pkgs)} files (every package, `.conda` and `.tar.bz2`), {total / 1e6:.1f} MB, "
        f"{args.connections} parallel connections, median of {args.rounds} interleaved rounds",
        f"- machine: {os.cpu_count()} cores, {platform.platform()}, Python "
        f"{platform.python_version()}; channel and downloads on tmpfs (/dev/shm)",
        "- naja verifies sha256 while streaming; py-rattler (`package_streaming.download_to_path`)"
        " and curl do not check digests; `naja-nohash` is naja doing the same work as they do"
        " (no digest, size checked); `py-rattler+sha256` is py-rattler's download followed by a"
        " hashlib SHA-256 of each file in a worker thread, compared with the index (the work naja"
        " does: fetch and verify)",
        "- over https curl negotiates HTTP/2 with nginx; `naja` speaks HTTP/1.1 (its default),"
        " `naja-http2` is naja with `http2=True` (httpx + h2); py-rattler is left out there: its"
        " Python API takes no CA bundle for the self-signed test certificate",
        "",
        "| scheme | tool | median s | MB/s | naja / tool (throughput) | CPU s (user+sys) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for scheme in dict.fromkeys(s for s, _ in times):
        naja_t = statistics.median(times[(scheme, "naja")])
        for name in contenders:
            if (scheme, name) not in times:
                continue
            t = statistics.median(times[(scheme, name)])
            c = statistics.median(cpu[(scheme, name)])
            lines.append(
                f"| {scheme} | {name} | {t:.3f} | {total / t / 1e6:.0f} | {t / naja_t:.2f}x "
                f"| {c:.2f} |"
            )
    lines += [
        "",
        "`naja / tool` above 1 means naja is faster; the goal is ≥ 1 against py-rattler and "
        "≥ 0.83 (within 1.2x) against curl. CPU s is the CPU time the client spent (nginx not"
        " included): it depends far less on other load on the machine than the wall time.",
        f"Load average when the run ended: {os.getloadavg()[0]:.1f} (2 cores).",
        "",
        "Raw times (s): "
        + "; ".join(
            f"{s}/{n}: " + ", ".join(f"{t:.3f}" for t in ts) for (s, n), ts in times.items()
        ),
        "",
    ]
    # Hand-written notes below the marker survive a re-run.
    marker = "<!-- notes: kept across runs -->"
    old = args.out.read_text() if args.out.exists() else ""
    if marker in old:
        lines += [marker + old.split(marker, 1)[1].rstrip("\n"), ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    sys.stdout.flush()
    # py-rattler 0.28 can crash at interpreter exit.
    os._exit(0)


if __name__ == "__main__":
    main()
