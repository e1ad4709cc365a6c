"""URL helpers for channels: hiding secrets, conda tokens, joining, and file:// <-> path.

Everything that may end up in a log line, an error message or a `repr` goes through
`redact_url` / `redact_text` first, so a token or password never reaches a user's terminal.
"""

from __future__ import annotations

import os
import re
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from naja.errors import ParseError

MASK = "********"

# Query parameters whose value is a credential (compared case-insensitively). The AWS ones are
# what presigned S3 URLs carry; the others are what token-authenticated servers accept.
SECRET_QUERY_PARAMS = frozenset(
    {
        "token",
        "access_token",
        "auth_token",
        "api_key",
        "apikey",
        "password",
        "secret",
        "sig",
        "signature",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
    }
)

# A conda token is a path segment after `/t/`; anaconda.org tokens are alphanumerics plus `-_`,
# but anything up to the next `/` is treated as secret so odd tokens are hidden too.
_TOKEN_RE = re.compile(r"/t/([^/?#\s\"'<>]+)(?=/|$|[?#\s\"'<>])")
# The authority of a URL: everything after `scheme://` up to the path, query or fragment.
_AUTHORITY_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<auth>[^/?#\s]*)")
_LEADING_TOKEN_RE = re.compile(
    r"(?P<base>[A-Za-z][A-Za-z0-9+.\-]*://[^/?#\s]*)/t/(?P<token>[^/?#\s]+)(?P<rest>.*)", re.S
)
_QUERY_RE = re.compile(
    r"(?P<pre>[?&;#])(?P<key>[A-Za-z0-9_.\-]+)=(?P<value>[^&#\s\"'<>]*)",
)
# A URL inside free text: a scheme, `://`, then everything up to whitespace or a quote.
_URL_IN_TEXT_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>]+")


def _mask_query(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        if m.group("key").lower() in SECRET_QUERY_PARAMS and m.group("value"):
            return f"{m.group('pre')}{m.group('key')}={MASK}"
        return m.group(0)

    return _QUERY_RE.sub(repl, text)


def _mask_userinfo(m: re.Match[str]) -> str:
    auth = m.group("auth")
    # The host follows the last `@`: an unencoded `@` in a password stays inside the mask.
    userinfo, at, host = auth.rpartition("@")
    if not at or ":" not in userinfo:
        return m.group(0)
    user = userinfo.partition(":")[0]
    return f"{m.group('scheme')}{user}:{MASK}@{host}"


def redact_url(url: str) -> str:
    """`url` with its conda token, password and secret query values replaced by `********`."""
    if "/t/" not in url and "@" not in url and "=" not in url:
        # Nothing that could be a secret: most package URLs, on the hot path of progress output.
        return url
    out = _TOKEN_RE.sub(f"/t/{MASK}", url)
    out = _AUTHORITY_RE.sub(_mask_userinfo, out)
    if "=" in out:
        out = _mask_query(out)
    return out


# An Authorization header as logged or as a dict repr: `Authorization: Bearer xyz`,
# `'authorization': 'Basic dXNlcjpwdw=='`, `Authorization=token xyz`.
_AUTH_HEADER_RE = re.compile(
    r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token)\s+)?)[^\s\"',}]+"
)


def redact_text(text: str) -> str:
    """`text` (a log line, an error message) with every URL and auth header value redacted."""
    out = _URL_IN_TEXT_RE.sub(lambda m: redact_url(m.group(0)), text)
    out = _AUTH_HEADER_RE.sub(lambda m: m.group(1) + MASK, out)
    # Tokens can also appear in bare paths (`conda.anaconda.org/t/abc/...` without a scheme).
    return _TOKEN_RE.sub(f"/t/{MASK}", out)


