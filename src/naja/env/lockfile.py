"""Lockfiles: reading pixi.lock (versions 4-7) and conda-lock.yml (versions 1-3), writing pixi.lock.

A lockfile pins, per environment and platform, exact package URLs with checksums; naja turns
the conda ones into records and installs them without solving. PyPI entries are returned
separately for the pip step. `write_pixi_lock` writes the version 6 format pixi reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naja.env.explicit import record_from_url
from naja.errors import NajaError
from naja.specs.records import RepoDataRecord
from naja.specs.url import split_conda_token


class LockfileError(NajaError):
    """A lockfile naja cannot read, or without what was asked for."""

    exit_code = 2


@dataclass(slots=True)
class LockedEnvironment:
    """One environment of a lockfile for one platform."""

    channels: list[str]
    conda: list[RepoDataRecord]
    pypi: list[str] = field(default_factory=list)


_RECORD_KEYS = (
    "depends", "constrains", "license", "license_family", "size", "timestamp",
    "track_features", "features", "noarch", "python_site_packages_path", "build_number",
)  # fmt: skip


def is_lockfile(path: Path) -> bool:
    """Whether `path` looks like a pixi.lock or conda-lock file (by name, then by content)."""
    if path.name in ("pixi.lock", "conda-lock.yml") or path.name.endswith((".lock", "-lock.yml")):
        return True
    try:
        head = path.read_text(encoding="utf-8")[:4000]
    except (OSError, UnicodeDecodeError):
        return False
    return "\nenvironments:" in head and head.lstrip().startswith("version:")


def _load_yaml(path: Path) -> Any:
    # PyYAML's libyaml loader, not ruamel: real lockfiles run to megabytes and need no
    # round-tripping, and libyaml reads them several times faster.
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with path.open("rb") as fh:
            return yaml.load(fh, Loader=loader)
    except FileNotFoundError:
        raise LockfileError(f"lockfile {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise LockfileError(f"{path}: invalid YAML: {exc}") from None


def _record(url: str, data: dict[str, Any]) -> RepoDataRecord:
    base = record_from_url(url)
    for key in ("name", "version", "build", "subdir"):
        if data.get(key) is not None:
            setattr(base, key, str(data[key]))
    base.md5 = data.get("md5") or base.md5
    base.sha256 = data.get("sha256") or base.sha256
    if isinstance(data.get("hash"), dict):  # conda-lock
        base.md5 = data["hash"].get("md5") or base.md5
        base.sha256 = data["hash"].get("sha256") or base.sha256
    for key in _RECORD_KEYS:
        if data.get(key) is not None:
            value = data[key]
            if key in ("depends", "constrains"):
                value = list(value)
            if key == "track_features" and isinstance(value, list):
                value = ",".join(value)
            try:
                setattr(base, key, value)
            except (TypeError, AttributeError):
                continue
    if data.get("channel"):
        base.channel = str(data["channel"]).rstrip("/")
    base.__post_init__()  # normalises feature lists like a decoded record
    return base


def read_lockfile(
    path: str | Path, platform: str, environment: str = "default"
) -> LockedEnvironment:
    """The conda records and pypi URLs locked for `environment` on `platform`."""
    path = Path(path)
    doc = _load_yaml(path)
    if not isinstance(doc, dict) or "version" not in doc:
        raise LockfileError(f"{path} is not a lockfile (no `version:` key)")
    version = doc["version"]
    if version in (1, 2, 3) and "package" in doc:
        return _read_conda_lock(path, doc, platform)
    if version in (4, 5, 6, 7) and "environments" in doc:
        return _read_pixi_lock(path, doc, platform, environment)
    raise LockfileError(
        f"{path}: lockfile version {version} is not supported",
        hint="naja reads pixi.lock versions 4-7 and conda-lock versions 1-3",
    )


def _read_conda_lock(path: Path, doc: dict[str, Any], platform: str) -> LockedEnvironment:
    channels = [
        c["url"] if isinstance(c, dict) else str(c)
        for c in doc.get("metadata", {}).get("channels", [])
    ]
    platforms = doc.get("metadata", {}).get("platforms", [])
    if platforms and platform not in platforms:
        raise LockfileError(
            f"{path} has no packages for {platform}",
            hint=f"it is locked for {', '.join(platforms)}",
        )
    conda, pypi = [], []
    for pkg in doc["package"]:
        if pkg.get("platform") != platform or pkg.get("optional"):
            continue
        if pkg.get("manager") == "conda":
            rec = _record(pkg["url"], {**pkg, "depends": None})
            deps = pkg.get("dependencies") or {}
            # conda-lock v1 maps name -> constraint; v2/v3 list match specs.
            if isinstance(deps, dict):
                rec.depends = [f"{k} {v}".strip() for k, v in deps.items()]
            else:
                rec.depends = [str(d) for d in deps]
            conda.append(rec)
        elif pkg.get("manager") == "pip":
            pypi.append(pkg["url"])
    return LockedEnvironment(channels, conda, pypi)


def _read_pixi_lock(
    path: Path, doc: dict[str, Any], platform: str, environment: str
) -> LockedEnvironment:
    envs = doc["environments"]
    if environment not in envs:
        raise LockfileError(
            f"{path} has no environment {environment!r}", hint=f"it has: {', '.join(envs)}"
        )
    env = envs[environment]
    channels = [c["url"] if isinstance(c, dict) else str(c) for c in env.get("channels", [])]
    per_platform = env.get("packages", {})
    if platform not in per_platform:
        raise LockfileError(
            f"{path} has no packages for {platform} in {environment!r}",
            hint=f"it is locked for {', '.join(per_platform) or 'no platform'}",
        )
    # Package details are listed once, keyed by URL (v6: `conda:` key; v4/5: `url:` + kind).
    details: dict[str, dict[str, Any]] = {}
    for pkg in doc.get("packages", []):
        key = pkg.get("conda") or (pkg.get("url") if pkg.get("kind") == "conda" else None)
        if key:
            details.setdefault(key, pkg)
    conda, pypi = [], []
    for entry in per_platform[platform]:
        if "conda" in entry:
            url = entry["conda"]
            if "://" not in url and not url.endswith((".conda", ".tar.bz2")):
                raise LockfileError(
                    f"{path}: {url!r} is a source package, which naja cannot build from a lockfile",
                    hint="build it with `naja build` and lock the result",
                )
            conda.append(_record(url, details.get(url, {})))
        elif "pypi" in entry:
            pypi.append(entry["pypi"])
    return LockedEnvironment(channels, conda, pypi)


def _public(channel: str) -> str:
    url = split_conda_token(channel)[0]
    return url if url.endswith("/") else url + "/"


def write_pixi_lock(
    path: str | Path,
    channels: Sequence[str],
    per_platform: dict[str, Iterable[RepoDataRecord]],
    environment: str = "default",
) -> None:
    """Write a pixi.lock (version 6) for the solved records of each platform."""
    import io

    from ruamel.yaml import YAML

    packages: dict[str, dict[str, Any]] = {}
    env_packages: dict[str, list[dict[str, str]]] = {}
    for platform, records in sorted(per_platform.items()):
        urls = []
        for r in sorted(records, key=lambda r: r.name):
            if not r.url:
                continue
            # A lockfile is shared: conda tokens never go into it (naja.auth adds them back).
            url = split_conda_token(r.url)[0]
            urls.append({"conda": url})
            # rattler's reader wants the subdir spelled out even though the URL holds it.
            entry: dict[str, Any] = {"conda": url, "subdir": r.subdir}
            for key in (
                "sha256",
                "md5",
                "depends",
                "constrains",
                "license",
                "license_family",
                "size",
                "timestamp",
            ):
                value = r.timestamp_ms if key == "timestamp" else getattr(r, key, None)
                if value:
                    entry[key] = list(value) if isinstance(value, (list, tuple)) else value
            if r.noarch:
                entry["noarch"] = r.noarch
            packages[url] = entry
        env_packages[platform] = urls
    doc = {
        "version": 6,
        "environments": {
            environment: {
                "channels": [{"url": _public(c)} for c in channels],
                "packages": env_packages,
            }
        },
        "packages": [packages[u] for u in sorted(packages)],
    }
    buf = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096  # URLs stay on one line, as pixi writes them
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[attr-defined]
    yaml.dump(doc, buf)
    out = Path(path)
    tmp = out.with_name(out.name + ".naja-tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    import os

    os.replace(tmp, out)
