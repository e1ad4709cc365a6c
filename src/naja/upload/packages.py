"""The local package files of an upload: read, validated and grouped by subdir."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from naja.errors import UserInputError
from naja.index import inspect_package


@dataclass(frozen=True)
class LocalPackage:
    path: Path
    subdir: str
    record: dict[str, Any]

    @property
    def filename(self) -> str:
        return self.path.name


def read_packages(paths: list[Path]) -> dict[str, list[LocalPackage]]:
    """subdir -> packages, in the given order; a package without a subdir is an error."""
    out: dict[str, list[LocalPackage]] = {}
    for path in paths:
        meta = inspect_package(path)
        record = meta.record()
        subdir = meta.subdir or ("noarch" if record.get("noarch") else None)
        if not subdir:
            raise UserInputError(
                f"{path.name} does not say which subdir it belongs to (info/index.json)",
                hint="rebuild the package; its index.json needs a 'subdir'",
            )
        record.setdefault("subdir", subdir)
        out.setdefault(subdir, []).append(LocalPackage(path, subdir, record))
    return out
