"""repodata.json / index.json / conda-meta decoding, checked against py-rattler and conda's rules."""

from __future__ import annotations

import json

import msgspec
import pytest

from naja.errors import ParseError
from naja.specs.records import (
    Link,
    PackageRecord,
    PathEntry,
    PathsData,
    PrefixRecord,
    RepoDataRecord,
)
from naja.specs.repodata import (
    LazyRepoData,
    dump_prefix_record,
    load_index_json,
    load_prefix_record,
    load_repodata,
)
from tests.conftest import REPODATA

CORPUS = sorted(REPODATA.glob("*/*/repodata.json"))


def _load(path):
    channel = path.parent.parent.name
    return load_repodata(path.read_bytes(), channel=channel, subdir=path.parent.name)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_counts_and_records_match_rattler(path):
    rattler = pytest.importorskip("rattler")
    channel = path.parent.parent.name
    ours = _load(path)
    sparse = rattler.SparseRepoData(rattler.Channel(channel), path.parent.name, str(path))
    theirs = sparse.load_all_records()
    assert len(ours) == len(theirs)
    by_fn = {r.fn: r for r in ours}
    for t in theirs:
        o = by_fn[t.file_name]
        assert o.name == t.name.normalized
        assert o.version == str(t.version)
        assert o.build == str(t.build)
        assert o.build_number == t.build_number
        assert o.depends == list(t.depends)
        assert o.constrains == list(t.constrains)
        assert o.subdir == t.subdir
        assert o.url == t.url
        assert o.channel == channel
        assert list(o.track_features) == list(t.track_features)
        assert o.md5 == (t.md5.hex() if t.md5 is not None else None)
        assert o.sha256 == (t.sha256.hex() if t.sha256 is not None else None)
        assert o.size == t.size
        assert (o.license, o.license_family) == (t.license, t.license_family)
        assert (o.arch, o.platform) == (t.arch, t.platform)
        assert o.noarch == (None if t.noarch.none else "python" if t.noarch.python else "generic")
        if isinstance(t.timestamp, int):
            assert o.timestamp == t.timestamp == 0
        elif t.timestamp is not None:
            assert o.timestamp_ms == int(t.timestamp.timestamp() * 1000 + 0.5)


def _repodata(**kw) -> bytes:
    return json.dumps(kw).encode()


def _pkg(name, version, build, **kw):
    return {
        "name": name,
        "version": version,
        "build": build,
        "build_number": 0,
        "depends": [],
        **kw,
    }


def test_conda_wins_over_tar_bz2_and_keeps_legacy_hashes():
    data = _repodata(
        info={"subdir": "linux-64"},
        packages={
            "a-1-0.tar.bz2": _pkg("a", "1", "0", md5="bz2md5", size=10),
            "b-1-0.tar.bz2": _pkg("b", "1", "0", md5="bmd5"),
        },
        **{"packages.conda": {"a-1-0.conda": _pkg("a", "1", "0", md5="condamd5", size=5)}},
        removed=["c-1-0.tar.bz2"],
    )
    recs = load_repodata(data, channel="https://example.com/chan")
    assert [r.fn for r in recs] == ["a-1-0.conda", "b-1-0.tar.bz2"]
    a = recs[0]
    assert isinstance(a, RepoDataRecord)
    assert a.md5 == "condamd5"
    assert a.legacy_bz2_md5 == "bz2md5"
    assert a.legacy_bz2_size == 10
    assert a.url == "https://example.com/chan/linux-64/a-1-0.conda"
    assert a.subdir == "linux-64"
    assert a.channel == "https://example.com/chan"


