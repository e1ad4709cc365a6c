"""The engine's API: sync and async streams of results, progress events, file://, offline."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from naja.fetch import (
    Downloader,
    DownloadError,
    DownloadRequest,
    OfflineError,
    ProgressEvent,
    download_many,
)
from naja.specs.url import path_to_url
from tests.fetch.conftest import fast_config, payload, sha256
from tests.servers.faulty import Fault


@pytest.fixture
def served(faulty) -> list[tuple[str, bytes]]:
    files = []
    for i in range(10):
        data = payload(20_000 * (i + 1), seed=i)
        faulty.add(f"/p{i}.conda", data)
        files.append((f"{faulty.url}/p{i}.conda", data))
    return files


def requests(files, out: Path, sizes: bool = True) -> list[DownloadRequest]:
    return [
        DownloadRequest(
            url, out / url.rsplit("/", 1)[1], sha256=sha256(d), size=len(d) if sizes else None
        )
        for url, d in files
    ]


def test_iter_completed_yields_each_verified_file(served, tmp_path) -> None:
    with Downloader(fast_config(max_connections=3)) as dl:
        seen = []
        for result in dl.iter_completed(requests(served, tmp_path)):
            # Each file is complete and in place when its result arrives.
            assert sha256(result.path.read_bytes()) == result.request.sha256
            seen.append(result.path.name)
    assert sorted(seen) == sorted(u.rsplit("/", 1)[1] for u, _ in served)


def test_download_many_keeps_request_order_and_reports_every_error(faulty, served, tmp_path):
    faulty.plan("/p3.conda", *[Fault("status", status=404)])
    reqs = requests(served, tmp_path)
    done = []
    with Downloader(fast_config()) as dl:
        results = dl.download_many(reqs, raise_on_error=False, on_complete=done.append)
        assert [r.request for r in results] == reqs
        assert [r.ok for r in results].count(False) == 1 and not results[3].ok
        assert len(done) == 10
        faulty.plan("/p3.conda", Fault("status", status=404))
        with pytest.raises(DownloadError, match=r"p3\.conda"):
            dl.download_many(reqs)


def test_async_stream_and_gather(served, tmp_path) -> None:
    async def main() -> tuple[list[str], list[bool]]:
        async with Downloader(fast_config(max_connections=4)) as dl:
            names = [r.path.name async for r in dl.astream(requests(served, tmp_path / "a"))]
            results = await dl.adownload_many(requests(served, tmp_path / "b"))
        return names, [r.ok for r in results]

    names, oks = asyncio.run(main())
    assert len(names) == 10 and all(oks)


def test_progress_events_add_up(served, tmp_path) -> None:
    events: list[ProgressEvent] = []
    total = sum(len(d) for _, d in served)
    with Downloader(fast_config(progress_interval=0), on_progress=events.append) as dl:
        dl.download_many(requests(served, tmp_path))
    kinds = [e.kind for e in events]
    assert kinds.count("start") == 10 and kinds.count("done") == 10
    last = events[-1]
    assert last.files_done == 10 and last.files_total == 10
    assert last.total_downloaded == total and last.total_bytes == total
    assert last.total_rate > 0 and last.eta == 0
    for e in events:
        if e.kind == "done":
            assert e.downloaded == e.total
    assert any(e.kind == "progress" and e.eta is not None for e in events)
    import json

    assert json.loads(json.dumps(last.as_dict()))["files_done"] == 10


def test_progress_rewinds_on_restart(faulty, tmp_path) -> None:
    data = payload(300_000, seed=1)
    faulty.add("/x.conda", data)
    faulty.plan("/x.conda", Fault("drop", after=100_000), Fault("norange"))
    events: list[ProgressEvent] = []
    with Downloader(fast_config(progress_interval=0), on_progress=events.append) as dl:
        dl.download(DownloadRequest(faulty.url + "/x.conda", tmp_path / "x", sha256=sha256(data)))
    assert any(e.kind == "retry" for e in events)
    assert events[-1].kind == "done" and events[-1].downloaded == len(data)


def test_file_urls(tmp_path) -> None:
    src = tmp_path / "channel dir" / "p.conda"
    src.parent.mkdir()
    data = payload(123_456)
    src.write_bytes(data)
    out = tmp_path / "out" / "p.conda"
    [result] = download_many(
        [DownloadRequest(path_to_url(src), out, sha256=sha256(data))], fast_config()
    )
    assert out.read_bytes() == data and result.size == len(data)
    with pytest.raises(DownloadError, match="no such file"):
        download_many([DownloadRequest(path_to_url(tmp_path / "nope"), out)], fast_config())
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        download_many([DownloadRequest(path_to_url(src), out, sha256="0" * 64)], fast_config())
    assert out.read_bytes() == data  # the earlier good file is untouched


def test_offline_turns_network_access_into_a_clear_error(served, tmp_path) -> None:
    src = tmp_path / "local.conda"
    src.write_bytes(b"x")
    with Downloader(fast_config(offline=True)) as dl:
        with pytest.raises(OfflineError) as info:
            dl.download(requests(served, tmp_path)[0])
        assert "offline" in info.value.render() and "hint:" in info.value.render()
        assert dl.download(DownloadRequest(path_to_url(src), tmp_path / "o")).ok


def test_user_agent_names_naja(faulty, served, tmp_path) -> None:
    import naja

    with Downloader(fast_config()) as dl:
        dl.download(requests(served, tmp_path)[0])
    assert faulty.requests[0].headers["user-agent"] == f"naja/{naja.__version__}"


def test_write_failure_is_a_clear_error(served, tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    req = DownloadRequest(served[0][0], blocker / "sub" / "p.conda")
    with Downloader(fast_config()) as dl, pytest.raises(DownloadError) as info:
        dl.download(req)
    assert "cannot write" in str(info.value)


def test_the_same_target_twice_in_one_batch(served, tmp_path) -> None:
    url, data = served[5]
    target = tmp_path / "same.conda"
    reqs = [DownloadRequest(url, target, sha256=sha256(data)) for _ in range(4)]
    with Downloader(fast_config(max_connections=4)) as dl:
        assert all(r.ok for r in dl.download_many(reqs))
    assert target.read_bytes() == data


def test_retry_after_and_backoff() -> None:
    import email.utils
    import time

    from naja.fetch import RetryPolicy
    from naja.fetch.retry import backoff_delay, is_retryable_status, parse_retry_after

    assert parse_retry_after("3") == 3.0
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= (parse_retry_after(when) or 0) <= 31
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    policy = RetryPolicy(backoff_base=1.0, backoff_cap=4.0, max_retry_after=10.0)
    assert 0.5 <= backoff_delay(policy, 1) <= 1.0
    assert 2.0 <= backoff_delay(policy, 5) <= 4.0
    assert backoff_delay(policy, 1, retry_after=100.0) == 10.0
    assert is_retryable_status(503) and is_retryable_status(429) and not is_retryable_status(404)


def test_sha256_is_reported_unless_switched_off(served, tmp_path) -> None:
    url, data = served[0]
    with Downloader(fast_config()) as dl:
        assert dl.download(DownloadRequest(url, tmp_path / "a")).sha256 == sha256(data)
    with Downloader(fast_config(always_sha256=False)) as dl:
        assert dl.download(DownloadRequest(url, tmp_path / "b")).sha256 is None
        verified = dl.download(DownloadRequest(url, tmp_path / "c", sha256=sha256(data)))
        assert verified.sha256 == sha256(data)


def test_a_bug_fails_one_download_not_the_batch(served, tmp_path) -> None:
    class Broken:
        def lookup(self, url: str):
            if url.endswith("p2.conda"):
                raise RuntimeError("provider exploded")
            return None

    with Downloader(fast_config(), credentials=Broken()) as dl:
        results = dl.download_many(requests(served, tmp_path), raise_on_error=False)
    bad = [r for r in results if not r.ok]
    assert len(bad) == 1 and "internal error: RuntimeError" in str(bad[0].error)


def test_config_from_condarc_style_settings(tmp_path) -> None:
    from naja.fetch.config import config_from_mapping

    config = config_from_mapping(
        {
            "proxy_servers": {"https": "http://proxy:3128"},
            "ssl_verify": str(tmp_path / "ca.pem"),
            "remote_connect_timeout_secs": 5,
            "remote_read_timeout_secs": 60.5,
            "remote_max_retries": 2,
            "offline": True,
            "mirrors": {
                "https://conda.anaconda.org/conda-forge": ["https://m1/cf", "https://m2/cf"]
            },
            "unknown": 1,
        }
    )
    assert config.proxies == {"https": "http://proxy:3128"}
    assert config.ca_bundle == tmp_path / "ca.pem" and config.ssl_verify
    assert config.connect_timeout == 5.0 and config.read_timeout == 60.5
    assert config.retry.attempts == 3 and config.offline
    assert config.mirrors["https://conda.anaconda.org/conda-forge"][1] == "https://m2/cf"
    assert not config_from_mapping({"ssl_verify": False}).ssl_verify


def test_md5_only_records_are_verified_with_md5(served, tmp_path) -> None:
    import hashlib

    from naja.fetch import ChecksumMismatchError

    url, data = served[1]
    good = hashlib.md5(data, usedforsecurity=False).hexdigest()
    with Downloader(fast_config()) as dl:
        result = dl.download(DownloadRequest(url, tmp_path / "a", md5=good))
        assert result.md5 == good and result.sha256 == sha256(data)
        with pytest.raises(ChecksumMismatchError) as info:
            dl.download(DownloadRequest(url, tmp_path / "b", md5="f" * 32))
    assert "md5 mismatch" in str(info.value) and good in str(info.value)
    assert not (tmp_path / "b").exists()


def test_leaving_iter_completed_early_cancels_the_rest(faulty, served, tmp_path) -> None:
    with Downloader(fast_config(max_connections=1)) as dl:
        for _result in dl.iter_completed(requests(served, tmp_path)):
            break
    # The one running when the loop ended may finish; nothing after it starts.
    assert len(faulty.requests) <= 2
