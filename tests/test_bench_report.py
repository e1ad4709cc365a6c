"""bench/run_all.py's report machinery on small fixture tables: parsing, headlines, summary, gate.

No benchmark runs here; the Markdown below mimics what the area scripts write.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from bench.report import gate
from bench.report.adapters import install_cli_markdown
from bench.report.headlines import ExtractError, extract, label_key
from bench.report.markdown import parse_number, parse_seconds, parse_tables, unit_of

SOLVE_MD = """# naja.solve vs py-rattler 0.28 (resolvo)

- solve ratio: median **0.51x**

| problem | naja | rattler | naja load ms | naja solve ms | rattler load ms | rattler solve ms | solve ratio | load+solve ratio | versions |
|---|---|---|---:|---:|---:|---:|---:|---:|---|
| a | sat | sat | 1.0 | 1.0 | 0.5 | 2.0 | 0.50 | 0.60 | tie |
| b | sat | sat | 1.0 | 4.0 | 0.5 | 2.0 | 2.00 | 2.00 | tie |
| c | unsat | unsat | 1.0 | 1.0 | 0.5 | 4.0 | 0.25 | 0.45 | |
| d | gave up | unsat | 1.0 | 900.0 | 0.5 | 9.0 | 100.00 | 99.00 | |
"""

INSTALL_MD = """# naja.install vs py-rattler (in process, no solver)

| what | median wall (s) | runs | median CPU (s) | wall ratio naja/rattler |
|---|---:|---|---:|---:|
| naja cold (75 packages) | 4.0 | [4.0] | 2.0 | 0.8 |
| naja warm | 1.2 | [1.2] | 0.3 | 1.2 |
| rattler cold (75 packages) | 5.0 | [5.0] | 2.5 |  |
| rattler warm | 1.0 | [1.0] | 0.4 |  |
| `cp -al` of naja's tree | 0.6 | | | naja warm / cp -al = 2.0 |

```
| not | a | table |
|---|---|---|
| 1 | 2 | 3 |
```
"""

FETCH_MD = """# fetch

| scheme | tool | median s | MB/s | naja / tool (throughput) | CPU s (user+sys) |
|---|---|---:|---:|---:|---:|
| http | naja | 1.000 | 372 | 1.00x | 0.40 |
| http | py-rattler | 0.500 | 855 | 0.50x | 0.20 |
| http | curl | 0.800 | 728 | 0.80x | 0.40 |
| https | naja | 1.600 | 236 | 1.00x | 0.64 |
| https | curl | 1.600 | 295 | 1.00x | 0.39 |
"""

RENDER_MD = """# Render throughput

### In process (10415 cases)

| tool | total | mean / case | median / case | p95 / case | errors | total vs rattler |
|---|---|---|---|---|---|---|
| naja | 10.00 s | 1.33 ms | 0.49 ms | 5.17 ms | 0 | 0.25x |
| py-rattler-build 0.73 | 40.00 s | 6.41 ms | 1.23 ms | 25.28 ms | 6 | 1.00x |

### Per fresh process (50 cases)

| tool | total | mean / case | median / case | p95 / case | errors | total vs rattler |
|---|---|---|---|---|---|---|
| naja | 8.00 s | 794.77 ms | 707.73 ms | 1159.91 ms | 1 | 2.00x |
| py-rattler-build 0.73 | 4.00 s | 85.06 ms | 45.25 ms | 159.95 ms | 0 | 1.00x |
"""

REPODATA_MD = """# Channel index fetching

| case | cache | wall time | CPU time | records | names | peak RSS | Δ RSS | wall vs rattler shards | CPU vs rattler shards |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|
| naja shards | cold | 200 ms | 80 ms | 5,957 | 125 | 54 MB | 9 MB | 1.00x | 1.33x |
| naja .zst, specs | cold | 900 ms | 400 ms | 5,957 | 125 | 54 MB | 9 MB | 4.5x | 5x |
| naja .zst, all | cold | 9602 ms | 2238 ms | 281,852 | 30000 | 902 MB | 857 MB | 49.02x | 37.34x |
| rattler shards | cold | 100 ms | 40 ms | 5,957 | 125 | 66 MB | 21 MB | 1.00x | 1.00x |
| rattler .zst | cold | 1800 ms | 800 ms | 5,957 | 125 | 204 MB | 159 MB | 4.78x | 9.20x |
"""

VERSION_MD = """# Version benchmarks

