"""`naja upload --to oci://registry/namespace/channel PKG...` and `--promote`.

Each package becomes its own artifact (`naja.oci.push`); then each touched subdir's index is
rebuilt from the current `staging` index (else `latest`) plus the new records and pushed under
`staging` and a timestamp tag. Registries have no conditional tag update, so just before
pushing, `staging` is looked up again: if another upload moved it meanwhile, the merge is
redone on top of theirs (this narrows the race to a few milliseconds; it cannot close it). Installers read `latest`, so nothing they see changes until
`naja upload --promote` (or `--promote` on the upload itself) points `latest` at `staging`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from naja.index.writer import build_subdir_index
from naja.oci.client import RegistryClient, client_for, login_for
from naja.oci.layout import LATEST, STAGING, promote, push_repodata, read_repodata, timestamp_tag
from naja.oci.push import push_package, refuse_existing
from naja.oci.reference import OciChannel
from naja.specs.platform import Platform
from naja.upload.packages import LocalPackage, read_packages


def _client(target: str) -> tuple[OciChannel, RegistryClient]:
    from naja.fetch.config import DEFAULT_USER_AGENT
    from naja.oci.transport import HttpxTransport

    channel = OciChannel.parse(target)
    transport = HttpxTransport(user_agent=DEFAULT_USER_AGENT)
    return channel, client_for(channel, login_for(channel.url), transport)


# Index merges redone when another upload moved `staging` in between.
MERGE_ATTEMPTS = 5


def _current(
    client: RegistryClient, channel: OciChannel, subdir: str
) -> tuple[dict[str, dict[str, Any]], str | None]:
    """The records of the staged index (else the latest), and the staging digest seen."""
    got = read_repodata(client, channel, subdir, STAGING)
    staged = got[1] if got is not None else None
    if got is None:
        got = read_repodata(client, channel, subdir, LATEST)
    if got is None:
        return {}, None
    index = got[0]
    return {**(index.get("packages") or {}), **(index.get("packages.conda") or {})}, staged


def upload_oci(
    target: str,
    packages: list[Path],
    *,
    token: str | None = None,
    force: bool = False,
    promote_now: bool = False,
    **_: Any,
) -> list[dict[str, Any]]:
    """Push `packages` to the OCI channel `target` and stage the new index.

    `token` is unused: registry credentials come from naja.auth (`naja auth login HOST`).
    """
    grouped = read_packages(packages)
    channel, client = _client(target)
    try:
        return _upload(client, channel, grouped, force=force, promote_now=promote_now)
    finally:
        client.transport.close()  # type: ignore[attr-defined]


def _upload(
    client: RegistryClient,
    channel: OciChannel,
    grouped: dict[str, list[LocalPackage]],
    *,
    force: bool,
    promote_now: bool,
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    tag = timestamp_tag()
    if not force:
        # Every package checked before any is pushed: a refused upload leaves nothing behind.
        for subdir, local in grouped.items():
            for pkg in local:
                refuse_existing(client, channel, subdir, pkg.path)
    for subdir, local in grouped.items():
        records, staged = _current(client, channel, subdir)
        for pkg in local:
            digest = push_package(client, channel, subdir, pkg.path, pkg.record, force=True)
            records[pkg.filename] = pkg.record
            results.append(
                {
                    "channel": channel.url,
                    "subdir": subdir,
                    "filename": pkg.filename,
                    "digest": digest,
                }
            )
        for _ in range(MERGE_ATTEMPTS):
            if client.manifest_digest(channel.repodata_repository(subdir), STAGING) == staged:
                break
            records, staged = _current(client, channel, subdir)
            records.update({pkg.filename: pkg.record for pkg in local})
        index = build_subdir_index(subdir, records)
        push_repodata(client, channel, subdir, index.repodata, index.repodata_zst, [tag, STAGING])
        if promote_now:
            promote(client, channel, subdir)
    return results


def promote_oci(target: str, subdirs: list[str] | None = None) -> list[str]:
    """Point `latest` at `staging` in every subdir that has a staged index; the subdirs done."""
    channel, client = _client(target)
    names = subdirs or sorted({p.value for p in Platform} | {"noarch"})
    try:
        return [s for s in names if promote(client, channel, s)]
    finally:
        client.transport.close()  # type: ignore[attr-defined]
