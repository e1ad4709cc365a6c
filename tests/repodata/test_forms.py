"""The same channel served as JSON, .zst, .zck and CEP-16 shards gives the same records."""

from __future__ import annotations

import shutil

import pytest

from naja.repodata import IndexProgress, channel_sources, load_indexes
from naja.repodata.records import dependency_names
from tests.repodata.conftest import INDEX4, channel, log_length, requests_seen

SPECS = ["numpy", "scipy"]


def _by_fn(indexes):  # type: ignore[no-untyped-def]
    return {(i.subdir, r.fn): r for i in indexes for r in i.records}


@pytest.fixture(scope="module")
def reference():  # type: ignore[no-untyped-def]
    from naja.specs.channel import Channel

    return load_indexes([Channel.parse(INDEX4.as_uri())], ["linux-64"], cache_dir=None)


@pytest.mark.parametrize("form", ["json", "zst", "zck"])
def test_full_forms_match_the_local_index(index4_server, reference, form, tmp_path) -> None:
    if form == "zck" and shutil.which("zck") is None:
        pytest.skip("zck not installed")
    start = log_length(index4_server)
    got = load_indexes([channel(index4_server, form)], ["linux-64"], cache_dir=tmp_path)
    assert [i.subdir for i in got] == ["linux-64", "noarch"]
    assert all(i.form == form for i in got)
    ref = _by_fn(reference)
    mine = _by_fn(got)
    assert mine.keys() == ref.keys() and len(mine) > 5000
    for key, rec in ref.items():
        other = mine[key]
        assert (other.sha256, other.md5, other.depends, other.version) == (
            rec.sha256,
            rec.md5,
            rec.depends,
            rec.version,
        )
        assert other.url == f"{index4_server.url}/{form}/{key[0]}/{key[1]}"
    paths = [p for _, p, _ in requests_seen(index4_server, start)]
    # No specs: the shard index is not asked for; the best full form is.
    assert not any("shards" in p for p in paths)


def test_shards_fetch_only_the_closure(index4_server, reference, tmp_path) -> None:
    start = log_length(index4_server)
    events: list[IndexProgress] = []
    got = load_indexes(
        [channel(index4_server, "shards")],
        ["linux-64"],
        specs=SPECS,
        cache_dir=tmp_path,
        on_progress=events.append,
    )
    assert all(i.form == "shards" for i in got)
    ref = {}
    for index in reference:
        for rec in index.records:
            ref.setdefault(rec.name, []).append(rec)
    # The closure, computed from the full index.
    want, todo = set(), list(SPECS)
    while todo:
        name = todo.pop()
        if name in want:
            continue
        want.add(name)
        todo.extend(dependency_names(ref.get(name, [])))
    # Names the closure's records only constrain are fetched too (not followed).
    leaves = dependency_names([r for n in want for r in ref.get(n, [])], "constrains")
    loaded = {r.name for i in got for r in i.records}
    assert loaded == {n for n in want | leaves if n in ref}
    for name in loaded:
        mine = sorted((r.fn, r.sha256, r.md5, r.url) for i in got for r in i.by_name(name))
        theirs = sorted(
            (r.fn, r.sha256, r.md5, r.url.replace(INDEX4.as_uri(), f"{index4_server.url}/shards"))
            for r in ref[name]
        )
        assert mine == theirs
    # Every name is listed even though only the closure was fetched ...
    assert len(got[0].names()) > len(loaded)
    paths = [p for _, p, _ in requests_seen(index4_server, start)]
    assert sum("/shards/shards/" in p for p in paths) < 3 * len(loaded)
    assert not any(p.endswith("repodata.json") for p in paths)
    # ... and a name outside the closure is fetched when asked for.
    outside = next(n for n in got[0].names() if n not in want and n in ref)
    assert got[0].by_name(outside) or got[1].by_name(outside)
    # One progress feed: every file started is finished, totals only grow.
    done = [e for e in events if e.kind != "start"]
    assert done and done[-1].files_done == done[-1].files_total
    assert any(e.what == "shard" for e in events)


def test_shards_only_channel_without_specs_fetches_every_shard(index4_server, tmp_path) -> None:
    got = load_indexes([channel(index4_server, "shards-only")], ["linux-64"], cache_dir=tmp_path)
    full = load_indexes([channel(index4_server, "json")], ["linux-64"], cache_dir=tmp_path)
    assert sorted(r.fn for i in got for r in i.records) == sorted(
        r.fn for i in full for r in i.records
    )


def test_channel_priority_and_sources(index4_server, tmp_path) -> None:
    chans = [channel(index4_server, "zst"), channel(index4_server, "shards")]
    got = load_indexes(chans, ["linux-64"], specs=["python"], cache_dir=tmp_path)
    assert [(i.channel, i.subdir) for i in got] == [
        (chans[0], "linux-64"),
        (chans[0], "noarch"),
        (chans[1], "linux-64"),
        (chans[1], "noarch"),
    ]
    sources = channel_sources(got)
    assert [s.channel for s in sources] == chans
    assert sources[0].by_name("python") and sources[1].by_name("python")
    assert "numpy" in sources[1].names()


def test_conda_packages_hide_their_tar_bz2_twins(demo_server, tmp_path) -> None:
    import json

    server, root = demo_server("json", "shards")
    data = json.loads((root / "linux-64" / "repodata.json").read_bytes())
    fn, rec = next(iter(data["packages"].items()))
    data["packages.conda"] = {fn[: -len(".tar.bz2")] + ".conda": dict(rec, md5="0" * 32)}
    from tests.repodata.channel_writer import write_subdir

    write_subdir(root / "linux-64", data, ("json", "shards"))
    for specs in (None, [rec["name"]]):
        got = load_indexes(
            [channel(server, "demo")], ["linux-64"], specs=specs, cache_dir=tmp_path / str(specs)
        )
        fns = {r.fn: r for r in got[0].by_name(rec["name"])}
        assert fn not in fns
        conda = fns[fn[: -len(".tar.bz2")] + ".conda"]
        assert conda.legacy_bz2_md5 == rec["md5"]


