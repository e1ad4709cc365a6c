"""Plugins: every hook through a sample plugin, and the two shipped plugins (download
statistics, repodata patching) end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.server.clients import rattler_install
from tests.server.servers import NajaServer

pytest.importorskip("rattler")


@pytest.fixture(scope="module")
def psrv(backend, tmp_path_factory, request):
    db = ["--database", request.getfixturevalue("postgres").new_database()] if backend == "postgresql" else []
    srv = NajaServer(tmp_path_factory.mktemp("plug") / "data", "--plugin", "tests.server.sample_plugin", *db)
    yield srv
    srv.stop()


def test_hooks_of_a_third_party_plugin(psrv, pkgs) -> None:
    p = pkgs("hooked", "1.0")
    with psrv.client("sso-anything") as c:  # accepted by the plugin's authentication backend
        assert c.get("/api/me").json()["username"] == "admin"
        assert c.post("/api/channels/hk/files/", files={"files": (p.name, p.read_bytes())}).status_code == 201
        events = c.get("/api/sample/events").json()
        assert ["upload", "hk", "noarch", p.name, "admin"] in events
        assert ["index", "hk", "noarch", 1] in events
        assert c.get("/ui/sample").text == "<h1>Sample plugin page</h1>"
    with psrv.client("sso") as c:
        assert c.get("/api/me").status_code == 401


def test_download_statistics(psrv, pkgs) -> None:
    p = pkgs("counted", "1.0")
    with psrv.client() as c:
        assert c.post("/api/channels/dl/files/", files={"files": (p.name, p.read_bytes())}).status_code == 201
        for _ in range(3):
            assert c.get(f"/get/dl/noarch/{p.name}").status_code == 200
        c.get("/get/dl/noarch/repodata.json")  # not a package download
        stats = c.get("/api/stats/dl").json()
    assert stats["total"] == 3
    assert stats["files"] == [{"subdir": "noarch", "filename": p.name, "count": 3}]


def test_repodata_patching(psrv, pkgs, tmp_path: Path) -> None:
    with psrv.client() as c:
        for name, version, deps in (("lib", "1.0", []), ("lib", "2.0", []), ("app", "1.0", ["lib"])):
            p = pkgs(name, version, depends=deps)
            assert c.post("/api/channels/patched/files/", files={"files": (p.name, p.read_bytes())}).status_code == 201
        patch = {
            "patch_instructions_version": 1,
            "packages.conda": {"app-1.0-0.conda": {"depends": ["lib <2"], "license": "BSD-3-Clause"}},
            "remove": [],
            "revoke": [],
        }
        r = c.put("/api/channels/patched/patches/noarch", content=json.dumps(patch))
        assert r.status_code == 200, r.text
        rd = c.get("/get/patched/noarch/repodata.json").json()
        assert rd["packages.conda"]["app-1.0-0.conda"]["depends"] == ["lib <2"]
        assert rd["packages.conda"]["app-1.0-0.conda"]["license"] == "BSD-3-Clause"
        # The stored package is untouched; only the index changed.
        records, _ = rattler_install(tmp_path, psrv.channel("patched"), "app")
        assert {r.name.normalized: str(r.version) for r in records} == {"app": "1.0", "lib": "1.0"}
        # A later upload keeps the patch applied.
        p = pkgs("other", "1.0")
        c.post("/api/channels/patched/files/", files={"files": (p.name, p.read_bytes())})
        rd = c.get("/get/patched/noarch/repodata.json").json()
        assert rd["packages.conda"]["app-1.0-0.conda"]["depends"] == ["lib <2"]
        r = c.put("/api/channels/patched/patches/noarch", content=json.dumps({"remove": ["lib-2.0-0.conda"]}))
        assert "lib-2.0-0.conda" not in c.get("/get/patched/noarch/repodata.json").json()["packages.conda"]
        assert c.put("/api/channels/patched/patches/noarch", content=b"not json").status_code == 422


def test_zchunk_plugin(tmp_path: Path, pkgs) -> None:
    from naja.repodata.zck import decode_zchunk

    srv = NajaServer(tmp_path / "data", "--plugin", "naja.server.plugins.zchunk")
    try:
        with srv.client() as c:
            for v in ("1.0", "2.0"):
                p = pkgs("zpkg", v)
                assert c.post("/api/channels/zc/files/", files={"files": (p.name, p.read_bytes())}).status_code == 201
            zck = c.get("/get/zc/noarch/repodata.json.zck")
            assert zck.status_code == 200
            assert decode_zchunk(zck.content) == c.get("/get/zc/noarch/repodata.json").content
    finally:
        srv.stop()
