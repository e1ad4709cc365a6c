"""Linux backend: a `SandboxPolicy` as a bubblewrap command line, and the checks before using it.

`bwrap_argv` is a pure function of the policy. Bind mounts are applied in order, so the
user's paths are sorted by depth: a more specific path (a denied `~/.ssh` under an allowed
`~`, an allowed directory inside a denied one) is mounted after its parent and wins.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from naja.sandbox.errors import SandboxUnavailable
from naja.sandbox.policy import SandboxPolicy

# Signals the supervisor forwards. bubblewrap's own processes must ignore them (a SIGINT from
# the terminal would otherwise kill bwrap, and --die-with-parent then SIGKILLs the command), so
# the command gets default handlers back through coreutils' `env --default-signal`.
FORWARDED = "INT,TERM,HUP,QUIT"
ENV_RESET = ("/usr/bin/env", f"--default-signal={FORWARDED}")


def _depth(path: Path) -> int:
    return len(path.parts)


def _mounts(policy: SandboxPolicy) -> list[str]:
    # (path, order among equal paths, args); at equal paths binds go first and masks last.
    ops: list[tuple[Path, int, list[str]]] = []
    if policy.home == Path("/"):
        pass  # a user without a home directory: nothing to hide or show
    elif policy.home_mode == "tmpfs":
        ops.append((policy.home, 0, ["--tmpfs", str(policy.home)]))
    elif policy.home_mode == "ro":
        ops.append((policy.home, 1, ["--ro-bind", str(policy.home), str(policy.home)]))
    else:
        ops.append((policy.home, 1, ["--bind", str(policy.home), str(policy.home)]))
    ops.append((policy.prefix, 1, ["--ro-bind", str(policy.prefix), str(policy.prefix)]))
    if policy.cwd_mode != "none":
        flag = "--bind" if policy.cwd_mode == "rw" else "--ro-bind"
        ops.append((policy.cwd, 1, [flag, str(policy.cwd), str(policy.cwd)]))
    ops += [(p, 2, ["--ro-bind", str(p), str(p)]) for p in policy.read]
    ops += [(p, 3, ["--bind", str(p), str(p)]) for p in policy.write]
    ops += [(d.path, 4, _mask(d.path, d.is_dir)) for d in policy.deny]
    ops.sort(key=lambda op: (_depth(op[0]), op[1]))
    argv = [arg for _, _, args in ops for arg in args]
    # Made read-only last: an allowed path inside a denied one needs its mount point created.
    for denied in policy.deny:
        if denied.is_dir:
            argv += ["--remount-ro", str(denied.path)]
    return argv


def _mask(path: Path, is_dir: bool) -> list[str]:
    if is_dir:
        # An empty directory in place of the real one.
        return ["--perms", "0555", "--tmpfs", str(path)]
    return ["--ro-bind", "/dev/null", str(path)]


def bwrap_argv(
    policy: SandboxPolicy,
    command: Sequence[str],
    *,
    bwrap: str = "bwrap",
    reset_signals: bool = True,
    seccomp_fd: int | None = None,
) -> list[str]:
    """The full command line running `command` under `policy` with bubblewrap.

    `seccomp_fd` is a descriptor holding a filter to load (see `naja.sandbox.seccomp`).
    """
    argv = [bwrap]
    if policy.filesystem:
        for path in policy.system.binds:
            argv += ["--ro-bind-try", path, path]
        for path, target in policy.system.symlinks:
            argv += ["--symlink", target, path]
        if policy.network:
            for path in policy.system.network_binds:
                argv += ["--ro-bind-try", path, path]
        argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm", "--tmpfs", "/tmp"]
        argv += _mounts(policy)
    else:
        # Only namespaces: the host's files as they are, with fresh /proc and /dev for the new
        # PID namespace; denied paths are still hidden.
        argv += ["--bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
        for denied in policy.deny:
            argv += _mask(denied.path, denied.is_dir)
            if denied.is_dir:
                argv += ["--remount-ro", str(denied.path)]
    argv += ["--chdir", str(policy.cwd)]
    argv += ["--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    if not policy.network:
        argv.append("--unshare-net")
    # Root on the host would otherwise keep every capability (and could unmount the masks).
    argv += ["--cap-drop", "ALL", "--die-with-parent"]
    if policy.new_session:
        argv.append("--new-session")
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
    argv.append("--")
    if reset_signals:
        argv += ENV_RESET
    argv += list(command)
    return argv


def sandbox_env(policy: SandboxPolicy, env: Mapping[str, str]) -> dict[str, str]:
    """The command's environment inside: TMPDIR points at the sandbox's own /tmp."""
    out = dict(env)
    if policy.filesystem and "TMPDIR" in out:
        out["TMPDIR"] = "/tmp"
    return out


def find_bwrap(environ: Mapping[str, str] | None = None) -> str:
    """The bubblewrap executable (`NAJA_BWRAP` overrides the PATH lookup)."""
    env = os.environ if environ is None else environ
    override = env.get("NAJA_BWRAP")
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise SandboxUnavailable(
                f"cannot sandbox: NAJA_BWRAP={override} is not an executable file",
                hint="point NAJA_BWRAP at bubblewrap, or unset it to look it up on PATH",
            )
        return override
    found = shutil.which("bwrap", path=env.get("PATH", os.defpath))
    if not found:
        raise SandboxUnavailable(
            "cannot sandbox: bubblewrap (bwrap) is not installed",
            hint="install it (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install "
            "bubblewrap; Arch: pacman -S bubblewrap), or run without --sandbox",
        )
    return found


_probed: dict[str, str | None] = {}


def probe(bwrap: str) -> None:
    """Check once per process that bwrap can create namespaces here; refuse with the reason."""
    if bwrap not in _probed:
        try:
            done = subprocess.run(
                [bwrap, "--ro-bind", "/", "/", "--unshare-pid", "true"],
                capture_output=True,
                text=True,
                timeout=30,
            )
            _probed[bwrap] = (
                None if done.returncode == 0 else (done.stderr.strip() or f"exit {done.returncode}")
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            _probed[bwrap] = str(exc)
    reason = _probed[bwrap]
    if reason is not None:
        raise SandboxUnavailable(
            f"cannot sandbox: bubblewrap does not work here ({reason})",
            hint="user namespaces are probably disabled: allow them with `sysctl "
            "kernel.unprivileged_userns_clone=1` (Debian), `sysctl "
            "kernel.apparmor_restrict_unprivileged_userns=0` (Ubuntu 24.04) or a non-zero "
            "user.max_user_namespaces; inside a container, run it with user namespaces allowed",
        )


_env_resets: dict[str, bool] = {}


def env_can_reset_signals() -> bool:
    """Whether /usr/bin/env has --default-signal (coreutils 8.31 and later)."""
    if "env" not in _env_resets:
        try:
            done = subprocess.run([*ENV_RESET, "true"], capture_output=True, timeout=10)
            _env_resets["env"] = done.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _env_resets["env"] = False
    return _env_resets["env"]
