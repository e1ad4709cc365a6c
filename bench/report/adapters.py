"""Markdown for benchmarks that answer in JSON: the shared install harness (`--json`)."""

from __future__ import annotations

from typing import Any


def install_cli_markdown(res: dict[str, Any]) -> str:
    """The shared harness's results (`../shared/bench/bench_install.py --json`) as a table with
    the columns the install extractors read: what, median wall (s), runs, notes."""
    lines = [
        "# Install as a fresh process: naja create vs rattler",
        "",
        f"`../shared/bench/bench_install.py`: {res.get('n_specs')} specs of the bench channel "
        f"served by {res.get('server')} on loopback, {res.get('runs')} run(s) each, work dir on "
        f"{res.get('work_fs')}. *rattler* is py-rattler {res.get('py_rattler')} solving and "
        "installing in the harness's process; *rattler-cli* is the same code started as a fresh "
        "process per run (interpreter start-up and imports included), like `naja create`.",
        "",
        "| what | median wall (s) | runs | notes |",
        "|---|---:|---|---|",
    ]
    r = res.get("rattler")
    if r:
        for phase in ("cold", "warm"):
            p = r[phase]
            lines.append(f"| rattler {phase} | {p['total']} | {p['all']} | solve {p['solve']}, "
                         f"install {p['install']} (in process) |")
    for name, t in res.get("tools", {}).items():
        for phase in ("cold", "warm"):
            fails = [f for f in t.get("failures") or [] if f.get("phase") == phase]
            note = f"{len(fails)} failed run(s), rc {fails[0].get('rc')}" if fails else ""
            value = t.get(phase)
            lines.append(f"| {name} {phase} | {'' if value is None else value} "
                         f"| {t.get(phase + '_all')} | {note} |")
    lines.append("")
    for name, t in res.get("tools", {}).items():
        tree = t.get("tree_vs_rattler")
        if tree:
            lines.append(f"- {name}'s tree vs rattler's: only in rattler {tree.get('only_in_rattler')}, "
                         f"only in {name} {tree.get('only_in_other')}, differ {tree.get('differ')}")
        for f in (t.get("failures") or [])[:1]:
            tail = (f.get("stderr") or "").strip().splitlines()[-3:]
            if tail:
                lines.append(f"- {name} {f.get('phase')} failure: `{' / '.join(tail)[:300]}`")
    return "\n".join(lines) + "\n"
