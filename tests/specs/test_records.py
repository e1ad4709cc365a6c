"""Records from real packages: every info/index.json of the shared package corpus."""

from __future__ import annotations

import json
from functools import cache

import pytest
from conda_package_streaming.package_streaming import stream_conda_info

from naja.specs.records import PackageRecord
from naja.specs.repodata import load_index_json
from tests.conftest import SHARED

PACKAGES = SHARED / "corpora" / "packages"


@cache
def index_jsons() -> dict[str, bytes]:
    out = {}
    for path in sorted([*PACKAGES.rglob("*.conda"), *PACKAGES.rglob("*.tar.bz2")]):
        if "malformed" in path.parts:
            continue
        with path.open("rb") as f:
            for tar, member in stream_conda_info(str(path), f):
                if member.name == "info/index.json":
                    out[path.name] = tar.extractfile(member).read()  # type: ignore[union-attr]
                    break
    return out


def test_corpus_has_packages():
    assert len(index_jsons()) > 60


@pytest.mark.parametrize("name", sorted(index_jsons()))
def test_index_json_round_trips(name):
    raw = index_jsons()[name]
    record = load_index_json(raw)
    assert isinstance(record, PackageRecord)
    original = json.loads(raw)
    # conda's dump leaves out null fields and always writes `depends`.
    expected = {k: v for k, v in original.items() if v is not None}
    expected.setdefault("depends", [])
    dumped = record.to_dict()
    if isinstance(original.get("track_features"), list):
        expected["track_features"] = " ".join(original["track_features"])
    if not original.get("track_features"):
        expected.pop("track_features", None)
    assert dumped == expected


@pytest.mark.parametrize("name", sorted(index_jsons()))
def test_index_json_like_rattler(name, tmp_path):
    rattler = pytest.importorskip("rattler")
    raw = index_jsons()[name]
    (tmp_path / "index.json").write_bytes(raw)
    try:
        theirs = json.loads(
            rattler.PackageRecord.from_index_json(tmp_path / "index.json").to_json()
        )
    except Exception as err:  # rattler refuses index.json without a platform for arch packages
        assert "platform" in str(err)
        return
    ours = load_index_json(raw)
    assert ours.name == theirs["name"]
    assert ours.version == theirs["version"]
    assert ours.build == theirs["build"]
    assert ours.build_number == theirs["build_number"]
    assert ours.depends == theirs.get("depends", [])
    assert ours.constrains == theirs.get("constrains", [])
    assert ours.subdir == theirs.get("subdir")
    assert ours.noarch == theirs.get("noarch")
    assert " ".join(ours.track_features) == " ".join(
        theirs["track_features"]
        if isinstance(theirs.get("track_features"), list)
        else (theirs.get("track_features") or "").split()
    )
    if "timestamp" in theirs:
        assert ours.timestamp_ms == theirs["timestamp"]
