"""Fixtures shared by the whole suite: where the shared corpora live, temp dirs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# ../shared beside the clone holds the public corpora (see DEVELOPERS.md); overridable.
SHARED = Path(os.environ.get("NAJA_SHARED", ROOT.parent / "shared"))
REPODATA = SHARED / "corpora" / "repodata"


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared corpora not found at {SHARED} (set NAJA_SHARED)")
    return SHARED
