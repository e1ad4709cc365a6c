"""Proxy channels: on-demand fetch and cache, stale-while-revalidate (no waiting on upstream,
no 504 for a cached index, even with upstream down) and retention of deleted packages."""

from __future__ import annotations

import functools
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from naja.index import index_channel
from tests.index.pkgfactory import make_package
from tests.server.clients import rattler_install
from tests.server.servers import NajaServer, free_port

pytest.importorskip("rattler")


class Upstream:
    """A plain static file server over a `naja index`ed folder, like any conda channel host."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[str] = []
        self.delay = 0.0
        up = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                up.requests.append(self.path)
                time.sleep(up.delay)
                super().do_GET()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), functools.partial(Handler, directory=str(root)))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_proxy_channel(tmp_path: Path) -> None:
    root = tmp_path / "upstream"
    make_package(root / "noarch" / "alpha-1.0-0.conda", "alpha")
    make_package(root / "linux-64" / "beta-1.0-0.tar.bz2", "beta", subdir="linux-64", depends=["alpha"])
    index_channel(root)
    up = Upstream(root)
    srv = NajaServer(tmp_path / "data", "--proxy-ttl", "1")
    try:
        with srv.client() as c:
            r = c.post("/api/channels", json={"name": "mirror", "mode": "proxy", "upstream": up.url})
            assert r.status_code == 201, r.text
            assert c.post("/api/channels", json={"name": "bad", "mode": "proxy", "upstream": "file:///etc"}).status_code == 422
            p = make_package(tmp_path / "x" / "gamma-1.0-0.conda", "gamma")
            assert c.post("/api/channels/mirror/files/", files={"files": (p.name, p.read_bytes())}).status_code == 409

        records, prefix = rattler_install(tmp_path / "r1", srv.channel("mirror"), "beta")
        assert {r.name.normalized for r in records} == {"alpha", "beta"}
        assert (prefix / "share" / "beta" / "hello.txt").is_file()
        with srv.client(None) as anon:
            # rattler read the shards; a plain client reads repodata.json (first fetch waits).
            assert anon.get("/get/mirror/noarch/repodata.json").status_code == 200
            assert anon.get("/get/mirror/linux-64/repodata.json").status_code == 200
        fetched = len(up.requests)

        # Upstream adds a package; the stale index is served at once and refreshed behind.
        make_package(root / "noarch" / "alpha-2.0-0.conda", "alpha", "2.0")
        (root / "noarch" / "alpha-1.0-0.conda").unlink()  # ... and deletes the old one
        index_channel(root)
        time.sleep(1.2)
        up.delay = 2.0
        with srv.client(None) as anon:
            t0 = time.perf_counter()
            stale = anon.get("/get/mirror/noarch/repodata.json")
            assert time.perf_counter() - t0 < 1.5, "the client waited on upstream"
            assert set(stale.json()["packages.conda"]) == {"alpha-1.0-0.conda"}
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                fresh = anon.get("/get/mirror/noarch/repodata.json").json()
                if "alpha-2.0-0.conda" in fresh["packages.conda"]:
                    break
                time.sleep(0.2)
            assert set(fresh["packages.conda"]) == {"alpha-2.0-0.conda"}
            up.delay = 0.0
            assert len(up.requests) > fetched

            # Retention: upstream deleted alpha 1.0; the cached file is still served.
            assert anon.get("/get/mirror/noarch/alpha-1.0-0.conda").status_code == 200

            # Upstream down: cached index and packages are served, never a 504.
            up.stop()
            time.sleep(1.2)
            for path in ("noarch/repodata.json", "linux-64/repodata.json", "noarch/alpha-1.0-0.conda"):
                assert anon.get(f"/get/mirror/{path}").status_code == 200, path
            assert anon.get("/get/mirror/noarch/never-1.0-0.conda").status_code == 502
        records, prefix = rattler_install(tmp_path / "r2", srv.channel("mirror"), "beta")
        assert {r.name.normalized for r in records} == {"alpha", "beta"}
    finally:
        srv.stop()
        up.stop() if up.thread.is_alive() else None


def test_proxy_points_shard_urls_at_itself(tmp_path: Path) -> None:
    import msgspec
    import zstandard

    from naja.repodata.shards import decode_index

    root = tmp_path / "upstream"
    make_package(root / "noarch" / "alpha-1.0-0.conda", "alpha")
    index_channel(root)
    # An upstream whose shard index names absolute URLs (as big CDNs do).
    path = root / "noarch" / "repodata_shards.msgpack.zst"
    index = msgspec.msgpack.decode(zstandard.ZstdDecompressor().decompress(path.read_bytes()))
    index["info"]["base_url"] = "https://elsewhere.invalid/noarch/"
    index["info"]["shards_base_url"] = "https://cdn.invalid/shards/"
    path.write_bytes(zstandard.ZstdCompressor(write_content_size=True).compress(msgspec.msgpack.encode(index)))
    up = Upstream(root)
    srv = NajaServer(tmp_path / "data")
    try:
        with srv.client() as c:
            c.post("/api/channels", json={"name": "px", "mode": "proxy", "upstream": up.url})
            idx = decode_index(c.get("/get/px/noarch/repodata_shards.msgpack.zst").content)
            assert (idx.info.base_url, idx.info.shards_base_url) == ("./", "./shards/")
            assert set(idx.shards) == {"alpha"}
    finally:
        srv.stop()
        up.stop()


def test_mirror_channel_sync_job(tmp_path: Path) -> None:
    root = tmp_path / "upstream"
    make_package(root / "noarch" / "alpha-1.0-0.conda", "alpha")
    make_package(root / "linux-64" / "beta-1.0-0.tar.bz2", "beta", subdir="linux-64", depends=["alpha"])
    make_package(root / "noarch" / "tampered-1.0-0.conda", "tampered")
    index_channel(root)
    # Upstream serves a file that does not match its own index: the mirror must refuse it.
    make_package(root / "noarch" / "tampered-1.0-0.conda", "tampered", files={"x": b"changed"})
    up = Upstream(root)
    srv = NajaServer(tmp_path / "data")
    try:
        with srv.client() as c:
            assert c.post("/api/channels", json={"name": "mir", "mode": "mirror", "upstream": up.url}).status_code == 201
            res = c.post("/api/channels/mir/sync", params={"wait": "true"}).json()
            assert res["state"] == "done" and res["added"] == 2, res
            assert [f.split(":")[0] for f in res["failed"]] == ["noarch/tampered-1.0-0.conda"]
            records, _ = rattler_install(tmp_path / "r", srv.channel("mir"), "beta")
            assert {r.name.normalized for r in records} == {"alpha", "beta"}

            (root / "noarch" / "alpha-1.0-0.conda").unlink()
            make_package(root / "noarch" / "alpha-2.0-0.conda", "alpha", "2.0")
            (root / "noarch" / "tampered-1.0-0.conda").unlink()
            index_channel(root)
            job = c.post("/api/channels/mir/sync", json={"subdirs": ["noarch"]}).json()["job"]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                status = c.get(f"/api/jobs/{job}").json()
                if status["state"] in ("done", "failed"):
                    break
                time.sleep(0.2)
            assert status["state"] == "done" and status["added"] == 1 and status["kept"] == 1, status
            rd = c.get("/get/mir/noarch/repodata.json").json()
            # Retention: alpha 1.0 stays although upstream removed it.
            assert set(rd["packages.conda"]) == {"alpha-1.0-0.conda", "alpha-2.0-0.conda"}
            assert c.post("/api/channels/mir/files/", files={"files": ("a-1-0.conda", b"x")}).status_code == 409
            assert c.get("/api/jobs/nosuchjob").status_code == 404
    finally:
        srv.stop()
        up.stop()
