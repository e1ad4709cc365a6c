"""conda's patch_instructions.json semantics, applied to records in memory."""

from __future__ import annotations

from naja.server.plugins.repodata_patch import apply_patch


def test_apply_patch() -> None:
    records = {
        "a-1-0.conda": {"name": "a", "depends": ["b"], "license": "MIT"},
        "a-2-0.conda": {"name": "a", "depends": []},
        "c-1-0.tar.bz2": {"name": "c", "depends": [], "track_features": "x"},
    }
    apply_patch(records, {
        "packages.conda": {"a-1-0.conda": {"depends": ["b <2"], "license": None}, "missing.conda": {"x": 1}},
        "packages": {"c-1-0.tar.bz2": {"track_features": None}},
        "revoke": ["a-2-0.conda"],
        "remove": ["nothing-1-0.conda"],
    })
    assert records["a-1-0.conda"] == {"name": "a", "depends": ["b <2"]}
    assert records["a-2-0.conda"]["revoked"] is True
    assert records["a-2-0.conda"]["depends"] == ["package_has_been_revoked"]
    assert "track_features" not in records["c-1-0.tar.bz2"]
    apply_patch(records, {"remove": ["c-1-0.tar.bz2"]})
    assert set(records) == {"a-1-0.conda", "a-2-0.conda"}
