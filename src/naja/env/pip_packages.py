"""Python packages that pip (or uv) installed into an environment, for `env export`.

Read from the `*.dist-info/INSTALLER` files of the environment's site-packages: conda
packages say `conda` (or have no INSTALLER), pip and uv say so.
"""

from __future__ import annotations

from pathlib import Path


def pip_installed(prefix: Path) -> list[str]:
    """`name==version` for every distribution pip/uv installed, sorted by name."""
    found: dict[str, str] = {}
    for site in [*prefix.glob("lib/python*/site-packages"), prefix / "Lib" / "site-packages"]:
        if not site.is_dir():
            continue
        for info in site.glob("*.dist-info"):
            installer = info / "INSTALLER"
            try:
                who = installer.read_text(encoding="utf-8").strip().lower()
            except OSError:
                continue
            if who not in ("pip", "uv"):
                continue
            meta = _metadata(info / "METADATA")
            if meta:
                found[meta[0].lower()] = f"{meta[0]}=={meta[1]}"
    return [found[k] for k in sorted(found)]


def _metadata(path: Path) -> tuple[str, str] | None:
    name = version = None
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("Name:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("Version:"):
                    version = line.split(":", 1)[1].strip()
                elif not line.strip():
                    break
    except OSError:
        return None
    return (name, version) if name and version else None
