"""Extraction: well-formed packages come out byte-exact; unsafe or broken ones are rejected whole."""

from __future__ import annotations

import bz2
import io
import os
import sys
import tarfile
from pathlib import Path

import pytest

from naja.install.archive import extract_archive
from naja.install.errors import BadPackageError
from tests.install.pkgmaker import Pkg, build, tar_bytes, write_conda

INFO = {"info/index.json": b'{"name": "x", "version": "1", "build": "0", "build_number": 0}'}


def _conda(tmp: Path, pkg_members: dict, name: str = "x-1-0") -> Path:
    path = tmp / f"{name}.conda"
    write_conda(path, tar_bytes(pkg_members), tar_bytes(INFO), name)
    return path


def _bz2(tmp: Path, members: dict, name: str = "x-1-0") -> Path:
    path = tmp / f"{name}.tar.bz2"
    path.write_bytes(bz2.compress(tar_bytes({**INFO, **members})))
    return path


def _tree(root: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            p = Path(dirpath, n)
            rel = p.relative_to(root).as_posix()
            out[rel] = ("L", os.readlink(p)) if p.is_symlink() else p.read_bytes()
    return out


@pytest.mark.parametrize("fmt", [".conda", ".tar.bz2"])
def test_extract_roundtrip(tmp_path: Path, fmt: str) -> None:
    big = os.urandom(3 << 20)  # spans several decompressed chunks
    long_name = "lib/" + "d" * 120 + "/" + "f" * 150 + ".txt"  # GNU long name records
    pkg = Pkg(
        "roundtrip",
        files={
            "bin/tool": b"#!/bin/sh\necho hi\n",
            "lib/big.bin": big,
            "lib/libz.so": ("symlink", "libz.so.1"),
            "lib/libz.so.1": b"z" * 10,
            long_name: b"long",
            "share/empty": b"",
        },
    )
    archive = build(pkg, tmp_path / "ch", fmt)
    dest = tmp_path / "out"
    written = extract_archive(archive, dest)
    tree = _tree(dest)
    assert tree["lib/big.bin"] == big
    assert tree["lib/libz.so"] == ("L", "libz.so.1")
    assert tree[long_name] == b"long"
    assert tree["share/empty"] == b""
    assert os.stat(dest / "bin/tool").st_mode & 0o111
    assert "info/index.json" in tree and "info/paths.json" in tree
    assert set(written) >= {"bin/tool", "lib/big.bin", long_name}
    assert not [p for p in os.listdir(tmp_path) if "naja-tmp" in p]


def test_pax_long_names(tmp_path: Path) -> None:
    buf = io.BytesIO()
    name = "share/" + "é" * 80 + "/" + "x" * 200
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        ti = tarfile.TarInfo(name)
        ti.size = 3
        tf.addfile(ti, io.BytesIO(b"abc"))
    path = tmp_path / "x-1-0.conda"
    write_conda(path, buf.getvalue(), tar_bytes(INFO), "x-1-0")
    extract_archive(path, tmp_path / "out")
    assert (tmp_path / "out" / name).read_bytes() == b"abc"


UNSAFE = {
    "absolute path": {"/etc/evil": b"x"},
    "dot-dot": {"lib/../../evil": b"x"},
    "symlink to absolute": {"lib/evil": ("symlink", "/etc/passwd")},
    "symlink escaping": {"lib/evil": ("symlink", "../../etc")},
    "hardlink escaping": {"lib/evil": ("hardlink", "../outside")},
    "hardlink to nothing": {"lib/evil": ("hardlink", "lib/missing")},
    "character device": {"dev/null": ("chr", "")},
    "fifo": {"lib/pipe": ("fifo", "")},
    "write through symlink": {"lib/d": ("symlink", "."), "lib/d/f": b"x"},
    "chained escape": {"a/b/dl": ("symlink", "../.."), "x": ("symlink", "a/b/dl/..")},
    "late redirect": {"x": ("symlink", "a/dl/.."), "a/dl": ("symlink", "..")},
}


@pytest.mark.parametrize("case", sorted(UNSAFE))
@pytest.mark.parametrize("fmt", [".conda", ".tar.bz2"])
def test_unsafe_members_rejected_and_nothing_lands(tmp_path: Path, case: str, fmt: str) -> None:
    members = {"lib/ok.txt": b"fine", **UNSAFE[case]}
    archive = _conda(tmp_path, members) if fmt == ".conda" else _bz2(tmp_path, members)
    dest = tmp_path / "out"
    with pytest.raises(BadPackageError) as err:
        extract_archive(archive, dest)
    assert "x-1-0" in str(err.value)
    assert not dest.exists()
    assert sorted(os.listdir(tmp_path)) == [archive.name]
    assert not Path("/etc/evil").exists()


def test_truncated_and_corrupt_archives(tmp_path: Path) -> None:
    good = _bz2(tmp_path, {"lib/a": os.urandom(200_000)})
    data = good.read_bytes()
    cut = tmp_path / "cut-1-0.tar.bz2"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadPackageError, match=r"truncated|corrupt"):
        extract_archive(cut, tmp_path / "o1")
    flipped = tmp_path / "flip-1-0.conda"
    conda = _conda(tmp_path, {"lib/a": os.urandom(200_000)}).read_bytes()
    mid = len(conda) // 2
    flipped.write_bytes(conda[:mid] + bytes([conda[mid] ^ 0xFF]) + conda[mid + 1 :])
    with pytest.raises(BadPackageError):
        extract_archive(flipped, tmp_path / "o2")
    garbage = tmp_path / "garbage-1-0.conda"
    garbage.write_bytes(b"not a zip at all")
    with pytest.raises(BadPackageError, match="zip"):
        extract_archive(garbage, tmp_path / "o3")
    assert sorted(p for p in os.listdir(tmp_path) if p.startswith("o")) == []