def split_conda_token(url: str) -> tuple[str, str | None]:
    """Split `https://host/t/<token>/rest` into (`https://host/rest`, `<token>`).

    The token is only recognised as the first path segment, where anaconda.org and quetz put
    it (a channel may well have a `t` folder further down); a URL without one comes back
    unchanged with `None`.
    """
    m = _LEADING_TOKEN_RE.match(url)
    if m is None:
        return url, None
    return m.group("base") + m.group("rest"), m.group("token")


def add_conda_token(url: str, token: str | None) -> str:
    """Put `/t/<token>` right after the host of `url` (replacing any token already there)."""
    base, _old = split_conda_token(url)
    if not token:
        return base
    parts = urlsplit(base)
    path = parts.path if parts.path.startswith("/") or not parts.path else "/" + parts.path
    return urlunsplit(
        (parts.scheme, parts.netloc, f"/t/{token}{path}", parts.query, parts.fragment)
    )


def join_url(base: str, *parts: str) -> str:
    """Join path segments onto `base` with exactly one `/` between each; empty parts are skipped.

    Unlike `urllib.parse.urljoin` this never drops the last segment of `base` and never lets a
    part that starts with `/` replace the path.
    """
    out = base.rstrip("/")
    if not out or out.endswith(":"):
        # Keep the authority slashes of `file:///` or a bare `/`.
        out = base
    for part in parts:
        piece = part.strip("/")
        if piece:
            out = f"{out}/{piece}" if not out.endswith("/") else f"{out}{piece}"
    return out


# Characters left as they are in a file URL's path (the URL standard's path set, as rattler's
# `url` crate writes them); everything else is percent-encoded.
_PATH_SAFE = "/!$&'()*+,:;=@[]^|"


def _quote_path(path: str) -> str:
    return quote(path, safe=_PATH_SAFE, errors="surrogateescape")


_DRIVE_RE = re.compile(r"^/?([A-Za-z])[:|](?=/|\\|$)")
# A Windows path given to path_to_url (`C:\x`, `C:/x`, `C:`); `/a:/x` stays a POSIX path.
_WIN_ABS_RE = re.compile(r"^[A-Za-z]:(?:[\\/]|$)")


def url_to_path(file_url: str) -> str:
    """The local path a `file://` URL names (percent-decoded; `file:///C:/x` gives `C:/x`)."""
    if not file_url.lower().startswith("file:"):
        raise ParseError("file URL", file_url, "expected a URL starting with file://", 0)
    parts = urlsplit(file_url)
    # surrogateescape: bytes that are not UTF-8 (a path from argv or os.listdir) round-trip.
    path = unquote(parts.path, errors="surrogateescape")
    netloc = parts.netloc
    if netloc and netloc.lower() != "localhost":
        # file://C:/x (two slashes, drive as host) is common on Windows.
        if re.fullmatch(r"[A-Za-z]:?", netloc):
            return f"{netloc[0]}:{path}"
        # A UNC share: file://server/share/x -> //server/share/x
        return f"//{netloc}{path}"
    m = _DRIVE_RE.match(path)
    if m:
        return f"{m.group(1)}:{path[m.end() :]}"
    if not path:
        raise ParseError("file URL", file_url, "the URL has no path", len(file_url))
    return path


def path_to_url(path: str | os.PathLike[str]) -> str:
    """A `file://` URL for `path`, made absolute and percent-encoded (Windows drives kept)."""
    text = os.fspath(path)
    if _WIN_ABS_RE.match(text) or text.startswith("\\\\"):
        win = PureWindowsPath(text)
        if text.startswith("\\\\"):
            # UNC: \\server\share\dir -> file://server/share/dir
            server, _, rest = text.lstrip("\\").replace("\\", "/").partition("/")
            return f"file://{server}/{_quote_path(rest)}"
        posix = win.as_posix()
        return "file:///" + posix[:2] + _quote_path(posix[2:])
    abs_path = os.path.abspath(os.path.expanduser(text))
    posix = PurePosixPath(abs_path).as_posix()
    return "file://" + _quote_path(posix)
