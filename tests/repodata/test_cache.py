"""HTTP caching of indexes: max-age, ttl, 304, stale data, negative probes, offline, parsed cache."""

from __future__ import annotations

import json

import pytest

from naja.repodata import OfflineIndexMissing, load_indexes
from naja.repodata.state import load_state
from tests.repodata.channel_writer import write_subdir
from tests.repodata.conftest import channel, log_length, requests_seen

MAX_AGE = 'location / { add_header Cache-Control "max-age=3600"; }'


def _load(server, cache, **kw):  # type: ignore[no-untyped-def]
    return load_indexes([channel(server, "demo")], ["linux-64"], cache_dir=cache, **kw)


def test_max_age_means_no_request_then_ttl_zero_revalidates_with_304(demo_server, tmp_path):
    server, _ = demo_server("json", "zst", extra=MAX_AGE)
    first = _load(server, tmp_path)
    assert [i.form for i in first] == ["zst", "zst"]
    n = log_length(server)
    again = _load(server, tmp_path)
    assert requests_seen(server, n) == []
    # Not parsed again: records come from the msgpack cache.
    assert [i.form for i in again] == ["zst+parsed-cache"] * 2
    assert sorted(r.fn for r in again[0].records) == sorted(r.fn for r in first[0].records)
    n = log_length(server)
    _load(server, tmp_path, ttl=0)
    seen = requests_seen(server, n)
    assert sorted(seen) == sorted(
        [
            ("GET", "/demo/linux-64/repodata.json.zst", 304),
            ("GET", "/demo/noarch/repodata.json.zst", 304),
        ]
    )
    state = load_state(next(tmp_path.glob("*linux-64*")))
    assert state.full is not None and state.full.etag and "max-age=3600" in state.full.cache_control


def test_changed_index_is_picked_up_after_revalidation(demo_server, tmp_path):
    server, root = demo_server("json", "zst")
    before = _load(server, tmp_path)
    data = json.loads((root / "linux-64" / "repodata.json").read_bytes())
    fn = next(iter(data["packages"]))
    del data["packages"][fn]
    write_subdir(root / "linux-64", data, ("json", "zst"))
    # Without Cache-Control, the default ttl revalidates every time.
    after = _load(server, tmp_path)
    assert fn in {r.fn for r in before[0].records}
    assert fn not in {r.fn for r in after[0].records}
    # A long ttl trusts the cache.
    data["packages"] = {}
    write_subdir(root / "linux-64", data, ("json", "zst"))
    cached = _load(server, tmp_path, ttl=3600)
    assert len(cached[0].records) == len(after[0].records)


def test_missing_forms_and_shards_are_remembered(demo_server, tmp_path):
    server, _ = demo_server("json")
    n = log_length(server)
    got = _load(server, tmp_path, specs=["python"])
    assert [i.form for i in got] == ["json+lazy", "json+lazy"]
    first = [(p, s) for _, p, s in requests_seen(server, n)]
    assert ("/demo/linux-64/repodata_shards.msgpack.zst", 404) in first
    assert ("/demo/linux-64/repodata.json.zst", 404) in first
    n = log_length(server)
    _load(server, tmp_path, specs=["python"], ttl=0)
    second = [(p, s) for _, p, s in requests_seen(server, n)]
    assert sorted(second) == [
        ("/demo/linux-64/repodata.json", 304),
        ("/demo/noarch/repodata.json", 304),
    ]


def test_gzip_transfer_encoding(demo_server, tmp_path):
    server, _ = demo_server(
        "json", extra="gzip on; gzip_types application/json; gzip_min_length 10;"
    )
    got = _load(server, tmp_path)
    assert len(got[0].records) > 400


def test_offline_reads_only_the_cache_and_names_what_is_missing(demo_server, tmp_path):
    server, _ = demo_server("json", "zst", "shards")
    with pytest.raises(OfflineIndexMissing) as err:
        _load(server, tmp_path, offline=True)
    assert "linux-64/repodata.json" in str(err.value) and "noarch" in str(err.value)
    assert "without --offline" in err.value.render()
    online = _load(server, tmp_path, specs=["python"])
    full = _load(server, tmp_path)
    server.stop()
    offline_shards = _load(server, tmp_path, specs=["python"], offline=True)
    assert sorted(r.fn for r in offline_shards[0].records) == sorted(
        r.fn for r in online[0].records
    )
    offline_full = _load(server, tmp_path, offline=True)
    assert len(offline_full[0].records) == len(full[0].records)
    # A name whose shard was never fetched is named, not silently empty.
    with pytest.raises(OfflineIndexMissing) as err:
        _load(server, tmp_path, specs=["python", "requests"], offline=True)
    assert "requests" in str(err.value)


def test_zchunk_delta_update(demo_server, tmp_path):
    import shutil

    if shutil.which("zck") is None:
        pytest.skip("zck not installed")
    server, root = demo_server("json", "zck")
    first = _load(server, tmp_path)
    assert first[0].form == "zck"
    data = json.loads((root / "linux-64" / "repodata.json").read_bytes())
    fn = next(iter(data["packages"]))
    data["packages"][fn]["build_number"] = 777
    write_subdir(root / "linux-64", data, ("json", "zck"))
    n = log_length(server)
    after = _load(server, tmp_path)
    assert next(r for r in after[0].records if r.fn == fn).build_number == 777
    assert len(after[0].records) == len(first[0].records)
    ranged = [s for _, p, s in requests_seen(server, n) if p.endswith("linux-64/repodata.json.zck")]
    assert ranged and all(s == 206 for s in ranged)


def test_index_forms_can_be_turned_off(demo_server, tmp_path):
    server, _ = demo_server("json", "zst", "shards")
    n = log_length(server)
    got = _load(
        server, tmp_path, specs=["python"], use_shards=False, use_zst=False, use_zchunk=False
    )
    assert [i.form for i in got] == ["json+lazy", "json+lazy"]
    paths = {p for _, p, _ in requests_seen(server, n)}
    assert paths == {"/demo/linux-64/repodata.json", "/demo/noarch/repodata.json"}


def test_shard_garbage_collection(demo_server, tmp_path):
    from naja.repodata.gc import collect_shards

    server, _ = demo_server("json", "shards")
    _load(server, tmp_path, specs=["python"])
    shards = sorted((tmp_path / "shards").iterdir())
    orphan = tmp_path / "shards" / ("0" * 64 + ".msgpack.zst")
    orphan.write_bytes(b"old")
    assert collect_shards(tmp_path).removed == 0  # too young to go
    result = collect_shards(tmp_path, min_age=0)
    assert (result.removed, result.kept) == (1, len(shards))
    assert sorted((tmp_path / "shards").iterdir()) == shards
    # Still loads offline from what is left.
    assert _load(server, tmp_path, specs=["python"], offline=True)[0].by_name("python")
