"""A package uploaded to a 10k-package channel is in the index within 1 s and installable."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.server.clients import rattler_install
from tests.server.seed import seed_channel

pytest.importorskip("rattler")


def test_upload_to_10k_channel_is_installable_within_1s(server, admin, backend, pkgs, tmp_path: Path, request) -> None:
    assert admin.post("/api/channels", json={"name": "tenk"}).status_code == 201
    url = (
        f"sqlite:///{server.data_dir}/naja-server.sqlite"
        if backend == "sqlite"
        else server.proc.args[server.proc.args.index("--database") + 1]
    )
    seed_channel(url, "tenk", 10_000)
    # A real 10k channel has its index published already: publish the seeded one first.
    assert admin.post("/api/channels/tenk/reindex").status_code == 200
    timings = []
    for i in range(3):
        p = pkgs("fresh", f"{i}.0")
        t0 = time.perf_counter()
        r = admin.post("/api/channels/tenk/files/", files={"files": (p.name, p.read_bytes())})
        assert r.status_code == 201, r.text
        rd = admin.get("/get/tenk/noarch/repodata.json").json()
        timings.append(time.perf_counter() - t0)
        assert p.name in rd["packages.conda"] and len(rd["packages.conda"]) == 10_001 + i
    request.node.user_properties.append(("upload_to_visible_s", timings))
    print(f"\n{backend}: upload -> in the index on a 10k channel: {[round(t, 3) for t in timings]} s")
    # Under 1 s; the slack on the worst of three is for a loaded 2-core CI machine.
    assert sorted(timings)[1] < 1.0 and max(timings) < 2.0
    records, prefix = rattler_install(tmp_path, server.channel("tenk"), "fresh=2.0")
    assert [str(r.version) for r in records] == ["2.0"]
    assert (prefix / "share" / "fresh" / "hello.txt").is_file()