def test_repodata_v2_base_url_absolute_and_relative():
    pkgs = {"a-1-0.tar.bz2": _pkg("a", "1", "0")}
    absolute = _repodata(
        repodata_version=2,
        info={"subdir": "noarch", "base_url": "https://cdn.example/x/"},
        packages=pkgs,
    )
    assert load_repodata(absolute, channel="c")[0].url == "https://cdn.example/x/a-1-0.tar.bz2"
    relative = _repodata(repodata_version=2, info={"base_url": "../files"}, packages=pkgs)
    rec = load_repodata(relative, channel="https://h/c", subdir="noarch")[0]
    assert rec.url == "https://h/c/files/a-1-0.tar.bz2"
    # Version 1 files ignore base_url.
    v1 = _repodata(info={"base_url": "https://cdn.example/x/"}, packages=pkgs)
    assert load_repodata(v1, channel="https://h/c", subdir="noarch")[0].url == (
        "https://h/c/noarch/a-1-0.tar.bz2"
    )


def test_subdir_from_directory_and_record_wins():
    data = _repodata(
        packages={
            "a-1-0.tar.bz2": _pkg("a", "1", "0"),
            "b-1-0.tar.bz2": _pkg("b", "1", "0", subdir="noarch"),
        }
    )
    recs = load_repodata(data, channel="c", subdir="linux-64")
    assert [r.subdir for r in recs] == ["linux-64", "noarch"]


def test_normalisation_features_noarch_timestamp():
    data = _repodata(
        packages={
            "a-1-0.tar.bz2": _pkg(
                "a",
                "1",
                "0",
                track_features="mkl  debug",
                features="x,y",
                noarch=True,
                timestamp=1530738943847,
            ),
            "b-1-0.tar.bz2": _pkg(
                "b", "1", "0", track_features=["q"], noarch="Python", timestamp=1530738943
            ),
            "c-1-0.tar.bz2": _pkg("c", "1", "0", noarch={"type": "python"}, track_features=""),
        }
    )
    a, b, c = load_repodata(data, channel="c", subdir="linux-64")
    assert a.track_features == ("mkl", "debug")
    assert a.features == ("x", "y")
    assert a.noarch == "generic"
    assert a.timestamp == pytest.approx(1530738943.847)
    assert a.timestamp_ms == 1530738943847
    assert b.track_features == ("q",)
    assert b.noarch == "python"
    assert b.timestamp == 1530738943
    assert b.timestamp_ms == 1530738943000
    assert c.noarch == "python"
    assert c.track_features == ()
    d = a.to_dict()
    assert d["track_features"] == "mkl debug"
    assert d["features"] == "x y"
    assert d["timestamp"] == 1530738943847
    assert "track_features" not in c.to_dict()


def test_loose_types_are_read_like_conda():
    data = _repodata(
        packages={"a-1-0.tar.bz2": {**_pkg("a", "1", "0"), "build_number": "3", "size": "12"}}
    )
    (a,) = load_repodata(data, channel="c", subdir="noarch")
    assert (a.build_number, a.size) == (3, 12)


def test_bad_repodata_raises_parse_error():
    with pytest.raises(ParseError):
        load_repodata(b"{not json", channel="c")
    with pytest.raises(ParseError) as info:
        load_repodata(_repodata(packages={"a-1-0.tar.bz2": {"name": "a"}}), channel="c")
    assert "a-1-0.tar.bz2" in str(info.value)  # says which record is broken


INDEX_JSON = {
    "arch": "x86_64",
    "build": "py311h64a7726_0",
    "build_number": 0,
    "depends": ["libgcc-ng >=12", "python >=3.11,<3.12.0a0"],
    "constrains": ["numpy-base <0a0"],
    "license": "BSD-3-Clause",
    "license_family": "BSD",
    "name": "numpy",
    "platform": "linux",
    "subdir": "linux-64",
    "timestamp": 1700000000123,
    "version": "1.26.2",
    "some_future_key": {"kept": [1, 2]},
}


def test_index_json_round_trips_with_unknown_keys():
    rec = load_index_json(json.dumps(INDEX_JSON).encode())
    assert isinstance(rec, PackageRecord)
    assert rec.extra == {"some_future_key": {"kept": [1, 2]}}
    assert rec.to_dict() == INDEX_JSON


def test_index_json_against_rattler(tmp_path):
    rattler = pytest.importorskip("rattler")
    raw = json.dumps(INDEX_JSON).encode()
    (tmp_path / "index.json").write_bytes(raw)
    theirs = json.loads(rattler.PackageRecord.from_index_json(tmp_path / "index.json").to_json())
    ours = load_index_json(raw).to_dict()
    for key in theirs:
        assert ours[key] == theirs[key], key


