"""naja.sandbox.process: exit statuses and the signal dispositions a supervised command gets."""

from __future__ import annotations

import os
import signal as sig
import sys
from pathlib import Path

from naja.sandbox.process import Supervisor, exit_status


def test_exit_status() -> None:
    assert exit_status(0) == 0
    assert exit_status(3) == 3
    assert exit_status(-15) == 143
    assert exit_status(-9) == 137


def test_supervisor_without_signal_reset_gives_defaults(tmp_path: Path) -> None:
    """When `env --default-signal` is unavailable the wrapper must not pass SIG_IGN on."""
    out = tmp_path / "out"
    code = "import signal,sys; sys.stdout.write(str(signal.getsignal(signal.SIGINT) == signal.SIG_IGN))"
    with out.open("wb") as fh:
        previous = sig.signal(sig.SIGINT, sig.SIG_IGN)
        try:
            status = Supervisor(sandboxed=True, tty=True, ignore_in_wrapper=False).run(
                [sys.executable, "-c", code], dict(os.environ), tmp_path, stdout=fh
            )
        finally:
            sig.signal(sig.SIGINT, previous)
    assert status == 0
    assert out.read_text() == "False"