| operation | items | naja µs/item | rattler µs/item | naja/rattler |
|---|---:|---:|---:|---:|
| Version parse (cold cache) | 28490 | 0.800 | 0.400 | 2.00 |
| VersionSpec.matches | 3284897 | 0.100 | 0.200 | 0.50 |
"""

MATCHSPEC_MD = """# MatchSpec

| case | naja | py-rattler | naja / rattler | naja per item |
|---|---:|---:|---:|---:|
| parse 3560 distinct corpus specs (cold caches) | 8.0 ms | 4.0 ms | 2.00x | 2.39 µs |
| matches: 86567 pairs, record versions already cached | 2.0 ms | 4.0 ms | 0.50x | 0.20 µs |
"""

STARTUP_MD = """# naja start-up

| command | median ms | best ms | over the floor ms |
|---|---|---|---|
| python -c pass (floor) | 50.0 | 19.9 | +0.0 |
| naja --version | 300.0 | 295.9 | +250.0 |
| naja --help | 450.0 | 320.0 | +400.0 |
"""

SERVER_REAL_MD = """# naja server: load and upload latency

## Bounded load: 200 concurrent clients × 25 GETs

| workers | requests | errors | req/s | p50 ms | p99 ms | max ms | MB |
|---:|---:|---:|---:|---:|---:|---:|---:|
| 1 | 5000 | 0 | 100.0 | 1105.6 | 9532.8 | 20079.7 | 271.9 |
| 2 | 5000 | 3 | 125.0 | 1202.8 | 8598.6 | 13487.7 | 271.9 |

## Upload → in the index, 10,000-package channel

- median 677 ms, max 1076 ms over 10 uploads
"""

SERVER_MD = """# Server load

