"""Turning a resolved command into the command line that runs it confined, or refusing.

This is where "fail closed" lives: when the settings ask for a sandbox and this machine cannot
provide one, `wrap` raises `SandboxUnavailable`; there is no path that falls back to running
the command unconfined.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from naja.sandbox import bwrap, sbpl, seccomp
from naja.sandbox.config import SandboxSettings
from naja.sandbox.errors import CommandNotFound, SandboxUnavailable
from naja.sandbox.policy import SandboxPolicy, make_policy, visible_inside


@dataclass(frozen=True)
class Wrapped:
    """The final command line; `backend` is "bwrap", "sandbox-exec" or None (not sandboxed)."""

    argv: list[str]
    env: dict[str, str]
    backend: str | None = None
    policy: SandboxPolicy | None = None
    # Whether the command line restores default signal handlers for the command itself.
    signals_reset: bool = False
    # Descriptors the command line refers to, to be passed on to it.
    pass_fds: tuple[int, ...] = ()

    @property
    def exec_ok(self) -> bool:
        """True when the first process is (or execs into) the command, so naja can exec it:
        sandbox-exec applies its profile and execs; bwrap stays as the sandbox's parent."""
        return self.backend != "bwrap"


def wrap(
    settings: SandboxSettings,
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    prefix: Path,
    cwd: Path,
    attached_tty: bool,
    platform: str = sys.platform,
    environ: Mapping[str, str] | None = None,
) -> Wrapped:
    """`command` as it must be started; confined when `settings.enabled`."""
    if not settings.enabled:
        return Wrapped(list(command), dict(env))
    host = os.environ if environ is None else environ
    home = Path(env.get("HOME") or host.get("HOME") or Path.home())
    if platform.startswith("linux"):
        tool = bwrap.find_bwrap(host)
        bwrap.probe(tool)
    elif platform == "darwin":
        tool = sbpl.find_sandbox_exec(host)
    else:
        raise SandboxUnavailable(
            f"cannot sandbox: no sandbox backend for {platform}",
            hint="sandboxing needs Linux (bubblewrap) or macOS (sandbox-exec); on Windows use "
            "WSL2, or run without --sandbox",
        )
    policy = make_policy(
        prefix=prefix,
        cwd=cwd,
        home=home,
        filesystem=settings.filesystem,
        network=settings.network,
        home_mode=settings.home,
        allow_read=settings.allow_read,
        allow_write=settings.allow_write,
        deny_read=settings.deny_read,
        attached_tty=attached_tty,
    )
    _check_visible(policy, command[0])
    if platform == "darwin":
        return Wrapped(
            sbpl.sandbox_exec_argv(policy, command, tool=tool), dict(env), "sandbox-exec", policy
        )
    reset = bwrap.env_can_reset_signals()
    program = seccomp.tiocsti_filter()
    fd = seccomp.filter_fd(program) if program else None
    argv = bwrap.bwrap_argv(policy, command, bwrap=tool, reset_signals=reset, seccomp_fd=fd)
    return Wrapped(
        argv,
        bwrap.sandbox_env(policy, env),
        "bwrap",
        policy,
        signals_reset=reset,
        pass_fds=(fd,) if fd is not None else (),
    )


def _check_visible(policy: SandboxPolicy, program: str) -> None:
    if os.path.isabs(program) and not visible_inside(policy, Path(program)):
        raise CommandNotFound(
            f"{program} is outside the sandbox, so it cannot run there",
            hint=f"make it visible with --allow-read {os.path.dirname(program)}",
        )
