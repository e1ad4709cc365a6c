"""The download engine's hook for `oci://` URLs (see `naja.fetch.schemes`).

`oci://reg/ns/chan/<subdir>/repodata.json` (and `.zst`) resolve to the matching layer of the
subdir's `repodata.json:latest` artifact; a package file resolves to the package layer of
`<subdir>/<name>:<version>-<build>` — straight to the blob by its sha256 when the index gave
one, so no manifest is read. The result is a blob URL plus the registry's Authorization.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from naja.fetch.errors import DownloadError
from naja.fetch.schemes import Resolved, SchemeNotFound
from naja.oci.client import client_for, login_for
from naja.oci.errors import OciError
from naja.oci.layout import LATEST, PACKAGE_TYPES, REPODATA_TYPE, REPODATA_ZST_TYPE, find_layer
from naja.oci.reference import package_tag, split_file_url, split_package_filename
from naja.oci.transport import EngineTransport

if TYPE_CHECKING:
    from naja.fetch.downloader import Downloader

_INDEX_LAYERS = {"repodata.json": REPODATA_TYPE, "repodata.json.zst": REPODATA_ZST_TYPE}


def resolve(dl: Downloader, url: str, *, sha256: str | None = None) -> Resolved:
    try:
        return _resolve(dl, url, sha256)
    except OciError as exc:
        raise DownloadError(url, exc.message, hint=exc.hint) from None


def _resolve(dl: Downloader, url: str, sha256: str | None) -> Resolved:
    channel, subdir, filename = split_file_url(url)
    client = client_for(channel, login_for(url, dl.credentials), EngineTransport(dl))
    media_type = _INDEX_LAYERS.get(filename)
    if media_type is not None:
        repository = channel.repodata_repository(subdir)
        got = client.get_manifest(repository, LATEST)
        layer = find_layer(got[0], media_type) if got is not None else None
        if layer is None:
            raise SchemeNotFound(f"no {media_type} layer in {repository}:{LATEST}")
        # The artifact behind `latest` changes while its blobs are immutable (and cached
        # for a year by registries): revalidate on every use.
        return Resolved(
            client.blob_url(repository, layer["digest"]),
            client.auth_headers(repository),
            cache_control="max-age=0",
        )
    try:
        name, version, build, ext = split_package_filename(filename)
    except ValueError:
        # shards, .zck, run_exports.json...: not part of the OCI layout.
        raise SchemeNotFound(f"{filename} is not stored in OCI channels") from None
    repository = channel.repository(subdir, name)
    if sha256:
        digest = f"sha256:{sha256.lower()}"
    else:
        tag = package_tag(version, build)
        got = client.get_manifest(repository, tag)
        layer = find_layer(got[0], PACKAGE_TYPES[ext]) if got is not None else None
        if layer is None:
            raise SchemeNotFound(f"no {PACKAGE_TYPES[ext]} layer in {repository}:{tag}")
        digest = layer["digest"]
    return Resolved(client.blob_url(repository, digest), client.auth_headers(repository))
