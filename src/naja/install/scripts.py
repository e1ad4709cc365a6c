"""Running a package's `post-link` / `pre-unlink` scripts (`bin/.<name>-<action>.sh`) as conda does."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from naja.install.errors import ScriptError
from naja.specs.records import PackageRecord

ACTIONS = ("post-link", "pre-unlink")

# Source the environment's activation scripts, then run the script ($0) in a child shell that
# inherits what they exported, as conda's activated `run_script` does.
_ACTIVATE_THEN_RUN = (
    'for f in "$PREFIX"/etc/conda/activate.d/*.sh; do [ -f "$f" ] && . "$f" >/dev/null 2>&1; done; '
    'exec {shell} -x "$0"'
)


def script_path(prefix: str, name: str, action: str) -> Path:
    return Path(prefix, "bin", f".{name}-{action}.sh")


def run_script(prefix: str, record: PackageRecord, action: str, *, timeout: float = 600) -> str | None:
    """Run the package's script for `action` if it has one; return its messages.

    conda runs the script with `bash -x` in the activated environment (its `activate.d`
    scripts sourced) and PREFIX, PKG_NAME, PKG_VERSION, PKG_BUILDNUM set; the script may
    leave messages for the user in `$PREFIX/.messages.txt`.
    """
    path = script_path(prefix, record.name, action)
    if not path.is_file():
        return None
    shell = shutil.which("bash") or "/bin/sh"
    env = dict(os.environ)
    env.update(
        PREFIX=prefix,
        ROOT_PREFIX=prefix,
        CONDA_PREFIX=prefix,
        PKG_NAME=record.name,
        PKG_VERSION=record.version,
        PKG_BUILDNUM=str(record.build_number),
        PATH=os.pathsep.join([os.path.join(prefix, "bin"), env.get("PATH", "")]),
    )
    try:
        r = subprocess.run(
            [shell, "-c", _ACTIVATE_THEN_RUN.format(shell=shell), str(path)],
            cwd=prefix,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise ScriptError(
            f"the {action} script of {record.name} {record.version} did not finish in {timeout:.0f}s"
        ) from None
    messages_file = Path(prefix, ".messages.txt")
    messages = None
    if messages_file.is_file():
        messages = messages_file.read_text("utf-8", "replace")
        messages_file.unlink()
    if r.returncode != 0:
        tail = (r.stdout + r.stderr).strip().splitlines()[-15:]
        raise ScriptError(
            f"the {action} script of {record.name} {record.version} failed "
            f"(exit code {r.returncode}):\n  " + "\n  ".join(tail),
            hint="pass --no-scripts to skip package scripts, or report it to the package's maintainers",
        )
    return messages
