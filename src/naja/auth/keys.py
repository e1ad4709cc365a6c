"""How credentials are keyed: a host, optionally with a path prefix, optionally a wildcard.

`prefix.dev`, `ghcr.io/org/channel`, `*.example.org` and `s3://bucket` are all keys. A URL
matches a key when the host matches (exactly, or as a subdomain for `*.`) and the URL's path
starts with the key's path; the longest (most specific) match wins.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from naja.specs.url import split_conda_token


def normalize_key(text: str) -> str:
    """`https://Host:443/a/b/` -> `host:443/a/b` (scheme dropped, except s3:// and oci://)."""
    text = text.strip()
    scheme = ""
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme in ("s3", "oci"):
            scheme = parts.scheme + "://"
        text = parts.netloc.rpartition("@")[2] + parts.path
    host, _, path = text.partition("/")
    return scheme + host.lower() + ("/" + path.strip("/") if path.strip("/") else "")


def url_key(url: str) -> tuple[str, str, str]:
    """(scheme prefix, host[:port], path) of a URL, conda token removed."""
    parts = urlsplit(split_conda_token(url)[0])
    scheme = parts.scheme + "://" if parts.scheme in ("s3", "oci") else ""
    return scheme, parts.netloc.rpartition("@")[2].lower(), parts.path.strip("/")


def match_score(key: str, url: str) -> int | None:
    """How specifically `key` matches `url` (higher is better), or None."""
    scheme, host, path = url_key(url)
    kscheme = ""
    for s in ("s3://", "oci://"):
        if key.startswith(s):
            kscheme, key = s, key[len(s) :]
    if kscheme != scheme and kscheme:
        return None
    khost, _, kpath = key.partition("/")
    if khost.startswith("*."):
        bare = host.split(":")[0]
        suffix = khost[1:]
        if not bare.endswith(suffix):
            return None
        score = 100
    elif khost == host or khost == host.split(":")[0]:
        score = 1000
    else:
        return None
    if kpath:
        if path != kpath and not path.startswith(kpath + "/"):
            return None
        score += 10 * (kpath.count("/") + 1) + len(kpath)
    return score
