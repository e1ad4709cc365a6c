"""Every fault the injector plans ends in a correct file or a clear error, never a corrupt target."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from naja.fetch import (
    ChecksumMismatchError,
    Downloader,
    DownloadRequest,
    HttpStatusError,
    NetworkError,
    SizeMismatchError,
)
from tests.fetch.conftest import FAST_RETRY, fast_config, payload, sha256
from tests.servers.faulty import Fault, FaultyServer

DATA = payload(600_000, seed=7)
PATH = "/pkg-1.0-0.conda"


def fetch(server: FaultyServer, target: Path, **options: object):
    req = DownloadRequest(server.url + PATH, target, sha256=sha256(DATA), size=len(DATA))
    with Downloader(fast_config(**options)) as dl:
        return dl.download(req)


def assert_clean(target: Path) -> None:
    assert not target.exists()
    assert not list(target.parent.glob(target.name + ".part*"))


def test_drop_mid_body_resumes_with_range(faulty, tmp_path) -> None:
    faulty.add(PATH, DATA)
    faulty.plan(PATH, Fault("drop", after=250_000), Fault("drop", after=100_000))
    result = fetch(faulty, tmp_path / "p.conda")
    assert result.path.read_bytes() == DATA
    sent = faulty.requests_for(PATH)
    assert len(sent) == 3
    assert "range" not in sent[0].headers
    assert sent[1].headers["range"] == "bytes=250000-"
    assert sent[1].headers["if-range"].startswith('"')
    assert sent[2].headers["range"] == "bytes=350000-"
    assert result.resumed_bytes == 250_000 + 350_000


def test_stall_times_out_and_resumes(faulty, tmp_path) -> None:
    faulty.add(PATH, DATA)
    faulty.plan(PATH, Fault("stall", after=10_000, delay=5))
    t0 = time.monotonic()
    result = fetch(faulty, tmp_path / "p.conda", read_timeout=0.5)
    assert time.monotonic() - t0 < 4
    assert result.path.read_bytes() == DATA
    assert faulty.requests_for(PATH)[1].headers["range"] == "bytes=10000-"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried(faulty, tmp_path, status) -> None:
    faulty.add(PATH, DATA)
    faulty.plan(PATH, Fault("status", status=status), Fault("status", status=status))
    assert fetch(faulty, tmp_path / "p.conda").path.read_bytes() == DATA
    assert len(faulty.requests_for(PATH)) == 3


def test_429_honours_retry_after(faulty, tmp_path) -> None:
    faulty.add(PATH, DATA)
    faulty.plan(PATH, Fault("status", status=429, retry_after="1"))
    t0 = time.monotonic()
    result = fetch(faulty, tmp_path / "p.conda")
    assert 0.9 <= time.monotonic() - t0 < 5
    assert result.path.read_bytes() == DATA


def test_persistent_503_gives_a_clear_error(faulty, tmp_path) -> None:
    faulty.add(PATH, DATA)
    faulty.plan(PATH, *[Fault("status", status=503)] * 10)
    target = tmp_path / "p.conda"
    with pytest.raises(HttpStatusError) as info:
        fetch(faulty, target)
    assert info.value.status == 503 and PATH in str(info.value)
    assert len(faulty.requests_for(PATH)) == 4  # FAST_RETRY.attempts
    assert_clean(target)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_other_4xx_is_not_retried(faulty, tmp_path, status) -> None:
    faulty.add(PATH, DATA)
    faulty.plan(PATH, Fault("status", status=status))
    target = tmp_path / "p.conda"
    with pytest.raises(HttpStatusError):
        fetch(faulty, target)
    assert len(faulty.requests_for(PATH)) == 1
    assert_clean(target)


def test_truncated_body_without_length_is_detected_and_resumed(faulty, tmp_path) -> None:
    faulty.add(PATH, DATA)
    faulty.plan(PATH, Fault("truncate", after=123_456))
    result = fetch(faulty, tmp_path / "p.conda")
    assert result.path.read_bytes() == DATA
    assert faulty.requests_for(PATH)[1].headers["range"] == "bytes=123456-"


def test_truncation_every_time_is_a_size_error(faulty, tmp_path) -> None:
    faulty.add(PATH, DATA)
    faulty.plan(PATH, *[Fault("truncate", after=0)] * 10)
    target = tmp_path / "p.conda"
    with pytest.raises(SizeMismatchError) as info:
        fetch(faulty, target)
    assert str(len(DATA)) in str(info.value)
    assert not target.exists()


def test_flipped_byte_is_refetched_from_scratch(faulty, tmp_path) -> None:
    faulty.add(PATH, DATA)
    faulty.plan(PATH, Fault("flip", after=333))
    result = fetch(faulty, tmp_path / "p.conda")
    assert result.path.read_bytes() == DATA
    second = faulty.requests_for(PATH)[1]
    assert "range" not in second.headers


def test_flipped_twice_is_a_checksum_error(faulty, tmp_path) -> None:
    faulty.add(PATH, DATA)
    faulty.plan(PATH, Fault("flip", after=1), Fault("flip", after=2))
    target = tmp_path / "p.conda"
    with pytest.raises(ChecksumMismatchError) as info:
        fetch(faulty, target)
    assert sha256(DATA) in str(info.value)
    assert_clean(target)


def test_server_ignoring_range_restarts_cleanly(faulty, tmp_path) -> None:
    faulty.add(PATH, DATA)
    faulty.plan(PATH, Fault("drop", after=300_000), Fault("norange"))
    result = fetch(faulty, tmp_path / "p.conda")
    assert result.path.read_bytes() == DATA
    assert result.resumed_bytes == 0


def test_file_changed_between_attempts_restarts(faulty, tmp_path) -> None:
    faulty.add(PATH, DATA)
    # If-Range no longer matches: the server sends the whole (current) file as a 200.
    faulty.plan(PATH, Fault("drop", after=300_000), Fault("changed", data=DATA))
    assert fetch(faulty, tmp_path / "p.conda").path.read_bytes() == DATA


def test_redirect_is_followed(faulty, tmp_path) -> None:
    faulty.add(PATH, DATA)
    faulty.plan(PATH, Fault("redirect", location="/elsewhere/pkg.conda"))
    faulty.add("/elsewhere/pkg.conda", DATA)
    result = fetch(faulty, tmp_path / "p.conda")
    assert result.path.read_bytes() == DATA
    assert len(faulty.requests_for("/elsewhere/pkg.conda")) == 1


def test_redirect_loop_is_an_error(faulty, tmp_path) -> None:
    faulty.add(PATH, DATA)
    faulty.plan(PATH, *[Fault("redirect", location=PATH)] * 30)
    target = tmp_path / "p.conda"
    with pytest.raises(Exception, match="redirects"):
        fetch(faulty, target, max_redirects=5)
    assert_clean(target)


def test_connection_refused_is_a_network_error(tmp_path) -> None:
    from tests.servers.nginx import free_port

    target = tmp_path / "p.conda"
    req = DownloadRequest(f"http://127.0.0.1:{free_port()}/x.conda", target)
    with Downloader(fast_config()) as dl, pytest.raises(NetworkError) as info:
        dl.download(req)
    assert "hint:" in str(info.value)
    assert_clean(target)


def test_mixed_faults_over_many_parallel_files(faulty, tmp_path) -> None:
    kinds = [
        Fault("drop", after=1000),
        Fault("status", status=503),
        Fault("flip", after=5),
        Fault("norange"),
        Fault("truncate", after=10),
        Fault("stall", after=10, delay=3),
    ]
    requests = []
    for i in range(24):
        data = payload(50_000 + 1000 * i, seed=i)
        path = f"/f{i}.conda"
        faulty.add(path, data)
        faulty.plan(path, kinds[i % len(kinds)])
        requests.append(
            DownloadRequest(faulty.url + path, tmp_path / path[1:], sha256=sha256(data))
        )
    with Downloader(fast_config(read_timeout=0.5, max_connections=6)) as dl:
        results = dl.download_many(requests)
    for r in results:
        assert sha256(r.path.read_bytes()) == r.request.sha256


def test_a_flaky_link_never_starts_over(faulty, tmp_path) -> None:
    # Every transfer is cut after 50 kB: the file still arrives, each byte sent once.
    faulty.add(PATH, DATA)
    faulty.plan(PATH, *[Fault("drop", after=50_000)] * 11)
    result = fetch(
        faulty,
        tmp_path / "p.conda",
        retry=FAST_RETRY.__class__(attempts=20, backoff_base=0.001, backoff_cap=0.01),
    )
    assert result.path.read_bytes() == DATA
    starts = [int(r.headers.get("range", "bytes=0-")[6:].split("-")[0]) for r in faulty.requests]
    assert starts == [i * 50_000 for i in range(12)]


def test_a_big_download_that_gives_up_can_resume_in_the_next_run(faulty, tmp_path) -> None:
    big = payload(5_000_000, seed=9)
    faulty.add("/big.conda", big)
    faulty.plan("/big.conda", *[Fault("drop", after=1_000_000)] + [Fault("status", status=503)] * 3)
    target = tmp_path / "big.conda"
    req = DownloadRequest(faulty.url + "/big.conda", target, sha256=sha256(big))
    with Downloader(fast_config()) as dl, pytest.raises(HttpStatusError):
        dl.download(req)
    assert not target.exists()
    assert target.with_name("big.conda.part").stat().st_size == 1_000_000
    with Downloader(fast_config()) as dl:
        result = dl.download(req)
    assert result.resumed_bytes == 1_000_000 and target.read_bytes() == big
    assert not list(tmp_path.glob("big.conda.part*"))


def test_chunked_bodies_and_keep_alive_after_them(faulty, tmp_path) -> None:
    faulty.add(PATH, DATA)
    faulty.plan(PATH, Fault("chunked", after=7_777), Fault("chunked", after=100_000))
    req = DownloadRequest(faulty.url + PATH, tmp_path / "a", sha256=sha256(DATA))
    with Downloader(fast_config()) as dl:
        assert dl.download(req).path.read_bytes() == DATA
        again = DownloadRequest(faulty.url + PATH, tmp_path / "b", sha256=sha256(DATA))
        assert dl.download(again).path.read_bytes() == DATA
        # The trailer was consumed: the one connection was reused for the second request.
        assert sum(len(v) for v in dl.pool._idle.values()) == 1


def test_a_trickling_server_is_abandoned_and_resumed(faulty, tmp_path) -> None:
    faulty.add(PATH, DATA)
    faulty.plan(PATH, Fault("trickle", after=1000, delay=0.05))
    t0 = time.monotonic()
    result = fetch(faulty, tmp_path / "p.conda", low_speed_limit=100_000, low_speed_time=0.3)
    assert time.monotonic() - t0 < 3
    assert result.path.read_bytes() == DATA
    second = faulty.requests_for(PATH)[1].headers["range"]
    assert second.startswith("bytes=") and second != "bytes=0-"
