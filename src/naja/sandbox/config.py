"""Sandbox settings: an environment's default (`.naja/sandbox.yaml`, `sandbox:` in its `.condarc`)
merged with the flags of one `naja run`.

An environment whose config has a `sandbox:` section runs sandboxed by default:

    sandbox:
      network: false        # own network namespace (loopback only)
      allow_write: [.]      # the working directory is writable
      allow_read: [~/data]
      deny_read: [~/secrets]
      home: tmpfs           # tmpfs | ro | rw
      clearenv: true
      keep_env: [LANG]
      filesystem: true      # false: only network isolation

`.naja/sandbox.yaml` holds the same keys at its top level (or under `sandbox:`) and wins over
`.condarc`. Flags win over both; list flags add to the configured lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from naja.sandbox.errors import SandboxConfigError
from naja.sandbox.policy import HOME_MODES

_LISTS = ("allow_read", "allow_write", "deny_read", "keep_env")
_BOOLS = ("enabled", "filesystem", "network", "clearenv")


@dataclass(frozen=True)
class SandboxSettings:
    """What was asked for; `enabled` False means no sandbox at all."""

    enabled: bool = False
    filesystem: bool = True
    network: bool = True
    home: str = "tmpfs"
    allow_read: tuple[str, ...] = ()
    allow_write: tuple[str, ...] = ()
    deny_read: tuple[str, ...] = ()
    clearenv: bool = False
    keep_env: tuple[str, ...] = ()
    sources: tuple[str, ...] = field(default=(), compare=False)


def _read_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SandboxConfigError(
            f"{path}: invalid YAML{where}: {exc.problem}", hint="fix the file or remove it"
        ) from None
    except YAMLError as exc:
        raise SandboxConfigError(
            f"{path}: invalid YAML: {exc}", hint="fix the file or remove it"
        ) from None


def _section(path: Path, data: Any, top_level: bool) -> dict[str, Any] | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise SandboxConfigError(f"{path}: expected a mapping, got {type(data).__name__}")
    if "sandbox" in data:
        section = data["sandbox"]
    elif top_level:
        section = data
    else:
        return None
    if section is None or section is True:
        return {}
    if section is False:
        return {"enabled": False}
    if not isinstance(section, dict):
        raise SandboxConfigError(f"{path}: `sandbox` must be a mapping (or true/false)")
    return section


def _apply(settings: SandboxSettings, section: dict[str, Any], source: Path) -> SandboxSettings:
    changes: dict[str, Any] = {"enabled": True}
    for key, value in section.items():
        key = str(key).replace("-", "_")
        if key in _BOOLS:
            if not isinstance(value, bool):
                raise SandboxConfigError(
                    f"{source}: sandbox.{key} must be true or false, got {value!r}"
                )
            changes[key] = value
        elif key in _LISTS:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(
                isinstance(v, str | int | float) for v in value
            ):
                raise SandboxConfigError(
                    f"{source}: sandbox.{key} must be a list of paths or names"
                )
            changes[key] = tuple(str(v) for v in value)
        elif key == "home":
            if value not in HOME_MODES:
                raise SandboxConfigError(
                    f"{source}: sandbox.home must be one of {', '.join(HOME_MODES)}, got {value!r}"
                )
            changes[key] = value
        else:
            known = ", ".join((*_BOOLS, *_LISTS, "home"))
            raise SandboxConfigError(
                f"{source}: unknown key sandbox.{key}", hint=f"known keys: {known}"
            )
    return replace(settings, **changes, sources=(*settings.sources, str(source)))


def load_env_settings(prefix: Path) -> SandboxSettings:
    """The environment's configured default (disabled when it configures none)."""
    settings = SandboxSettings()
    for path, top_level in (
        (prefix / ".condarc", False),
        (prefix / ".naja" / "sandbox.yaml", True),
    ):
        if path.is_file():
            section = _section(path, _read_yaml(path), top_level)
            if section is not None:
                settings = _apply(settings, section, path)
    return settings


def merge_flags(
    settings: SandboxSettings,
    *,
    sandbox: bool | None = None,
    network: bool | None = None,
    home: str | None = None,
    allow_read: tuple[str, ...] = (),
    allow_write: tuple[str, ...] = (),
    deny_read: tuple[str, ...] = (),
    clearenv: bool = False,
    keep_env: tuple[str, ...] = (),
) -> SandboxSettings:
    """Flags over config. File-system flags imply `--sandbox`; `--no-network` alone isolates only
    the network; `--no-sandbox` turns off whatever the environment configured."""
    fs_flags = bool(allow_read or allow_write or deny_read or home)
    if sandbox is False:
        if fs_flags or network is False:
            raise SandboxConfigError(
                "--no-sandbox cannot be combined with sandbox options",
                hint="drop --no-sandbox, or the --allow-*/--deny-read/--home/--no-network flags",
            )
        return replace(
            SandboxSettings(),
            clearenv=clearenv or settings.clearenv,
            keep_env=settings.keep_env + keep_env,
        )
    out = settings
    if sandbox or fs_flags:
        out = replace(out, enabled=True, filesystem=True)
    if network is not None:
        out = replace(out, network=network)
        if network is False and not out.enabled:
            out = replace(out, enabled=True, filesystem=False)
    return replace(
        out,
        home=home or out.home,
        allow_read=out.allow_read + allow_read,
        allow_write=out.allow_write + allow_write,
        deny_read=out.deny_read + deny_read,
        clearenv=clearenv or out.clearenv,
        keep_env=out.keep_env + keep_env,
    )
