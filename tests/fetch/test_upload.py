"""Uploads: streamed request bodies with credentials, retries and clear errors."""

from __future__ import annotations

import pytest

from naja.fetch import Credential, Downloader, HttpStatusError, NetworkError, StaticCredentials
from tests.fetch.conftest import fast_config, payload
from tests.servers.faulty import Fault

DATA = payload(3_500_000, seed=4)


def test_put_streams_the_file(faulty, tmp_path) -> None:
    src = tmp_path / "pkg.conda"
    src.write_bytes(DATA)
    events = []
    with Downloader(fast_config(progress_interval=0), on_progress=events.append) as dl:
        result = dl.upload(faulty.url + "/upload/pkg.conda", src)
    assert result.status == 201 and result.size == len(DATA) and result.attempts == 1
    assert faulty.uploads["/upload/pkg.conda"] == DATA
    assert events[-1].kind == "done" and events[-1].downloaded == len(DATA)
    assert faulty.requests[0].headers["content-type"] == "application/octet-stream"


def test_upload_retries_after_5xx_and_a_dropped_connection(faulty, tmp_path) -> None:
    src = tmp_path / "pkg.conda"
    src.write_bytes(DATA)
    faulty.plan("/u", Fault("status", status=503, retry_after="0"), Fault("drop", after=1000))
    with Downloader(fast_config()) as dl:
        result = dl.upload(faulty.url + "/u", src, method="POST")
    # Three requests; the one cut on a reused keep-alive connection is re-sent at once.
    assert len(faulty.requests_for("/u")) == 3 and result.attempts >= 2
    assert faulty.uploads["/u"] == DATA


def test_upload_4xx_is_not_retried_and_shows_the_reason(faulty, tmp_path) -> None:
    src = tmp_path / "pkg.conda"
    src.write_bytes(b"x")
    faulty.auth["/private"] = "Bearer right"
    creds = StaticCredentials({faulty.url: Credential("bearer", token="wrong-secret")})
    with Downloader(fast_config(), credentials=creds) as dl, pytest.raises(HttpStatusError) as info:
        dl.upload(faulty.url + "/private", src)
    text = info.value.render()
    assert "upload to" in text and "401" in text and "unauthorized" in text
    assert "wrong-secret" not in text
    assert len(faulty.requests) == 1


def test_upload_to_nowhere_is_a_network_error(tmp_path) -> None:
    from tests.servers.nginx import free_port

    src = tmp_path / "pkg.conda"
    src.write_bytes(b"x")
    with Downloader(fast_config()) as dl, pytest.raises(NetworkError, match="upload to"):
        dl.upload(f"http://127.0.0.1:{free_port()}/u", src)


def test_put_to_nginx_over_https_and_read_it_back(nginx, tmp_path) -> None:
    root = tmp_path / "www"
    (tmp_path / "body").mkdir()
    server = nginx(
        root,
        extra="location /incoming/ { dav_methods PUT; create_full_put_path on; "
        "client_max_body_size 50m; client_body_temp_path "
        f"{tmp_path / 'body'}; }}",
    )
    src = tmp_path / "pkg.conda"
    src.write_bytes(DATA)
    with Downloader(fast_config(ca_bundle=server.ca_cert)) as dl:
        result = dl.upload(f"{server.https_url}/incoming/noarch/pkg.conda", src)
        assert result.status in (201, 204)
        from naja.fetch import DownloadRequest
        from tests.fetch.conftest import sha256

        back = dl.download(
            DownloadRequest(
                f"{server.url}/incoming/noarch/pkg.conda", tmp_path / "back", sha256=sha256(DATA)
            )
        )
    assert back.path.read_bytes() == DATA
