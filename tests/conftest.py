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


_exit_status = 0


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # py-rattler 0.28 (the test oracle) crashes at interpreter exit in some runs; once pytest
    # has reported, leave without running its native destructors so the exit code is pytest's.
    import sys

    if "rattler" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status)
