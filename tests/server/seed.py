"""Filling a channel with many package rows straight into the database (for scale tests and
the benchmark): the records are realistic, the files behind them do not exist."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import create_engine, insert, select

from naja.server.models import Channel, PackageFile


def seed_channel(database_url: str, channel: str, n: int, *, subdir: str = "noarch", names: int = 2000) -> None:
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    engine = create_engine(database_url)
    with engine.begin() as conn:
        ch = conn.scalar(select(Channel.id).where(Channel.name == channel))
        if ch is None:
            ch = conn.execute(
                insert(Channel).values(name=channel, private=False, description="seeded", mode="", upstream="")
            ).inserted_primary_key[0]
        rows = []
        for i in range(n):
            name = f"seedpkg{i % names:05d}"
            version = f"{i // names}.{i % 7}.0"
            fn = f"{name}-{version}-py_0.conda"
            sha = hashlib.sha256(fn.encode()).hexdigest()
            md5 = hashlib.md5(fn.encode()).hexdigest()
            record = {
                "name": name, "version": version, "build": "py_0", "build_number": 0,
                "depends": [f"seedpkg{(i * 7 + 1) % names:05d} >={i % 3}", "python >=3.8"],
                "license": "MIT", "noarch": "python", "subdir": subdir,
                "timestamp": 1700000000000 + i, "md5": md5, "sha256": sha, "size": 1000 + i,
            }
            rows.append({
                "channel_id": ch, "subdir": subdir, "filename": fn, "name": name, "version": version,
                "build": "py_0", "size": 1000 + i, "sha256": sha, "md5": md5,
                "record": json.dumps(record, sort_keys=True), "about": "{}", "files": "[]",
            })
        for start in range(0, len(rows), 2000):
            conn.execute(insert(PackageFile), rows[start : start + 2000])
    engine.dispose()
