"""Where conda things live in an OCI registry: the channel, repository names and tags.

`oci://ghcr.io/channel-mirrors/conda-forge` is registry `ghcr.io` and namespace
`channel-mirrors/conda-forge`; package `xtensor-0.10.4-h431234.conda` of `linux-64` is
repository `channel-mirrors/conda-forge/linux-64/xtensor`, tag `0.10.4-h431234`. OCI names
and tags allow fewer characters than conda, hence the mangling below (the same as
conda-forge's mirror, so both read each other's channels).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from naja.errors import UserInputError

# Tags may only hold [A-Za-z0-9_.-]; conda versions and builds may hold these too.
_TAG_ESCAPES = (("+", "__p__"), ("!", "__e__"), ("=", "__eq__"))
PACKAGE_EXTENSIONS = (".conda", ".tar.bz2")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def mangle_tag(text: str) -> str:
    for char, escape in _TAG_ESCAPES:
        text = text.replace(char, escape)
    return text


def unmangle_tag(text: str) -> str:
    for char, escape in _TAG_ESCAPES:
        text = text.replace(escape, char)
    return text


def mangle_name(name: str) -> str:
    """Repository path segments may not start with `_` (`_libgcc_mutex` -> `zzz_libgcc_mutex`)."""
    return "zzz" + name if name.startswith("_") else name


def package_tag(version: str, build: str) -> str:
    return mangle_tag(f"{version}-{build}")


def split_package_filename(fn: str) -> tuple[str, str, str, str]:
    """`name-version-build.ext` -> (name, version, build, ext); ValueError if not a package."""
    for ext in PACKAGE_EXTENSIONS:
        if fn.endswith(ext):
            stem = fn[: -len(ext)]
            name, _, rest = stem.rpartition("-")
            name, _, version = name.rpartition("-")
            if name and version and rest:
                return name, version, rest, ext
    raise ValueError(f"not a conda package file name: {fn!r}")


def _plain_http(host: str) -> bool:
    """Registries spoken to without TLS: loopback, and hosts in $NAJA_OCI_PLAIN_HTTP."""
    bare = host.rsplit(":", 1)[0].strip("[]") if host.count(":") <= 1 else host.strip("[]")
    if bare in _LOOPBACK:
        return True
    listed = os.environ.get("NAJA_OCI_PLAIN_HTTP", "")
    return any(h.strip() and h.strip() in (host, bare) for h in listed.split(","))


@dataclass(frozen=True)
class OciChannel:
    """A channel in a registry: `registry` (host[:port]) and `namespace` (path, no slashes
    at either end; may be empty)."""

    registry: str
    namespace: str
    plain_http: bool = False

    @classmethod
    def parse(cls, url: str) -> OciChannel:
        parts = urlsplit(url)
        if parts.scheme != "oci" or not parts.netloc:
            raise UserInputError(
                f"{url!r} is not an OCI channel URL",
                hint="write oci://REGISTRY/NAMESPACE/CHANNEL, e.g. oci://ghcr.io/org/channel",
            )
        host = parts.netloc.rpartition("@")[2].lower()
        return cls(host, parts.path.strip("/"), _plain_http(host))

    @property
    def url(self) -> str:
        return f"oci://{self.registry}/{self.namespace}".rstrip("/")

    @property
    def base(self) -> str:
        """The registry's HTTP root."""
        return f"{'http' if self.plain_http else 'https'}://{self.registry}"

    def repository(self, subdir: str, name: str) -> str:
        return "/".join(p for p in (self.namespace, subdir, mangle_name(name)) if p)

    def repodata_repository(self, subdir: str) -> str:
        return "/".join(p for p in (self.namespace, subdir, "repodata.json") if p)


def split_file_url(url: str) -> tuple[OciChannel, str, str]:
    """`oci://reg/ns/chan/noarch/x-1-0.conda` -> (channel, `noarch`, `x-1-0.conda`)."""
    head, _, filename = url.rstrip("/").rpartition("/")
    channel_url, _, subdir = head.rpartition("/")
    if "://" not in channel_url or not subdir or not filename:
        raise UserInputError(f"{url!r} does not name a file of an OCI channel subdir")
    return OciChannel.parse(channel_url), subdir, filename
