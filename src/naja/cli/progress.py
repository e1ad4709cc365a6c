"""Progress bars for installs: one rich bar per stage (fetch+extract, link, ...) on stderr.

Shown only when stderr is a terminal and the output is not JSON or quiet; otherwise the
callback does nothing, so logs and pipes stay clean.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any

_LABELS = {
    "extract": "download + extract",
    "unlink": "unlink",
    "link": "link",
    "pyc": "compile .pyc",
    "scripts": "scripts",
    "commit": "commit",
}


@contextmanager
def install_progress(enabled: bool):  # type: ignore[no-untyped-def]
    """Yields a callback for `naja.install.install(progress=...)`."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description:>20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[package]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def callback(event: Any) -> None:
        task = tasks.get(event.stage)
        if task is None:
            label = _LABELS.get(event.stage, event.stage)
            task = tasks[event.stage] = progress.add_task(
                label, total=event.total or None, package=""
            )
        progress.update(
            task, completed=event.done, total=event.total or None, package=event.package or ""
        )

    with progress:
        yield callback