| endpoint | naja req/s | quetz req/s | naja / quetz (latency p50) |
|---|---:|---:|---:|
| GET repodata.json | 900 | 300 | 0.40x |
| upload | 10 | 12 | 1.50x |
"""


def by_metric(area: str, text: str) -> dict[str, float]:
    return {h.metric: h.ratio for h in extract(area, text).headlines}


# --- parsing -----------------------------------------------------------------------------


def test_numbers_and_durations() -> None:
    assert parse_number("0.21x") == 0.21
    assert parse_number("5,957") == 5957
    assert parse_number("+533.6") == 533.6
    assert parse_number("**0.51x**") == 0.51
    assert parse_number("") is None
    assert parse_seconds("13.88 s") == 13.88
    assert parse_seconds("1.5 ms") == pytest.approx(1.5e-3)
    assert parse_seconds("2 µs") == pytest.approx(2e-6)
    assert parse_seconds("215", "ms") == pytest.approx(0.215)
    assert unit_of("naja solve ms") == "ms"
    assert unit_of("median wall (s)") == "s"
    assert unit_of("naja µs/item") == "µs"
    assert unit_of("total") == "s"


def test_tables_by_heading_and_column_names_skip_code_fences() -> None:
    tables = parse_tables(RENDER_MD + INSTALL_MD)
    assert [t.heading for t in tables] == [
        "In process (10415 cases)",
        "Per fresh process (50 cases)",
        "naja.install vs py-rattler (in process, no solver)",
    ]
    t = tables[2]
    assert t.column("median wall") == "median wall (s)"
    assert t.cell(t.row(r"^rattler warm"), "median cpu") == "0.4"
    assert t.row("cp -al") is not None  # backticks stripped before matching


def test_escaped_pipe_stays_in_its_cell() -> None:
    (t,) = parse_tables("| a | b |\n|---|---|\n| x \\| y | 2 |\n")
    assert t.rows == [{"a": "x | y", "b": "2"}]


def test_label_key_is_stable_across_input_sizes() -> None:
    full = label_key("synthetic 300k (139 MB): all 300000 records (vs SparseRepoData.load_all_records)")
    quick = label_key("synthetic 60k (28 MB): all 60000 records (vs SparseRepoData.load_all_records)")
    assert full == quick
    assert "index4/linux-64" in label_key("index4/linux-64: all 5305 records")


# --- headlines per area --------------------------------------------------------------------


def test_solve_median_ratio_leaves_out_gave_up() -> None:
    ex = extract("solve", SOLVE_MD)
    ratios = {h.metric: h for h in ex.headlines}
    assert ratios["solve time, median of per-problem ratios"].ratio == 0.5
    assert ratios["load + solve, median of per-problem ratios"].ratio == 0.6
    total = ratios["solve time, sum over problems"]
    assert (total.naja, total.peer, total.unit) == (pytest.approx(6e-3), pytest.approx(8e-3), "s")
    assert total.ratio == pytest.approx(0.75)
    assert "3/4" in ex.notes[0] and "gave up on 1" in ex.notes[0]


def test_install_cold_warm_and_floor() -> None:
    r = by_metric("install", INSTALL_MD)
    assert r["cold install, wall"] == pytest.approx(0.8)
    assert r["warm install, wall"] == pytest.approx(1.2)
    assert r["warm install, CPU"] == pytest.approx(0.75)
    assert r["warm install vs `cp -al` of the tree"] == pytest.approx(2.0)


def test_fetch_turns_throughput_into_time_ratios() -> None:
    r = by_metric("fetch", FETCH_MD)
    assert r["http download, naja (sha256 verified) vs py-rattler, wall"] == pytest.approx(2.0)
    assert r["http download, naja (sha256 verified) vs curl, wall"] == pytest.approx(1.25)
    assert r["https download, naja (sha256 verified) vs curl, wall"] == pytest.approx(1.0)
    assert r["http download, naja (sha256 verified) vs py-rattler, CPU"] == pytest.approx(2.0)
    # No naja-nohash row: that headline is simply absent.
    assert not any("without digest" in m for m in r)


def test_render_in_process_and_per_process() -> None:
    ex = extract("render", RENDER_MD)
    r = {h.metric: h.ratio for h in ex.headlines}
    assert r == {
        "render the corpus, in process, total": pytest.approx(0.25),
        "render the corpus, per fresh process, total": pytest.approx(2.0),
    }
    assert any("py-rattler-build 6" in n for n in ex.notes)


def test_repodata_pairs_naja_and_rattler_rows_per_layout() -> None:
    r = by_metric("repodata", REPODATA_MD)
    assert r["CEP-16 shards, cold cache, wall"] == pytest.approx(2.0)
    assert r[".zst index, specs, cold cache, wall"] == pytest.approx(0.5)
    assert r[".zst index, specs, cold cache, CPU"] == pytest.approx(0.5)
    assert not any("warm" in m for m in r)


def test_per_row_areas_with_geometric_mean() -> None:
    r = by_metric("version", VERSION_MD)
    assert r["Version parse (cold cache)"] == pytest.approx(2.0)
    assert r["VersionSpec.matches"] == pytest.approx(0.5)
    assert r["geometric mean over all rows"] == pytest.approx(1.0)
    m = by_metric("matchspec", MATCHSPEC_MD)
    assert m["parse N distinct corpus specs (cold caches)"] == pytest.approx(2.0)
    assert m["geometric mean over all rows"] == pytest.approx(1.0)


def test_startup_against_the_goal() -> None:
    ex = extract("startup", STARTUP_MD)
    assert ex.headlines[0].metric == "`naja --version` vs the 150 ms goal"
    assert ex.headlines[0].ratio == pytest.approx(2.0)
    floor = next(h for h in ex.headlines if "python -c pass" in h.metric)
    assert floor.ratio == pytest.approx(6.0)
    assert "50 ms" in ex.notes[0]


def test_server_against_its_goals_and_one_worker() -> None:
    ex = extract("server", SERVER_REAL_MD)
    r = {h.metric: h.ratio for h in ex.headlines}
    assert r["GET under load, time per request: 2 workers vs 1"] == pytest.approx(0.8)
    assert r["upload to a 10k-package channel until installable, median vs the 1 s goal"] == (
        pytest.approx(0.677))
    assert "errors 3 — the goal is zero errors" in ex.notes[1]


def test_server_table_with_a_channel_column() -> None:
    md = """| workers | channel | requests | errors | req/s | p50 ms | p99 ms |
