"""Server settings: from `naja server` flags, passed to workers through the environment."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

ENV_PREFIX = "NAJA_SERVER_"


@dataclass
class Settings:
    data_dir: Path
    # SQLAlchemy URL; empty means SQLite in the data directory.
    database: str = ""
    # "" (files under data_dir/files) or s3://bucket/prefix
    storage: str = ""
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    max_upload: int = 2 << 30
    max_unpacked: int = 8 << 30
    # Login attempts allowed per user name and client address in `login_window` seconds.
    login_attempts: int = 5
    login_window: int = 60
    # Plugin module names loaded besides the entry points (comma-separated in the env).
    plugins: list[str] = field(default_factory=list)
    # How long a proxy channel's cached index is served before a background refresh.
    proxy_ttl: int = 600
    secure_cookies: bool = False

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()

    @property
    def database_url(self) -> str:
        url = self.database or f"sqlite:///{self.data_dir / 'naja-server.sqlite'}"
        # psycopg 3 is the driver we ship; plain postgresql:// would pick psycopg2.
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url

    def to_env(self) -> dict[str, str]:
        out = {}
        for key, value in asdict(self).items():
            if isinstance(value, list):
                value = ",".join(value)
            elif isinstance(value, bool):
                value = "1" if value else ""
            out[ENV_PREFIX + key.upper()] = str(value)
        return out

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        kwargs: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            if f.name == "plugins":
                kwargs[f.name] = [p for p in raw.split(",") if p]
            elif f.type in ("int", int):
                kwargs[f.name] = int(raw)
            elif f.type in ("bool", bool):
                kwargs[f.name] = raw not in ("", "0", "false")
            else:
                kwargs[f.name] = raw
        if "data_dir" not in kwargs:
            kwargs["data_dir"] = Path.cwd() / "naja-server-data"
        return cls(**kwargs)  # type: ignore[arg-type]
