"""What a sandboxed command may see and do, as plain data the backends translate.

`SandboxPolicy` holds resolved absolute paths and facts about the host (whether a denied path
is a file or a directory, which system directories are symlinks), so that turning it into a
bubblewrap command line or an SBPL profile is a pure function that tests can check exactly.
`make_policy` gathers those facts from the host once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from naja.sandbox.errors import SandboxConfigError

HomeMode = Literal["tmpfs", "ro", "rw"]
HOME_MODES: tuple[str, ...] = ("tmpfs", "ro", "rw")

# Secrets that stay hidden even when the home directory (or a parent) is made visible.
DEFAULT_DENY: tuple[str, ...] = (
    "~/.ssh",
    "~/.aws",
    "~/.gnupg",
    "~/.config/naja",
    "~/.local/share/keyrings",
)

# Read-only system locations a program needs to start and to look up users and certificates.
SYSTEM_DIRS: tuple[str, ...] = (
    "/usr",
    "/etc/alternatives",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",  # certificates on Fedora/RHEL
    "/etc/crypto-policies",
    "/etc/terminfo",
)
SYSTEM_FILES: tuple[str, ...] = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/localtime",
    "/etc/os-release",
)
# Top-level directories that merged-/usr systems make symlinks into /usr.
SYSTEM_TOP: tuple[str, ...] = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Name resolution; only visible when the network is.
NETWORK_FILES: tuple[str, ...] = (
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/gai.conf",
)


@dataclass(frozen=True)
class SystemLayout:
    """The host's system paths: directories to bind read-only and top-level symlinks to recreate."""

    binds: tuple[str, ...] = SYSTEM_DIRS + SYSTEM_FILES
    symlinks: tuple[tuple[str, str], ...] = ()  # (path, target) such as ("/bin", "usr/bin")
    network_binds: tuple[str, ...] = NETWORK_FILES

    @classmethod
    def detect(cls) -> SystemLayout:
        binds = list(SYSTEM_DIRS + SYSTEM_FILES)
        symlinks: list[tuple[str, str]] = []
        for top in SYSTEM_TOP:
            if os.path.islink(top):
                symlinks.append((top, os.readlink(top)))
            elif os.path.isdir(top):
                binds.append(top)
        return cls(binds=tuple(binds), symlinks=tuple(symlinks))


@dataclass(frozen=True)
class Denied:
    """A path to hide; `is_dir` decides whether an empty directory or an empty file covers it."""

    path: Path
    is_dir: bool


@dataclass(frozen=True)
class SandboxPolicy:
    """Everything the backends need; all paths absolute and resolved.

    `filesystem=False` leaves the host's file system as it is (only the network, and the
    process/IPC namespaces, are isolated). `new_session` detaches the command from the
    controlling terminal (safe against TIOCSTI injection, but breaks job control), so it is
    off when a terminal is attached; a seccomp filter blocks TIOCSTI then (`seccomp`).
    """

    prefix: Path
    cwd: Path
    home: Path
    filesystem: bool = True
    network: bool = True
    home_mode: HomeMode = "tmpfs"
    read: tuple[Path, ...] = ()
    write: tuple[Path, ...] = ()
    deny: tuple[Denied, ...] = ()
    cwd_mode: Literal["ro", "rw", "none"] = "ro"
    new_session: bool = True
    system: SystemLayout = field(default_factory=SystemLayout)

    def visible_roots(self) -> list[Path]:
        """Host directories bound into the sandbox (where a denied path could show through)."""
        roots = [self.prefix, *self.read, *self.write]
        if self.home_mode != "tmpfs":
            roots.append(self.home)
        if self.cwd_mode != "none":
            roots.append(self.cwd)
        roots.extend(Path(p) for p in self.system.binds)
        return roots


def _expand(raw: str | os.PathLike[str], cwd: Path, home: Path) -> Path:
    text = os.fspath(raw)
    if text == "~" or text.startswith("~/"):
        text = str(home) + text[1:]
    path = Path(text)
    if not path.is_absolute():
        path = cwd / path
    return Path(os.path.realpath(path))


