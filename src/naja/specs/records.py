"""Package records: what conda knows about one package (repodata entry, index.json, conda-meta).

`PackageRecord` holds every field conda writes; `RepoDataRecord` is one that came from a channel
(so `url`, `channel` and `fn` are set); `PrefixRecord` is an installed package (conda-meta/*.json).
Records are msgspec Structs so channel indexes decode straight into them. Normalisation follows
conda: `track_features`/`features` become tuples, `noarch` becomes "python"/"generic"/None, and
`timestamp` is held in seconds (repodata mixes seconds and milliseconds) and written back in ms.
"""

from __future__ import annotations

from typing import Any

import msgspec

from naja.specs.version import Version

# Anything later than 9999-12-31 in seconds must have been written in milliseconds.
_MAX_SECONDS = 253402300799

# Key for the bag of keys naja does not model; chosen so it never collides with a real key.
_EXTRA_KEY = "__naja_extra__"


def _split_features(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        value = value.replace(" ", ",").split(",")
    return tuple(f for f in (str(v).strip() for v in value) if f)


def _coerce_noarch(value: Any) -> str | None:
    # Old packages wrote `noarch: true` (meaning generic) or `{"type": "python"}`.
    if value is None or value is False:
        return None
    if value is True:
        return "generic"
    if isinstance(value, dict):
        value = value.get("type")
        if value is None:
            return None
    text = str(value).lower()
    return text or None


class PackageRecord(msgspec.Struct, kw_only=True, gc=False):
    """One package's metadata, as in repodata.json or a package's info/index.json."""

    name: str
    version: str
    build: str
    build_number: int = 0
    depends: list[str] = []
    constrains: list[str] = []
    # Raw data has a string ("mkl", "a b", "a,b") or a list; held as a tuple after decoding.
    track_features: str | tuple[str, ...] = ()
    features: str | tuple[str, ...] = ()
    noarch: str | bool | dict[str, Any] | None = None
    subdir: str | None = None
    platform: str | None = None
    arch: str | None = None
    md5: str | None = None
    sha256: str | None = None
    size: int | None = None
    legacy_bz2_md5: str | None = None
    legacy_bz2_size: int | None = None
    # Seconds since the epoch (float when the source gave milliseconds).
    timestamp: int | float | None = None
    date: str | None = None
    license: str | None = None
    license_family: str | None = None
    preferred_env: str | None = None
    python_site_packages_path: str | None = None
    package_type: str | None = None
    run_exports: dict[str, Any] | None = None
    purls: list[str] | None = None
    fn: str | None = None
    url: str | None = None
    channel: str | None = None
    # Keys of the source JSON that naja does not model, kept so a dump gives them back.
    extra: dict[str, Any] | None = msgspec.field(default=None, name=_EXTRA_KEY)

    def __post_init__(self) -> None:
        tf = self.track_features
        if tf.__class__ is not tuple:
            self.track_features = _split_features(tf)
        ft = self.features
        if ft.__class__ is not tuple:
            self.features = _split_features(ft)
        na = self.noarch
        if na is not None and na != "python" and na != "generic":
            self.noarch = _coerce_noarch(na)
        ts = self.timestamp
        if ts is not None and ts > _MAX_SECONDS:
            self.timestamp = ts / 1000

    @property
    def parsed_version(self) -> Version:
        """The record's `Version`, parsed once per distinct version string (shared cache)."""
        v = _VERSION_CACHE.get(self.version)
        if v is None:
            v = _parse_version(self.version)
        return v

    @property
    def dist_name(self) -> str:
        """`name-version-build`, the file name without its extension."""
        return f"{self.name}-{self.version}-{self.build}"

    @property
    def timestamp_ms(self) -> int | None:
        """The timestamp in milliseconds, as conda writes it."""
        ts = self.timestamp
        if not ts:
            return None
        return round(ts * 1000)

    def to_dict(self) -> dict[str, Any]:
        """conda's JSON form: unset fields left out, features as strings, timestamp in ms."""
        return _record_to_dict(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name}-{self.version}-{self.build})"


