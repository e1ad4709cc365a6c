"""What an extracted package says about its files: `info/paths.json`, or the legacy
`info/files` + `info/has_prefix` + `info/no_link`, and `info/link.json` for noarch packages."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import msgspec

from naja.install.errors import BadPackageError

DEFAULT_PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"


class PathEntry(msgspec.Struct, omit_defaults=True):
    """One entry of paths.json (conda's `PathData`)."""

    path: str = msgspec.field(name="_path")
    path_type: str = "hardlink"
    sha256: str | None = None
    size_in_bytes: int | None = None
    file_mode: str | None = None
    prefix_placeholder: str | None = None
    no_link: bool = False


class PathsJson(msgspec.Struct):
    paths: list[PathEntry] = []
    paths_version: int = 1


class NoarchLink(msgspec.Struct, omit_defaults=True):
    type: str = ""
    entry_points: list[str] = []


class LinkJson(msgspec.Struct, omit_defaults=True):
    noarch: NoarchLink | None = None
    package_metadata_version: int = 1


_paths_decoder = msgspec.json.Decoder(PathsJson)
_link_decoder = msgspec.json.Decoder(LinkJson)


def _legacy_paths(info: Path) -> list[PathEntry]:
    files = info / "files"
    if files.is_file():
        names = [ln for ln in files.read_text("utf-8", "surrogateescape").splitlines() if ln]
    else:
        # No file list at all (some hand-made packages): everything outside info/ is the package.
        root = info.parent
        names = []
        for dirpath, dirnames, filenames in os.walk(root):
            rel = os.path.relpath(dirpath, root)
            if rel == "info" or rel.startswith("info" + os.sep):
                dirnames[:] = []
                continue
            for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
                names.append(os.path.normpath(os.path.join(rel, name)).replace(os.sep, "/"))
        names.sort()
    prefixed: dict[str, tuple[str, str]] = {}
    has_prefix = info / "has_prefix"
    if has_prefix.is_file():
        for line in has_prefix.read_text("utf-8", "surrogateescape").splitlines():
            if not line.strip():
                continue
            parts = shlex.split(line) if '"' in line or "'" in line else line.split()
            if len(parts) == 1:
                prefixed[parts[0]] = (DEFAULT_PLACEHOLDER, "text")
            elif len(parts) >= 3:
                prefixed[parts[2]] = (parts[0], parts[1])
    no_link: set[str] = set()
    nl = info / "no_link"
    if nl.is_file():
        no_link = {ln for ln in nl.read_text("utf-8", "surrogateescape").splitlines() if ln}
    root = info.parent
    out = []
    for name in names:
        full = root / name
        ptype = "softlink" if full.is_symlink() else "hardlink"
        placeholder, mode = prefixed.get(name, (None, None))
        out.append(
            PathEntry(
                path=name,
                path_type=ptype,
                prefix_placeholder=placeholder,
                file_mode=mode,
                no_link=name in no_link,
            )
        )
    return out


def read_paths(extracted: str | os.PathLike[str]) -> list[PathEntry]:
    """The package's files as paths.json entries (synthesised for legacy packages)."""
    info = Path(extracted, "info")
    pj = info / "paths.json"
    if pj.is_file():
        try:
            paths = _paths_decoder.decode(pj.read_bytes()).paths
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            raise BadPackageError(str(extracted), f"info/paths.json is invalid: {e}") from None
    else:
        paths = _legacy_paths(info)
    # One scan of all the names joined (C speed) rules out the usual case, where no name can
    # be unsafe; only then is each name looked at.
    joined = "\n" + "\n".join([e.path for e in paths])
    if "\n/" in joined or "\0" in joined or ".." in joined:
        for entry in paths:
            p = entry.path
            if p.startswith("/") or "\0" in p or (".." in p and ".." in p.split("/")):
                raise BadPackageError(str(extracted), f"paths.json lists the unsafe path {p!r}")
    return paths


def read_link_json(extracted: str | os.PathLike[str]) -> LinkJson | None:
    f = Path(extracted, "info", "link.json")
    if not f.is_file():
        return None
    try:
        return _link_decoder.decode(f.read_bytes())
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise BadPackageError(str(extracted), f"info/link.json is invalid: {e}") from None
