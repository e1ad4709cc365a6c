"""Bookkeeping for detached `naja run -d`: one JSON record and one log per run under
`<root prefix>/run/`.

The monitor process that waits for the command writes the record (pids when the command
started, exit code when it ended); `naja ps` and `naja stop` read it. A pid is trusted only
together with the process's start time, so a recycled pid is never signalled by mistake.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

from naja.errors import NajaError, UserInputError


class RunNotFound(NajaError):
    """No detached run has that id."""


@dataclass
class DetachedRun:
    """One detached run. `pid` is the command's process (the leader of its process group)."""

    id: str
    command: list[str]
    prefix: str
    log: str
    started: str
    labels: list[str] = field(default_factory=list)
    sandboxed: bool = False
    pid: int | None = None
    pid_start: str | None = None
    monitor_pid: int | None = None
    monitor_start: str | None = None
    exit_code: int | None = None
    finished: str | None = None
    error: str | None = None

    def command_alive(self) -> bool:
        return self.pid is not None and process_alive(self.pid, self.pid_start)

    def monitor_alive(self) -> bool:
        return self.monitor_pid is not None and process_alive(self.monitor_pid, self.monitor_start)

    @property
    def status(self) -> str:
        """running, exited (N), failed (could not start), starting, or lost (monitor gone)."""
        if self.error is not None:
            return "failed"
        if self.exit_code is not None:
            return f"exited ({self.exit_code})"
        if self.command_alive():
            return "running"
        if self.pid is None and self.monitor_alive():
            return "starting"
        return "lost"

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["status"] = self.status
        data["running"] = self.status == "running"
        return data


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def run_dir(root: Path) -> Path:
    return root / "run"


def process_start(pid: int) -> str | None:
    """The start time of a process (clock ticks since boot, Linux), None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    rest = stat[stat.rindex(b")") + 2 :].split()
    return rest[19].decode()


def process_alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    current = process_start(pid)
    if current is not None and start is not None and current != start:
        return False  # the pid now belongs to another process
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            if fh.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                return False  # exited, waiting to be reaped
    except OSError:
        pass
    return True


def new_run(
    root: Path, command: list[str], prefix: Path, labels: list[str], sandboxed: bool
) -> DetachedRun:
    folder = run_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        run_id = secrets.token_hex(6)
        if not (folder / f"{run_id}.json").exists():
            break
    run = DetachedRun(
        id=run_id,
        command=command,
        prefix=str(prefix),
        log=str(folder / f"{run_id}.log"),
        started=now(),
        labels=labels,
        sandboxed=sandboxed,
    )
    save(root, run)
    return run


def save(root: Path, run: DetachedRun) -> None:
    path = run_dir(root) / f"{run.id}.json"
    tmp = path.with_name(f".{run.id}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(run), indent=1), encoding="utf-8")
    os.replace(tmp, path)


def forget(root: Path, run: DetachedRun) -> None:
    """Delete a finished run's record and log."""
    for path in (run_dir(root) / f"{run.id}.json", Path(run.log)):
        path.unlink(missing_ok=True)


def _load(path: Path) -> DetachedRun | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    known = {f.name for f in fields(DetachedRun)}
    try:
        return DetachedRun(**{k: v for k, v in data.items() if k in known})
    except TypeError:
        return None


def load_all(root: Path) -> list[DetachedRun]:
    folder = run_dir(root)
    if not folder.is_dir():
        return []
    runs = [run for p in folder.glob("*.json") if (run := _load(p)) is not None]
    return sorted(runs, key=lambda r: r.started)


def find(root: Path, ref: str) -> DetachedRun:
    """The run whose id starts with `ref` (a unique prefix is enough, like docker)."""
    matches = [r for r in load_all(root) if r.id.startswith(ref)] if ref else []
    if not matches:
        raise RunNotFound(f"no detached run {ref!r}", hint="`naja ps` lists them")
    if len(matches) > 1:
        raise UserInputError(
            f"{ref!r} matches {len(matches)} runs", hint="give more characters of the id"
        )
    return matches[0]