class RepoDataRecord(PackageRecord, kw_only=True, gc=False):
    """A record from a channel's repodata: `url`, `channel`, `fn` and `subdir` are always set."""


class PathEntry(msgspec.Struct, kw_only=True, gc=False):
    """One entry of a PrefixRecord's paths_data (paths.json v1 plus what linking learnt)."""

    path: str = msgspec.field(name="_path")
    path_type: str = "hardlink"
    sha256: str | None = None
    sha256_in_prefix: str | None = None
    size_in_bytes: int | None = None
    file_mode: str | None = None
    prefix_placeholder: str | None = None
    no_link: bool = False
    inode_paths: list[str] | None = None


class PathsData(msgspec.Struct, kw_only=True, gc=False):
    """paths.json as recorded in conda-meta: a version and one entry per installed path."""

    paths_version: int = 1
    paths: list[PathEntry] = []


class Link(msgspec.Struct, kw_only=True, gc=False):
    """Where an installed package was linked from and how (1 hardlink, 2 softlink, 3 copy)."""

    source: str
    type: int | None = 1


class PrefixRecord(PackageRecord, kw_only=True, gc=False):
    """An installed package: its record plus the files it put into the prefix."""

    files: list[str] = []
    paths_data: PathsData | None = None
    link: Link | None = None
    requested_spec: str | None = None
    requested_specs: list[str] | None = None
    package_tarball_full_path: str | None = None
    extracted_package_dir: str | None = None
    auth: str | None = None


# Field -> JSON key for each record type, in declaration order, computed once.
def _fields(cls: type) -> tuple[tuple[str, str], ...]:
    info = msgspec.structs.fields(cls)
    return tuple((f.name, f.encode_name) for f in info)


_ALWAYS = frozenset({"name", "version", "build", "build_number", "depends"})
_FEATURE_FIELDS = frozenset({"track_features", "features"})
_FIELDS_CACHE: dict[type, tuple[tuple[str, str], ...]] = {}


def _record_to_dict(record: PackageRecord) -> dict[str, Any]:
    cls = type(record)
    fields = _FIELDS_CACHE.get(cls)
    if fields is None:
        fields = _FIELDS_CACHE[cls] = _fields(cls)
    out: dict[str, Any] = {}
    for attr, key in fields:
        if key == _EXTRA_KEY:
            continue
        value = getattr(record, attr)
        if attr in _ALWAYS:
            out[key] = list(value) if attr == "depends" else value
            continue
        if value is None:
            continue
        if attr in _FEATURE_FIELDS:
            if value:
                out[key] = " ".join(value)
            continue
        if attr == "timestamp":
            if value:
                out[key] = record.timestamp_ms
            continue
        if attr in ("constrains", "files") and not value:
            continue
        if attr == "paths_data":
            out[key] = _paths_data_to_dict(value)
            continue
        out[key] = msgspec.to_builtins(value)
    if record.extra:
        for key, value in record.extra.items():
            out.setdefault(key, value)
    return out


def _paths_data_to_dict(data: PathsData) -> dict[str, Any]:
    # conda leaves out unset values and a false no_link; path_type is always written.
    paths = []
    for entry in data.paths:
        d = {k: v for k, v in msgspec.to_builtins(entry).items() if v is not None}
        if not entry.no_link:
            d.pop("no_link", None)
        paths.append(d)
    return {"paths": paths, "paths_version": data.paths_version}


def known_keys(cls: type[PackageRecord]) -> frozenset[str]:
    """The JSON keys a record type models (others go to `extra`)."""
    return frozenset(key for _, key in _fields(cls) if key != _EXTRA_KEY)


# Parsed versions, shared by all records: repodata repeats version strings heavily.
_VERSION_CACHE: dict[str, Version] = {}


def _parse_version(text: str) -> Version:
    v = Version.parse(text)
    _VERSION_CACHE[text] = v
    return v