def _existing(
    paths: Iterable[str | os.PathLike[str]], what: str, cwd: Path, home: Path
) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        path = _expand(raw, cwd, home)
        if not path.exists():
            raise SandboxConfigError(
                f"{what} path {os.fspath(raw)!r} does not exist ({path})",
                hint="create it first, or drop the option",
            )
        if path not in out:
            out.append(path)
    return out


def _covered(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def make_policy(
    *,
    prefix: Path,
    cwd: Path,
    home: Path,
    filesystem: bool = True,
    network: bool = True,
    home_mode: str = "tmpfs",
    allow_read: Iterable[str | os.PathLike[str]] = (),
    allow_write: Iterable[str | os.PathLike[str]] = (),
    deny_read: Iterable[str | os.PathLike[str]] = (),
    default_deny: Iterable[str] = DEFAULT_DENY,
    attached_tty: bool = False,
    system: SystemLayout | None = None,
) -> SandboxPolicy:
    """Resolve the user's request against this host into a `SandboxPolicy`.

    Relative paths are taken from `cwd` (so `allow_write: [.]` means the working directory),
    `~` from `home`. A default deny is dropped only when the same path is allowed explicitly;
    a path the user denies always stays denied, however its parents are exposed.
    """
    if home_mode not in HOME_MODES:
        raise SandboxConfigError(
            f"unknown home mode {home_mode!r}", hint="use one of: " + ", ".join(HOME_MODES)
        )
    cwd = Path(os.path.realpath(cwd))
    home = Path(os.path.realpath(home))
    if home == Path("/") and home_mode != "tmpfs":
        raise SandboxConfigError(
            "the home directory is /, so --home ro/rw would expose the whole file system",
            hint="set HOME to a real directory, or use --allow-read/--allow-write for what is needed",
        )
    prefix = Path(os.path.realpath(prefix))
    write = _existing(allow_write, "--allow-write", cwd, home)
    read = [p for p in _existing(allow_read, "--allow-read", cwd, home) if p not in write]
    allowed = set(read) | set(write)

    deny: list[Denied] = []
    wanted = [(_expand(p, cwd, home), False) for p in default_deny]
    wanted += [(_expand(p, cwd, home), True) for p in deny_read]
    for path, explicit in wanted:
        if not explicit and path in allowed:
            continue
        if path.exists() and all(d.path != path for d in deny):
            deny.append(Denied(path, path.is_dir()))

    if _covered(cwd, [*read, *write]) or cwd == Path("/") or home.is_relative_to(cwd):
        # Already visible, or binding it would expose the whole disk or the home directory.
        cwd_mode: Literal["ro", "rw", "none"] = "none"
    else:
        cwd_mode = "ro"

    policy = SandboxPolicy(
        prefix=prefix,
        cwd=cwd,
        home=home,
        filesystem=filesystem,
        network=network,
        home_mode=home_mode,  # type: ignore[arg-type]
        read=tuple(read),
        write=tuple(write),
        deny=(),
        cwd_mode=cwd_mode,
        new_session=not attached_tty,
        system=system or SystemLayout.detect(),
    )
    if filesystem:
        # Only hide what would otherwise show: masking inside a private tmpfs home is noise.
        roots = policy.visible_roots()
        deny = [d for d in deny if _covered(d.path, roots)]
    return SandboxPolicy(**{**policy.__dict__, "deny": tuple(deny)})


def visible_inside(policy: SandboxPolicy, path: Path) -> bool:
    """Whether a host path (such as the program to run) can be seen inside the sandbox.

    Like the mounts, the most specific matching path decides; a deny wins a tie.
    """
    if not policy.filesystem:
        return True
    path = Path(os.path.realpath(path))
    roots = policy.visible_roots() + [Path(p) for p, _ in policy.system.symlinks]
    matches = [(len(r.parts), 0) for r in roots if _covered(path, [r])]
    matches += [(len(d.path.parts), 1) for d in policy.deny if _covered(path, [d.path])]
    return bool(matches) and max(matches)[1] == 0