def test_repodata_v2_base_url(demo_server, tmp_path) -> None:
    import json

    server, root = demo_server("json")
    data = json.loads((root / "linux-64" / "repodata.json").read_bytes())
    data["repodata_version"] = 2
    data.setdefault("info", {})["base_url"] = "https://files.example.org/pkgs/"
    (root / "linux-64" / "repodata.json").write_text(json.dumps(data))
    from tests.repodata.channel_writer import write_shards

    write_shards(root / "linux-64", data, base_url="https://files.example.org/pkgs/")
    for specs in (None, ["python"]):
        got = load_indexes(
            [channel(server, "demo")], ["linux-64"], specs=specs, cache_dir=tmp_path / str(specs)
        )
        rec = got[0].by_name("python")[0]
        assert rec.url == f"https://files.example.org/pkgs/{rec.fn}"


def test_run_exports_json_fills_records(demo_server, tmp_path) -> None:
    import json

    server, root = demo_server("json", "zst")
    data = json.loads((root / "linux-64" / "repodata.json").read_bytes())
    fn = next(fn for fn, r in data["packages"].items() if r["name"] == "zlib")
    exports = {"weak": ["zlib >=1.2.11,<1.3.0a0"]}
    (root / "linux-64" / "run_exports.json").write_text(
        json.dumps({"info": {"subdir": "linux-64"}, "packages": {fn: {"run_exports": exports}}})
    )
    for attempt in range(2):
        got = load_indexes(
            [channel(server, "demo")], ["linux-64"], cache_dir=tmp_path, run_exports=True
        )
        zlib = {r.fn: r for r in got[0].by_name("zlib")}
        assert zlib[fn].run_exports == exports, attempt
        assert all(r.run_exports is None for f, r in zlib.items() if f != fn)
    plain = load_indexes([channel(server, "demo")], ["linux-64"], cache_dir=tmp_path / "x")
    assert {r.fn: r for r in plain[0].by_name("zlib")}[fn].run_exports is None


def test_full_index_with_specs_is_decoded_lazily(index4_server, reference, tmp_path) -> None:
    got = load_indexes(
        [channel(index4_server, "zst")], ["linux-64"], specs=["numpy"], cache_dir=tmp_path
    )
    assert [i.form for i in got] == ["zst+lazy", "zst+lazy"]
    assert got[0].loaded_names() == []
    ref = {(i.subdir, r.fn): r for i in reference for r in i.records}
    numpy = got[0].by_name("numpy")
    assert numpy and got[0].loaded_names() == ["numpy"]
    for rec in numpy:
        assert (rec.sha256, rec.depends) == (
            ref["linux-64", rec.fn].sha256,
            ref["linux-64", rec.fn].depends,
        )
    assert len(_by_fn(got)) == len(ref)
    again = load_indexes(
        [channel(index4_server, "zst")], ["linux-64"], specs=["numpy"], cache_dir=tmp_path
    )
    assert [i.form for i in again] == ["zst+lazy-cache", "zst+lazy-cache"]
    assert sorted(r.fn for r in again[0].by_name("numpy")) == sorted(r.fn for r in numpy)
    assert len(_by_fn(again)) == len(ref)


def test_constrained_names_are_fetched_but_not_followed(demo_server, tmp_path) -> None:
    import json

    from tests.repodata.channel_writer import write_subdir

    server, root = demo_server("json", "shards")
    data = json.loads((root / "linux-64" / "repodata.json").read_bytes())
    for rec in data["packages"].values():
        if rec["name"] == "zlib":
            rec["constrains"] = ["sqlite >=3"]
    write_subdir(root / "linux-64", data, ("json", "shards"))
    got = load_indexes([channel(server, "demo")], ["linux-64"], specs=["zlib"], cache_dir=tmp_path)
    loaded = {r.name for i in got for r in i.records}
    assert {"zlib", "sqlite", "libgcc-ng"} <= loaded
    assert "libedit" not in loaded  # sqlite's own dependencies are not followed


def test_shards_base_url_is_resolved_against_the_index(demo_server, tmp_path) -> None:
    import json
    import shutil

    from tests.repodata.channel_writer import write_shards

    server, root = demo_server("json")
    for subdir in ("linux-64", "noarch"):
        data = json.loads((root / subdir / "repodata.json").read_bytes())
        (root / subdir / "repodata.json").unlink()
        # Shards in a store shared by the subdirs, two levels up, as a CDN layout might be.
        write_shards(
            root / subdir, data, shards_base_url="../../store/", shards_dir=root.parent / "store"
        )
    assert not (root / "linux-64" / "shards").exists()
    got = load_indexes(
        [channel(server, "demo")], ["linux-64"], specs=["python"], cache_dir=tmp_path
    )
    assert got[0].form == "shards" and got[0].by_name("python")
    shutil.rmtree(root.parent / "store")


def test_rich_progress_display(demo_server, tmp_path) -> None:
    import io

    from rich.console import Console

    from naja.repodata.progress import rich_progress

    server, _ = demo_server("json", "shards")
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with rich_progress(console, transient=False) as on_progress:
        load_indexes(
            [channel(server, "demo")], ["linux-64"], specs=["python"], cache_dir=tmp_path,
            on_progress=on_progress,
        )  # fmt: skip
    assert "channel indexes" in out.getvalue() and "files" in out.getvalue()
