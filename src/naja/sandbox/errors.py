"""Errors of the sandbox: it cannot be set up here, or its configuration is wrong."""

from __future__ import annotations

from naja.errors import NajaError


class SandboxUnavailable(NajaError):
    """The sandbox cannot be set up; the command must not run unconfined instead."""

    # Like `docker run`: 125 means the runner failed before the command started.
    exit_code = 125


class SandboxConfigError(NajaError):
    """A sandbox setting (flag or per-environment config) that cannot be used."""

    exit_code = 2


class CommandNotFound(NajaError):
    """The program to run is not in the environment (or not visible in the sandbox)."""

    # What a shell answers for a command it cannot find.
    exit_code = 127


class CommandNotExecutable(NajaError):
    """The program exists but cannot be executed."""

    exit_code = 126


class StartFailed(NajaError):
    """naja could not start the command (a detached monitor that never reported back)."""

    exit_code = 125
