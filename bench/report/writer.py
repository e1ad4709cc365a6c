"""The published report: `REPORT.md`, `summary.json` and the PNG charts, from a run's work dir.

Each area's section comes from its `status.json` and `result.md`; an area that failed, timed
out, is missing or whose Markdown lacks the expected tables gets a section saying so, and the
rest of the report is still written.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from bench.report.areas import AREAS, Area
from bench.report.charts import bar_chart
from bench.report.headlines import Extracted, ExtractError, Headline, extract
from bench.report.runner import load_status


def fmt_value(x: float | None, unit: str) -> str:
    """A figure for the tables: seconds shown in s, ms or µs."""
    if x is None:
        return ""
    if unit != "s":
        return f"{x:.4g} {unit}".strip()
    if x >= 1:
        return f"{x:.2f} s"
    if x >= 1e-3:
        return f"{x * 1e3:.3g} ms"
    return f"{x * 1e6:.3g} µs"


def demote(md: str, levels: int = 2) -> str:
    """Headings pushed down `levels` so an area's document nests under its section."""
    out, fence = [], False
    for line in md.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
        if not fence and re.match(r"#{1,6} ", line):
            hashes = len(line) - len(line.lstrip("#"))
            line = "#" * min(6, hashes + levels) + line[hashes:]
        out.append(line)
    return "\n".join(out).strip() + "\n"


def collect(work: Path, areas: list[Area]) -> tuple[dict[str, dict[str, Any]], dict[str, Extracted]]:
    """Status and extracted headlines of every area that has a status in `work`."""
    statuses: dict[str, dict[str, Any]] = {}
    extracted: dict[str, Extracted] = {}
    for area in areas:
        st = load_status(work, area.name)
        if st is None:
            continue
        statuses[area.name] = st
        md = work / area.name / "result.md"
        if st["status"] == "ok" and md.exists():
            try:
                extracted[area.name] = extract(area.name, md.read_text())
            except ExtractError as e:
                st["status"] = "unreadable"
                st["note"] = f"its Markdown has not the expected table: {e}"
    return statuses, extracted


def summary(machine: dict[str, Any], statuses: dict[str, dict[str, Any]],
            extracted: dict[str, Extracted]) -> dict[str, Any]:
    modes = {s["mode"] for s in statuses.values() if s.get("mode")}
    return {
        "generated": machine.get("date"),
        "mode": modes.pop() if len(modes) == 1 else "mixed",
        "machine": machine,
        "areas": {
            name: {k: st.get(k) for k in ("status", "mode", "seconds", "started", "load_start",
                                          "load_end", "note")}
            for name, st in statuses.items()
        },
        "headlines": [h.as_dict() for e in extracted.values() for h in e.headlines],
    }


def _machine_table(m: dict[str, Any]) -> list[str]:
    peers = ", ".join(f"{k} {v}" for k, v in (m.get("peers") or {}).items() if v)
    load = m.get("load_start") or []
    return [
        "| | |", "|---|---|",
        f"| CPU | {m.get('cpu')} |",
        f"| cores | {m.get('cores')} |",
        f"| memory | {m.get('memory_gib')} GiB |",
        f"| kernel / OS | {m.get('kernel')} / {m.get('os')} |",
        f"| Python | {m.get('python')} |",
        f"| peers (from PyPI) | {peers} |",
        f"| naja | {m.get('naja')} (commit {m.get('naja_commit')}) |",
        "| load average at start | "
        + (" / ".join(f"{x:.2f}" for x in load) + " (1 / 5 / 15 min)" if load else "?") + " |",
    ] + ([f"| load average at the end | {' / '.join(f'{x:.2f}' for x in m['load_end'])} |"]
         if m.get("load_end") else []) + (
        [f"| the run took | {m['minutes']} min |"] if m.get("minutes") is not None else [])


def _headline_rows(headlines: list[Headline], with_area: bool,
                   previous: dict[tuple[str, str], float] | None = None) -> list[str]:
    """The ratios as a table; with `previous` (the summary this report replaces) a column with
    the ratio it had then."""
    prev_col = previous is not None
    head = (("| area " if with_area else "") + "| metric | naja | peer | naja / peer |"
            + (" previous report |" if prev_col else ""))
    sep = ("|---" if with_area else "") + "|---|---:|---:|---:|" + ("---:|" if prev_col else "")
    lines = [head, sep]
    for h in headlines:
        peer = fmt_value(h.peer, h.unit)
        peer = f"{peer} ({h.peer_name})" if peer and h.peer_name else peer or h.peer_name
        row = (("| " + h.area + " " if with_area else "")
               + f"| {h.metric} | {fmt_value(h.naja, h.unit)} | {peer} | **{h.ratio:.2f}x** |")
        if previous is not None:
            old = previous.get((h.area, h.metric))
            row += f" {old:.2f}x |" if old is not None else " |"
        lines.append(row)
    return lines


