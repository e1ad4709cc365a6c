"""Finds the configuration files, reads them and merges them with the environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naja.config.errors import ConfigError
from naja.config.keys import KEYS, coerce


@dataclass(slots=True)
class Source:
    """One place configuration came from: a file or the environment."""

    name: str  # a path, or "env"
    values: dict[str, Any]


@dataclass(slots=True)
class Config:
    """The merged configuration, plus where each key was set (for --show-sources)."""

    values: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, list[str]] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)

    def get(self, key: str, default: Any = None) -> Any:
        if key in self.values:
            return self.values[key]
        if key in KEYS and KEYS[key][1] is not None:
            return KEYS[key][1]
        return default


def user_config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/naja` (`~/.config/naja` by default): naja's own user file and the
    credential store's files."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME", str(Path.home())), ".config")
    return Path(base) / "naja"


def user_config_file(environ: Mapping[str, str] | None = None) -> Path:
    """naja's own user file (`naja config set` writes here by default)."""
    return user_config_dir(environ) / "config.yaml"


def candidate_files(
    environ: Mapping[str, str] | None = None, prefix: str | os.PathLike[str] | None = None
) -> list[Path]:
    """Every file naja reads, lowest precedence first (missing files included)."""
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME", str(Path.home())))
    files = [
        Path("/etc/conda/.condarc"),
        Path("/etc/conda/condarc"),
        home / ".conda" / ".condarc",
        home / ".condarc",
        home / ".mambarc",
        user_config_file(env),
    ]
    for var in ("CONDARC", "MAMBARC"):
        if env.get(var):
            files.append(Path(env[var]).expanduser())
    if prefix is not None:
        files.append(Path(prefix) / ".condarc")
    return files


def _read_file(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except PermissionError:
        raise ConfigError(f"cannot read {path}: permission denied") from None
    # PyYAML's libyaml loader: reading config is on every command's path and imports in a
    # fraction of ruamel's time (ruamel is only needed to edit files in place).
    import yaml

    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(
            f"{where}: invalid YAML: {exc.problem}", hint="fix or remove the file"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a configuration file must be a mapping of keys to values")
    return {str(k): coerce(str(k), v, str(path)) for k, v in data.items()}


def _env_values(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for prefix in ("CONDA_", "NAJA_"):
        for key in KEYS:
            var = prefix + key.upper()
            if var in environ:
                out[key] = coerce(key, environ[var], f"${var}")
    return out


def config_sources(
    environ: Mapping[str, str] | None = None, prefix: str | os.PathLike[str] | None = None
) -> list[Source]:
    """The sources that exist, lowest precedence first."""
    env = os.environ if environ is None else environ
    out = []
    for path in candidate_files(env, prefix):
        values = _read_file(path)
        if values is not None:
            out.append(Source(str(path), values))
    env_values = _env_values(env)
    if env_values:
        out.append(Source("env", env_values))
    return out


def load_config(
    environ: Mapping[str, str] | None = None, prefix: str | os.PathLike[str] | None = None
) -> Config:
    """Merge every source: scalars from the highest source; lists with its entries first."""
    cfg = Config(sources=config_sources(environ, prefix))
    for source in cfg.sources:
        for key, value in source.values.items():
            cfg.origin.setdefault(key, []).append(source.name)
            old = cfg.values.get(key)
            if isinstance(value, list) and isinstance(old, list):
                merged = list(value) + [v for v in old if v not in value]
                cfg.values[key] = merged
            elif isinstance(value, dict) and isinstance(old, dict):
                cfg.values[key] = {**old, **value}
            else:
                cfg.values[key] = value
    return cfg
