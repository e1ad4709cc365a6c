"""The server and `naja index` publish the same bytes for the same packages (one writer):
every real package of the corpus uploaded over the API vs a folder indexed locally."""

from __future__ import annotations

import shutil
from pathlib import Path

from naja.index import index_channel, inspect_package
from naja.index.errors import InvalidPackageError
from tests.server.servers import NajaServer


def test_server_index_equals_naja_index(tmp_path: Path, shared: Path) -> None:
    local = tmp_path / "local"
    files = []
    for f in sorted((shared / "corpora" / "packages").rglob("*.conda")) + sorted((shared / "corpora" / "packages").rglob("*.tar.bz2")):
        try:
            meta = inspect_package(f, full=False)
        except InvalidPackageError:
            continue
        subdir = meta.subdir or ("noarch" if meta.index.get("noarch") else None)
        if subdir is None:
            continue  # the server refuses a package that names no subdir
        target = local / subdir / f.name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, target)
            files.append(target)
    index_channel(local)
    srv = NajaServer(tmp_path / "data")
    try:
        with srv.client() as c:
            for f in files:
                r = c.post("/api/channels/corpus/files/", files={"files": (f.name, f.read_bytes())})
                assert r.status_code == 201, (f.name, r.text)
            for subdir in sorted({f.parent.name for f in files}):
                for name in ("repodata.json", "repodata.json.zst", "repodata_shards.msgpack.zst"):
                    served = c.get(f"/get/corpus/{subdir}/{name}").content
                    assert served == (local / subdir / name).read_bytes(), f"{subdir}/{name}"
    finally:
        srv.stop()