def _previous(out_dir: Path, date: object) -> tuple[dict[tuple[str, str], float] | None, str]:
    """Ratios of the summary.json about to be replaced, and when/how it was made; None when
    there is none or it is this same run (a `--report-only` rewrite)."""
    try:
        old = json.loads((out_dir / "summary.json").read_text())
        ratios = {(h["area"], h["metric"]): float(h["ratio"]) for h in old["headlines"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None, ""
    if old.get("generated") == date:
        return None, ""
    return ratios, f"{old.get('generated')}, {old.get('mode')} run"


def write(work: Path, out_dir: Path, command: str, areas: list[Area] = AREAS) -> dict[str, Any]:
    """Write REPORT.md, summary.json and the charts into `out_dir`; returns the summary."""
    machine_file = work / "machine.json"
    machine = json.loads(machine_file.read_text()) if machine_file.exists() else {}
    statuses, extracted = collect(work, areas)
    previous, previous_what = _previous(out_dir, machine.get("date"))
    summ = summary(machine, statuses, extracted)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("area-*.png"):
        old.unlink()  # charts of areas that produced nothing this time must not linger
    all_h = [h for e in extracted.values() for h in e.headlines]
    key_h = [h for h in all_h if h.key]
    sub = f"{machine.get('cores')} cores, {summ['mode']} run, {machine.get('date')}"
    overview = bar_chart(key_h, out_dir / "overview.png", "naja / peer: headline ratios", sub)

    lines = [
        "# naja benchmark report",
        "",
        f"Made by `{machine.get('command') or command}` ({summ['mode']} run) starting "
        f"{machine.get('date')}"
        + ("" if not machine.get("command") or machine["command"] == command
           else f"; areas added or rebuilt by `{command}`")
        + ". Every "
        "figure below is naja next to a peer installed from PyPI, measured **in the same run on "
        "the same machine**; the ratios are naja / peer, so **lower is better** (< 1: naja is "
        "faster or uses less CPU). How to run it and the regression gate: "
        "[bench/README.md](../README.md).",
        "",
        "## Machine",
        "",
        *_machine_table(machine),
        "",
        _load_sentence(machine),
        "",
        "## Headline ratios",
        "",
    ]
    if overview:
        lines += [f"![headline ratios]({overview.name})", ""]
    if key_h:
        ahead = sum(h.ratio < 1 for h in key_h)
        areas_with = len({h.area for h in key_h})
        lines += [*_headline_rows(key_h, True, previous), "",
                  *([f"*previous report*: the ratio in the report this one replaced ({previous_what}).", ""]
                    if previous is not None else []),
                  f"naja is ahead (ratio < 1) on {ahead} of these {len(key_h)} headline ratios "
                  f"from {areas_with} areas; every ratio of every area, {len(all_h)} in all, is in "
                  "the sections below and in `summary.json`.", ""]
    else:
        lines += ["No area produced numbers.", ""]
    lines += ["## Areas", "", "| area | status | mode | took | load at start (1 min) | note |",
              "|---|---|---|---:|---:|---|"]
    for area in areas:
        st = statuses.get(area.name)
        if st is None:
            lines.append(f"| {area.name} | not run | | | | |")
            continue
        took = f"{st['seconds']:.0f} s" if st.get("seconds") is not None else ""
        load = (st.get("load_start") or [None])[0]
        lines.append(f"| [{area.name}](#{_anchor(area)}) | {st['status']} | {st.get('mode', '')} "
                     f"| {took} | {'' if load is None else load} | {_cell(st.get('note', ''))} |")
    lines.append("")
    for area in areas:
        st = statuses.get(area.name)
        lines += [f"## {area.title} ({area.name})", ""]
        if st is None:
            lines += ["Not run in this report (`--only` / `--skip`).", ""]
            continue
        script = st.get("script", "")
        args = shlex.join(_short(st.get("argv", [])[1:]))
        lines.append(f"`{script}{' ' + args if args else ''}`"
                     f" — {st['status']}, {st.get('mode')} run"
                     + (f", {st['seconds']:.0f} s" if st.get("seconds") is not None else "")
                     + (f"; {st['note']}" if st.get("note") else "") + ".")
        lines.append("")
        ex = extracted.get(area.name)
        if ex is None:
            if st.get("log_tail"):
                lines += ["Last lines of its output:", "", "```", st["log_tail"], "```", ""]
            if st["status"] == "unreadable":
                lines += [demote((work / area.name / "result.md").read_text(), 2), ""]
            continue
        lines += [*_headline_rows(ex.headlines, False), ""]
        lines += [f"- {n}" for n in ex.notes]
        if ex.notes:
            lines.append("")
        if len(ex.headlines) > 1:
            chart = bar_chart(ex.headlines, out_dir / f"area-{area.name}.png",
                              f"{area.title}: naja / {area.peer}", sub, by_area=False)
            if chart:
                lines += [f"![{area.name}]({chart.name})", ""]
        lines += ["<details><summary>The area's own report</summary>", "",
                  demote((work / area.name / "result.md").read_text(), 2), "</details>", ""]
    (out_dir / "REPORT.md").write_text("\n".join(lines).rstrip() + "\n")
    (out_dir / "summary.json").write_text(json.dumps(summ, indent=1) + "\n")
    return summ


def _load_sentence(m: dict[str, Any]) -> str:
    """What the load average says about how far to trust absolute times."""
    start = (m.get("load_start") or [None])[0]
    end = (m.get("load_end") or [None])[0]
    cores = m.get("cores") or 1
    loads = f"load average {start} at the start" + (f", {end} at the end" if end is not None else "")
    if start is not None and max(start, end or 0) < cores:
        return (f"The machine is shared with other engineers' work but was fairly quiet during this "
                f"run ({loads}, {cores} cores). Ratios of figures taken side by side in one run are "
                "the ones to read; absolute times still vary between runs.")
    return (f"The machine is shared: other engineers' builds and tests ran during the run ({loads}, "
            f"{cores} cores), so absolute times are noisy; the ratios of figures taken side by side "
            "in one run, and CPU-time rows, are the ones to read.")


def _anchor(area: Area) -> str:
    text = f"{area.title} ({area.name})".lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:160]


def _short(args: list[str]) -> list[str]:
    """Arguments for display: long ones (problem lists, command templates) elided."""
    return [a if len(a) <= 60 else a[:40] + "…" for a in args]
