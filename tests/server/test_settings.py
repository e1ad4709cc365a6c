"""Settings travel to uvicorn workers through the environment unchanged."""

from __future__ import annotations

from pathlib import Path

from naja.server.settings import Settings


def test_settings_round_trip_through_env(tmp_path: Path) -> None:
    s = Settings(
        data_dir=tmp_path, database="postgresql://u:p@h/db", storage="s3://b/p", s3_endpoint="http://x",
        max_upload=123, plugins=["a.b", "c"], secure_cookies=True, proxy_ttl=5,
    )
    assert Settings.from_env(s.to_env()) == s
    assert s.database_url.startswith("postgresql+psycopg://")
    assert Settings(data_dir=tmp_path).database_url == f"sqlite:///{tmp_path.resolve()}/naja-server.sqlite"
    assert Settings.from_env({**Settings(data_dir=tmp_path).to_env(), "NAJA_SERVER_SECURE_COOKIES": ""}).secure_cookies is False
