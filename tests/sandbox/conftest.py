"""Fixtures for sandbox tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.run.fakeenv import FakeEnv, make_env


@pytest.fixture
def fake_env(tmp_path: Path) -> FakeEnv:
    return make_env(tmp_path)
