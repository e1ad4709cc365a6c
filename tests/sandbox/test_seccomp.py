"""The TIOCSTI/TIOCLINUX seccomp filter: its BPF evaluated here, and its effect under bwrap."""

from __future__ import annotations

import os
import shutil
import struct
import sys
from pathlib import Path

import pytest

from naja.sandbox import seccomp
from naja.sandbox.bwrap import bwrap_argv
from naja.sandbox.policy import SandboxPolicy
from tests.run.fakeenv import FakeEnv

ALLOW = 0x7FFF0000
EPERM = 0x00050001


def _run_bpf(program: bytes, nr: int, arch: int, args: tuple[int, ...] = (0, 0)) -> int:
    """A classic-BPF interpreter for the few instructions the filter uses."""
    full = (*args, *([0] * (6 - len(args))))
    data = struct.pack("=iIQ6Q", nr, arch, 0, *full)
    insns = [struct.unpack("=HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    pc, acc = 0, 0
    while True:
        code, jt, jf, k = insns[pc]
        if code == 0x20:
            acc = struct.unpack_from("=I", data, k)[0]
            pc += 1
        elif code == 0x15:
            pc += 1 + (jt if acc == k else jf)
        elif code == 0x06:
            return k
        else:
            raise AssertionError(f"unexpected instruction {code:#x}")


@pytest.mark.parametrize(
    ("machine", "arch", "ioctl"),
    [
        ("x86_64", 0xC000003E, 16),
        ("x86_64", 0x40000003, 54),  # i386 programs on a 64-bit kernel
        ("x86_64", 0xC000003E, 0x40000000 | 514),  # x32
        ("aarch64", 0xC00000B7, 29),
        ("arm64", 0x40000028, 54),
    ],
)
def test_filter_blocks_terminal_injection_only(machine: str, arch: int, ioctl: int) -> None:
    program = seccomp.tiocsti_filter(machine)
    assert program is not None and len(program) % 8 == 0
    assert _run_bpf(program, ioctl, arch, (0, seccomp.TIOCSTI)) == EPERM
    assert _run_bpf(program, ioctl, arch, (0, seccomp.TIOCLINUX)) == EPERM
    # The kernel ignores the high bits of the request: so does the filter.
    assert _run_bpf(program, ioctl, arch, (0, (1 << 32) | seccomp.TIOCSTI)) == EPERM
    assert _run_bpf(program, ioctl, arch, (0, 0x5413)) == ALLOW  # TIOCGWINSZ
    assert _run_bpf(program, 1, arch, (0, seccomp.TIOCSTI)) == ALLOW  # another syscall
    assert _run_bpf(program, ioctl, 0x12345678, (0, seccomp.TIOCSTI)) == ALLOW


def test_unknown_machine_has_no_filter() -> None:
    assert seccomp.tiocsti_filter("sparc64") is None


def test_filter_fd_holds_the_program() -> None:
    program = seccomp.tiocsti_filter("x86_64")
    assert program is not None
    fd = seccomp.filter_fd(program)
    try:
        assert os.read(fd, 4096) == program
    finally:
        os.close(fd)


def test_argv_loads_the_filter() -> None:
    policy = SandboxPolicy(prefix=Path("/e"), cwd=Path("/w"), home=Path("/h"))
    argv = bwrap_argv(policy, ["x"], seccomp_fd=7)
    assert argv[argv.index("--seccomp") + 1] == "7"
    assert argv.index("--seccomp") < argv.index("--")
    assert "--seccomp" not in bwrap_argv(policy, ["x"])


PROBE = (
    "import fcntl, termios\n"
    "try:\n"
    "    fcntl.ioctl(0, termios.TIOCSTI, b' ')\n"
    "    print('TIOCSTI-ALLOWED')\n"
    "except OSError as exc:\n"
    "    print('TIOCSTI-BLOCKED', exc.errno)\n"
)


@pytest.mark.skipif(
    shutil.which("script") is None
    or shutil.which("bwrap") is None
    or not os.path.exists("/usr/bin/python3"),
    reason="needs script, bwrap and /usr/bin/python3",
)
def test_sandboxed_terminal_cannot_inject_input(fake_env: FakeEnv) -> None:
    out = fake_env.naja_in_terminal(
        "run", "-n", "demo", "--sandbox", "--", "/usr/bin/python3", "-c", PROBE
    )
    assert "TIOCSTI-BLOCKED 1" in out.stdout, out.stdout + out.stderr
    assert sys.platform.startswith("linux")
