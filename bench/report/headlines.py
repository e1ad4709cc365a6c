"""Headline ratios per benchmark area, read from the area's Markdown by column names.

Every headline is naja's figure over the peer's, lower is better (times and CPU seconds; a
throughput table is turned into times first). An extractor raises `ExtractError` when the
tables it needs are not there, so the report can say so for that area instead of crashing.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from bench.report.markdown import (
    Table,
    find_table,
    norm,
    parse_number,
    parse_seconds,
    parse_tables,
    unit_of,
)


class ExtractError(Exception):
    """The area's Markdown lacks the table or rows its headline ratios come from."""


@dataclass
class Headline:
    """One ratio of the summary: naja's figure, the peer's, and naja / peer."""

    area: str
    metric: str
    naja: float | None
    peer: float | None
    ratio: float
    unit: str = ""
    peer_name: str = ""
    key: bool = False  # shown in the overview chart and table
    better: str = "lower"

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        for k in ("naja", "peer", "ratio"):
            if isinstance(d[k], float):
                d[k] = round(d[k], 6)
        return d


@dataclass
class Extracted:
    headlines: list[Headline] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, headline: Headline | None) -> None:
        """Keep `headline` unless `pair` found a figure missing (None)."""
        if headline is not None:
            self.headlines.append(headline)


def pair(
    area: str,
    metric: str,
    naja: float | None,
    peer: float | None,
    unit: str,
    peer_name: str,
    key: bool = False,
) -> Headline | None:
    """A headline from two figures, or None when either is missing or the peer's is zero."""
    if naja is None or peer is None or peer == 0:
        return None
    return Headline(area, metric, naja, peer, naja / peer, unit, peer_name, key)


def geomean(values: list[float]) -> float:
    vals = [v for v in values if v > 0 and math.isfinite(v)]
    return math.exp(sum(math.log(v) for v in vals) / len(vals)) if vals else float("nan")


def label_key(label: str) -> str:
    """A row label as a stable metric name: counts replaced by N (quick runs use fewer items)."""
    text = re.sub(r"\s+", " ", label.replace("`", "").replace("**", "")).strip()
    return re.sub(r"(?<![\w.-])\d[\d,.]*", "N", text)


def _need(table: Table | None, what: str) -> Table:
    if table is None:
        raise ExtractError(f"no table with {what}")
    return table


def _rows(table: Table, **conds: str) -> list[dict[str, str]]:
    """Rows whose named columns all match their regexes (searched on the normalised cell)."""
    cols = {table.column(c.replace("_", " ")): rx for c, rx in conds.items()}
    if None in cols:
        return []
    return [
        r
        for r in table.rows
        if all(re.search(rx, norm(r.get(c or "", "")), re.IGNORECASE) for c, rx in cols.items())
    ]


def _one(table: Table, **conds: str) -> dict[str, str] | None:
    rows = _rows(table, **conds)
    return rows[0] if rows else None


def _keep(items: list[Headline | None]) -> list[Headline]:
    return [h for h in items if h is not None]


# --- solve ---------------------------------------------------------------------------------


def solve(text: str) -> Extracted:
    t = _need(find_table(parse_tables(text), "problem", "solve ratio"), "'problem' and 'solve ratio'")
    naja_col, rattler_col = t.column("naja"), t.column("rattler")
    rows = [r for r in t.rows if norm(r.get(naja_col or "", "")) != "gave up"]
    if not rows:
        raise ExtractError("solve table has no rows")
    ratios = [x for r in rows if (x := parse_number(t.cell(r, "solve ratio"))) is not None]
    totals = [x for r in rows if (x := parse_number(t.cell(r, "load+solve ratio"))) is not None]
    n_solve = [x for r in rows if (x := parse_number(t.cell(r, "naja solve ms"))) is not None]
    r_solve = [x for r in rows if (x := parse_number(t.cell(r, "rattler solve ms"))) is not None]
    out = Extracted()
    if ratios:
        out.headlines.append(
            Headline("solve", "solve time, median of per-problem ratios", None, None,
                     statistics.median(ratios), "", "py-rattler (resolvo)", key=True)
        )
        out.headlines.append(
            Headline("solve", "solve time, geometric mean of per-problem ratios", None, None,
                     geomean(ratios), "", "py-rattler (resolvo)")
        )
    if totals:
        out.headlines.append(
            Headline("solve", "load + solve, median of per-problem ratios", None, None,
                     statistics.median(totals), "", "py-rattler (resolvo)", key=True)
        )
    if len(n_solve) == len(r_solve) == len(rows):
        h = pair("solve", "solve time, sum over problems", sum(n_solve) / 1e3,
                 sum(r_solve) / 1e3, "s", "py-rattler (resolvo)")
        out.add(h)
    if not out.headlines:
        raise ExtractError("solve table has no ratio columns with numbers")
    agree = sum(norm(r.get(naja_col or "", "")) == norm(r.get(rattler_col or "", "")) for r in t.rows)
    gave_up = len(t.rows) - len(rows)
    out.notes.append(f"outcome agrees with rattler on {agree}/{len(t.rows)} problems"
                     + (f"; naja gave up on {gave_up} (left out of the ratios)" if gave_up else ""))
    return out


