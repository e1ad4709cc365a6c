"""Bounded load on loopback: 200 concurrent clients GET repodata and shards with zero errors
(the full measurement with p99 and req/s is bench/bench_server.py)."""

from __future__ import annotations

from pathlib import Path

from tests.server.load import paths_for, run_load
from tests.server.seed import seed_channel
from tests.server.servers import NajaServer


def test_200_concurrent_clients_zero_errors(tmp_path: Path) -> None:
    srv = NajaServer(tmp_path / "data", "--workers", "2")
    try:
        with srv.client() as c:
            assert c.post("/api/channels", json={"name": "load"}).status_code == 201
            seed_channel(f"sqlite:///{srv.data_dir}/naja-server.sqlite", "load", 500, names=200)
            assert c.post("/api/channels/load/reindex").status_code == 200
            assert c.post("/api/channels", json={"name": "loadpriv", "private": True}).status_code == 201
            seed_channel(f"sqlite:///{srv.data_dir}/naja-server.sqlite", "loadpriv", 300, names=50)
            assert c.post("/api/channels/loadpriv/reindex").status_code == 200
        result = run_load(srv.url, paths_for(srv.url, "load"), clients=200, per_client=20)
        print("\npublic:", result.summary())
        assert result.requests == 4000 and result.errors == []
        from tests.server.servers import ADMIN_TOKEN

        priv = [p.replace("/get/", f"/t/{ADMIN_TOKEN}/get/", 1) for p in paths_for(srv.url + f"/t/{ADMIN_TOKEN}", "loadpriv")]
        result = run_load(srv.url, priv, clients=200, per_client=10)
        print("private:", result.summary())
        assert result.requests == 2000 and result.errors == []
    finally:
        srv.stop()
