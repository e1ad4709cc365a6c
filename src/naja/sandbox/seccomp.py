"""A seccomp filter that forbids pushing input into the terminal (TIOCSTI, TIOCLINUX).

With a terminal attached, bubblewrap's `--new-session` is not used (it breaks job control and
/dev/tty), which would leave the TIOCSTI keystroke-injection attack open (CVE-2017-5226).
This filter closes it the way Flatpak does: `ioctl(fd, TIOCSTI | TIOCLINUX, ...)` fails with
EPERM, everything else is allowed. Only the low 32 bits of the request are compared, because
the kernel ignores the high ones (CVE-2019-10063).

The filter is classic BPF, assembled here so that no libseccomp is needed; bubblewrap loads it
from a file descriptor (`--seccomp FD`).
"""

from __future__ import annotations

import os
import platform
import struct
import sys

TIOCSTI = 0x5412
TIOCLINUX = 0x541C

# linux/filter.h and linux/seccomp.h
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_RET_K = 0x06
_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
_EPERM = 1

_ARCH_X86_64 = 0xC000003E
_ARCH_I386 = 0x40000003
_ARCH_AARCH64 = 0xC00000B7
_ARCH_ARM = 0x40000028
_X32_BIT = 0x40000000

# machine → [(audit arch, ioctl syscall numbers)]; 32-bit compat ABIs are covered too.
_IOCTL: dict[str, list[tuple[int, tuple[int, ...]]]] = {
    "x86_64": [(_ARCH_X86_64, (16, _X32_BIT | 514)), (_ARCH_I386, (54,))],
    "aarch64": [(_ARCH_AARCH64, (29,)), (_ARCH_ARM, (54,))],
}
_MACHINE_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}

# struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6]
_OFF_NR = 0
_OFF_ARCH = 4
_OFF_ARG1_LOW = 24 if sys.byteorder == "little" else 28


def _assemble(program: list[tuple[int, int, str | None, str | None] | str]) -> bytes:
    """Classic BPF from (code, k, jump-if-true label, jump-if-false label) and label names."""
    labels: dict[str, int] = {}
    index = 0
    for item in program:
        if isinstance(item, str):
            labels[item] = index
        else:
            index += 1
    out = bytearray()
    index = 0
    for item in program:
        if isinstance(item, str):
            continue
        code, k, jt, jf = item
        # Jumps are forward and relative to the next instruction.
        jt_off = labels[jt] - index - 1 if jt else 0
        jf_off = labels[jf] - index - 1 if jf else 0
        out += struct.pack("=HBBI", code, jt_off, jf_off, k)
        index += 1
    return bytes(out)


def tiocsti_filter(machine: str | None = None) -> bytes | None:
    """The filter for this machine's system-call ABIs; None when naja does not know them."""
    name = (machine or platform.machine()).lower()
    arches = _IOCTL.get(_MACHINE_ALIASES.get(name, name))
    if arches is None:
        return None
    program: list[tuple[int, int, str | None, str | None] | str] = [
        (_LD_W_ABS, _OFF_ARCH, None, None)
    ]
    for i, (arch, _) in enumerate(arches):
        program.append((_JEQ_K, arch, f"arch{i}", None))
    program.append((_RET_K, _ALLOW, None, None))
    for i, (_, numbers) in enumerate(arches):
        program += [f"arch{i}", (_LD_W_ABS, _OFF_NR, None, None)]
        program += [(_JEQ_K, nr, "ioctl", None) for nr in numbers]
        program.append((_RET_K, _ALLOW, None, None))
    program += [
        "ioctl",
        (_LD_W_ABS, _OFF_ARG1_LOW, None, None),
        (_JEQ_K, TIOCSTI, "deny", None),
        (_JEQ_K, TIOCLINUX, "deny", None),
        (_RET_K, _ALLOW, None, None),
        "deny",
        (_RET_K, _ERRNO | _EPERM, None, None),
    ]
    return _assemble(program)


def filter_fd(program: bytes) -> int:
    """A readable descriptor holding `program` (what `bwrap --seccomp FD` reads to its end)."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, program)  # a few hundred bytes: far below a pipe's buffer
    finally:
        os.close(write_end)
    return read_end