PREFIX_JSON = {
    "build": "h7f98852_4",
    "build_number": 4,
    "channel": "https://conda.anaconda.org/conda-forge/linux-64",
    "depends": ["libgcc-ng >=9.3.0"],
    "extracted_package_dir": "/opt/conda/pkgs/zlib-1.2.11-h7f98852_4",
    "files": ["include/zlib.h", "lib/libz.so", "lib/libz.so.1"],
    "fn": "zlib-1.2.11-h7f98852_4.tar.bz2",
    "license": "Zlib",
    "link": {"source": "/opt/conda/pkgs/zlib-1.2.11-h7f98852_4", "type": 1},
    "md5": "f6a3e5d5e3e6d2a2d6f0a8c6c2f8a0f1",
    "name": "zlib",
    "package_tarball_full_path": "/opt/conda/pkgs/zlib-1.2.11-h7f98852_4.tar.bz2",
    "paths_data": {
        "paths": [
            {
                "_path": "include/zlib.h",
                "path_type": "hardlink",
                "sha256": "ab" * 32,
                "size_in_bytes": 96924,
            },
            {
                "_path": "lib/libz.so",
                "path_type": "softlink",
                "sha256": "cd" * 32,
                "size_in_bytes": 14,
            },
            {
                "_path": "lib/pkgconfig/zlib.pc",
                "file_mode": "text",
                "path_type": "hardlink",
                "prefix_placeholder": "/home/conda/feedstock_root/build_artifacts/placehold",
                "sha256": "ef" * 32,
                "sha256_in_prefix": "01" * 32,
                "size_in_bytes": 271,
            },
            {"_path": "lib/x", "no_link": True, "path_type": "hardlink"},
        ],
        "paths_version": 1,
    },
    "requested_spec": "zlib",
    "sha256": "00" * 32,
    "size": 86757,
    "subdir": "linux-64",
    "timestamp": 1610051227313,
    "track_features": "",
    "url": "https://conda.anaconda.org/conda-forge/linux-64/zlib-1.2.11-h7f98852_4.tar.bz2",
    "version": "1.2.11",
}


def test_prefix_record_round_trip():
    rec = load_prefix_record(json.dumps(PREFIX_JSON).encode())
    assert isinstance(rec, PrefixRecord)
    assert rec.paths_data is not None
    assert [p.path for p in rec.paths_data.paths][:2] == ["include/zlib.h", "lib/libz.so"]
    assert rec.paths_data.paths[2].prefix_placeholder.endswith("placehold")
    assert rec.paths_data.paths[3].no_link is True
    assert rec.link is not None and rec.link.type == 1
    out = dump_prefix_record(rec)
    assert out.endswith(b"}\n")
    assert b'\n  "build": ' in out  # two-space indent, sorted keys
    again = json.loads(out)
    expected = {k: v for k, v in PREFIX_JSON.items() if k != "track_features"}
    assert again == expected
    assert list(again) == sorted(again)
    assert load_prefix_record(out) == rec


def test_prefix_record_against_rattler():
    rattler = pytest.importorskip("rattler")
    out = dump_prefix_record(load_prefix_record(json.dumps(PREFIX_JSON).encode()))
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "zlib-1.2.11-h7f98852_4.json"
        p.write_bytes(out)
        theirs = rattler.PrefixRecord.from_path(str(p))
    assert theirs.name.normalized == "zlib"
    assert [str(f) for f in theirs.files] == PREFIX_JSON["files"]
    assert len(theirs.paths_data.paths) == 4


