"""Records for packages named by URL (explicit spec files, lockfiles): no solving involved."""

from __future__ import annotations

from naja.errors import ParseError
from naja.specs.records import RepoDataRecord

_EXTS = (".conda", ".tar.bz2")


def record_from_url(text: str) -> RepoDataRecord:
    """A record for `https://.../<subdir>/<name>-<version>-<build>.conda[#md5|#sha256:hex]`."""
    url, _, fragment = text.partition("#")
    fn = url.rstrip("/").rsplit("/", 1)[-1]
    ext = next((e for e in _EXTS if fn.endswith(e)), None)
    if ext is None:
        raise ParseError("package URL", text, "does not end in .conda or .tar.bz2", len(url) - 1)
    parts = fn[: -len(ext)].rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        raise ParseError(
            "package URL", text, "file name is not <name>-<version>-<build>", text.find(fn)
        )
    name, version, build = parts
    segments = url.rsplit("/", 2)
    subdir = segments[-2] if len(segments) == 3 else "noarch"
    channel = segments[0] if len(segments) == 3 else ""
    md5 = sha256 = None
    if fragment.startswith("sha256:"):
        sha256 = fragment[len("sha256:") :]
    elif fragment:
        md5 = fragment
    build_number = 0
    tail = build.rsplit("_", 1)[-1]
    if tail.isdigit():
        build_number = int(tail)
    return RepoDataRecord(
        name=name,
        version=version,
        build=build,
        build_number=build_number,
        subdir=subdir,
        fn=fn,
        url=url,
        channel=channel,
        md5=md5,
        sha256=sha256,
    )