# --- install -------------------------------------------------------------------------------


def install(text: str) -> Extracted:
    t = _need(find_table(parse_tables(text), "what", "median wall"), "'what' and 'median wall'")
    wall_unit = unit_of(t.column("median wall") or "")
    cpu_unit = unit_of(t.column("median cpu") or "") if t.column("median cpu") else "s"
    out = Extracted()
    for phase in ("cold", "warm"):
        n, r = _one(t, what=rf"^naja {phase}"), _one(t, what=rf"^rattler {phase}")
        out.headlines += _keep([
            pair("install", f"{phase} install, wall", parse_seconds(t.cell(n, "median wall"), wall_unit),
                 parse_seconds(t.cell(r, "median wall"), wall_unit), "s", "py-rattler", key=True),
            pair("install", f"{phase} install, CPU", parse_seconds(t.cell(n, "median cpu"), cpu_unit),
                 parse_seconds(t.cell(r, "median cpu"), cpu_unit), "s", "py-rattler"),
        ])
    n, cp = _one(t, what=r"^naja warm"), _one(t, what=r"cp -al")
    h = pair("install", "warm install vs `cp -al` of the tree",
             parse_seconds(t.cell(n, "median wall"), wall_unit),
             parse_seconds(t.cell(cp, "median wall"), wall_unit), "s", "cp -al (floor)")
    out.add(h)
    if not out.headlines:
        raise ExtractError("install table has no naja/rattler cold/warm rows with times")
    return out


def install_cli(text: str) -> Extracted:
    t = _need(find_table(parse_tables(text), "what", "median wall"), "'what' and 'median wall'")
    out = Extracted()
    for phase in ("cold", "warm"):
        n = _one(t, what=rf"^naja(-cli)? {phase}")
        for peer, rx, key in (("rattler CLI", rf"^rattler-cli {phase}", True),
                              ("py-rattler in process", rf"^rattler {phase}", False)):
            h = pair("install-cli", f"{phase} `naja create` vs {peer}",
                     parse_seconds(t.cell(n, "median wall")),
                     parse_seconds(t.cell(_one(t, what=rx), "median wall")), "s", peer, key)
            out.add(h)
    if not out.headlines:
        raise ExtractError("install-cli table has no naja and rattler rows with times")
    return out


# --- repodata ------------------------------------------------------------------------------


def repodata(text: str) -> Extracted:
    t = _need(find_table(parse_tables(text), "case", "cache", "wall time"),
              "'case', 'cache' and 'wall time'")
    out = Extracted()
    layouts = (
        ("CEP-16 shards", r"^naja shards$", r"^rattler shards$"),
        (".zst index, specs", r"^naja \.zst(, specs)?$", r"^rattler \.zst$"),
    )
    for layout, naja_rx, peer_rx in layouts:
        for phase in ("cold", "warm"):
            n = _one(t, case=naja_rx, cache=phase)
            r = _one(t, case=peer_rx, cache=phase)
            for what, col in (("wall", "wall time"), ("CPU", "cpu time")):
                h = pair("repodata", f"{layout}, {phase} cache, {what}",
                         parse_seconds(t.cell(n, col), "ms"), parse_seconds(t.cell(r, col), "ms"),
                         "s", "py-rattler Gateway", key=(what == "wall" and layout.startswith("CEP")))
                out.add(h)
    if not out.headlines:
        raise ExtractError("repodata table has no naja/rattler rows")
    return out


# --- fetch ---------------------------------------------------------------------------------


def fetch(text: str) -> Extracted:
    t = _need(find_table(parse_tables(text), "scheme", "tool", "median s"),
              "'scheme', 'tool' and 'median s'")
    out = Extracted()

    def cell(scheme: str, tool: str, col: str) -> float | None:
        return parse_seconds(t.cell(_one(t, scheme=rf"^{scheme}$", tool=rf"^{re.escape(tool)}$"), col))

    for scheme, tool, peer, key in (
        ("http", "naja", "py-rattler", True),
        ("http", "naja", "curl", True),
        ("https", "naja", "curl", False),
        # The same work on both sides (no digest; fetch + verify): headlines too.
        ("http", "naja-nohash", "py-rattler", True),
        ("http", "naja", "py-rattler+sha256", True),
    ):
        label = "naja (sha256 verified)" if tool == "naja" else "naja without digest"
        h = pair("fetch", f"{scheme} download, {label} vs {peer}, wall",
                 cell(scheme, tool, "median s"), cell(scheme, peer, "median s"), "s", peer, key)
        out.add(h)
        if t.column("cpu s"):
            h = pair("fetch", f"{scheme} download, {label} vs {peer}, CPU",
                     cell(scheme, tool, "cpu s"), cell(scheme, peer, "cpu s"), "s", peer)
            out.add(h)
    if not out.headlines:
        raise ExtractError("fetch table has no naja and peer rows")
    return out


