"""naja.repodata.multiget: many GETs from one thread; anything unusual goes back to the caller."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from naja.fetch import Credential, Downloader, FetchConfig, StaticCredentials
from naja.repodata.multiget import MultiGet, _chunked_end
from tests.servers.faulty import Fault, FaultyServer, faulty  # noqa: F401


def _run(config: FetchConfig, urls: dict[str, str], **kw) -> dict[str, bytes | None]:  # type: ignore[no-untyped-def]
    """Every URL through one MultiGet; key -> body (None: the caller's full path)."""
    out: dict[str, bytes | None] = {}
    with Downloader(config, **kw) as dl, ThreadPoolExecutor(4) as pool:
        net = MultiGet(dl, pool)
        try:
            for key, url in urls.items():
                assert net.submit(key, url)
            deadline = time.monotonic() + 30
            while net.pending and time.monotonic() < deadline:
                for key, body in net.poll(1.0):
                    out[key] = body  # type: ignore[index]
        finally:
            net.close()
    return out


def test_many_gets_over_few_connections(faulty: FaultyServer) -> None:  # noqa: F811
    files = {f"/f{i}": bytes([i]) * (i * 997) for i in range(40)}
    for path, data in files.items():
        faulty.add(path, data)
    got = _run(FetchConfig(max_connections_per_host=3), {p: faulty.url + p for p in files})
    assert got == files


def test_chunked_body_and_interleaved_faults_come_back_as_none(faulty: FaultyServer) -> None:  # noqa: F811
    data = b"x" * 50_000
    for path in ("/chunked", "/gone", "/moved", "/cut", "/ok"):
        faulty.add(path, data)
    faulty.plan("/chunked", Fault("chunked", after=7_000))
    faulty.plan("/gone", Fault("status", status=404))
    faulty.plan("/moved", Fault("redirect", location="/ok"))
    faulty.plan("/cut", Fault("drop", after=1000))
    urls = {p: faulty.url + p for p in ("/chunked", "/gone", "/moved", "/cut", "/ok")}
    got = _run(FetchConfig(max_connections_per_host=2), urls)
    assert got == {"/chunked": data, "/gone": None, "/moved": None, "/cut": None, "/ok": data}


def test_a_stalled_answer_goes_to_the_full_path(faulty: FaultyServer) -> None:  # noqa: F811
    faulty.add("/slow", b"y" * 10_000)
    faulty.plan("/slow", Fault("stall", after=100, delay=5))
    t0 = time.monotonic()
    got = _run(FetchConfig(read_timeout=0.5), {"slow": faulty.url + "/slow"})
    assert got == {"slow": None}
    assert time.monotonic() - t0 < 4


def test_credentials_are_sent(faulty: FaultyServer) -> None:  # noqa: F811
    import base64

    need = "Basic " + base64.b64encode(b"me:pw").decode()
    faulty.add("/private", b"secret", auth=need)
    creds = StaticCredentials({faulty.url: Credential(kind="basic", username="me", password="pw")})
    assert _run(FetchConfig(), {"p": faulty.url + "/private"}, credentials=creds) == {
        "p": b"secret"
    }


def test_unreachable_server_goes_to_the_full_path() -> None:
    got = _run(FetchConfig(connect_timeout=1), {"x": "http://127.0.0.1:9/nothing"})
    assert got == {"x": None}


def test_what_it_does_not_handle_is_refused() -> None:
    with ThreadPoolExecutor(1) as pool:
        for config, url in [
            (FetchConfig(proxies={"http": "http://127.0.0.1:3128"}), "http://example.org/a"),
            (FetchConfig(http2=True), "https://example.org/a"),
            (FetchConfig(mirrors={"https://example.org": ["https://m.example.org"]}),
             "https://example.org/a"),
            (FetchConfig(), "s3://bucket/a"),
            (FetchConfig(offline=True), "http://example.org/a"),
        ]:  # fmt: skip
            with Downloader(config) as dl:
                net = MultiGet(dl, pool)
                assert not net.submit("k", url)
                net.close()


def test_chunked_end() -> None:
    body = b"5;x=1\r\nhello\r\n3\r\nabc\r\n0\r\nTrailer: 1\r\n\r\n"
    assert _chunked_end(bytearray(body)) == len(body)
    for cut in range(len(body)):
        assert _chunked_end(bytearray(body[:cut])) is None


def test_tls_and_connections_given_back(nginx, tmp_path) -> None:  # type: ignore[no-untyped-def]
    files = {f"/s{i}.bin": bytes([i % 251]) * (i * 3001 + 1) for i in range(30)}
    for path, data in files.items():
        (tmp_path / path.lstrip("/")).write_bytes(data)
    server = nginx(tmp_path)
    config = FetchConfig(ca_bundle=server.ca_cert, max_connections_per_host=3)
    with Downloader(config) as dl, ThreadPoolExecutor(4) as pool:
        net = MultiGet(dl, pool)
        for path in files:
            assert net.submit(path, server.https_url + path)
        got: dict[str, bytes | None] = {}
        while net.pending:
            got.update(net.poll(5.0))  # type: ignore[arg-type]
        net.close()
        assert got == files
        # The connections went back to the engine's pool, blocking again, and still work.
        from naja.repodata import http

        assert http.get(dl, server.https_url + "/s3.bin").body == files["/s3.bin"]


def test_shards_over_https_match_plain_http(demo_server, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from naja.repodata import load_indexes, sharded
    from naja.specs.channel import Channel

    server, _ = demo_server("shards", "json")
    specs = ["python", "numpy"]

    def load(url: str, cache: str, **kw):  # type: ignore[no-untyped-def]
        got = load_indexes(
            [Channel.parse(url)], ["linux-64"], specs=specs, cache_dir=tmp_path / cache, **kw
        )
        assert all(i.form == "shards" for i in got)
        return sorted((r.name, r.fn, r.sha256) for i in got for r in i.records)

    plain = load(f"{server.url}/demo", "a")

    def no_fallback(*args, **kw):  # type: ignore[no-untyped-def]
        raise AssertionError("a shard went to the full path")

    # Every shard comes through multiget (the thread path is only for what it cannot do).
    monkeypatch.setattr(sharded, "download_shard", no_fallback)
    secure = load(
        f"{server.https_url}/demo", "b", fetch_config=FetchConfig(ca_bundle=server.ca_cert)
    )
    assert plain and plain == secure
