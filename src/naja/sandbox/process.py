"""Running the command: exec when naja has nothing left to do, else supervise it.

Supervising means forwarding SIGINT, SIGTERM, SIGHUP and SIGQUIT to the command and returning
its exit status the way a shell reports it (killed by signal N → 128+N).

Under bubblewrap the process naja starts is bwrap, not the command: bwrap → the sandbox's
init (pid 1 inside) → the command. Signals are delivered to the command itself, found through
`/proc/<pid>/task/<pid>/children`. bwrap's processes ignore the forwarded signals (else a
terminal's Ctrl-C kills bwrap and `--die-with-parent` SIGKILLs the command); the command gets
default handlers back (see `naja.sandbox.bwrap.ENV_RESET`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, NoReturn

FORWARD = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
# Delivered by the terminal to the whole foreground process group, so the command already has
# them when it shares naja's terminal; forwarding would deliver them twice.
TERMINAL = (signal.SIGINT, signal.SIGQUIT)


def exit_status(returncode: int) -> int:
    """A Popen return code as a shell shows it: -N (killed by signal N) → 128+N."""
    return 128 - returncode if returncode < 0 else returncode


def _restore_default_signals() -> None:
    # Python ignores SIGPIPE (and SIGXFSZ); ignored signals survive exec, and `cmd | head`
    # would then see EPIPE errors instead of dying quietly.
    for sig in (signal.SIGPIPE, getattr(signal, "SIGXFSZ", None)):
        if sig is not None:
            signal.signal(sig, signal.SIG_DFL)


def exec_command(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, detach_streams: Sequence[int] = ()
) -> NoReturn:
    """Replace naja by the command: the terminal, signals and exit status are then its own."""
    sys.stdout.flush()
    sys.stderr.flush()
    if detach_streams:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in detach_streams:
            os.dup2(null, fd)
        os.close(null)
    if os.name == "nt":
        # Windows has no exec: os.execve would start a new process and lose its exit status.
        sys.exit(subprocess.call(list(argv), env=dict(env), cwd=cwd))
    os.chdir(cwd)
    _restore_default_signals()
    os.execve(argv[0], list(argv), dict(env))


def children(pid: int) -> list[int]:
    """Direct children of a process (Linux)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except (OSError, ValueError):
        pass
    # Kernels without CONFIG_PROC_CHILDREN: scan every process's parent.
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return found


def sandboxed_command(bwrap_pid: int) -> int | None:
    """The host pid of the command bubblewrap runs (bwrap → sandbox init → command)."""
    for init in children(bwrap_pid):
        for command in children(init):
            return command
    return None


class Supervisor:
    """Starts the command, forwards signals to it while waiting, and returns its status."""

    def __init__(self, *, sandboxed: bool, tty: bool, ignore_in_wrapper: bool = True) -> None:
        self.sandboxed = sandboxed
        self.tty = tty
        # Only safe when the command line gives the command default handlers back.
        self.ignore_in_wrapper = sandboxed and ignore_in_wrapper
        self.proc: subprocess.Popen[bytes] | None = None
        self.pending: list[int] = []

    def _preexec(self) -> None:
        _restore_default_signals()
        # Also undo the SIG_IGN naja itself uses for terminal signals: ignored stays ignored
        # across exec.
        action = signal.SIG_IGN if self.ignore_in_wrapper else signal.SIG_DFL
        for sig in FORWARD:
            signal.signal(sig, action)

    def _target(self) -> tuple[int, bool] | None:
        """(pid, is a process group) that should receive a forwarded signal."""
        assert self.proc is not None
        if not self.sandboxed:
            # Not on a terminal the command leads its own process group: reach all of it.
            return (self.proc.pid, not self.tty)
        pid = sandboxed_command(self.proc.pid)
        if pid is None:
            return None
        try:
            leads = os.getpgid(pid) == pid
        except OSError:
            return None
        return (pid, leads)

    def _deliver(self) -> None:
        while self.pending:
            target = self._target()
            if target is None:
                return  # not started yet; retried while waiting
            sig = self.pending.pop(0)
            pid, group = target
            try:
                if group:
                    os.killpg(pid, sig)
                else:
                    os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.pending.append(signum)
        self._deliver()

    def run(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: Path,
        *,
        stdin: int | IO[bytes] | None = None,
        stdout: int | IO[bytes] | None = None,
        stderr: int | IO[bytes] | None = None,
        on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
        pass_fds: tuple[int, ...] = (),
    ) -> int:
        previous = {sig: signal.getsignal(sig) for sig in FORWARD}
        try:
            for sig in FORWARD:
                if self.tty and sig in TERMINAL:
                    signal.signal(sig, signal.SIG_IGN)
                else:
                    signal.signal(sig, self._on_signal)
            self.proc = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=cwd,
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                preexec_fn=self._preexec,
                pass_fds=pass_fds,
                # On a terminal the command stays in naja's process group so that Ctrl-C and
                # Ctrl-Z work as for any foreground job.
                process_group=None if self.tty else 0,
            )
            if on_start is not None:
                on_start(self.proc)
            while True:
                try:
                    # Sandboxed, a signal may come before the command exists: poll to retry.
                    code = self.proc.wait(timeout=0.05 if self.sandboxed else None)
                    return exit_status(code)
                except subprocess.TimeoutExpired:
                    self._deliver()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