# --- render --------------------------------------------------------------------------------


def render(text: str) -> Extracted:
    out = Extracted()
    for t in parse_tables(text):
        if not t.has("tool", "total"):
            continue
        where = "per fresh process" if re.search("process", t.heading, re.I) and re.search(
            "fresh|per", t.heading, re.I) else "in process"
        n = _one(t, tool=r"^naja")
        r = _one(t, tool=r"rattler")
        h = pair("render", f"render the corpus, {where}, total", parse_seconds(t.cell(n, "total")),
                 parse_seconds(t.cell(r, "total")), "s", "py-rattler-build", key=True)
        if h and all(x.metric != h.metric for x in out.headlines):
            out.headlines.append(h)
        errs = (parse_number(t.cell(n, "errors")), parse_number(t.cell(r, "errors")))
        if None not in errs:
            out.notes.append(f"{where}: errors naja {errs[0]:.0f}, py-rattler-build {errs[1]:.0f}")
    if not out.headlines:
        raise ExtractError("no table with 'tool' and 'total' and naja/rattler rows")
    return out


# --- naja vs rattler per row (version, matchspec, repodata-load) ---------------------------


def _per_row(
    area: str, text: str, label_cols: tuple[str, ...], naja_cols: tuple[str, ...],
    peer_cols: tuple[str, ...], key_rows: tuple[str, ...], peer_name: str = "py-rattler",
) -> Extracted:
    tables = parse_tables(text)
    t = None
    for tab in tables:
        lab = next((c for c in label_cols if tab.column(c)), None)
        if lab and any(tab.column(c) for c in naja_cols) and any(tab.column(c) for c in peer_cols):
            t = tab
            break
    t = _need(t, f"{label_cols[0]!r}, naja and peer columns")
    label_col = next(t.column(c) for c in label_cols if t.column(c))
    naja_col = next(t.column(c) for c in naja_cols if t.column(c))
    peer_col = next(t.column(c) for c in peer_cols if t.column(c))
    unit = unit_of(naja_col or "")
    out = Extracted()
    for row in t.rows:
        label = row.get(label_col or "", "")
        h = pair(area, label_key(label), parse_seconds(row.get(naja_col or ""), unit),
                 parse_seconds(row.get(peer_col or ""), unit), "s", peer_name,
                 key=any(re.search(k, norm(label)) for k in key_rows))
        out.add(h)
    if not out.headlines:
        raise ExtractError(f"{area} table has no rows with both times")
    out.headlines.insert(0, Headline(area, "geometric mean over all rows", None, None,
                                     geomean([h.ratio for h in out.headlines]), "", peer_name,
                                     key=True))
    return out


def version(text: str) -> Extracted:
    return _per_row("version", text, ("operation",), ("naja µs/item", "naja"),
                    ("rattler µs/item", "rattler"),
                    (r"^version parse \(cold", r"^versionspec\.matches$"))


def matchspec(text: str) -> Extracted:
    return _per_row("matchspec", text, ("case",), ("naja",), ("py-rattler", "rattler"),
                    (r"cold caches", r"already cached"))


def repodata_load(text: str) -> Extracted:
    return _per_row("repodata-load", text, ("case",), ("naja",), ("py-rattler", "rattler"),
                    (r"^index4.*all \S+ records \(vs sparserepodata",))


# --- start-up ------------------------------------------------------------------------------

STARTUP_GOAL_MS = 150.0


def startup(text: str) -> Extracted:
    t = _need(find_table(parse_tables(text), "command", "median"), "'command' and 'median'")
    unit = unit_of(t.column("median") or "")
    out = Extracted()
    for cmd, key in (("naja --version", True), ("naja --help", False), ("naja create --help", False)):
        row = _one(t, command=rf"^{re.escape(cmd)}$")
        h = pair("startup", f"`{cmd}` vs the {STARTUP_GOAL_MS:.0f} ms goal",
                 parse_seconds(t.cell(row, "median"), unit), STARTUP_GOAL_MS / 1e3, "s",
                 "goal; no peer CLI", key)
        out.add(h)
    floor = parse_seconds(t.cell(_one(t, command=r"floor|python -c pass"), "median"), unit)
    # The goal is a constant, so the ratio above follows the machine's load; the bare
    # interpreter measured in the same run is a steadier yardstick.
    h = pair("startup", "`naja --version` vs bare `python -c pass`",
             parse_seconds(t.cell(_one(t, command=r"^naja --version$"), "median"), unit), floor,
             "s", "python -c pass, same run")
    out.add(h)
    if floor is not None:
        out.notes.append(f"bare `python -c pass` takes {floor * 1e3:.0f} ms on this machine")
    if not out.headlines:
        raise ExtractError("start-up table has no `naja --version` row")
    return out


