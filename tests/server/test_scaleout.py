"""Scale-out: two uvicorn workers sharing PostgreSQL and S3 (moto's server), with concurrent
uploads from several clients; the index ends up with every package and clients install."""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path

import pytest

from tests.index.pkgfactory import make_package
from tests.server.clients import naja, naja_create, rattler_install
from tests.server.servers import ADMIN_TOKEN, MotoS3, NajaServer

pytest.importorskip("rattler")


@pytest.fixture(scope="module")
def cluster(postgres, tmp_path_factory):
    root = tmp_path_factory.mktemp("scaleout")
    s3 = MotoS3(root / "moto")
    try:
        srv = NajaServer(
            root / "data", "--workers", "2", "--database", postgres.new_database(),
            "--storage", "s3://naja-test/channels", "--s3-endpoint", s3.url, env=MotoS3.env,
        )
    except Exception:
        s3.stop()
        raise
    yield srv, s3
    srv.stop()
    s3.stop()


def test_two_workers_postgres_s3(cluster, tmp_path: Path) -> None:
    import boto3

    srv, s3 = cluster
    with srv.client() as c:
        workers = {c.get("/health").json()["worker"] for _ in range(40)}
        deadline = time.monotonic() + 20
        while len(workers) < 2 and time.monotonic() < deadline:
            with srv.client() as fresh:
                workers.add(fresh.get("/health").json()["worker"])
        assert len(workers) == 2, workers

        assert c.post("/api/channels", json={"name": "shared"}).status_code == 201
        packages = [make_package(tmp_path / "p" / f"par{i}-1.0-0.conda", f"par{i}") for i in range(12)]

        def up(p: Path) -> int:
            # A fresh connection per upload spreads them over both workers.
            with srv.client() as own:
                return own.post("/api/channels/shared/files/", files={"files": (p.name, p.read_bytes())}).status_code

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            assert list(pool.map(up, packages)) == [201] * len(packages)
        # Every worker serves the same, complete index (no lost update between workers).
        for _ in range(6):
            with srv.client(None) as anon:
                rd = anon.get("/get/shared/noarch/repodata.json").json()
                assert set(rd["packages.conda"]) == {p.name for p in packages}

    s3c = boto3.client("s3", endpoint_url=s3.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    keys = {o["Key"] for o in s3c.list_objects_v2(Bucket="naja-test", Prefix="channels/shared/")["Contents"]}
    assert "channels/shared/noarch/par0-1.0-0.conda" in keys
    assert "channels/shared/noarch/repodata.json" in keys
    assert not list((srv.data_dir / "files").rglob("*.conda")) if (srv.data_dir / "files").exists() else True

    extra = make_package(tmp_path / "p" / "viacli-1.0-0.tar.bz2", "viacli", depends=["par3"])
    res = naja("upload", "--to", srv.channel("shared"), "--token", ADMIN_TOKEN, str(extra))
    assert res.returncode == 0, res.stderr
    records, prefix = rattler_install(tmp_path / "r", srv.channel("shared"), "viacli")
    assert {r.name.normalized for r in records} == {"viacli", "par3"}
    res, prefix = naja_create(tmp_path / "n", srv.channel("shared"), "viacli")
    assert res.returncode == 0, res.stdout + res.stderr
    assert (prefix / "share" / "par3" / "hello.txt").is_file()


def test_two_workers_sqlite_concurrent_uploads(tmp_path: Path) -> None:
    """The embedded setup with 2 workers: concurrent uploads neither fail on SQLite's single
    writer nor lose each other's index entries (the per-subdir file lock)."""
    srv = NajaServer(tmp_path / "data", "--workers", "2")
    try:
        with srv.client() as c:
            assert c.post("/api/channels", json={"name": "embedded"}).status_code == 201
        packages = [make_package(tmp_path / "p" / f"emb{i}-1.0-0.conda", f"emb{i}") for i in range(10)]

        def up(p: Path) -> int:
            with srv.client() as own:
                return own.post("/api/channels/embedded/files/", files={"files": (p.name, p.read_bytes())}).status_code

        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            assert list(pool.map(up, packages)) == [201] * len(packages)
        for _ in range(4):
            with srv.client(None) as anon:
                rd = anon.get("/get/embedded/noarch/repodata.json").json()
                assert set(rd["packages.conda"]) == {p.name for p in packages}
    finally:
        srv.stop()
