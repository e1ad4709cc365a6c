"""The installed packages of a prefix: reading and writing `conda-meta/<dist>.json`."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from naja.errors import ParseError
from naja.install.errors import InstallError
from naja.specs.records import PackageRecord, PathEntry, PrefixRecord
from naja.specs.repodata import dump_prefix_record, load_prefix_record

CONDA_META = "conda-meta"


class LinkedPath(PathEntry, kw_only=True, omit_defaults=True, gc=False):
    """A paths_data entry naja creates: a PathEntry that msgspec encodes in conda's form by
    itself (unset fields left out, path_type always written), so writing a record with tens
    of thousands of paths needs no per-entry Python work."""

    path_type: str


def encode_prefix_record(record: PrefixRecord) -> bytes:
    """The bytes `naja.specs.repodata.dump_prefix_record` gives, faster for naja's own records."""
    pd = record.paths_data
    if pd is None or not all(type(p) is LinkedPath for p in pd.paths):
        return dump_prefix_record(record)
    out = msgspec.structs.replace(record, paths_data=None).to_dict()
    out["paths_data"] = {"paths": pd.paths, "paths_version": pd.paths_version}
    return msgspec.json.format(msgspec.json.encode(out, order="sorted"), indent=2) + b"\n"


def record_filename(r: PackageRecord) -> str:
    return f"{r.name}-{r.version}-{r.build}.json"


def record_paths(r: PrefixRecord) -> list[str]:
    """Every prefix-relative path the installed package owns (paths_data, else files)."""
    if r.paths_data is not None and r.paths_data.paths:
        return [p.path for p in r.paths_data.paths]
    return list(r.files)


def installed_records(prefix: str | os.PathLike[str]) -> list[PrefixRecord]:
    """All PrefixRecords of `prefix`, sorted by name (none if it has no conda-meta)."""
    meta = Path(prefix, CONDA_META)
    if not meta.is_dir():
        return []
    out = []
    for entry in os.scandir(meta):
        if not entry.name.endswith(".json") or entry.name.startswith("."):
            continue
        data = Path(entry.path).read_bytes()
        try:
            out.append(load_prefix_record(data))
        except ParseError as e:
            raise InstallError(
                f"{entry.path} is not a valid conda-meta record: {e.reason}",
                hint="remove the broken file or reinstall the package",
            ) from None
    out.sort(key=lambda r: r.name)
    return out


def write_record(prefix: str, record: PrefixRecord) -> str:
    """Write conda-meta/<dist>.json atomically; returns its prefix-relative path."""
    rel = f"{CONDA_META}/{record_filename(record)}"
    path = os.path.join(prefix, rel)
    tmp = f"{path}.naja-tmp"
    with open(tmp, "wb") as f:
        f.write(encode_prefix_record(record))
    os.replace(tmp, path)
    return rel
