"""py-rattler reads environments naja made; naja changes environments py-rattler made."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from naja.install import PackageCache, install, installed_records, remove
from tests.install.pkgmaker import PLACEHOLDER, Pkg, channel_records, make_channel
from tests.install.test_transaction import consistent

rattler = pytest.importorskip("rattler")


@pytest.fixture
def chan(tmp_path: Path) -> Path:
    pkgs = [
        Pkg("alpha", files={"lib/alpha.txt": b"alpha", "lib/libalpha.so": ("symlink", "alpha.txt"),
                            "etc/alpha.conf": f"prefix={PLACEHOLDER}\n".encode()},
            prefix_files={"etc/alpha.conf": "text"}),
        Pkg("beta", files={"share/beta/data.txt": b"beta", "bin/beta": b"#!/bin/sh\necho beta\n"}),
        Pkg("gamma", files={"share/gamma.txt": b"gamma"}),
    ]
    return make_channel(tmp_path / "channel", pkgs)


def _rattler_records(chan: Path, names: set[str]):
    out = []
    for sd in ("linux-64", "noarch"):
        rd = rattler.RepoData.from_path(chan / sd / "repodata.json")
        out += [r for r in rd.into_repo_data(rattler.Channel(chan.as_uri())) if r.name.normalized in names]
    return out


def _rattler_install(records, prefix: Path, cache: Path) -> None:
    asyncio.run(rattler.install(records, target_prefix=prefix, cache_dir=cache, show_progress=False))


def _rattler_view(prefix: Path) -> dict[str, tuple]:
    out = {}
    for f in sorted((prefix / "conda-meta").glob("*.json")):
        r = rattler.PrefixRecord.from_path(f)
        paths = sorted(str(e.relative_path) for e in r.paths_data.paths)
        out[r.name.normalized] = (str(r.version), str(r.build), sorted(str(p) for p in r.files), paths, r.sha256.hex())
    return out


def test_rattler_reads_naja_env(tmp_path: Path, chan: Path) -> None:
    prefix = tmp_path / "env"
    recs = channel_records(chan)
    install(prefix, [recs["alpha"], recs["beta"]], cache=PackageCache([tmp_path / "naja-pkgs"]))
    view = _rattler_view(prefix)
    ours = {r.name: r for r in installed_records(prefix)}
    assert set(view) == {"alpha", "beta"}
    for name, (version, build, files, paths, sha) in view.items():
        r = ours[name]
        assert (version, build, sha) == (r.version, r.build, r.sha256)
        assert files == sorted(r.files) == paths
    # rattler's installer sees naja's records as installed: it adds gamma and leaves alpha/beta
    # alone (their files stay hardlinks of naja's cache).
    ino = os.stat(prefix / "lib/alpha.txt").st_ino
    _rattler_install(_rattler_records(chan, {"alpha", "beta", "gamma"}), prefix, tmp_path / "r-pkgs")
    assert os.stat(prefix / "lib/alpha.txt").st_ino == ino
    assert (prefix / "share/gamma.txt").read_bytes() == b"gamma"
    # and it can remove a package naja installed, exactly its files
    _rattler_install(_rattler_records(chan, {"alpha", "gamma"}), prefix, tmp_path / "r-pkgs")
    assert not (prefix / "bin/beta").exists() and not (prefix / "share/beta").exists()
    assert {r.name for r in installed_records(prefix)} == {"alpha", "gamma"}


def test_naja_changes_rattler_env(tmp_path: Path, chan: Path) -> None:
    prefix = tmp_path / "env"
    _rattler_install(_rattler_records(chan, {"alpha", "beta"}), prefix, tmp_path / "r-pkgs")
    assert (prefix / "etc/alpha.conf").read_text() == f"prefix={prefix}\n"
    theirs = installed_records(prefix)
    assert {r.name for r in theirs} == {"alpha", "beta"}
    recs = channel_records(chan)
    install(prefix, [recs["gamma"]], cache=PackageCache([tmp_path / "naja-pkgs"]))
    remove(prefix, ["alpha"])
    assert not (prefix / "lib/alpha.txt").exists() and not (prefix / "lib/libalpha.so").exists()
    assert not (prefix / "etc").exists()
    # py-rattler 0.28 drops a CACHEDIR.TAG into the prefix itself; no package owns it.
    (prefix / "CACHEDIR.TAG").unlink(missing_ok=True)
    assert consistent(prefix) == {"beta-1.0", "gamma-1.0"}
    view = _rattler_view(prefix)
    assert set(view) == {"beta", "gamma"}
    assert view["gamma"][2] == ["share/gamma.txt"]
    # upgrade path: naja replaces a rattler-installed package by name
    install(prefix, [recs["beta"]], cache=PackageCache([tmp_path / "naja-pkgs"]))  # identical: no-op
    assert consistent(prefix) == {"beta-1.0", "gamma-1.0"}
