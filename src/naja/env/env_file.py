"""Reading the files `create -f` / `install -f` accept: environment.yml and explicit spec files.

An environment.yml gives `name`, `channels`, `dependencies` (match specs, and a `pip:` list);
an explicit file (`@EXPLICIT`) lists package URLs, optionally with `#md5` or `#sha256:...`.
YAML errors carry the file, line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from naja.errors import NajaError


class EnvFileError(NajaError):
    """An environment file that cannot be read or does not have the expected shape."""

    exit_code = 2


@dataclass(slots=True)
class EnvSpec:
    """What an environment file asks for."""

    name: str | None = None
    channels: list[str] = field(default_factory=list)
    specs: list[str] = field(default_factory=list)
    pip: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    # Explicit files: package URLs (with their checksum fragments) instead of specs.
    explicit: list[str] = field(default_factory=list)


def _where(path: Path, node: object, key: str | int | None = None) -> str:
    lc = getattr(node, "lc", None)
    if lc is None:
        return str(path)
    try:
        line, col = lc.item(key) if key is not None else (lc.line, lc.col)
    except (KeyError, IndexError, TypeError):
        line, col = lc.line, lc.col
    return f"{path}:{line + 1}:{col + 1}"


def read_env_file(path: str | Path) -> EnvSpec:
    """Parse an environment.yml or an explicit spec file (told apart by `@EXPLICIT`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EnvFileError(f"environment file {path} does not exist") from None
    except UnicodeDecodeError:
        raise EnvFileError(f"{path} is not a text file") from None
    if any(line.strip() == "@EXPLICIT" for line in text.splitlines()):
        return _read_explicit(text)
    if path.suffix == ".txt":
        # conda's `--file specs.txt`: one match spec per line.
        lines = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
        return EnvSpec(specs=[ln for ln in lines if ln])
    return _read_yaml(path, text)


def _read_explicit(text: str) -> EnvSpec:
    urls = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line == "@EXPLICIT":
            continue
        urls.append(line)
    return EnvSpec(explicit=urls)


def _read_yaml(path: Path, text: str) -> EnvSpec:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError

    try:
        doc = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise EnvFileError(
            f"{where}: invalid YAML: {exc.problem}",
            hint="fix the YAML syntax at that position",
        ) from None
    if doc is None:
        raise EnvFileError(f"{path} is empty")
    if not isinstance(doc, dict):
        raise EnvFileError(f"{_where(path, doc)}: expected a mapping with `dependencies:`")
    env = EnvSpec(name=doc.get("name"))
    channels = doc.get("channels") or []
    if not isinstance(channels, list):
        raise EnvFileError(f"{_where(path, doc, 'channels')}: `channels` must be a list")
    env.channels = [str(c) for c in channels]
    deps = doc.get("dependencies") or []
    if not isinstance(deps, list):
        raise EnvFileError(f"{_where(path, doc, 'dependencies')}: `dependencies` must be a list")
    for i, dep in enumerate(deps):
        if isinstance(dep, dict) and "pip" in dep:
            pip = dep["pip"] or []
            if not isinstance(pip, list):
                raise EnvFileError(f"{_where(path, dep, 'pip')}: `pip` must be a list")
            env.pip.extend(str(p) for p in pip)
        elif isinstance(dep, str):
            env.specs.append(dep)
        else:
            raise EnvFileError(
                f"{_where(path, deps, i)}: a dependency must be a match spec string or `pip:`"
            )
    variables = doc.get("variables") or {}
    if isinstance(variables, dict):
        env.variables = {str(k): str(v) for k, v in variables.items()}
    return env


def merge(files: list[EnvSpec]) -> EnvSpec:
    """Several -f files combined (channels and specs appended in order)."""
    out = EnvSpec()
    for f in files:
        out.name = out.name or f.name
        out.channels += [c for c in f.channels if c not in out.channels]
        out.specs += f.specs
        out.pip += f.pip
        out.explicit += f.explicit
        out.variables.update(f.variables)
    return out
