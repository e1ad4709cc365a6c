"""The `info/` folder of a built package: index.json, paths.json, files, about.json,
run_exports.json, hash_input.json, link.json (noarch python), the recipe, and tests."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naja.build.package.prefix_detect import PrefixHit


@dataclass
class PackageInfo:
    name: str
    version: str
    build: str
    build_number: int
    subdir: str
    depends: list[str]
    constrains: list[str] = field(default_factory=list)
    noarch: str | None = None
    license: str | None = None
    license_family: str | None = None
    timestamp_ms: int = 0
    track_features: list[str] = field(default_factory=list)

    def index_json(self) -> dict[str, Any]:
        arch, platform = _arch_platform(self.subdir)
        data: dict[str, Any] = {
            "arch": arch,
            "build": self.build,
            "build_number": self.build_number,
            "constrains": sorted(self.constrains),
            "depends": sorted(self.depends),
            "license": self.license,
            "license_family": self.license_family,
            "name": self.name,
            "noarch": self.noarch,
            "platform": platform,
            "subdir": self.subdir,
            "timestamp": self.timestamp_ms,
            "track_features": ",".join(self.track_features) or None,
            "version": self.version,
        }
        if self.noarch:
            data["arch"] = data["platform"] = None
        return {k: v for k, v in data.items() if v is not None and v != []} | {
            "depends": sorted(self.depends)
        }


def _arch_platform(subdir: str) -> tuple[str | None, str | None]:
    if subdir == "noarch":
        return None, None
    os_name, _, arch = subdir.partition("-")
    arch = {
        "64": "x86_64",
        "32": "x86",
        "aarch64": "aarch64",
        "arm64": "arm64",
        "ppc64le": "ppc64le",
    }.get(arch, arch)
    return arch, os_name


def sha256_of(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def paths_json(
    root: Path, files: list[str], hits: list[PrefixHit], placeholder: str
) -> dict[str, Any]:
    by_path = {h.path: h for h in hits}
    entries = []
    for rel in sorted(files):
        full = root / rel
        if full.is_symlink():
            # As rattler-build: the digest of what the link points to (when it is a file of the
            # package), the size of the link text itself.
            link = os.readlink(full)
            target = (full.parent / link).resolve()
            digest = (
                sha256_of(target)
                if target.is_file() and root.resolve() in target.parents
                else hashlib.sha256(link.encode()).hexdigest()
            )
            entries.append(
                {
                    "_path": rel,
                    "path_type": "softlink",
                    "sha256": digest,
                    "size_in_bytes": len(link),
                }
            )
            continue
        entry: dict[str, Any] = {
            "_path": rel,
            "path_type": "hardlink",
            "sha256": sha256_of(full),
            "size_in_bytes": full.stat().st_size,
        }
        hit = by_path.get(rel)
        if hit is not None:
            entry["file_mode"] = hit.mode
            entry["prefix_placeholder"] = placeholder
        entries.append(entry)
    return {"paths": entries, "paths_version": 1}


def write_info(
    stage: Path,
    info: PackageInfo,
    files: list[str],
    hits: list[PrefixHit],
    placeholder: str,
    *,
    about: dict[str, Any],
    run_exports: dict[str, list[str]],
    hash_input: dict[str, Any],
    rendered_recipe: dict[str, Any],
    recipe_dir: Path,
    entry_points: list[str],
    tests: list[Any],
) -> list[str]:
    """Write every info/ file into `stage`; returns their paths relative to `stage`."""
    d = stage / "info"
    d.mkdir(parents=True, exist_ok=True)
    written: list[str] = []

    def put(rel: str, data: Any) -> None:
        path = d / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, (dict, list)):
            path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        else:
            path.write_text(data, encoding="utf-8")
        written.append(f"info/{rel}")

    put("index.json", info.index_json())
    put("paths.json", paths_json(stage, files, hits, placeholder))
    put("files", "".join(f"{f}\n" for f in sorted(files)))
    put("about.json", about)
    if run_exports:
        put("run_exports.json", run_exports)
    put("hash_input.json", hash_input)
    if hits:
        put("has_prefix", "".join(f"{placeholder} {h.mode} {h.path}\n" for h in hits))
    if info.noarch == "python":
        put(
            "link.json",
            {
                "noarch": {"type": "python", "entry_points": entry_points},
                "package_metadata_version": 1,
            },
        )
    if tests:
        put("tests/tests.yaml", json.dumps(tests, indent=2))
    import yaml

    put("recipe/rendered_recipe.yaml", yaml.safe_dump(rendered_recipe, sort_keys=True))
    for src in sorted(recipe_dir.rglob("*")):
        if src.is_file() and ".git" not in src.parts:
            rel = f"recipe/{src.relative_to(recipe_dir).as_posix()}"
            target = d / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(src.read_bytes())
            written.append(f"info/{rel}")
    return written
