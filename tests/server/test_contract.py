"""The server's contract: `naja upload` to `/get/CHANNEL`, and py-rattler and naja install
from public and private channels; bad uploads get a 4xx and leave nothing behind."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import httpx
import pytest
import zstandard

from naja.repodata.shards import decode_index, decode_shard
from tests.index.pkgfactory import member, zip_bomb
from tests.server.clients import naja, naja_create, rattler_install
from tests.server.servers import ADMIN_TOKEN

pytest.importorskip("rattler")


def _repodata(client, channel: str, subdir: str = "noarch") -> dict:
    r = client.get(f"/get/{channel}/{subdir}/repodata.json")
    assert r.status_code == 200, r.text
    return r.json()


def test_naja_upload_then_both_clients_install(server, admin, pkgs, tmp_path: Path) -> None:
    lib = pkgs("libthing", "2.1", "0", subdir="linux-64", ext=".tar.bz2")
    app = pkgs("thingapp", "1.0", "0", depends=["libthing >=2"])
    res = naja("upload", "--to", server.channel("pub"), "--token", ADMIN_TOKEN, str(lib), str(app))
    assert res.returncode == 0, res.stderr
    assert "uploaded linux-64/libthing-2.1-0.tar.bz2 to pub" in res.stdout
    assert admin.get("/api/channels/pub").json()["private"] is False
    rd = _repodata(admin, "pub", "linux-64")
    assert list(rd["packages"]) == ["libthing-2.1-0.tar.bz2"]
    assert rd["packages"]["libthing-2.1-0.tar.bz2"]["sha256"] == hashlib.sha256(lib.read_bytes()).hexdigest()
    zst = admin.get("/get/pub/linux-64/repodata.json.zst")
    assert json.loads(zstandard.ZstdDecompressor().decompress(zst.content)) == rd

    records, prefix = rattler_install(tmp_path / "r", server.channel("pub"), "thingapp")
    assert {r.name.normalized for r in records} == {"thingapp", "libthing"}
    assert (prefix / "share" / "libthing" / "hello.txt").read_text() == "hello from libthing 2.1\n"
    # rattler took the CEP-16 route: it cached our shard index and shards.
    assert list((tmp_path / "r" / "rattler-gw").glob("*.shards-cache-v1"))
    assert list((tmp_path / "r" / "rattler-gw" / "shards-v1").glob("*.msgpack"))

    res, prefix = naja_create(tmp_path / "n", server.channel("pub"), "thingapp")
    assert res.returncode == 0, res.stdout + res.stderr
    assert (prefix / "share" / "thingapp" / "hello.txt").is_file()
    assert (prefix / "share" / "libthing" / "hello.txt").is_file()


def test_shards_served(server, admin, pkgs) -> None:
    for v in ("1.0", "1.1"):
        r = admin.post("/api/channels/shardy/files/", files={"files": (f"sh-{v}-0.conda", pkgs("sh", v).read_bytes())})
        assert r.status_code == 201, r.text
    idx = decode_index(admin.get("/get/shardy/noarch/repodata_shards.msgpack.zst").content)
    assert set(idx.shards) == {"sh"}
    raw = admin.get(f"/get/shardy/noarch/shards/{idx.shards['sh'].hex()}.msgpack.zst").content
    assert hashlib.sha256(raw).digest() == idx.shards["sh"]
    assert set(decode_shard(raw).packages_conda) == {"sh-1.0-0.conda", "sh-1.1-0.conda"}
    # Every subdir answers, even without packages (clients always ask for noarch).
    assert _repodata(admin, "shardy", "win-64")["packages.conda"] == {}
    assert admin.get("/get/shardy/not..valid/repodata.json").status_code == 404
    assert admin.get("/get/nochannel/noarch/repodata.json").status_code == 404


def test_private_channel_on_every_route(server, admin, pkgs, tmp_path: Path) -> None:
    assert admin.post("/api/channels", json={"name": "secret", "private": True}).status_code == 201
    p = pkgs("hidden", "1.0")
    assert admin.post("/api/channels/secret/files/", files={"files": (p.name, p.read_bytes())}).status_code == 201
    idx = decode_index(admin.get("/get/secret/noarch/repodata_shards.msgpack.zst").content)
    shard = f"shards/{idx.shards['hidden'].hex()}.msgpack.zst"
    paths = ["repodata.json", "repodata.json.zst", "repodata_shards.msgpack.zst", shard, p.name]
    with server.client(None) as anon:
        for path in paths:
            assert anon.get(f"/get/secret/noarch/{path}").status_code == 401, path
            assert anon.get(f"/t/wrong-token/get/secret/noarch/{path}").status_code == 401, path
            assert anon.get(f"/t/{ADMIN_TOKEN}/get/secret/noarch/{path}").status_code == 200, path
            assert anon.get(f"/get/secret/noarch/{path}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 200
            assert anon.get(f"/get/secret/noarch/{path}", auth=("x", ADMIN_TOKEN)).status_code == 200
        assert anon.get("/api/channels/secret").status_code == 401
        assert "secret" not in [c["name"] for c in anon.get("/api/channels").json()]

    token_url = f"{server.url}/t/{ADMIN_TOKEN}/get/secret"
    records, prefix = rattler_install(tmp_path / "r", token_url, "hidden")
    assert [r.name.normalized for r in records] == ["hidden"]
    # naja with its credential lookup (the form `naja auth` stores): bearer and conda token.
    for n, cred in enumerate((f"bearer:{ADMIN_TOKEN}", f"conda:{ADMIN_TOKEN}")):
        res, prefix = naja_create(tmp_path / f"n{n}", server.channel("secret"), "hidden",
                                  env={"NAJA_AUTH_127_0_0_1": cred})
        assert res.returncode == 0, res.stdout + res.stderr
        assert (prefix / "share" / "hidden" / "hello.txt").is_file()
    res, _ = naja_create(tmp_path / "n-anon", server.channel("secret"), "hidden")
    assert res.returncode != 0 and "401" in res.stderr


def _nothing_stored(server, admin, channel: str, filename: str) -> None:
    rd = _repodata(admin, channel)
    assert filename not in rd["packages.conda"] and filename not in rd["packages"]
    assert admin.get(f"/get/{channel}/noarch/{filename}").status_code == 404
    assert not list((server.data_dir / "files").rglob(filename))
    assert not list((server.data_dir / "tmp").glob("*")), "temporary upload left behind"


BAD = [
    ("traversal", lambda pk: pk("trav", extra_members=[member("../../etc/evil")]), 422),
    ("abs-symlink", lambda pk: pk("lnk", extra_members=[member("bin/x", kind=b"2", link="/etc/passwd")]), 422),
    ("device", lambda pk: pk("dev", extra_members=[member("dev/x", kind=b"3")]), 422),
    ("mismatch", lambda pk: pk("mism", "1.0").rename(pk("mism", "1.0").with_name("mism-9.9-0.conda")) or pk("mism", "1.0").with_name("mism-9.9-0.conda"), 422),
]


@pytest.mark.parametrize(("case", "make", "status"), BAD, ids=[b[0] for b in BAD])
def test_bad_upload_stores_nothing(server, admin, pkgs, case, make, status) -> None:
    admin.post("/api/channels", json={"name": "guarded"})
    p = make(pkgs)
    r = admin.post("/api/channels/guarded/files/", files={"files": (p.name, p.read_bytes())})
    assert r.status_code == status, r.text
    _nothing_stored(server, admin, "guarded", p.name)


def test_malformed_truncated_bombs_and_odd_names(server, admin, pkgs, tmp_path: Path, shared: Path) -> None:
    admin.post("/api/channels", json={"name": "guarded"})
    good = pkgs("fine", "1.0", files={"blob.bin": bytes(range(256)) * 400})
    cases: list[tuple[str, bytes, int]] = [
        ("fine-1.0-0.conda", good.read_bytes()[: good.stat().st_size // 2], 422),
        ("fine-1.0-0.conda", b"junk" * 100, 422),
        ("../../fine-1.0-0.conda", good.read_bytes(), 422),
        ("fine-1.0-0.conda/../x", good.read_bytes(), 422),
        ("fine.conda", good.read_bytes(), 422),
        ("fine-1.0-0.exe", good.read_bytes(), 422),
        ("", good.read_bytes(), 422),
        ("fine-1.0-0.conda%00", good.read_bytes(), 422),
    ]
    malformed = next((shared / "corpora" / "packages" / "malformed").glob("*.conda"))
    cases.append((malformed.name, malformed.read_bytes(), 422))
    bomb = zip_bomb(tmp_path / "bomb-1.0-0.tar.bz2", unpacked=48 << 20)
    cases.append((bomb.name, bomb.read_bytes(), 422))
    big = tmp_path / "big-1.0-0.conda"
    big.write_bytes(b"\0" * (5 << 20))
    cases.append((big.name, big.read_bytes(), 413))
    for name, data, status in cases:
        r = admin.post("/api/channels/guarded/files/", files={"files": (name, data)})
        assert r.status_code in (status, 400) if not name else r.status_code == status, (name, r.status_code, r.text)
        if name and "/" not in name:
            _nothing_stored(server, admin, "guarded", name)
    r = admin.post("/api/channels/guarded/upload/big-1.0-0.conda", content=big.read_bytes())
    assert r.status_code == 413
    _nothing_stored(server, admin, "guarded", "big-1.0-0.conda")

    # Without a Content-Length (chunked) the body is cut off at the limit, before parsing.
    def chunks():
        for _ in range(12):
            yield b"\0" * (1 << 20)

    try:
        r = admin.post("/api/channels/guarded/upload/big-1.0-0.conda", content=chunks())
        assert r.status_code >= 400
    except httpx.HTTPError:
        pass  # the server may close the connection instead of answering
    _nothing_stored(server, admin, "guarded", "big-1.0-0.conda")


def test_conflict_force_delete_and_raw_upload(server, admin, pkgs) -> None:
    p = pkgs("dup", "1.0")
    url = "/api/channels/dups/files/"
    assert admin.post(url, files={"files": (p.name, p.read_bytes())}).status_code == 201
    assert admin.post(url, files={"files": (p.name, p.read_bytes())}).status_code == 409
    assert admin.post(url, params={"force": "true"}, files={"files": (p.name, p.read_bytes())}).status_code == 201
    # The raw protocol of rattler's `upload quetz`.
    q = pkgs("dup", "2.0")
    digest = hashlib.sha256(q.read_bytes()).hexdigest()
    r = admin.post(f"/api/channels/dups/upload/{q.name}", params={"sha256": digest}, content=q.read_bytes())
    assert r.status_code == 201, r.text
    r = admin.post(f"/api/channels/dups/upload/{q.name}", params={"sha256": "0" * 64, "force": "true"}, content=q.read_bytes())
    assert r.status_code == 422
    assert set(_repodata(admin, "dups")["packages.conda"]) == {"dup-1.0-0.conda", "dup-2.0-0.conda"}
    assert admin.delete(f"/api/channels/dups/packages/noarch/{p.name}").status_code == 204
    assert set(_repodata(admin, "dups")["packages.conda"]) == {"dup-2.0-0.conda"}
    assert admin.get(f"/get/dups/noarch/{p.name}").status_code == 404
    with admin.stream("GET", f"/get/dups/noarch/{q.name}") as resp:
        assert resp.status_code == 200


def test_upload_cli_errors(server, pkgs) -> None:
    p = pkgs("clierr", "1.0")
    res = naja("upload", "--to", server.channel("clichan"), str(p), env={"NAJA_TOKEN": ""})
    assert res.returncode != 0 and "token" in res.stderr.lower()
    res = naja("upload", "--to", server.channel("clichan"), "--token", "bad", str(p))
    assert res.returncode != 0 and "invalid or expired" in res.stderr
    res = naja("upload", "--to", "ftp://x/y", "--token", "t", str(p))
    assert res.returncode == 2 and "no uploader" in res.stderr
    res = naja("upload", "--to", server.channel("clichan"), str(p), env={"NAJA_TOKEN": ADMIN_TOKEN})
    assert res.returncode == 0, res.stderr
    res = naja("upload", "--to", server.channel("clichan"), str(p), env={"NAJA_TOKEN": ADMIN_TOKEN})
    assert res.returncode == 1 and "--force" in res.stderr


def test_upload_is_installable_immediately(server, admin, pkgs, tmp_path: Path) -> None:
    p = pkgs("quick", "1.0")
    t0 = time.perf_counter()
    assert admin.post("/api/channels/fast/files/", files={"files": (p.name, p.read_bytes())}).status_code == 201
    assert p.name in _repodata(admin, "fast")["packages.conda"]
    assert time.perf_counter() - t0 < 1.0


def test_rattler_build_upload_quetz_protocol(server, admin, pkgs) -> None:
    """rattler-build's (and pixi's) `upload quetz` speaks to the server unchanged."""
    import subprocess
    import sys

    p = pkgs("viaquetz", "1.0")
    code = (
        "import os, sys, rattler_build\n"
        "try:\n"
        f"    rattler_build.upload_package_to_quetz([{str(p)!r}], {server.url!r}, 'quetzchan', api_key={ADMIN_TOKEN!r})\n"
        "except Exception as e:\n"
        "    print(e); sys.stdout.flush(); os._exit(1)\n"
        "os._exit(0)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert p.name in _repodata(admin, "quetzchan")["packages.conda"]
    res = subprocess.run([sys.executable, "-c", code.replace(ADMIN_TOKEN, "wrong")], capture_output=True, text=True, timeout=120)
    assert res.returncode == 1


def test_first_start_prints_a_generated_admin_password_once(tmp_path: Path) -> None:
    import re

    from tests.server.servers import NajaServer

    srv = NajaServer(tmp_path / "data", env={"NAJA_SERVER_ADMIN_TOKEN": ""})
    try:
        m = re.search(r"user 'admin' with password (\S+) \(shown only once\)", srv.log.read_text())
        assert m, srv.log.read_text()
        with srv.client(None) as c:
            assert c.post("/api/login", json={"username": "admin", "password": m[1]}).status_code == 200
    finally:
        srv.stop()
    again = NajaServer(tmp_path / "data", env={"NAJA_SERVER_ADMIN_TOKEN": ""})
    try:
        assert "password" not in again.log.read_text()
        with again.client(None, auth=("admin", m[1])) as c:
            assert c.get("/api/me").json()["is_admin"] is True
    finally:
        again.stop()


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    res = naja("server", "--data-dir", str(tmp_path / "d"), "--database",
               "postgresql://u:hunter2@127.0.0.1:1/db", "--port", "1", timeout=60)
    assert res.returncode == 1
    assert "cannot open" in res.stderr and "Connection refused" in res.stderr
    assert "hunter2" not in res.stderr
