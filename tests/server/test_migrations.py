"""Alembic: the migrations build exactly the models' schema, on SQLite and PostgreSQL, and
every released revision upgrades to the current one with its data."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from naja.server.migrate import alembic_config, current, upgrade
from naja.server.models import Base

REVISIONS = [s.revision for s in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()][::-1]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path: Path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").new_database().replace("postgresql://", "postgresql+psycopg://")
    eng = create_engine(url)
    yield eng
    eng.dispose()


def test_head_matches_models(engine) -> None:
    upgrade(engine)
    assert current(engine) == REVISIONS[-1]
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


@pytest.mark.parametrize("start", REVISIONS)
def test_upgrade_from_every_revision_keeps_data(engine, start: str) -> None:
    upgrade(engine, start)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (username, is_admin, created_at) VALUES ('old', false, CURRENT_TIMESTAMP)"))
    upgrade(engine)
    assert current(engine) == REVISIONS[-1]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT username FROM users")).scalars().all() == ["old"]


def test_downgrade_to_base_and_back(engine) -> None:
    upgrade(engine)
    cfg = alembic_config(str(engine.url))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert "package_files" in inspect(engine).get_table_names()