|---:|---|---:|---:|---:|---:|---:|
| 1 | public | 100 | 0 | 300.0 | 5 | 9 |
| 2 | public | 100 | 0 | 200.0 | 5 | 9 |
| 2 | private | 100 | 0 | 100.0 | 5 | 9 |
"""
    r = by_metric("server", md)
    assert r["GET under load, time per request: 2 workers vs 1"] == pytest.approx(1.5)
    assert r["GET under load, time per request: private channel (token) vs public"] == (
        pytest.approx(2.0))


def test_generic_extractor_reads_ratio_columns_of_new_areas() -> None:
    r = by_metric("newarea", SERVER_MD)
    assert r == {"Server load: GET repodata.json": pytest.approx(0.4),
                 "Server load: upload": pytest.approx(1.5)}


@pytest.mark.parametrize("area", ["solve", "install", "fetch", "render", "repodata", "version",
                                  "matchspec", "startup", "server", "install-cli"])
def test_missing_tables_raise_extract_error(area: str) -> None:
    with pytest.raises(ExtractError):
        extract(area, "# nothing here\n\nThe benchmark crashed before writing a table.\n")


def test_install_cli_json_adapter_round_trip() -> None:
    res = {
        "n_specs": 75, "server": "nginx", "runs": 1, "work_fs": "tmpfs", "py_rattler": "0.28.0",
        "rattler": {"cold": {"total": 2.0, "solve": 0.2, "install": 1.8, "all": [2.0]},
                    "warm": {"total": 0.5, "solve": 0.2, "install": 0.3, "all": [0.5]}},
        "tools": {
            "rattler-cli": {"cold": 2.5, "warm": 1.0, "cold_all": [2.5], "warm_all": [1.0],
                            "failures": []},
            "naja": {"cold": 3.0, "warm": None, "cold_all": [3.0], "warm_all": [],
                     "failures": [{"phase": "warm", "run": 0, "rc": 1, "stderr": "boom"}]},
        },
    }
    md = install_cli_markdown(res)
    r = by_metric("install-cli", md)
    assert r == {"cold `naja create` vs rattler CLI": pytest.approx(1.2),
                 "cold `naja create` vs py-rattler in process": pytest.approx(1.5)}
    assert "1 failed run(s)" in md


# --- report and summary --------------------------------------------------------------------


def _area_dir(work: Path, name: str, status: str, md: str | None, **extra: object) -> None:
    d = work / name
    d.mkdir(parents=True)
    (d / "status.json").write_text(json.dumps(
        {"area": name, "mode": "quick", "status": status, "seconds": 1.0, "load_start": [3.0],
         "script": f"bench/bench_{name}.py", "argv": [], "note": "", **extra}))
    if md is not None:
        (d / "result.md").write_text(md)


def test_report_survives_failed_missing_and_unreadable_areas(tmp_path: Path) -> None:
    from bench.report.writer import write

    work, out = tmp_path / "work", tmp_path / "out"
    (work).mkdir()
    (work / "machine.json").write_text(json.dumps(
        {"date": "2026-11-24 11:00 UTC", "cpu": "Test CPU", "cores": 2, "load_start": [5.0, 4.0, 3.0],
         "peers": {"py-rattler": "0.28.0"}}))
    _area_dir(work, "solve", "ok", SOLVE_MD)
    _area_dir(work, "fetch", "timeout", None, note="stopped after the 300 s limit",
              log_tail="round 1 http naja")
    _area_dir(work, "render", "ok", "# render\n\nno table today\n")
    _area_dir(work, "server", "missing", None, note="bench/bench_server.py does not exist (yet)")
    summ = write(work, out, "run_all.py --quick")

    report = (out / "REPORT.md").read_text()
    assert "Test CPU" in report and "5.00 / 4.00 / 3.00" in report
    assert re.search(r"\| \[solve\]\(#[\w-]+\) \| ok \| quick \|", report)
    assert "timeout" in report and "round 1 http naja" in report
    assert "unreadable" in report and "no table today" in report
    assert "does not exist" in report
    assert "| install | not run |" in report
    assert (out / "overview.png").stat().st_size > 1000
    assert (out / "area-solve.png").exists()

    saved = json.loads((out / "summary.json").read_text())
    assert saved == json.loads(json.dumps(summ))
    assert saved["mode"] == "quick"
    assert {h["area"] for h in saved["headlines"]} == {"solve"}
    assert saved["areas"]["render"]["status"] == "unreadable"
    h = next(h for h in saved["headlines"] if h["metric"] == "solve time, median of per-problem ratios")
    assert h["ratio"] == 0.5 and h["better"] == "lower" and h["naja"] is None


# --- the gate ------------------------------------------------------------------------------


def _summary(mode: str = "full", **ratios: float) -> dict[str, object]:
    return {"mode": mode, "areas": {"solve": {"status": "ok"}},
            "headlines": [{"area": "solve", "metric": m, "ratio": r, "better": "lower"}
                          for m, r in ratios.items()]}


def test_gate_flags_only_worsening_beyond_the_margin() -> None:
    base = _summary(a=1.0, b=1.0, c=1.0, d=0.5)
    fresh = _summary(a=1.19, b=1.3, c=0.7, e=2.0)
    res = gate.compare(base, fresh, 0.2)
    status = {r.metric: r.status for r in res.rows}
    assert status == {"a": "same", "b": "worse", "c": "better", "d": "missing", "e": "new"}
    assert [r.metric for r in res.worse] == ["b"]
    assert res.failed() and res.failed(strict=True)
    text = gate.render(res)
    assert "| solve | b | 1.000 | 1.300 | +30% | worse |" in text
    assert "FAILED" in text


def test_gate_passes_and_strict_fails_on_missing() -> None:
    res = gate.compare(_summary(a=1.0, d=1.0), _summary(a=1.1), 0.2)
    assert not res.failed()
    assert res.failed(strict=True)
    assert "passed" in gate.render(res)


def test_gate_higher_is_better_and_mode_warning() -> None:
    base = {"mode": "full", "headlines": [{"area": "x", "metric": "m", "ratio": 2.0, "better": "higher"}]}
    fresh = {"mode": "quick", "headlines": [{"area": "x", "metric": "m", "ratio": 1.5, "better": "higher"}]}
    res = gate.compare(base, fresh, 0.2)
    assert res.rows[0].status == "worse" and math.isclose(res.rows[0].change or 0, 1 / 3)
    assert any("quick" in w for w in res.warnings)


def test_gate_command_exit_status(tmp_path: Path) -> None:
    from bench.run_all import main

    base, good, bad = tmp_path / "base.json", tmp_path / "good.json", tmp_path / "bad.json"
    base.write_text(json.dumps(_summary(a=1.0)))
    good.write_text(json.dumps(_summary(a=1.1)))
    bad.write_text(json.dumps(_summary(a=1.5)))
    assert main(["--compare", str(base), "--fresh", str(good)]) == 0
    assert main(["--compare", str(base), "--fresh", str(bad), "--margin", "0.2"]) == 1
    assert main(["--compare", str(base), "--fresh", str(bad), "--margin", "0.6"]) == 0


def test_gate_warns_when_an_area_changed_mode() -> None:
    base = {**_summary(a=1.0), "areas": {"solve": {"status": "ok", "mode": "full"}}}
    fresh = {**_summary(a=1.0), "areas": {"solve": {"status": "ok", "mode": "quick"}}}
    assert any("solve" in w for w in gate.compare(base, fresh, 0.2).warnings)


# --- running an area ------------------------------------------------------------------------


def _script(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "bench_fake.py"
    p.write_text(
        "import argparse, sys, time\n"
        "from pathlib import Path\n"
        "ap = argparse.ArgumentParser()\n"
        'ap.add_argument("--out", type=Path)\n'
        'ap.add_argument("--repeat", type=int, default=5)\n'
        "a = ap.parse_args()\n" + body
    )
    return p


@pytest.mark.parametrize(
    ("body", "status", "note"),
    [
        ('a.out.write_text(f"| case | naja | py-rattler |\\n|---|---|---|\\n| x{a.repeat} | 1 ms | 2 ms |\\n")\n',
         "ok", ""),
        ('a.out.write_text("# partial\\n")\nsys.exit(3)\n', "ok", "exit code 3 after writing"),
        ("sys.exit(2)\n", "failed", "exit code 2, no result file"),
        ("time.sleep(30)\n", "timeout", "stopped after"),
    ],
)
def test_run_area_statuses(tmp_path: Path, body: str, status: str, note: str) -> None:
    from bench.report.areas import Area
    from bench.report.runner import load_status, run_area

    area = Area("fake", "Fake", _script(tmp_path, body),
                lambda quick, _w: ["--repeat", "1" if quick else "9"], timeout=60, quick_timeout=2)
    st = run_area(area, quick=True, work=tmp_path / "work")
    assert st["status"] == status
    assert note in st["note"]
    assert load_status(tmp_path / "work", "fake") == st
    if status == "ok" and not note:
        assert "x1" in (tmp_path / "work" / "fake" / "result.md").read_text()


def test_run_area_missing_script(tmp_path: Path) -> None:
    from bench.report.areas import Area
    from bench.report.runner import run_area

    area = Area("gone", "Gone", tmp_path / "bench_gone.py", lambda q, w: [], 10, 10)
    st = run_area(area, quick=False, work=tmp_path)
    assert st["status"] == "missing" and "does not exist" in st["note"]


def test_report_shows_the_ratio_of_the_report_it_replaces(tmp_path: Path) -> None:
    from bench.report.writer import write

    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    _area_dir(work, "solve", "ok", SOLVE_MD)
    (work / "machine.json").write_text(json.dumps({"date": "day 1", "cores": 2}))
    write(work, out, "first")
    assert "previous report" not in (out / "REPORT.md").read_text()
    write(work, out, "first again, --report-only")  # same run: no previous column
    assert "previous report" not in (out / "REPORT.md").read_text()
    (work / "machine.json").write_text(json.dumps({"date": "day 2", "cores": 2}))
    write(work, out, "second")
    report = (out / "REPORT.md").read_text()
    assert "| **0.50x** | 0.50x |" in report and "day 1, quick run" in report


# --- the owners' committed result files still read ---------------------------------------

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results"


@pytest.mark.parametrize(
    ("area", "filename"),
    [("solve", "solve.md"), ("install", "install.md"), ("repodata", "repodata.md"),
     ("fetch", "fetch.md"), ("render", "render.md"), ("server", "server.md"),
     ("version", "version.md"), ("matchspec", "matchspec.md"),
     ("repodata-load", "repodata_load.md"), ("startup", "startup.md")],
)
def test_committed_area_results_still_yield_headlines(area: str, filename: str) -> None:
    """What each area's script writes today is what the report reads: a format change that
    loses the headline ratios shows up here, not as an 'unreadable' section after a long run."""
    path = RESULTS / filename
    if not path.exists():
        pytest.skip(f"{filename} not written yet")
    ex = extract(area, path.read_text())
    assert any(h.key for h in ex.headlines)
    assert all(h.ratio > 0 for h in ex.headlines)


def test_quick_for_all_or_some_areas() -> None:
    from bench.run_all import parse_args

    assert parse_args(["--quick", "--only", "solve"]).quick == "all"
    assert parse_args(["--quick=render,server"]).quick == "render,server"
    assert parse_args([]).quick == ""


def test_confirm_keeps_the_better_of_two_runs() -> None:
    first = _summary(a=1.5, b=1.5, c=0.9)
    second = _summary(a=1.0, b=1.8)
    merged = gate.best_of(first, second)
    assert {h["metric"]: h["ratio"] for h in merged["headlines"]} == {"a": 1.0, "b": 1.5, "c": 0.9}
    res = gate.compare(_summary(a=1.0, b=1.0, c=1.0), merged, 0.2)
    assert [r.metric for r in res.worse] == ["b"]