def test_bad_tar_checksum(tmp_path: Path) -> None:
    raw = bytearray(tar_bytes({**INFO, "lib/a": b"data"}))
    raw[1024 + 5] ^= 0x01  # the second header (after index.json and its data block)
    path = tmp_path / "x-1-0.tar.bz2"
    path.write_bytes(bz2.compress(bytes(raw)))
    with pytest.raises(BadPackageError, match="checksum"):
        extract_archive(path, tmp_path / "out")


def test_missing_index_json(tmp_path: Path) -> None:
    path = tmp_path / "x-1-0.tar.bz2"
    path.write_bytes(bz2.compress(tar_bytes({"lib/a": b"1"})))
    with pytest.raises(BadPackageError, match=r"index\.json"):
        extract_archive(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_paths_json_escaping_the_prefix_is_rejected(tmp_path: Path) -> None:
    import json

    from naja.install import PackageCache, install
    from tests.install.pkgmaker import channel_records, make_channel

    evil = {"paths": [{"_path": "../../outside.txt", "path_type": "hardlink"}], "paths_version": 1}
    pkg = Pkg("sneaky", files={"lib/ok.txt": b"ok"}, extra_info={"paths.json": json.dumps(evil).encode()})
    recs = channel_records(make_channel(tmp_path / "ch", [pkg]))
    with pytest.raises(BadPackageError, match="unsafe path"):
        install(tmp_path / "env", [recs["sneaky"]], cache=PackageCache([tmp_path / "pkgs"]))
    assert not (tmp_path / "outside.txt").exists()
    assert not (tmp_path / "env" / "lib").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the extract helper is Linux-only")
def test_extract_helper_process(tmp_path: Path) -> None:
    """The child process extracts like extract_archive; its failures are redone here (same
    exception and message); when it dies, extraction goes on in this process."""
    from naja.install.extract_helper import ExtractHelper

    good = build(Pkg("good", files={"lib/a.txt": b"a", "lib/b": ("symlink", "a.txt")}), tmp_path / "ch", ".conda")
    helper = ExtractHelper()
    try:
        helper.extract(good, tmp_path / "out1", digest_verified=True)
        assert (tmp_path / "out1/lib/a.txt").read_bytes() == b"a"
        assert os.readlink(tmp_path / "out1/lib/b") == "a.txt"
        bad = _conda(tmp_path, {"lib/ok.txt": b"fine", **UNSAFE["dot-dot"]})
        with pytest.raises(BadPackageError) as err:
            helper.extract(bad, tmp_path / "out2")
        assert "x-1-0" in str(err.value) and not (tmp_path / "out2").exists()
        assert helper.proc is not None  # still serving after an error
        helper.proc.kill()
        helper.proc.wait()
        helper.extract(good, tmp_path / "out3", digest_verified=True)
        assert helper.proc is None and (tmp_path / "out3/lib/a.txt").read_bytes() == b"a"
    finally:
        helper.close()
    assert not [p for p in os.listdir(tmp_path) if "naja-tmp" in p]
