"""Broken index files give a clear error after one refetch, never a silently wrong index."""

from __future__ import annotations

import hashlib
import os

import msgspec
import pytest
import zstandard

from naja.repodata import CorruptIndexError, IndexFetchError, load_indexes
from naja.repodata.shards import SHARD_INDEX_FILE
from tests.repodata.conftest import channel, log_length, requests_seen


def _load(server, cache, **kw):  # type: ignore[no-untyped-def]
    return load_indexes([channel(server, "demo")], ["linux-64"], cache_dir=cache, **kw)


def _index(root):  # type: ignore[no-untyped-def]
    raw = (root / "linux-64" / SHARD_INDEX_FILE).read_bytes()
    return msgspec.msgpack.decode(zstandard.ZstdDecompressor().decompress(raw))


def _write_index(root, index) -> None:  # type: ignore[no-untyped-def]
    (root / "linux-64" / SHARD_INDEX_FILE).write_bytes(
        zstandard.ZstdCompressor(write_content_size=True).compress(msgspec.msgpack.encode(index))
    )


def _shard(root, name):  # type: ignore[no-untyped-def]
    return root / "linux-64" / "shards" / f"{_index(root)['shards'][name].hex()}.msgpack.zst"


def test_corrupt_zst_on_the_server_is_refetched_once_then_an_error(demo_server, tmp_path):
    server, root = demo_server("json", "zst")
    blob = bytearray((root / "linux-64" / "repodata.json.zst").read_bytes())
    blob[len(blob) // 2 :] = b"\0" * (len(blob) - len(blob) // 2)
    (root / "linux-64" / "repodata.json.zst").write_bytes(bytes(blob))
    n = log_length(server)
    with pytest.raises(CorruptIndexError) as err:
        _load(server, tmp_path)
    assert "repodata.json.zst" in str(err.value) and "decompress" in str(err.value)
    gets = [p for _, p, _ in requests_seen(server, n) if p == "/demo/linux-64/repodata.json.zst"]
    assert len(gets) == 2


def test_corrupt_cached_zst_is_replaced(demo_server, tmp_path):
    server, _ = demo_server("json", "zst")
    good = _load(server, tmp_path)
    cached = next(tmp_path.glob("*linux-64*")) / "repodata.json.zst"
    (cached.parent / "parsed.msgpack").unlink()
    st = cached.stat()
    cached.write_bytes(b"\x28\xb5\x2f\xfd" + b"\xff" * (st.st_size - 4))
    os.utime(cached, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = _load(server, tmp_path, ttl=3600)
    assert len(again[0].records) == len(good[0].records)


def test_truncated_shard_is_an_error_after_refetching_the_index(demo_server, tmp_path):
    server, root = demo_server("shards", "json")
    shard = _shard(root, "python")
    shard.write_bytes(shard.read_bytes()[:-20])
    n = log_length(server)
    with pytest.raises(CorruptIndexError) as err:
        _load(server, tmp_path, specs=["python"])
    assert "'python'" in str(err.value) and "sha256 mismatch" in str(err.value)
    paths = [p for _, p, _ in requests_seen(server, n)]
    assert paths.count(f"/demo/linux-64/{SHARD_INDEX_FILE}") == 2


def test_shard_with_the_wrong_hash(demo_server, tmp_path):
    server, root = demo_server("shards", "json")
    _shard(root, "python").write_bytes(_shard(root, "zlib").read_bytes())
    with pytest.raises(CorruptIndexError, match="sha256 mismatch"):
        _load(server, tmp_path, specs=["python"])


def test_shard_that_does_not_decode(demo_server, tmp_path):
    server, root = demo_server("shards", "json")
    index = _index(root)
    bad = zstandard.ZstdCompressor(write_content_size=True).compress(b"\xc1 not msgpack")
    digest = hashlib.sha256(bad).digest()
    (root / "linux-64" / "shards" / f"{digest.hex()}.msgpack.zst").write_bytes(bad)
    index["shards"]["python"] = digest
    _write_index(root, index)
    with pytest.raises(CorruptIndexError, match="does not decode"):
        _load(server, tmp_path, specs=["python"])


def test_index_naming_a_missing_shard(demo_server, tmp_path):
    server, root = demo_server("shards", "json")
    _shard(root, "python").unlink()
    with pytest.raises(IndexFetchError) as err:
        _load(server, tmp_path, specs=["python"])
    assert "'python'" in str(err.value) and "no shard" in str(err.value)


def test_stale_cached_shard_index_recovers(demo_server, tmp_path):
    server, root = demo_server("shards", "json")
    _load(server, tmp_path, specs=["zlib"])
    # The channel is republished: python's shard moves, the old file is gone.
    old = _shard(root, "python")
    index = _index(root)
    data = old.read_bytes()
    new = zstandard.ZstdCompressor(level=9, write_content_size=True).compress(
        zstandard.ZstdDecompressor().decompress(data)
    )
    digest = hashlib.sha256(new).digest()
    (old.parent / f"{digest.hex()}.msgpack.zst").write_bytes(new)
    old.unlink()
    index["shards"]["python"] = digest
    _write_index(root, index)
    # ttl keeps the stale index "fresh"; the 404 makes naja look again.
    got = _load(server, tmp_path, specs=["python"], ttl=3600)
    assert got[0].by_name("python")


def test_corrupt_cached_shard_is_fetched_again(demo_server, tmp_path):
    server, root = demo_server("shards", "json")
    first = _load(server, tmp_path, specs=["python"])
    digest = _index(root)["shards"]["python"].hex()
    cached = tmp_path / "shards" / f"{digest}.msgpack.zst"
    cached.write_bytes(cached.read_bytes()[:10])
    again = _load(server, tmp_path, specs=["python"], ttl=3600)
    assert len(again[0].by_name("python")) == len(first[0].by_name("python"))


def test_unreachable_server_is_a_clear_error(demo_server, tmp_path):
    from naja.fetch import FetchConfig, RetryPolicy

    server, _ = demo_server("json")
    url = server.url
    server.stop()
    config = FetchConfig(retry=RetryPolicy(attempts=2, backoff_base=0.01), connect_timeout=2)
    with pytest.raises(IndexFetchError) as err:
        load_indexes(
            [channel(server, "demo")], ["linux-64"], cache_dir=tmp_path, fetch_config=config
        )
    assert url in str(err.value) and "--offline" in err.value.render()


def test_channel_that_is_not_a_channel(demo_server, tmp_path):
    from naja.repodata import ChannelNotFound

    server, _ = demo_server("json")
    with pytest.raises(ChannelNotFound, match=r"no repodata\.json"):
        load_indexes([channel(server, "nope")], ["linux-64"], cache_dir=tmp_path)


def test_token_never_reaches_messages_or_cache_names(demo_server, tmp_path):
    server, _ = demo_server("json")
    from naja.specs.channel import Channel

    chan = Channel.parse(f"{server.url}/t/sekrit-token/nope")
    with pytest.raises(Exception) as err:
        load_indexes([chan], ["linux-64"], cache_dir=tmp_path)
    assert "sekrit-token" not in str(err.value)
    for path in tmp_path.rglob("*"):
        assert "sekrit-token" not in path.name
        if path.is_file():
            assert b"sekrit-token" not in path.read_bytes()


def test_index_comes_from_a_configured_mirror(demo_server, nginx, tmp_path):
    from naja.fetch import FetchConfig

    _server, root = demo_server("json", "zst")
    mirror = nginx(root.parent, access_log=True)
    canonical = "http://127.0.0.1:9/demo"  # nothing listens there
    config = FetchConfig(mirrors={canonical: [f"{mirror.url}/demo"]})
    from naja.specs.channel import Channel

    got = load_indexes(
        [Channel.parse(canonical)], ["linux-64"], cache_dir=tmp_path, fetch_config=config
    )
    assert got[0].form == "zst" and got[0].records
    assert got[0].records[0].url.startswith(canonical)
    assert any(p == "/demo/linux-64/repodata.json.zst" for _, p, _ in requests_seen(mirror))


def test_private_channel_with_basic_auth(demo_server, tmp_path):
    import base64

    from naja.fetch import Credential, StaticCredentials

    token = base64.b64encode(b"me:pw").decode()
    server, _ = demo_server(
        "json", "shards",
        extra=f'if ($http_authorization != "Basic {token}") {{ return 401; }}',
    )  # fmt: skip
    with pytest.raises(IndexFetchError, match="credentials"):
        _load(server, tmp_path)
    creds = StaticCredentials({server.url: Credential(kind="basic", username="me", password="pw")})
    got = _load(server, tmp_path, specs=["python"], credentials=creds)
    assert got[0].by_name("python")


def test_unwritable_cache_is_a_clear_error(demo_server, tmp_path):
    from naja.repodata.errors import IndexCacheError

    server, _ = demo_server("json")
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(IndexCacheError, match="cannot write the channel index cache"):
        _load(server, blocker)


def test_concurrent_loads_share_one_cache(demo_server, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    server, _ = demo_server("json", "zst", "shards")
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda s: _load(server, tmp_path, specs=s), [["python"], None] * 3))
    sizes = {len(r[0].by_name("python")) for r in runs}
    assert len(sizes) == 1 and sizes.pop() > 0
