"""Lockfiles: the corpus of real pixi.lock / conda-lock files, and naja lock -> create -f."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naja.env.lockfile import LockfileError, read_lockfile
from tests.conftest import SHARED
from tests.test_cli_lifecycle import CHANNEL, naja  # noqa: F401  (fixture)

LOCKS = SHARED / "corpora" / "lockfiles" / "conda-lock"


@pytest.mark.parametrize(
    ("name", "platform", "conda", "pypi"),
    [
        ("v0/python-conda-lock.yml", "linux-64", 22, 0),
        ("v0/pypi-matplotlib-conda-lock.yml", "linux-64", 24, 12),
        ("v3/robostack-turtlesim-conda-lock.yml", "linux-64", None, 0),
        ("v4/python-lock.yml", "linux-64", 22, 0),
        ("v4/pypi-matplotlib-lock.yml", "linux-64", 24, 12),
        ("v5/flat-index-lock.yml", "osx-arm64", 13, 5),
        ("v6/python-from-conda-only-lock.yml", "osx-arm64", 19, 0),
        ("v7/python-from-conda-only-lock.yml", "osx-arm64", 19, 0),
    ],
)
def test_corpus_locks(name: str, platform: str, conda: int | None, pypi: int) -> None:
    env = read_lockfile(LOCKS / name, platform)
    if conda is not None:
        assert len(env.conda) == conda
    assert len(env.pypi) == pypi
    names = [r.name for r in env.conda]
    assert len(names) == len(set(names)), "one record per package name"
    for r in env.conda:
        assert r.url and r.url.endswith((".conda", ".tar.bz2"))
        assert r.subdir in (platform, "noarch")
        assert r.sha256 or r.md5


def test_python_lock_details() -> None:
    env = read_lockfile(LOCKS / "v4" / "python-lock.yml", "linux-64")
    python = next(r for r in env.conda if r.name == "python")
    assert python.version.startswith("3.")
    assert any(d.startswith("openssl") for d in python.depends)


@pytest.mark.parametrize(
    ("name", "platform", "message"),
    [
        ("v6/sources-lock.yml", "win-64", "source package"),
        ("v4/python-lock.yml", "win-32", "no packages for win-32"),
        ("forward-compatible-lock.yml", "linux-64", "not supported"),
    ],
)
def test_unusable_locks_are_clear(name: str, platform: str, message: str) -> None:
    with pytest.raises(LockfileError) as err:
        read_lockfile(LOCKS / name, platform)
    assert message in str(err.value)


def test_lock_then_create_from_it(naja, tmp_path: Path) -> None:  # noqa: F811
    lock = tmp_path / "pixi.lock"
    naja(
        "lock",
        "-c",
        CHANNEL,
        "--platform",
        "linux-64",
        "--platform",
        "osx-64",
        "dependent",
        "-o",
        str(lock),
    )
    for platform in ("linux-64", "osx-64"):
        env = read_lockfile(lock, platform)
        assert {(r.name, r.version) for r in env.conda} == {
            ("dependent", "2.0"),
            ("dependency", "2.0"),
        }
        assert all(r.sha256 for r in env.conda)
    naja("create", "-y", "-n", "locked", "-f", str(lock), "--platform", "linux-64")
    listed = json.loads(naja("list", "-n", "locked", "--json").stdout)
    assert {(e["name"], e["version"]) for e in listed} == {
        ("dependent", "2.0"),
        ("dependency", "2.0"),
    }
    # py-rattler reads naja's lockfile too.
    import rattler

    parsed = rattler.LockFile.from_path(lock)
    env = parsed.default_environment()
    pkgs = env.conda_repodata_records()["linux-64"]
    assert sorted(p.name.normalized for p in pkgs) == ["dependency", "dependent"]
    assert {str(p.version) for p in pkgs} == {"2.0"}


def test_lockfiles_never_hold_conda_tokens(tmp_path: Path) -> None:
    from naja.env.lockfile import write_pixi_lock
    from naja.specs.records import RepoDataRecord

    url = "https://h.org/t/SECRET-TOKEN-123/chan/noarch/a-1-0.conda"
    rec = RepoDataRecord(
        name="a",
        version="1",
        build="0",
        build_number=0,
        subdir="noarch",
        fn="a-1-0.conda",
        url=url,
        sha256="ab",
    )
    lock = tmp_path / "pixi.lock"
    write_pixi_lock(lock, ["https://h.org/t/SECRET-TOKEN-123/chan"], {"linux-64": [rec]})
    assert "SECRET-TOKEN-123" not in lock.read_text()
    assert read_lockfile(lock, "linux-64").conda[0].url == "https://h.org/chan/noarch/a-1-0.conda"