# --- server --------------------------------------------------------------------------------

UPLOAD_GOAL_S = 1.0  # issue 12: an upload to a 10k-package channel is installable within 1 s


def server(text: str) -> Extracted:
    """The server has no peer installed from PyPI: its ratios are against issue 12's goal
    (upload installable within 1 s) and 2 workers against 1 in the same run."""
    out = Extracted()
    t = find_table(parse_tables(text), "workers", "req/s")
    if t is not None:
        has_channel = t.column("channel") is not None

        def rps(workers: int, channel: str = "public") -> float | None:
            conds = {"workers": rf"^{workers}$"} | ({"channel": rf"^{channel}$"} if has_channel else {})
            return parse_number(t.cell(_one(t, **conds), "req/s"))

        one, two, private = rps(1), rps(2), rps(2, "private") if has_channel else None
        if one and two:
            out.headlines.append(Headline(
                "server", "GET under load, time per request: 2 workers vs 1", 1 / two,
                1 / one, one / two, "s", "1 worker, same run"))  # naja vs naja: not in the overview
        if two and private:
            out.headlines.append(Headline(
                "server", "GET under load, time per request: private channel (token) vs public",
                1 / private, 1 / two, two / private, "s", "public channel, same run"))
        for row in t.rows:
            errors = parse_number(t.cell(row, "errors"))
            channel = f" {t.cell(row, 'channel')} channel" if has_channel else ""
            out.notes.append(
                f"{t.cell(row, 'workers')} worker(s){channel}: {t.cell(row, 'requests')} requests, "
                f"{t.cell(row, 'req/s')} req/s, p50 {t.cell(row, 'p50')} ms, p99 "
                f"{t.cell(row, 'p99')} ms, errors {t.cell(row, 'errors')}"
                + (" — the goal is zero errors" if errors else ""))
    m = re.search(r"median ([\d.,]+) ?ms, max ([\d.,]+) ?ms over (\d+) uploads", text)
    if m:
        median = float(m.group(1).replace(",", "")) / 1e3
        out.headlines.append(Headline(
            "server", f"upload to a 10k-package channel until installable, median vs the "
            f"{UPLOAD_GOAL_S:g} s goal", median, UPLOAD_GOAL_S, median / UPLOAD_GOAL_S, "s",
            "goal; no peer server", key=True))
    if not out.headlines:
        raise ExtractError("no load table with 'workers' and 'req/s', no upload median")
    return out


# --- any other area: columns that are ratios ------------------------------------------------

_RATIO_COL = re.compile(r"ratio|naja ?/ ?|vs (rattler|peer|quetz)|/ ?(rattler|peer|quetz)")


def generic(area: str, text: str) -> Extracted:
    """Fallback for areas without a dedicated extractor (e.g. the server benchmark): every
    row of every table that has a ratio-like column (`ratio`, `naja / ...`, `vs rattler`)."""
    out = Extracted()
    for t in parse_tables(text):
        col = next((c for c in t.columns[1:] if _RATIO_COL.search(c)), None)
        if col is None:
            continue
        if "throughput" in col or "higher" in col:
            continue  # a ratio where higher is better: not comparable with the others
        # The row's name: its non-numeric columns (endpoint, case, ...), not its figures.
        label_cols = [c for c in t.columns if c != col
                      and not all(parse_number(r.get(c)) is not None for r in t.rows)][:2]
        for row in t.rows:
            ratio = parse_number(row.get(col))
            if ratio is None:
                continue
            label = " / ".join(row.get(c, "") for c in label_cols if row.get(c))
            metric = label_key(f"{t.heading}: {label}" if t.heading else label)
            out.headlines.append(Headline(area, metric, None, None, ratio, "", "peer", key=True))
    if not out.headlines:
        raise ExtractError("no table with a ratio column ('ratio', 'naja / ...', 'vs rattler')")
    return out


EXTRACTORS: dict[str, Callable[[str], Extracted]] = {
    "solve": solve,
    "install": install,
    "install-cli": install_cli,
    "repodata": repodata,
    "fetch": fetch,
    "render": render,
    "version": version,
    "matchspec": matchspec,
    "repodata-load": repodata_load,
    "startup": startup,
    "server": server,
}


def extract(area: str, text: str) -> Extracted:
    """The headline ratios of `area` from its Markdown; the generic extractor for new areas."""
    fn = EXTRACTORS.get(area)
    return fn(text) if fn else generic(area, text)
