"""Every real package in ../shared/corpora/packages installs correctly or fails with a clear error,
and a failed install leaves the prefix as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from naja.install import BadPackageError, PackageCache, ScriptError, install
from naja.install.archive import strip_package_ext
from naja.install.prefix_records import installed_records
from tests.conftest import SHARED
from tests.install.pkgmaker import record_for_file, record_from_filename

CORPUS = SHARED / "corpora" / "packages"
FAKE_PYTHON = CORPUS / "conda-tests/test-recipes/noarch/python-3.99.99-0.conda"


def _all_packages() -> list[Path]:
    files = [p for p in CORPUS.rglob("*") if p.name.endswith((".conda", ".tar.bz2"))]
    return sorted(files)


# Packages that must not install, and what the error must say.
EXPECTED_ERRORS = {
    # Symlinks stored with an empty target: not a valid symlink on any system.
    "linux-64/zlib-1.2.11-h7b6447c_3.conda": (BadPackageError, "empty target"),
    "osx-64/zlib-1.2.11-h1de35cc_3.conda": (BadPackageError, "empty target"),
    "malformed/ca-certificates-2024.7.4-hbcca054_0.conda": (BadPackageError, "inside a folder"),
    "noarch/failing_post_link-1.0-0.conda": (ScriptError, "post-link script of failing_post_link"),
    # Their post-link scripts stat $PREFIX/bin/file, which no package provides (conda fails too).
    "noarch/post_link-c-1.0-0.conda": (ScriptError, "post-link script of post_link-c"),
    "noarch/post_link-d-1.0-0.conda": (ScriptError, "post-link script of post_link-d"),
}


def _key(p: Path) -> str:
    return f"{p.parent.name}/{p.name}"


def _snapshot(prefix: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    if not prefix.exists():
        return out
    for dirpath, dirnames, filenames in os.walk(prefix):
        for n in filenames + dirnames:
            p = Path(dirpath, n)
            rel = p.relative_to(prefix).as_posix()
            if rel.startswith("conda-meta/.naja"):
                continue
            out[rel] = os.readlink(p) if p.is_symlink() else (None if p.is_dir() else p.read_bytes())
    return out


@pytest.mark.parametrize("archive", _all_packages(), ids=_key)
def test_corpus_package(archive: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    cache = PackageCache([tmp_path / "pkgs"])
    expected = EXPECTED_ERRORS.get(_key(archive))
    try:
        rec = record_for_file(archive)
    except BadPackageError:
        # Unreadable metadata: install it under the name its file name gives.
        rec = record_from_filename(archive)
    records = [rec]
    if rec.noarch == "python" and rec.name != "python":
        records = [record_for_file(FAKE_PYTHON), rec]
    # A package already in the prefix, to check a failure leaves it untouched.
    install(prefix, [record_for_file(CORPUS / "rattler-tests/sparse/sparse-test-1.0.0-0.conda")],
            cache=cache)
    before = _snapshot(prefix)
    if expected:
        with pytest.raises(expected[0]) as err:
            install(prefix, records, cache=cache)
        assert expected[1] in str(err.value)
        assert err.value.render()  # message + hint
        assert _snapshot(prefix) == before
        if expected[0] is BadPackageError:
            assert not (tmp_path / "pkgs" / strip_package_ext(archive.name)).exists()
        return
    result = install(prefix, records, cache=cache)
    by_name = {r.name: r for r in installed_records(prefix)}
    assert rec.name in by_name
    installed = by_name[rec.name]
    assert installed.sha256 == rec.sha256 and installed.fn == archive.name
    for path in installed.files:
        assert os.path.lexists(prefix / path), path
    if rec.name == "link-scripts":
        assert (prefix / "i-was-post-linked").exists()
        assert any("post-link script that just ran" in m for m in result.messages)
    assert not (prefix / "conda-meta" / ".naja-transaction.journal").exists()


def test_link_scripts_package_round_trip(tmp_path: Path) -> None:
    from naja.install import remove

    pkg = CORPUS / "rattler-tests/link-scripts/link-scripts-0.1.0-h4616a5c_0.conda"
    prefix = tmp_path / "env"
    install(prefix, [record_for_file(pkg)], cache=PackageCache([tmp_path / "pkgs"]))
    assert (prefix / "i-was-post-linked").exists()
    remove(prefix, ["link-scripts"])  # its pre-unlink script deletes the marker
    assert not (prefix / "i-was-post-linked").exists()
    assert not (prefix / "bin").exists()
    # --no-scripts: nothing runs
    install(prefix, [record_for_file(pkg)], cache=PackageCache([tmp_path / "pkgs"]), run_scripts=False)
    assert not (prefix / "i-was-post-linked").exists()
