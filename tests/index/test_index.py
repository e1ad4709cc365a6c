"""`naja index` on real packages: repodata, .zst and shards that py-rattler and naja read."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import msgspec
import pytest
import zstandard

from naja.index import index_channel, inspect_package
from naja.index.errors import InvalidPackageError
from naja.repodata.shards import decode_index, decode_shard
from tests.index.pkgfactory import make_package, member, zip_bomb

PACKAGES = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "packages"


@pytest.fixture
def channel(tmp_path: Path, shared: Path) -> Path:
    root = tmp_path / "channel"
    pk = shared / "corpora" / "packages"
    for sd in ("linux-64", "osx-64", "win-64"):
        shutil.copytree(pk / "conda-tests" / "conda_format_repo" / sd, root / sd)
        for f in (root / sd).glob("*repodata*"):
            f.unlink()
    (root / "noarch").mkdir()
    for f in (pk / "conda-tests" / "test-recipes" / "noarch").glob("*.conda"):
        shutil.copy(f, root / "noarch")
    return root


def _frame_has_size(data: bytes) -> bool:
    return zstandard.get_frame_parameters(data).content_size > 0


def test_index_matches_files_and_rattler(channel: Path) -> None:
    rattler = pytest.importorskip("rattler")
    results = {r.subdir: r for r in index_channel(channel)}
    assert set(results) == {"linux-64", "noarch", "osx-64", "win-64"}
    assert all(not r.errors for r in results.values())
    for sd in results:
        d = channel / sd
        repodata = json.loads((d / "repodata.json").read_bytes())
        assert repodata["info"]["subdir"] == sd
        assert json.loads(zstandard.ZstdDecompressor().decompress((d / "repodata.json.zst").read_bytes())) == repodata
        assert _frame_has_size((d / "repodata.json.zst").read_bytes())
        entries = {**repodata["packages"], **repodata["packages.conda"]}
        files = sorted(p.name for p in d.iterdir() if p.name.endswith((".conda", ".tar.bz2")))
        assert sorted(entries) == files
        for fn, rec in entries.items():
            data = (d / fn).read_bytes()
            assert rec["sha256"] == hashlib.sha256(data).hexdigest()
            assert rec["md5"] == hashlib.md5(data).hexdigest()
            assert rec["size"] == len(data)
        sparse = rattler.SparseRepoData(rattler.Channel(channel.as_uri()), sd, str(d / "repodata.json"))
        names = sparse.package_names()
        assert sorted(names) == sorted({r["name"] for r in entries.values()})
        got = {r.file_name: r.sha256.hex() for n in names for r in sparse.load_records(rattler.PackageName(n))}
        # rattler hides a .tar.bz2 that has a .conda twin, as conda does.
        twins = {fn[: -len(".conda")] + ".tar.bz2" for fn in repodata["packages.conda"]}
        assert got == {fn: r["sha256"] for fn, r in entries.items() if fn not in twins}


def test_shards_are_cep16(channel: Path) -> None:
    index_channel(channel)
    d = channel / "noarch"
    raw = (d / "repodata_shards.msgpack.zst").read_bytes()
    assert _frame_has_size(raw)
    idx = decode_index(raw)
    assert idx.info.subdir == "noarch" and idx.info.shards_base_url == "./shards/"
    repodata = json.loads((d / "repodata.json").read_bytes())
    by_name: dict[str, set[str]] = {}
    for fn, rec in repodata["packages.conda"].items():
        by_name.setdefault(rec["name"], set()).add(fn)
    assert set(idx.shards) == set(by_name)
    for name, digest in idx.shards.items():
        assert isinstance(digest, bytes) and len(digest) == 32
        data = (d / "shards" / f"{digest.hex()}.msgpack.zst").read_bytes()
        assert hashlib.sha256(data).digest() == digest
        assert _frame_has_size(data)
        shard = decode_shard(data)
        assert set(shard.packages_conda) == by_name[name]
        for fn, rec in shard.packages_conda.items():
            assert rec.sha256 == bytes.fromhex(repodata["packages.conda"][fn]["sha256"])
        raw_shard = msgspec.msgpack.decode(zstandard.ZstdDecompressor().decompress(data))
        assert set(raw_shard) == {"packages", "packages.conda", "removed"}


def test_rattler_installs_from_indexed_channel(channel: Path, tmp_path: Path) -> None:
    rattler = pytest.importorskip("rattler")
    make_package(channel / "linux-64" / "tool-1.0-0.tar.bz2", "tool", subdir="linux-64")
    index_channel(channel)

    async def go() -> list:
        records = await rattler.solve(
            [channel.as_uri()], ["tool", "dependent=2"], platforms=["linux-64", "noarch"],
            gateway=rattler.Gateway(cache_dir=tmp_path / "gw"),
        )
        await rattler.install(records, target_prefix=tmp_path / "env", cache_dir=tmp_path / "pkgs", show_progress=False)
        return records

    records = asyncio.run(go())
    assert {r.name.normalized for r in records} == {"tool", "dependent", "dependency"}
    assert (tmp_path / "env" / "share" / "tool" / "hello.txt").read_text() == "hello from tool 1.0\n"
    assert any((tmp_path / "env" / "conda-meta").glob("dependent-2.0-*.json"))


def test_incremental_and_atomic(channel: Path) -> None:
    first = {r.subdir: r for r in index_channel(channel)}
    assert first["noarch"].read == first["noarch"].packages > 0
    again = {r.subdir: r for r in index_channel(channel)}
    assert again["noarch"].read == 0 and again["noarch"].reused == first["noarch"].packages
    victim = next((channel / "noarch").glob("dependent-1.0-*.conda"))
    victim.unlink()
    make_package(channel / "noarch" / "fresh-1.0-0.conda", "fresh")
    third = {r.subdir: r for r in index_channel(channel)}
    assert third["noarch"].read == 1
    rd = json.loads((channel / "noarch" / "repodata.json").read_bytes())
    assert victim.name not in rd["packages.conda"] and "fresh-1.0-0.conda" in rd["packages.conda"]
    leftovers = [p for p in (channel / "noarch").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_bad_packages_are_reported_and_skipped(channel: Path, shared: Path) -> None:
    malformed = next((shared / "corpora" / "packages" / "malformed").glob("*.conda"))
    shutil.copy(malformed, channel / "linux-64" / malformed.name)
    good = make_package(channel / "noarch" / "okpkg-1.0-0.conda", "okpkg")
    shutil.copy(good, channel / "noarch" / "renamed-2.0-0.conda")
    res = {r.subdir: r for r in index_channel(channel)}
    bad = {e.filename for r in res.values() for e in r.errors}
    assert bad == {malformed.name, "renamed-2.0-0.conda"}
    rd = json.loads((channel / "noarch" / "repodata.json").read_bytes())
    assert "okpkg-1.0-0.conda" in rd["packages.conda"] and "renamed-2.0-0.conda" not in rd["packages.conda"]


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ([member("../escape.txt")], "outside"),
        ([member("/etc/passwd")], "absolute"),
        ([member("lib/evil", kind=tarfile.SYMTYPE, link="../../../etc/passwd")], "leaves the package"),
        ([member("lib/abs", kind=tarfile.SYMTYPE, link="/etc/passwd")], "absolute"),
        ([member("dev/null", kind=tarfile.CHRTYPE)], "device"),
    ],
)
@pytest.mark.parametrize("ext", [".conda", ".tar.bz2"])
def test_unsafe_members_are_refused(tmp_path: Path, extra, reason: str, ext: str) -> None:
    p = make_package(tmp_path / f"evil-1.0-0{ext}", "evil", extra_members=extra)
    with pytest.raises(InvalidPackageError, match=reason):
        inspect_package(p)


def test_truncated_malformed_and_bombs(tmp_path: Path) -> None:
    for ext in (".conda", ".tar.bz2"):
        p = make_package(tmp_path / f"cut-1.0-0{ext}", "cut", files={"a.bin": os.urandom(20000)})
        p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
        with pytest.raises(InvalidPackageError, match="does not open"):
            inspect_package(p)
    junk = tmp_path / "junk-1.0-0.conda"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(InvalidPackageError, match="does not open"):
        inspect_package(junk)
    bomb = zip_bomb(tmp_path / "bomb-1.0-0.tar.bz2", unpacked=16 << 20)
    with pytest.raises(InvalidPackageError, match="unpacks to more than"):
        inspect_package(bomb, max_unpacked=1 << 20)
    noindex = make_package(tmp_path / "noidx-1.0-0.conda", "noidx", index=b"[1, 2]")
    with pytest.raises(InvalidPackageError, match="not a JSON object"):
        inspect_package(noindex)
    for fn in ("../x-1.0-0.conda", "x.conda", ".hidden-1.0-0.conda", "a b\n-1-0.conda", "x-1.0-0.zip"):
        with pytest.raises(InvalidPackageError):
            inspect_package(noindex, fn)


def test_cli_index(channel: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "naja", "index", str(channel), "--json"],
        capture_output=True, text=True, check=True,
    )
    data = {r["subdir"]: r for r in json.loads(out.stdout)}
    assert data["linux-64"]["packages"] == 2 and data["noarch"]["errors"] == []


def test_every_corpus_package_validates(shared: Path) -> None:
    """Full validation (what the server does) accepts every real package of the corpus except
    the one with a broken zip layout."""
    bad = {}
    files = sorted((shared / "corpora" / "packages").rglob("*.conda")) + sorted((shared / "corpora" / "packages").rglob("*.tar.bz2"))
    assert len(files) > 80
    for f in files:
        try:
            meta = inspect_package(f)
            assert meta.sha256 == hashlib.sha256(f.read_bytes()).hexdigest()
        except InvalidPackageError as exc:
            bad[f.name] = exc.reason
    assert list(bad) == ["ca-certificates-2024.7.4-hbcca054_0.conda"], bad
