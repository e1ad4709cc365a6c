"""Transactions: install, upgrade, remove, clobbers, scripts, and rollback on every kind of failure."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from naja.install import (
    InstallError,
    LinkError,
    PackageCache,
    ScriptError,
    Transaction,
    install,
    installed_records,
    recover,
    remove,
)
from naja.install.transaction import JOURNAL
from naja.specs.repodata import dump_prefix_record, load_prefix_record
from tests.install.pkgmaker import Pkg, channel_records, make_channel


def snapshot(prefix: Path) -> dict[str, object]:
    """Every path below the prefix with its content (naja's own lock file aside)."""
    out: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(prefix):
        for n in filenames + dirnames:
            p = Path(dirpath, n)
            rel = p.relative_to(prefix).as_posix()
            if rel == "conda-meta/.naja-prefix.lock":
                continue
            if p.is_symlink():
                out[rel] = ("L", os.readlink(p))
            elif p.is_dir():
                out[rel] = "D"
            else:
                out[rel] = p.read_bytes()
    return out


def consistent(prefix: Path) -> set[str]:
    """Check conda-meta against the disk: every recorded file exists with its recorded content,
    and every file outside conda-meta belongs to a record. Returns the installed dist names."""
    records = installed_records(prefix)
    owners: dict[str, int] = {}
    for r in records:
        for entry in r.paths_data.paths:
            owners[entry.path] = owners.get(entry.path, 0) + 1
    for r in records:
        for entry in r.paths_data.paths:
            p = prefix / entry.path
            assert os.path.lexists(p), f"{entry.path} of {r.name} missing"
            clobbered = owners[entry.path] > 1
            if entry.path_type == "hardlink" and entry.sha256 and not entry.prefix_placeholder and not clobbered:
                assert hashlib.sha256(p.read_bytes()).hexdigest() == entry.sha256, entry.path
    owned = set(owners)
    for dirpath, dirnames, filenames in os.walk(prefix):
        rel_dir = Path(dirpath).relative_to(prefix).as_posix()
        if rel_dir == "conda-meta" or rel_dir.startswith("conda-meta/"):
            continue
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        for n in filenames + links:
            rel = f"{rel_dir}/{n}" if rel_dir != "." else n
            assert rel in owned, f"stray file {rel}"
    assert not (prefix / JOURNAL).exists()
    assert not (prefix / "conda-meta" / ".naja-backup").exists()
    return {f"{r.name}-{r.version}" for r in records}


@pytest.fixture
def channel(tmp_path: Path):
    pkgs = [
        Pkg("a", "1.0", files={"lib/a.txt": b"a1", "share/a/old-only.txt": b"old", "lib/liba.so": ("symlink", "a.txt")}),
        Pkg("a", "2.0", files={"lib/a.txt": b"a2", "share/a/new-only.txt": b"new", "lib/liba.so": ("symlink", "a.txt")}),
        Pkg("b", "1.0", files={"bin/b": b"#!/bin/sh\necho b\n", "share/b/data": b"b" * 1000}),
        Pkg("c", "1.0", files={"share/common.txt": b"from c"}),
        Pkg("d", "1.0", files={"share/common.txt": b"from d"}),
    ]
    # Two versions of `a`: make_channel keys by file name, records by name; build both.
    root = tmp_path / "channel"
    make_channel(root, pkgs)
    recs = {}
    from naja.specs.repodata import load_repodata

    for r in load_repodata((root / "linux-64" / "repodata.json").read_bytes(), channel=root.as_uri(), subdir="linux-64"):
        recs[f"{r.name}-{r.version}"] = r
    return recs


@pytest.fixture
def cache(tmp_path: Path) -> PackageCache:
    return PackageCache([tmp_path / "pkgs"])


def test_install_writes_conda_meta(tmp_path: Path, channel, cache) -> None:
    prefix = tmp_path / "env"
    res = install(prefix, [channel["a-1.0"], channel["b-1.0"]], cache=cache, requested_specs=["a >=1"])
    assert consistent(prefix) == {"a-1.0", "b-1.0"}
    assert (prefix / "lib/a.txt").read_bytes() == b"a1"
    assert os.readlink(prefix / "lib/liba.so") == "a.txt"
    assert os.access(prefix / "bin/b", os.X_OK)
    # hardlinked from the cache
    assert os.stat(prefix / "lib/a.txt").st_ino == os.stat(tmp_path / "pkgs/a-1.0-0/lib/a.txt").st_ino
    raw = (prefix / "conda-meta/a-1.0-0.json").read_bytes()
    # naja's fast writer gives exactly the canonical form of naja.specs
    assert dump_prefix_record(load_prefix_record(raw)) == raw
    meta = json.loads(raw)
    assert meta["requested_spec"] == "a >=1"
    assert meta["extracted_package_dir"] == str(tmp_path / "pkgs/a-1.0-0")
    assert meta["package_tarball_full_path"] == str(tmp_path / "pkgs/a-1.0-0.conda")
    assert meta["link"] == {"source": str(tmp_path / "pkgs/a-1.0-0"), "type": 1}
    assert sorted(meta["files"]) == ["lib/a.txt", "lib/liba.so", "share/a/old-only.txt"]
    assert meta["paths_data"]["paths_version"] == 1
    assert meta["sha256"] == channel["a-1.0"].sha256 and meta["url"] == channel["a-1.0"].url
    history = (prefix / "conda-meta/history").read_text()
    assert "+" in history and "::a-1.0-0" in history and "# update specs" in history
    assert [r.name for r in res.linked] == ["a", "b"]
    # The cache has conda's layout
    rr = json.loads((tmp_path / "pkgs/a-1.0-0/info/repodata_record.json").read_text())
    assert rr["fn"] == "a-1.0-0.conda" and rr["sha256"] == channel["a-1.0"].sha256
    assert channel["a-1.0"].url in (tmp_path / "pkgs/urls.txt").read_text().splitlines()


def test_upgrade_and_remove(tmp_path: Path, channel, cache) -> None:
    prefix = tmp_path / "env"
    install(prefix, [channel["a-1.0"], channel["b-1.0"]], cache=cache)
    res = install(prefix, [channel["a-2.0"]], cache=cache)  # replaces a-1.0 implicitly
    assert [r.version for r in res.unlinked] == ["1.0"]
    assert consistent(prefix) == {"a-2.0", "b-1.0"}
    assert (prefix / "lib/a.txt").read_bytes() == b"a2"
    assert not (prefix / "share/a/old-only.txt").exists()
    # Installing the identical record again is a no-op.
    res = install(prefix, [channel["a-2.0"]], cache=cache)
    assert res.linked == [] and res.unlinked == []
    remove(prefix, ["a"])
    assert consistent(prefix) == {"b-1.0"}
    assert not (prefix / "share/a").exists(), "empty folders of the removed package stay"
    assert (prefix / "share/b/data").exists()
    with pytest.raises(InstallError, match="not installed"):
        remove(prefix, ["zzz"])
    assert "-" in (prefix / "conda-meta/history").read_text()


def test_clobber_warnings(tmp_path: Path, channel, cache) -> None:
    prefix = tmp_path / "env"
    warnings: list[str] = []
    res = install(prefix, [channel["c-1.0"], channel["d-1.0"]], cache=cache, warn=warnings.append)
    assert any("share/common.txt" in w and "d-1.0-0 wins" in w for w in res.warnings)
    assert warnings == res.warnings
    assert (prefix / "share/common.txt").read_bytes() == b"from d"
    prefix2 = tmp_path / "env2"
    install(prefix2, [channel["c-1.0"]], cache=cache)
    (prefix2 / "share/stray.txt").write_text("mine")
    res = install(prefix2, [channel["d-1.0"]], cache=cache)
    assert any("overwrites share/common.txt of the installed c" in w for w in res.warnings)
    assert (prefix2 / "share/common.txt").read_bytes() == b"from d"


def _failing(prefix: Path, channel, cache, make_fail) -> None:
    install(prefix, [channel["a-1.0"], channel["b-1.0"]], cache=cache)
    before = snapshot(prefix)
    exc = make_fail()
    with pytest.raises(exc):
        install(prefix, [channel["a-2.0"], channel["c-1.0"]], cache=cache)
    assert snapshot(prefix) == before
    assert consistent(prefix) == {"a-1.0", "b-1.0"}


def test_rollback_when_a_package_file_is_missing(tmp_path: Path, channel, cache) -> None:
    def fail():
        cache.populate([channel["c-1.0"]])
        os.unlink(tmp_path / "pkgs/c-1.0-0/share/common.txt")
        return LinkError

    _failing(tmp_path / "env", channel, cache, fail)


def test_rollback_on_disk_full(tmp_path: Path, channel, cache, monkeypatch) -> None:
    import naja.install.package_link as pl

    real_link = os.link
    calls = {"n": 0}

    def full(src, dst, **kw):
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(28, "No space left on device")
        return real_link(src, dst, **kw)

    def fail():
        cache.populate([channel["a-2.0"], channel["c-1.0"]])
        monkeypatch.setattr(pl.os, "link", full)
        # the failure is simulated in this process: no link helper process
        monkeypatch.setattr("naja.install.link_helper.ENABLED", False)
        return InstallError

    _failing(tmp_path / "env", channel, cache, fail)


def test_rollback_on_failing_post_link(tmp_path: Path, cache) -> None:
    root = tmp_path / "ch2"
    make_channel(root, [
        Pkg("a", "1.0", files={"lib/a.txt": b"a1"}),
        Pkg("bad", "1.0", files={"bin/.bad-post-link.sh": b"echo broken >&2\nexit 3\n", "lib/bad": b"x"}),
        Pkg("msg", "1.0", files={"bin/.msg-post-link.sh": b'echo "hello from $PKG_NAME" > "$PREFIX/.messages.txt"\n'}),
    ])
    recs = channel_records(root)
    prefix = tmp_path / "env"
    install(prefix, [recs["a"]], cache=cache)
    before = snapshot(prefix)
    with pytest.raises(ScriptError, match="exit code 3") as err:
        install(prefix, [recs["bad"]], cache=cache)
    assert "broken" in str(err.value)
    assert snapshot(prefix) == before
    # --no-scripts installs it
    install(prefix, [recs["bad"]], cache=cache, run_scripts=False)
    assert consistent(prefix) == {"a-1.0", "bad-1.0"}
    res = install(prefix, [recs["msg"]], cache=cache)
    assert res.messages == ["hello from msg\n"]


def test_keyboard_interrupt_rolls_back(tmp_path: Path, channel, cache) -> None:
    prefix = tmp_path / "env"
    install(prefix, [channel["a-1.0"]], cache=cache)
    before = snapshot(prefix)
    pkgs = cache.populate([channel["a-2.0"], channel["b-1.0"]])
    old = installed_records(prefix)

    def interrupt(label: str) -> None:
        if label == "linked:b":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Transaction(str(prefix), unlink=old, link=pkgs, checkpoint=interrupt).apply()
    assert snapshot(prefix) == before


@pytest.mark.parametrize("label", ["journal-written", "unlinked:a", "unlink-done", "linked:a",
                                   "linked:b", "links-done", "meta:a", "history", "committed"])
def test_recover_after_crash_at(tmp_path: Path, channel, cache, label: str) -> None:
    """A crash (the process vanishing) at each step: the journal lets the next run finish or undo."""
    prefix = tmp_path / "env"
    install(prefix, [channel["a-1.0"], channel["c-1.0"]], cache=cache)
    before = snapshot(prefix)
    pkgs = cache.populate([channel["a-2.0"], channel["b-1.0"], channel["d-1.0"]])
    old = [r for r in installed_records(prefix) if r.name == "a"]

    class Crash(BaseException):
        pass

    import naja.install.transaction as tx

    def crash(at: str) -> None:
        if at == label:
            raise Crash

    # Disable the in-process rollback so the state is what a killed process leaves.
    orig = tx._rollback
    tx._rollback = lambda *a: None
    try:
        with pytest.raises(Crash):
            Transaction(str(prefix), unlink=old, link=pkgs, checkpoint=crash).apply()
    finally:
        tx._rollback = orig
    assert (prefix / JOURNAL).exists()
    outcome = recover(prefix)
    state = consistent(prefix)
    if label == "committed":
        assert outcome == "finished"
        assert state == {"a-2.0", "b-1.0", "c-1.0", "d-1.0"}
    else:
        assert outcome == "rolled back"
        assert snapshot(prefix) == before
    assert recover(prefix) is None


def test_removing_a_clobberer_keeps_the_shared_file(tmp_path: Path, channel, cache) -> None:
    prefix = tmp_path / "env"
    install(prefix, [channel["c-1.0"]], cache=cache)
    install(prefix, [channel["d-1.0"]], cache=cache)  # overwrites share/common.txt of c
    res = remove(prefix, ["d"])
    assert any("also in the installed c" in w for w in res.warnings)
    assert (prefix / "share/common.txt").exists()
    assert {r.name for r in installed_records(prefix)} == {"c"}
    remove(prefix, ["c"])
    assert not (prefix / "share").exists()


class _InOrder:
    """A LinkSource delivering packages in a chosen arrival order."""

    def __init__(self, packages, arrival):
        self.records = [p.record for p in packages]
        self._arrival = [packages[i] for i in arrival]

    def __iter__(self):
        return iter(self._arrival)


@pytest.mark.parametrize("arrival", [[0, 1], [1, 0]])
def test_shared_path_goes_to_the_later_package_whatever_arrives_first(
    tmp_path: Path, channel, cache, arrival
) -> None:
    prefix = tmp_path / "env"
    pkgs = cache.populate([channel["c-1.0"], channel["d-1.0"]])  # link order: c, then d
    res = Transaction(str(prefix), link=_InOrder(pkgs, arrival)).apply()
    assert (prefix / "share/common.txt").read_bytes() == b"from d"
    assert any("d-1.0-0 wins" in w for w in res.warnings)
    assert [r.name for r in res.linked] == ["c", "d"]
    assert consistent(prefix) == {"c-1.0", "d-1.0"}


def test_bad_package_arriving_mid_stream_undoes_everything(tmp_path: Path, channel, cache) -> None:
    import msgspec

    prefix = tmp_path / "env"
    install(prefix, [channel["a-1.0"], channel["b-1.0"]], cache=cache)
    before = snapshot(prefix)
    broken = msgspec.structs.replace(channel["c-1.0"], sha256="0" * 64)
    with pytest.raises(InstallError, match="sha256"):
        # a-1.0 is already removed (and a-2.0 maybe linked) when the broken one is found out
        install(prefix, [channel["a-2.0"], broken], cache=cache)
    assert snapshot(prefix) == before
    assert consistent(prefix) == {"a-1.0", "b-1.0"}


@pytest.fixture
def small_fs(tmp_path: Path):
    """A 2 MB tmpfs (root only): a real full disk."""
    import subprocess

    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True
    ).returncode:
        pytest.skip("needs root to mount a small tmpfs")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_rolls_back(tmp_path: Path, small_fs: Path) -> None:
    root = tmp_path / "ch3"
    make_channel(root, [
        Pkg("small", "1.0", files={"share/small.txt": b"s" * 1000}),
        Pkg("small", "2.0", files={"share/small.txt": b"S" * 1000}),
        Pkg("big", files={f"share/big/{i}.bin": os.urandom(300_000) for i in range(10)}),
    ])
    from naja.specs.repodata import load_repodata

    recs = {f"{r.name}-{r.version}": r for r in load_repodata(
        (root / "linux-64/repodata.json").read_bytes(), channel=root.as_uri(), subdir="linux-64")}
    prefix = small_fs / "env"
    cache = PackageCache([tmp_path / "pkgs"])  # another filesystem: files are copied
    install(prefix, [recs["small-1.0"]], cache=cache)
    before = snapshot(prefix)
    with pytest.raises(InstallError, match=r"No space left|free disk space"):
        install(prefix, [recs["small-2.0"], recs["big-1.0"]], cache=cache)
    assert snapshot(prefix) == before
    assert consistent(prefix) == {"small-1.0"}