def test_prefix_record_built_in_code_dumps_like_conda():
    rec = PrefixRecord(
        name="a",
        version="1",
        build="0",
        files=["bin/a"],
        paths_data=PathsData(paths=[PathEntry(path="bin/a", sha256="00", size_in_bytes=3)]),
        link=Link(source="/pkgs/a-1-0"),
    )
    d = json.loads(dump_prefix_record(rec))
    assert d["paths_data"] == {
        "paths": [{"_path": "bin/a", "path_type": "hardlink", "sha256": "00", "size_in_bytes": 3}],
        "paths_version": 1,
    }
    assert d["link"] == {"source": "/pkgs/a-1-0", "type": 1}
    assert d["depends"] == [] and d["build_number"] == 0
    assert "constrains" not in d and "timestamp" not in d


def test_record_struct_basics():
    rec = PackageRecord(name="a", version="1.0", build="0")
    assert rec.depends == [] and rec.build_number == 0
    assert rec.dist_name == "a-1.0-0"
    assert msgspec.json.decode(msgspec.json.encode(rec), type=PackageRecord) == rec


def test_lazy_repodata_matches_eager_and_rattler():
    rattler = pytest.importorskip("rattler")
    path = REPODATA / "index4" / "linux-64" / "repodata.json"
    data = path.read_bytes()
    eager = load_repodata(data, channel="index4", subdir="linux-64")
    lazy = LazyRepoData(data, channel="index4", subdir="linux-64")
    # Asked before any listing (prefix scan), including names that prefix other names.
    fresh = LazyRepoData(data, channel="index4", subdir="linux-64")
    for name in ("numpy", "numpy-base", "r", "python", "no-such-package"):
        assert sorted(r.fn for r in fresh.records(name)) == sorted(
            r.fn for r in eager if r.name == name
        )
    assert len(lazy) == len(eager)
    sparse = rattler.SparseRepoData(rattler.Channel("index4"), "linux-64", str(path))
    assert lazy.package_names() == sorted(sparse.package_names())
    for name in ("numpy", "python", "backports.shutil_get_terminal_size", "r-base"):
        ours = lazy.records(name)
        assert lazy.records(name) is ours  # cached
        assert sorted(r.fn for r in ours) == sorted(r.fn for r in eager if r.name == name)
        assert sorted(r.fn for r in ours) == sorted(
            r.file_name for r in sparse.load_records(rattler.PackageName(name))
        )
    assert lazy.records("no-such-package") == []
    assert sorted(r.fn for r in lazy.all_records()) == sorted(r.fn for r in eager)
    by_fn = {r.fn: r for r in eager}
    assert all(r == by_fn[r.fn] for r in lazy.records("numpy"))


def test_lazy_repodata_conda_wins():
    data = _repodata(
        packages={
            "a-1-0.tar.bz2": _pkg("a", "1", "0", md5="old"),
            "b-2-0.tar.bz2": _pkg("b", "2", "0"),
        },
        **{"packages.conda": {"a-1-0.conda": _pkg("a", "1", "0", md5="new")}},
    )
    lazy = LazyRepoData(data, channel="c", subdir="noarch")
    assert len(lazy) == 2
    (a,) = lazy.records("a")
    assert (a.fn, a.md5, a.legacy_bz2_md5) == ("a-1-0.conda", "new", "old")
    assert [r.fn for r in lazy.records("b")] == ["b-2-0.tar.bz2"]


def test_conda_wins_like_rattler(tmp_path):
    rattler = pytest.importorskip("rattler")
    data = _repodata(
        info={"subdir": "noarch"},
        packages={
            "a-1-0.tar.bz2": _pkg("a", "1", "0", md5="0" * 32),
            "a-2-0.tar.bz2": _pkg("a", "2", "0", md5="1" * 32),
        },
        **{"packages.conda": {"a-1-0.conda": _pkg("a", "1", "0", md5="2" * 32)}},
    )
    path = tmp_path / "repodata.json"
    path.write_bytes(data)
    theirs = rattler.SparseRepoData(rattler.Channel("c"), "noarch", str(path)).load_records(
        rattler.PackageName("a")
    )
    ours = load_repodata(data, channel="c", subdir="noarch")
    assert sorted(r.fn for r in ours) == sorted(r.file_name for r in theirs)
    assert sorted(r.fn for r in ours) == ["a-1-0.conda", "a-2-0.tar.bz2"]
