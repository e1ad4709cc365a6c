"""The package cache: locations, read-only reuse, checksums, stale entries, HTTP, concurrency."""

from __future__ import annotations

import functools
import http.server
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import msgspec
import pytest

from naja.install import ChecksumMismatchError, PackageCache, install, installed_records
from naja.install.cache import default_pkgs_dirs
from naja.specs.repodata import load_repodata
from tests.conftest import ROOT
from tests.install.pkgmaker import Pkg, channel_records, make_channel


@pytest.fixture
def recs(tmp_path: Path):
    pkgs = [Pkg("one", files={"lib/one.txt": b"1" * 5000}), Pkg("two", files={"lib/two.txt": b"2"})]
    return channel_records(make_channel(tmp_path / "ch", pkgs))


def test_locations(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CONDA_PKGS_DIRS", raising=False)
    monkeypatch.setenv("NAJA_CACHE_DIR", str(tmp_path / "naja"))
    assert default_pkgs_dirs() == [tmp_path / "naja" / "pkgs"]
    monkeypatch.setenv("CONDA_PKGS_DIRS", f"{tmp_path}/a,{tmp_path}/b")
    assert default_pkgs_dirs() == [tmp_path / "naja" / "pkgs", tmp_path / "a", tmp_path / "b"]
    monkeypatch.delenv("NAJA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_pkgs_dirs() == [tmp_path / "a", tmp_path / "b"]
    monkeypatch.delenv("CONDA_PKGS_DIRS")
    assert default_pkgs_dirs() == [tmp_path / "xdg" / "naja" / "pkgs"]


def test_no_helper_processes_when_none_can_start(tmp_path: Path, recs, monkeypatch) -> None:
    """If the link/extraction helper processes cannot be started, threads do the work."""
    import naja.install.cache as cache_mod
    import naja.install.linking as linking

    def refuse(*a, **k):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(linking, "LinkHelper", refuse)
    monkeypatch.setattr(cache_mod, "ExtractHelper", refuse)
    install(tmp_path / "env", list(recs.values()), cache=PackageCache([tmp_path / "pkgs"]))
    names = {r.name for r in installed_records(tmp_path / "env")}
    assert names == set(recs)
    for r in installed_records(tmp_path / "env"):
        for p in r.files:
            assert (tmp_path / "env" / p).exists()


def test_read_only_cache_is_reused(tmp_path: Path, recs) -> None:
    ro = tmp_path / "ro-pkgs"
    PackageCache([ro]).populate([recs["one"]])
    os.chmod(ro, stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(ro, os.W_OK):  # root ignores permissions: make the point another way
            cache = PackageCache([ro, tmp_path / "rw"])
            cache._writable = tmp_path / "rw"
            (tmp_path / "rw").mkdir()
        else:
            cache = PackageCache([ro, tmp_path / "rw"])
        pkgs = cache.populate([recs["one"], recs["two"]])
        assert pkgs[0].extracted_dir == str(ro / "one-1.0-0")
        assert pkgs[1].extracted_dir == str(tmp_path / "rw" / "two-1.0-0")
        assert not (tmp_path / "rw" / "one-1.0-0").exists()
        install(tmp_path / "env", [recs["one"], recs["two"]], cache=cache)
        assert (tmp_path / "env/lib/one.txt").read_bytes() == b"1" * 5000
    finally:
        os.chmod(ro, 0o755)


def test_checksum_mismatch(tmp_path: Path, recs) -> None:
    bad = msgspec.structs.replace(recs["one"], sha256="0" * 64)
    cache = PackageCache([tmp_path / "pkgs"])
    with pytest.raises(ChecksumMismatchError, match="sha256"):
        install(tmp_path / "env", [bad], cache=cache)
    assert not (tmp_path / "pkgs" / "one-1.0-0").exists()
    assert not (tmp_path / "pkgs" / "one-1.0-0.conda").exists()
    assert installed_records(tmp_path / "env") == []


def test_stale_entry_is_replaced(tmp_path: Path, recs) -> None:
    cache = PackageCache([tmp_path / "pkgs"])
    extracted = tmp_path / "pkgs" / "one-1.0-0"
    extracted.mkdir(parents=True)
    (extracted / "garbage").write_text("x")
    # a damaged tarball in the cache is detected by its checksum and fetched again
    (tmp_path / "pkgs" / "one-1.0-0.conda").write_bytes(b"truncated")
    pkg = cache.ensure(recs["one"])
    assert not (extracted / "garbage").exists()
    assert (extracted / "lib/one.txt").exists()
    rr = json.loads((extracted / "info/repodata_record.json").read_text())
    assert rr["sha256"] == recs["one"].sha256
    assert cache.find(recs["one"]) == pkg
    other = msgspec.structs.replace(recs["one"], sha256="f" * 64)
    assert cache.find(other) is None


def test_http_channel_through_the_fetch_engine(tmp_path: Path) -> None:
    root = make_channel(tmp_path / "ch", [Pkg("web", files={"share/web.txt": b"w" * 100_000})])
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}"
        recs = load_repodata((root / "linux-64/repodata.json").read_bytes(), channel=url, subdir="linux-64")
        assert recs[0].url.startswith("http://")
        events = []
        install(tmp_path / "env", recs, cache=PackageCache([tmp_path / "pkgs"]), progress=events.append)
        assert (tmp_path / "env/share/web.txt").read_bytes() == b"w" * 100_000
        downloads = [e for e in events if e.stage == "download"]
        assert downloads and downloads[-1].done == recs[0].size
        assert (tmp_path / "pkgs/web-1.0-0.conda").exists()
        assert not [p for p in os.listdir(tmp_path / "pkgs") if p.startswith(".naja-download")]
    finally:
        srv.shutdown()


_CONCURRENT = """
import sys
from naja.install import PackageCache, install
from tests.install.pkgmaker import channel_records
from pathlib import Path
recs = channel_records(Path(sys.argv[1]))
install(sys.argv[3], list(recs.values()), cache=PackageCache([sys.argv[2]]))
"""


def test_concurrent_processes_share_the_cache(tmp_path: Path) -> None:
    pkgs = [Pkg(f"p{i}", files={f"lib/p{i}/{j}.txt": os.urandom(2000) for j in range(150)}) for i in range(6)]
    root = make_channel(tmp_path / "ch", pkgs)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "src")]))
    procs = [
        subprocess.Popen([sys.executable, "-c", _CONCURRENT, str(root), str(tmp_path / "pkgs"), str(tmp_path / f"env{k}")],
                         cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for k in range(3)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    for k in range(3):
        assert {r.name for r in installed_records(tmp_path / f"env{k}")} == {f"p{i}" for i in range(6)}
        for i in range(6):
            a = tmp_path / f"env{k}/lib/p{i}/0.txt"
            # every env hardlinks the one extracted copy
            assert os.stat(a).st_ino == os.stat(tmp_path / f"pkgs/p{i}-1.0-0/lib/p{i}/0.txt").st_ino
    leftovers = [p for p in os.listdir(tmp_path / "pkgs") if "naja-tmp" in p or p.endswith(".partial")]
    assert leftovers == []


def test_clean(tmp_path: Path, recs) -> None:
    cache = PackageCache([tmp_path / "pkgs"])
    install(tmp_path / "env", [recs["one"]], cache=cache)
    cache.populate([recs["two"]])
    pkgs = tmp_path / "pkgs"
    (pkgs / "one-1.0-0.naja-tmp-dead").mkdir()  # a killed extraction
    (pkgs / "one-1.0-0.naja-tmp-dead" / "f").write_bytes(b"x" * 10)
    dry = cache.clean(extracted=True, dry_run=True)
    assert (pkgs / "one-1.0-0.conda").exists() and dry.freed > 0
    report = cache.clean(tarballs=True)
    kinds = sorted(k for _, k, _ in report.removed)
    assert kinds == ["scratch", "tarball", "tarball"]
    assert not (pkgs / "one-1.0-0.conda").exists() and (pkgs / "one-1.0-0").is_dir()
    in_use = [r.extracted_package_dir for r in installed_records(tmp_path / "env")]
    report = cache.clean(extracted=True, in_use=in_use)
    assert [k for _, k, _ in report.removed] == ["extracted"]
    assert (pkgs / "one-1.0-0").is_dir() and not (pkgs / "two-1.0-0").exists()
    # the environment still works from the kept folder; the removed package comes back on demand
    install(tmp_path / "env2", [recs["one"], recs["two"]], cache=cache)
    assert (tmp_path / "env2/lib/two.txt").read_bytes() == b"2"


_SAME_PREFIX = """
import sys
from naja.install import PackageCache, install
from tests.install.pkgmaker import channel_records
from pathlib import Path
recs = channel_records(Path(sys.argv[1]))
install(sys.argv[3], [recs[sys.argv[4]]], cache=PackageCache([sys.argv[2]]))
"""


def test_concurrent_processes_on_one_prefix(tmp_path: Path) -> None:
    pkgs = [Pkg(f"q{i}", files={f"lib/q{i}/{j}.txt": os.urandom(500) for j in range(200)}) for i in range(4)]
    root = make_channel(tmp_path / "ch", pkgs)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "src")]))
    prefix = tmp_path / "env"
    procs = [
        subprocess.Popen([sys.executable, "-c", _SAME_PREFIX, str(root), str(tmp_path / "pkgs"), str(prefix), f"q{i}"],
                         cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for i in range(4)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    # the prefix lock serialised the four transactions: all four packages, each whole
    assert {r.name for r in installed_records(prefix)} == {f"q{i}" for i in range(4)}
    for i in range(4):
        assert len(os.listdir(prefix / f"lib/q{i}")) == 200
    assert (prefix / "conda-meta/history").read_text().count("==>") == 4
