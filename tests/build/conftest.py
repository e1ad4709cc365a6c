"""Fixtures for the build tests: the recipe-render corpus, unpacked once per session."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from tests.conftest import SHARED

CORPUS_TARBALL = SHARED / "corpora" / "recipe-render-public.tar.gz"
COMPARER = SHARED / "corpora" / "compare_render.py"


@pytest.fixture(scope="session")
def render_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `rendering-tests/` directory of the public corpus, extracted into a temp dir."""
    if not CORPUS_TARBALL.is_file():
        pytest.skip(f"recipe-render corpus not found at {CORPUS_TARBALL}")
    target = tmp_path_factory.mktemp("render-corpus")
    with tarfile.open(CORPUS_TARBALL) as tar:
        tar.extractall(target, filter="data")
    return target / "rendering-tests"
