"""macOS backend: a `SandboxPolicy` as a `sandbox-exec` profile (SBPL), and the command line.

The profile denies by default and allows reading the system, the environment and the paths
the policy names. In SBPL a later matching rule overrides an earlier one, so rules are ordered
by path depth like the bubblewrap mounts: a denied `~/.ssh` under a readable home stays denied.
macOS has no mount or PID namespaces: there is no fresh /tmp (the shared temporary directories
are writable instead) and the command can see other processes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath

from naja.sandbox.errors import SandboxUnavailable
from naja.sandbox.policy import SandboxPolicy

SANDBOX_EXEC = "/usr/bin/sandbox-exec"

# /tmp, /var and /etc are symlinks into /private; the kernel checks the resolved path.
_ALIASES = (("/tmp", "/private/tmp"), ("/var", "/private/var"), ("/etc", "/private/etc"))

SYSTEM_READ = (
    "/usr",
    "/bin",
    "/sbin",
    "/System",
    "/Library",
    "/opt/homebrew",
    "/private/etc",
    "/private/var/db/dyld",
    "/private/var/db/timezone",
    "/dev",
)
TEMP_WRITE = ("/private/tmp", "/private/var/folders")


def darwin_path(path: str | os.PathLike[str]) -> str:
    """The path as macOS's sandbox sees it (`/tmp/x` → `/private/tmp/x`)."""
    text = os.fspath(path)
    for alias, real in _ALIASES:
        if text == alias or text.startswith(alias + "/"):
            return real + text[len(alias) :]
    return text


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _subpath(path: str | os.PathLike[str]) -> str:
    return f"(subpath {_quote(darwin_path(path))})"


def sbpl_profile(policy: SandboxPolicy, *, temp_dirs: Sequence[str] = TEMP_WRITE) -> str:
    """The SBPL text for `policy` (pure: same policy, same text)."""
    lines = [
        "(version 1)",
        "(deny default)",
        "(allow process-exec process-fork)",
        "(allow signal (target same-sandbox))",
        "(allow process-info* (target same-sandbox))",
        "(allow sysctl-read mach-lookup ipc-posix-shm ipc-posix-sem pseudo-tty)",
        "(allow file-read-metadata)",
        '(allow file-read* (literal "/"))',
        '(allow file-read* file-write* (literal "/dev/null") (literal "/dev/tty") (regex #"^/dev/ttys[0-9]+$"))',
        '(allow file-ioctl (literal "/dev/tty") (regex #"^/dev/ttys[0-9]+$"))',
    ]
    if policy.filesystem:
        lines.append("(allow file-read* " + " ".join(_subpath(p) for p in SYSTEM_READ) + ")")
        lines.append(
            "(allow file-read* file-write* " + " ".join(_subpath(p) for p in temp_dirs) + ")"
        )
    else:
        lines.append('(allow file-read* file-write* (subpath "/"))')

    # (path, order among equal paths, rule); later rules win in SBPL.
    rules: list[tuple[PurePosixPath, int, str]] = []
    if policy.filesystem:
        home = darwin_path(policy.home)
        if policy.home_mode == "tmpfs":
            rules.append(
                (PurePosixPath(home), 0, f"(deny file-read* file-write* {_subpath(home)})")
            )
        elif policy.home_mode == "ro":
            rules.append((PurePosixPath(home), 1, f"(allow file-read* {_subpath(home)})"))
        else:
            rules.append(
                (PurePosixPath(home), 1, f"(allow file-read* file-write* {_subpath(home)})")
            )
        rules.append(
            (
                PurePosixPath(darwin_path(policy.prefix)),
                1,
                f"(allow file-read* {_subpath(policy.prefix)})",
            )
        )
        if policy.cwd_mode != "none":
            access = "file-read* file-write*" if policy.cwd_mode == "rw" else "file-read*"
            rules.append(
                (
                    PurePosixPath(darwin_path(policy.cwd)),
                    1,
                    f"(allow {access} {_subpath(policy.cwd)})",
                )
            )
        for path in policy.read:
            rules.append(
                (PurePosixPath(darwin_path(path)), 2, f"(allow file-read* {_subpath(path)})")
            )
        for path in policy.write:
            rules.append(
                (
                    PurePosixPath(darwin_path(path)),
                    3,
                    f"(allow file-read* file-write* {_subpath(path)})",
                )
            )
    for denied in policy.deny:
        rules.append(
            (
                PurePosixPath(darwin_path(denied.path)),
                4,
                f"(deny file-read* file-write* {_subpath(denied.path)})",
            )
        )
    rules.sort(key=lambda r: (len(r[0].parts), r[1]))
    lines += [rule for _, _, rule in rules]

    if policy.network:
        lines.append("(allow network*)")
    else:
        # Unix sockets stay usable (they are files, governed by the rules above).
        lines.append("(allow network* (remote unix))")
    return "\n".join(lines) + "\n"


def sandbox_exec_argv(
    policy: SandboxPolicy, command: Sequence[str], *, tool: str = SANDBOX_EXEC
) -> list[str]:
    """The command line: `sandbox-exec -p PROFILE COMMAND...` (the profile inline)."""
    return [tool, "-p", sbpl_profile(policy), *command]


def find_sandbox_exec(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    tool = env.get("NAJA_SANDBOX_EXEC") or SANDBOX_EXEC
    if not os.access(tool, os.X_OK) and not shutil.which(tool):
        raise SandboxUnavailable(
            f"cannot sandbox: {tool} is missing",
            hint="sandbox-exec ships with macOS; check that /usr/bin is intact, or run without --sandbox",
        )
    return tool
