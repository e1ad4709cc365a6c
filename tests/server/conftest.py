"""Fixtures: servers per database backend (SQLite, PostgreSQL), packages to upload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.index.pkgfactory import make_package
from tests.server.servers import ADMIN_TOKEN, NajaServer, Postgres

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    try:
        pg = Postgres()
    except (FileNotFoundError, OSError) as exc:
        pytest.fail(f"PostgreSQL is needed for the server tests (dev/system-deps): {exc}")
    yield pg
    pg.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory, request) -> Iterator[NajaServer]:
    args: list[str] = []
    if backend == "postgresql":
        args = ["--database", request.getfixturevalue("postgres").new_database()]
    srv = NajaServer(tmp_path_factory.mktemp(f"srv-{backend}") / "data", *args, "--max-upload", str(4 << 20),
                     "--max-unpacked", str(32 << 20))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def admin(server: NajaServer):
    with server.client(ADMIN_TOKEN) as c:
        yield c


@pytest.fixture
def pkgs(tmp_path: Path):
    def make(name: str = "demo", version: str = "1.0", build: str = "0", ext: str = ".conda", **kw) -> Path:
        return make_package(tmp_path / "out" / f"{name}-{version}-{build}{ext}", name, version, build, **kw)

    return make
