"""Against a real nginx: parallel downloads, HTTPS, keep-alive, resume with Range, 304s."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naja.fetch import (
    ChecksumMismatchError,
    Downloader,
    DownloadRequest,
    HttpStatusError,
    TlsError,
)
from tests.fetch.conftest import access_log, fast_config, payload, sha256


@pytest.fixture
def channel(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    root = tmp_path / "www"
    files = {f"linux-64/pkg-{i}.conda": payload(10_000 + i * 37_123, seed=i) for i in range(12)}
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root, files


def test_parallel_download_verifies_and_places_every_file(nginx, channel, tmp_path) -> None:
    root, files = channel
    server = nginx(root)
    out = tmp_path / "out"
    requests = [
        DownloadRequest(f"{server.url}/{n}", out / n, sha256=sha256(d), size=len(d))
        for n, d in files.items()
    ]
    with Downloader(fast_config(max_connections=4, max_connections_per_host=3)) as dl:
        results = dl.download_many(requests)
        # Keep-alive: 12 files over at most 3 connections leaves them idle in the pool.
        idle = sum(len(v) for v in dl.pool._idle.values())
        assert 1 <= idle <= 3
    assert [r.request for r in results] == requests
    for r in results:
        assert r.ok and r.path.read_bytes() == files[r.path.relative_to(out).as_posix()]
        assert r.sha256 == r.request.sha256
    assert not list(out.rglob("*.part*"))


def test_https_with_http2_server_and_custom_ca(nginx, channel, tmp_path) -> None:
    root, files = channel
    server = nginx(root)
    name, data = next(iter(files.items()))
    req = DownloadRequest(f"{server.https_url}/{name}", tmp_path / "x.conda", sha256=sha256(data))
    with Downloader(fast_config(ca_bundle=server.ca_cert)) as dl:
        assert dl.download(req).path.read_bytes() == data
    # Untrusted certificate: a clear TLS error, no retry storm, nothing at the target.
    with Downloader(fast_config()) as dl, pytest.raises(TlsError) as info:
        dl.download(req.__class__(req.url, tmp_path / "y.conda"))
    assert "ca_bundle" in info.value.render()
    assert not (tmp_path / "y.conda").exists()
    with Downloader(fast_config(ssl_verify=False)) as dl:
        assert dl.download(req.__class__(req.url, tmp_path / "z.conda")).ok


def test_resume_continues_a_partial_file_with_range(nginx, channel, tmp_path) -> None:
    root, files = channel
    server = nginx(root)
    name = "linux-64/pkg-11.conda"
    data = files[name]
    target = tmp_path / "pkg.conda"
    url = f"{server.url}/{name}"
    # A first run was cut after 100 kB; it recorded the server's ETag beside the .part file.
    with Downloader(fast_config()) as dl:
        etag = dl.send(url, {}).headers.get("etag")
    part = target.with_name(target.name + ".part")
    part.write_bytes(data[:100_000])
    part.with_name(part.name + ".json").write_text(json.dumps({"validator": etag, "url": url}))
    with Downloader(fast_config()) as dl:
        result = dl.download(DownloadRequest(url, target, sha256=sha256(data)))
    assert result.resumed_bytes == 100_000
    assert target.read_bytes() == data
    assert not part.exists()


def test_resume_with_a_stale_validator_restarts(nginx, channel, tmp_path) -> None:
    root, files = channel
    server = nginx(root)
    name = "linux-64/pkg-3.conda"
    data = files[name]
    target = tmp_path / "pkg.conda"
    url = f"{server.url}/{name}"
    part = target.with_name(target.name + ".part")
    part.write_bytes(b"x" * 5000)  # bytes of an older version of the file
    part.with_name(part.name + ".json").write_text(
        json.dumps({"validator": '"0-old"', "url": url})
    )
    with Downloader(fast_config()) as dl:
        result = dl.download(DownloadRequest(url, target, sha256=sha256(data)))
    assert result.resumed_bytes == 0 and target.read_bytes() == data


def test_conditional_get_304_leaves_the_file(nginx, channel, tmp_path) -> None:
    root, files = channel
    server = nginx(root)
    name = "linux-64/pkg-1.conda"
    target = tmp_path / "repodata.json"
    with Downloader(fast_config()) as dl:
        first = dl.download(DownloadRequest(f"{server.url}/{name}", target))
        assert first.etag and first.last_modified and not first.not_modified
        again = dl.download(
            DownloadRequest(f"{server.url}/{name}", target, if_none_match=first.etag)
        )
    assert again.not_modified and target.read_bytes() == files[name]


def test_404_is_not_retried_and_names_the_url(nginx, channel, tmp_path) -> None:
    root, _ = channel
    server = nginx(root, access_log=True)
    with Downloader(fast_config()) as dl, pytest.raises(HttpStatusError) as info:
        dl.download(DownloadRequest(f"{server.url}/missing.conda", tmp_path / "m.conda"))
    assert info.value.status == 404
    assert "missing.conda" in str(info.value) and "hint:" in str(info.value)
    log = access_log(server, 1)
    assert log.count("missing.conda") == 1
    assert not list(tmp_path.glob("m.conda*"))


def test_checksum_mismatch_retries_once_then_names_both_digests(nginx, channel, tmp_path):
    root, files = channel
    server = nginx(root, access_log=True)
    name = "linux-64/pkg-2.conda"
    wrong = "0" * 64
    target = tmp_path / "p.conda"
    with Downloader(fast_config()) as dl, pytest.raises(ChecksumMismatchError) as info:
        dl.download(DownloadRequest(f"{server.url}/{name}", target, sha256=wrong))
    text = str(info.value)
    assert wrong in text and sha256(files[name]) in text and name in text
    assert access_log(server, 2).count(name) == 2
    assert not list(tmp_path.glob("p.conda*"))


def test_http2_when_enabled_and_offered(nginx, channel, tmp_path) -> None:
    root, files = channel
    server = nginx(root, access_log=True)
    out = tmp_path / "h2"
    requests = [
        DownloadRequest(f"{server.https_url}/{n}", out / n, sha256=sha256(d))
        for n, d in files.items()
    ]
    config = fast_config(http2=True, ca_bundle=server.ca_cert, max_connections=4)
    with Downloader(config) as dl:
        results = dl.download_many(requests)
    assert all(r.path.read_bytes() == files[r.path.relative_to(out).as_posix()] for r in results)
    assert access_log(server, len(files)).count("HTTP/2.0") == len(files)
    # Plain http:// stays on the HTTP/1.1 engine.
    with Downloader(config) as dl:
        name = next(iter(files))
        assert dl.download(DownloadRequest(f"{server.url}/{name}", tmp_path / "p")).ok
