"""Run one benchmark area as a subprocess with a time limit and collect its Markdown.

Everything an area produces goes to its own directory under the run's work directory:
`result.md` (the Markdown the report reads), `result.json` (when the script writes JSON),
`log.txt` (stdout and stderr) and `status.json` (what happened, how long it took, the load).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.report.adapters import install_cli_markdown
from bench.report.areas import BENCH, BENCH_CHANNELS, ROOT, SHARED, Area, argv, resolve_output


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _run(cmd: list[str], log: Path, timeout: float, cwd: Path = ROOT) -> tuple[int | None, float]:
    """Run `cmd` in its own process group; on timeout end that group (the script's nginx and
    children with it). Returns (exit code or None on timeout, seconds)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    t0 = time.monotonic()
    with log.open("ab") as out:
        out.write(("$ " + " ".join(cmd) + "\n").encode())
        out.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            rc: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
            _stop(proc)
        except KeyboardInterrupt:
            _stop(proc)  # Ctrl-C must not leave a benchmark (and its nginx) running
            raise
    return rc, time.monotonic() - t0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the process group we started for `proc`: SIGTERM, then SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            continue


def ensure_bench_channel(log: Path) -> str | None:
    """Generate the bench channel the install areas read, unless it is there; an error text
    on failure."""
    if (BENCH_CHANNELS / "bench" / "bench-summary.json").exists():
        return None
    maker = SHARED / "bench" / "make_bench_channel.py"
    rc, _ = _run([sys.executable, str(maker), "--zstd-level", "3", str(BENCH_CHANNELS)], log, 900)
    if rc != 0 or not (BENCH_CHANNELS / "bench" / "bench-summary.json").exists():
        return f"could not generate the bench channel with {maker.name} (exit {rc})"
    return None


def tail(path: Path, n: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def run_area(area: Area, quick: bool, work: Path, timeout_scale: float = 1.0) -> dict[str, Any]:
    """Run `area` and write its status.json; never raises for a failing benchmark."""
    adir = work / area.name
    shutil.rmtree(adir, ignore_errors=True)
    adir.mkdir(parents=True)
    log, md = adir / "log.txt", adir / "result.md"
    status: dict[str, Any] = {
        "area": area.name, "mode": "quick" if quick else "full",
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "load_start": _load(), "script": _rel(area.script), "status": "ok", "note": "",
    }
    timeout = (area.quick_timeout if quick else area.timeout) * timeout_scale
    if not area.script.exists():
        status.update(status="missing", note=f"{_rel(area.script)} does not exist (yet)")
        return _save(adir, status)
    if area.needs_bench_channel and (err := ensure_bench_channel(log)):
        status.update(status="failed", note=err)
        return _save(adir, status)
    mode = resolve_output(area)
    script = area.script
    produced = md
    if mode == "copy":
        # The script writes results/<name> next to itself: run a copy so the owner's committed
        # result file is left alone.
        copy_dir = adir / "copy"
        (copy_dir / "results").mkdir(parents=True)
        script = copy_dir / area.script.name
        shutil.copy2(area.script, script)
        produced = copy_dir / "results" / (area.results_name or f"{area.name}.md")
    elif mode == "inplace":
        produced = BENCH / "results" / (area.results_name or f"{area.name}.md")
    cmd = [sys.executable, str(script), *argv(area, quick, adir)]
    if mode == "out":
        cmd += ["--out", str(md)]
    elif mode == "json":
        cmd += ["--json", str(adir / "result.json")]
    status["argv"] = cmd[1:]
    status["output"] = mode
    t_start = time.time()
    rc, seconds = _run(cmd, log, timeout)
    status.update(rc=rc, seconds=round(seconds, 1), load_end=_load())
    if mode == "json" and (adir / "result.json").exists():
        md.write_text(install_cli_markdown(json.loads((adir / "result.json").read_text())))
    elif produced != md and produced.exists() and produced.stat().st_mtime >= t_start:
        shutil.copy2(produced, md)
    if rc is None:
        status.update(status="timeout", note=f"stopped after the {timeout:.0f} s limit")
    elif not md.exists():
        status.update(status="failed",
                      note=f"exit code {rc}, no result file" if rc else "exit code 0 but no result file")
    elif rc != 0:
        # py-rattler 0.28 may crash at interpreter exit after the results were written.
        status["note"] = f"exit code {rc} after writing its results"
    if status["status"] != "ok":
        status["log_tail"] = tail(log)
    return _save(adir, status)


def _rel(p: Path) -> str:
    for base, prefix in ((ROOT, ""), (SHARED, "../shared/")):
        try:
            return prefix + str(p.relative_to(base))
        except ValueError:
            continue
    return str(p)


def _save(adir: Path, status: dict[str, Any]) -> dict[str, Any]:
    (adir / "status.json").write_text(json.dumps(status, indent=1))
    return status


def load_status(work: Path, name: str) -> dict[str, Any] | None:
    p = work / name / "status.json"
    return json.loads(p.read_text()) if p.exists() else None
