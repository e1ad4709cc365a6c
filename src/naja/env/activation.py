"""The environment variables that activating a prefix sets, computed without an interactive shell.

Activation = the prefix's `bin` directories first on PATH, `CONDA_PREFIX`, `CONDA_DEFAULT_ENV`,
`CONDA_SHLVL`, `CONDA_PROMPT_MODIFIER`, the `env_vars` of `conda-meta/state`, and whatever the
packages' `etc/conda/activate.d/*.sh` scripts export. The scripts run once in bash and their
effect is recorded as a list of changes; the list is cached (under the root prefix) keyed by
the state of `conda-meta/` and of the scripts, so activating again costs a few `stat` calls.

A change that wraps the old value (`X=/new:$X`) is recorded as such, so the cached result stays
right when the caller's own PATH or variables differ from those of the run that filled it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from naja.env.prefix import root_prefix
from naja.errors import NajaError

CACHE_VERSION = 1
# Variables bash itself sets or changes; they say nothing about the scripts.
_SHELL_OWNED = frozenset({"_", "SHLVL", "PWD", "OLDPWD"})


class ActivationError(NajaError):
    """An activation script that fails or a broken `conda-meta/state`."""


@dataclass(frozen=True)
class Change:
    """One variable change by the activation scripts.

    `kind` is "set" (value), "unset", or "wrap": the new value is `before + old + after`.
    """

    kind: str
    name: str
    value: str = ""
    after: str = ""

    def apply(self, env: dict[str, str]) -> None:
        if self.kind == "unset":
            env.pop(self.name, None)
        elif self.kind == "wrap" and env.get(self.name):
            env[self.name] = self.value + env[self.name] + self.after
        elif self.kind == "wrap":
            env[self.name] = (self.value + self.after).strip(os.pathsep)
        else:
            env[self.name] = self.value


def path_entries(prefix: Path, windows: bool = sys.platform == "win32") -> list[str]:
    """The directories of `prefix` that go first on PATH, in order."""
    if windows:
        subdirs = ["", "Library/mingw-w64/bin", "Library/usr/bin", "Library/bin", "Scripts", "bin"]
        return [str(prefix / s) if s else str(prefix) for s in subdirs]
    return [str(prefix / "bin")]


def env_name(prefix: Path, root: Path | None = None) -> str:
    """The name shown for a prefix: its name under `<root>/envs`, else its path."""
    envs = (root or root_prefix()) / "envs"
    if prefix.parent == envs:
        return prefix.name
    return str(prefix)


def _state_vars(prefix: Path) -> dict[str, str]:
    state = prefix / "conda-meta" / "state"
    if not state.is_file():
        return {}
    try:
        data = json.loads(state.read_text(encoding="utf-8") or "{}")
    except (ValueError, OSError) as exc:
        raise ActivationError(
            f"{state}: not valid JSON ({exc})",
            hint="fix or delete it (`naja env config vars` writes it)",
        ) from None
    values = data.get("env_vars", {}) if isinstance(data, dict) else {}
    if not isinstance(values, dict):
        raise ActivationError(f"{state}: env_vars must be a mapping")
    return {str(k): str(v) for k, v in values.items()}


def _scripts(prefix: Path) -> list[Path]:
    folder = prefix / "etc" / "conda" / "activate.d"
    if sys.platform == "win32" or not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == ".sh" and p.is_file())


def fingerprint(prefix: Path) -> str:
    """Changes whenever packages are linked or unlinked, `state` changes, or a script changes."""
    parts: list[str] = [str(prefix)]
    meta = prefix / "conda-meta"
    for path in (meta, meta / "state", prefix / "etc" / "conda" / "activate.d"):
        try:
            st = path.stat()
            parts.append(f"{path.name}:{st.st_mtime_ns}:{st.st_size}")
        except OSError:
            parts.append(f"{path.name}:-")
    # Coarse mtimes (1 s on some file systems) could hide a quick install; the names cannot.
    with contextlib.suppress(OSError):
        parts.append("|".join(sorted(os.listdir(meta))))
    for script in _scripts(prefix):
        st = script.stat()
        parts.append(f"{script.name}:{st.st_mtime_ns}:{st.st_size}")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _diff(before: Mapping[str, str], after: Mapping[str, str]) -> list[Change]:
    changes: list[Change] = []
    for name in sorted(set(before) | set(after)):
        if name in _SHELL_OWNED or before.get(name) == after.get(name):
            continue
        if name not in after:
            changes.append(Change("unset", name))
            continue
        old, new = before.get(name, ""), after[name]
        at = new.find(old) if old else -1
        if at >= 0:
            head, tail = new[:at], new[at + len(old) :]
            # Only list-like composition (`/x:$X`, `$X:/y`) is replayed against another value.
            if (not head or head.endswith(os.pathsep)) and (
                not tail or tail.startswith(os.pathsep)
            ):
                changes.append(Change("wrap", name, head, tail))
                continue
        changes.append(Change("set", name, new))
    return changes


def _run_scripts(scripts: list[Path], env: Mapping[str, str]) -> list[Change]:
    # Scripts' own output goes to stderr so that stdout carries only the environment dump.
    dump = "env -0" if sys.platform.startswith("linux") else f'"{sys.executable}" -c "{_PY_DUMP}"'
    code = 'for __naja_f in "$@"; do . "$__naja_f" >&2 || exit $?; done; unset __naja_f; ' + dump
    try:
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-c", code, "naja-activate", *map(str, scripts)],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
        )
    except FileNotFoundError:
        raise ActivationError(
            "activation scripts need bash, which is not installed",
            hint="install bash, or remove the scripts from etc/conda/activate.d",
        ) from None
    except subprocess.TimeoutExpired:
        raise ActivationError("activation scripts did not finish within 60 s") from None
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip()
        raise ActivationError(
            f"activation scripts failed (exit {done.returncode})" + (f": {err}" if err else ""),
            hint="see " + ", ".join(str(s) for s in scripts),
        )
    after: dict[str, str] = {}
    for item in done.stdout.split(b"\0"):
        name, sep, value = item.decode(errors="surrogateescape").partition("=")
        if sep:
            after[name] = value
    return _diff(env, after)


_PY_DUMP = "import os,sys; sys.stdout.write(chr(0).join(k+chr(61)+v for k,v in os.environ.items()))"


def _cache_file(prefix: Path, root: Path | None) -> Path:
    key = hashlib.sha256(str(prefix).encode()).hexdigest()[:24]
    return (root or root_prefix()) / "cache" / "activation" / f"{key}.json"


def _load_cache(path: Path, stamp: str) -> list[Change] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != CACHE_VERSION or data.get("fingerprint") != stamp:
            return None
        return [Change(**c) for c in data["changes"]]
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _store_cache(path: Path, stamp: str, changes: list[Change]) -> None:
    data = {
        "version": CACHE_VERSION,
        "fingerprint": stamp,
        "changes": [c.__dict__ for c in changes],
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only root prefix only costs speed


def script_changes(
    prefix: Path, env: Mapping[str, str], *, use_cache: bool = True, root: Path | None = None
) -> list[Change]:
    """What the activate.d scripts change, from the cache when the environment did not change."""
    scripts = _scripts(prefix)
    if not scripts:
        return []
    stamp = fingerprint(prefix)
    cache = _cache_file(prefix, root)
    if use_cache:
        cached = _load_cache(cache, stamp)
        if cached is not None:
            return cached
    changes = _run_scripts(scripts, env)
    _store_cache(cache, stamp, changes)
    return changes


def activate(
    prefix: Path,
    environ: Mapping[str, str] | None = None,
    *,
    use_cache: bool = True,
    root: Path | None = None,
    windows: bool = sys.platform == "win32",
) -> dict[str, str]:
    """The full environment after activating `prefix` on top of `environ` (default: os.environ).

    `root` is the root prefix (default: from the environment) that names environments and
    holds the cache.

    An environment that is already active is replaced rather than stacked on PATH; its prefix
    is kept in `CONDA_PREFIX_<n>` like conda does.
    """
    base = dict(os.environ if environ is None else environ)
    env = dict(base)
    prefix = Path(prefix)
    old_prefix = base.get("CONDA_PREFIX")
    try:
        level = int(base.get("CONDA_SHLVL", "0") or "0")
    except ValueError:
        level = 0
    path = [p for p in base.get("PATH", "").split(os.pathsep) if p]
    if old_prefix:
        stale = set(path_entries(Path(old_prefix), windows))
        path = [p for p in path if p not in stale]
        env[f"CONDA_PREFIX_{level}"] = old_prefix
    new_entries = path_entries(prefix, windows)
    env["PATH"] = os.pathsep.join(new_entries + [p for p in path if p not in new_entries])
    root = root or root_prefix(base)
    name = env_name(prefix, root)
    env["CONDA_PREFIX"] = str(prefix)
    env["CONDA_DEFAULT_ENV"] = name
    env["CONDA_SHLVL"] = str(level + 1)
    env["CONDA_PROMPT_MODIFIER"] = f"({name}) "
    env.update(_state_vars(prefix))
    for change in script_changes(prefix, env, use_cache=use_cache, root=root):
        change.apply(env)
    return env


def activation_delta(
    prefix: Path,
    environ: Mapping[str, str] | None = None,
    *,
    use_cache: bool = True,
    root: Path | None = None,
) -> dict[str, str | None]:
    """Only what activating `prefix` changes: name → new value, or None for a removed variable
    (what `shell hook --json` style consumers apply to their own environment)."""
    base = dict(os.environ if environ is None else environ)
    after = activate(prefix, base, use_cache=use_cache, root=root)
    delta: dict[str, str | None] = {k: v for k, v in after.items() if base.get(k) != v}
    delta.update({k: None for k in base if k not in after})
    return delta
