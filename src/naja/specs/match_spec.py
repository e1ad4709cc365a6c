"""Conda match specs: the query language for packages (`conda-forge::numpy >=1.2,<2 py*`).

Grammar, as conda reads it (conda/models/match_spec.py is the reference for every rule here):

    [channel[/subdir]:[namespace]:]name[ version[ build]][[key=value, ...]]

- `name=1.2` is fuzzy (`1.2.*`), `name==1.2` and `name 1.2` are exact, `name=1.2=b` and
  `name 1.2 b` give an exact version plus a build; operators (`>=1,<2`, `1.2|1.4`, `!=`, `~=`)
  go to the version spec as written, spaces inside them dropped.
- A bracket section (`[version='>=1', build=py*, build_number='>=2', md5=..., ...]`) overrides
  what the positional part said; values may be quoted with ' or ".
- `*` is any name; `name@` is the legacy form of `*[track_features=name]`; a trailing `# comment`
  and a ` if ...` conditional are dropped; a package URL or path (`.../linux-64/pkg-1-0.conda`)
  pins channel, subdir, name, version, build, file name and URL.

`str()` is conda's canonical form; `MatchSpec.parse` caches; `matches(record)` checks the name
first, then the version against the record's cached parsed `Version`. `MatchSpec.from_url` reads
an explicit-environment line (`<url>#<md5>`) keeping the hash.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from naja.errors import ParseError
from naja.specs.platform import Platform
from naja.specs.records import _VERSION_CACHE
from naja.specs.string_matcher import StringMatcher
from naja.specs.version_spec import BuildNumberSpec, VersionSpec

if TYPE_CHECKING:
    from naja.specs.records import PackageRecord

__all__ = ["MatchSpec"]

_KIND = "match spec"
_KNOWN_SUBDIRS = frozenset(p.value for p in Platform)
_PACKAGE_EXTENSIONS = (".conda", ".tar.bz2")
# Keys a bracket section may set: conda's FIELD_NAMES plus sha256 and namespace.
_BRACKET_KEYS = frozenset(
    {
        "channel",
        "subdir",
        "name",
        "version",
        "build",
        "build_number",
        "track_features",
        "features",
        "url",
        "md5",
        "sha256",
        "license",
        "license_family",
        "fn",
        "namespace",
    }
)
# Canonical order of the bracket keys after version/build, as conda writes them.
_TRAILING_KEYS = (
    "build_number",
    "track_features",
    "features",
    "url",
    "md5",
    "sha256",
    "license",
    "license_family",
    "fn",
)
_FEATURE_KEYS = frozenset({"track_features", "features"})
_NAME_RE = re.compile(r"[^ =<>!~]+")
_BUILD_BAD = re.compile(r"[\s'\",\[\]@]")
_URL_BAD = re.compile(r"[\x00-\x1f\x7f]")
_NAMESPACE = re.compile(r"[\w.+-]+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_CHANNEL_NAME = re.compile(r"[\w.+~*/-]+")
_CHANNEL_BAD = re.compile(r"[\s'\",\[\]]")
_NAME_BAD = re.compile(r"[^A-Za-z0-9_.\-+*]")
_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")
_ANACONDA_HOSTS = ("conda.anaconda.org", "repo.anaconda.com", "repo.continuum.io")
_DEFAULTS = frozenset({"defaults", "pkgs/main", "pkgs/r", "pkgs/msys2", "pkgs/free", "pkgs/pro"})


def _error(text: str, reason: str, position: int | None) -> ParseError:
    return ParseError(_KIND, text, reason, position)


def _string_matcher(value: str) -> StringMatcher:
    return StringMatcher.parse(value)


def _split_features(value: str) -> frozenset[str]:
    return frozenset(f for f in value.replace(" ", ",").split(",") if f)


def _glob_matcher(pattern: str, *, lower: bool) -> Callable[[str], bool]:
    if lower:
        pattern = pattern.lower()
    if "*" not in pattern:
        if lower:
            return lambda s: s.lower() == pattern
        return pattern.__eq__
    rx = re.compile(".*".join(re.escape(p) for p in pattern.split("*")), re.DOTALL)
    if lower:
        return lambda s: rx.fullmatch(s.lower()) is not None
    return lambda s: rx.fullmatch(s) is not None


# --- channels ---------------------------------------------------------------------------------


def _split_channel(value: str) -> tuple[str | None, str | None]:
    """(canonical channel name, subdir) for a channel as written in a spec or a record."""
    text = value.strip().rstrip("/")
    if not text:
        return None, None
    subdir = None
    head, sep, last = text.rpartition("/")
    # A URL's host is never its subdir ("https://linux-64" has none).
    if sep and last in _KNOWN_SUBDIRS and head and not head.endswith(":/"):
        text, subdir = head, last
    if text == "*":
        return "*", subdir
    return _canonical_channel(text), subdir


_CANONICAL_CACHE: dict[str, str] = {}


def _canonical_channel(text: str) -> str:
    cached = _CANONICAL_CACHE.get(text)
    if cached is not None:
        return cached
    result = text.rstrip("/")
    if "://" in result:
        parts = urlsplit(result)
        path = parts.path.strip("/")
        # Tokens (`/t/<token>/`) are credentials, not part of the channel's identity.
        if path.startswith("t/") and path.count("/") >= 2:
            path = path.split("/", 2)[2]
        host = parts.hostname or ""
        if host in _ANACONDA_HOSTS and path:
            result = path
        else:
            result = f"{parts.scheme}://{parts.netloc}/{path}".rstrip("/")
    _CANONICAL_CACHE[text] = result
    return result


_RECORD_CHANNEL_CACHE: dict[str, str] = {}


def _record_channel(channel: str | None) -> str | None:
    if not channel:
        return None
    cached = _RECORD_CHANNEL_CACHE.get(channel)
    if cached is not None:
        return cached
    name, _ = _split_channel(channel)
    result = name or ""
    _RECORD_CHANNEL_CACHE[channel] = result
    return result


# --- version + build --------------------------------------------------------------------------


_OPERATOR_CHARS = frozenset("=!|,<>~")
# Where the last run of characters a build string may hold begins.
_BUILD_TAIL = re.compile(r"[^-=,|<>~]*\Z")


def _split_version_build(text: str) -> tuple[str, str | None]:
    """Split "version[ build]" the way conda does: the build follows the first blank or `=` that
    does not end an operator and is followed only by characters a build string may hold."""
    if " " not in text and "=" not in text[1:]:
        return text, None
    tail_start = _BUILD_TAIL.search(text).start()  # type: ignore[union-attr]
    # The separator may be the last forbidden character itself (an "=").
    i = max(tail_start - 1, 1)
    last = len(text) - 1
    while i < last:
        c = text[i]
        if (c == " " or c == "=") and text[i - 1] not in _OPERATOR_CHARS:
            build = text[i + 1 :].strip()
            return text[:i].replace(" ", ""), build or None
        i += 1
    return text.replace(" ", ""), None


def _fuzzy_version(version: str, build: str | None) -> str:
    """conda's translation of a leading `=`: `=1.2` is fuzzy (1.2*), `==1.2` exact."""
    if version in ("=", "==") or version[0] != "=":
        return version
    rest = version[1:]
    if version.startswith("==") and build is None:
        return version[2:]
    if not any(c in rest for c in "=,|"):
        if build is None and not rest.endswith("*"):
            return rest + "*"
        return rest
    return version


# --- the spec ---------------------------------------------------------------------------------


class MatchSpec:
    """A parsed match spec. Immutable once built; compare with `==`, print with `str()`."""

    __slots__ = (
        "_extra",
        "_hash",
        "_name_match",
        "_str",
        "_version_fn",
        "build",
        "build_number",
        "channel",
        "features",
        "fn",
        "license",
        "license_family",
        "md5",
        "name",
        "namespace",
        "original",
        "sha256",
        "subdir",
        "track_features",
        "url",
        "version",
    )

    name: str
    version: VersionSpec | None
    build: StringMatcher | None
    build_number: BuildNumberSpec | None
    channel: str | None
    subdir: str | None
    namespace: str | None
    md5: str | None
    sha256: str | None
    fn: str | None
    url: str | None
    license: str | None
    license_family: str | None
    track_features: frozenset[str] | None
    features: frozenset[str] | None
    original: str | None

    def __init__(
        self,
        name: str = "*",
        *,
        version: VersionSpec | str | None = None,
        build: StringMatcher | str | None = None,
        build_number: BuildNumberSpec | str | int | None = None,
        channel: str | None = None,
        subdir: str | None = None,
        namespace: str | None = None,
        md5: str | None = None,
        sha256: str | None = None,
        fn: str | None = None,
        url: str | None = None,
        license: str | None = None,
        license_family: str | None = None,
        track_features: frozenset[str] | str | None = None,
        features: frozenset[str] | str | None = None,
        original: str | None = None,
    ) -> None:
        self.name = (name or "*").lower()
        self.version = VersionSpec.parse(version) if isinstance(version, str) else version
        self.build = _string_matcher(build) if isinstance(build, str) else build
        if isinstance(build_number, str | int):
            build_number = BuildNumberSpec.parse(build_number)
        self.build_number = build_number
        if channel == "*":
            channel = None
        self.channel = channel
        self.subdir = subdir
        self.namespace = namespace or None
        self.md5 = md5
        self.sha256 = sha256
        self.fn = fn
        self.url = url
        self.license = license
        self.license_family = license_family
        if isinstance(track_features, str):
            track_features = _split_features(track_features)
        if isinstance(features, str):
            features = _split_features(features)
        self.track_features = track_features
        self.features = features
        self.original = original
        _finish(self)

    # -- parsing

    @classmethod
    def parse(cls, text: str) -> MatchSpec:
        """Parse `text` (cached: the same string gives the same object)."""
        spec = _PARSE_CACHE.get(text)
        if spec is None:
            spec = _parse_fast(text) or _parse(text)
            if len(_PARSE_CACHE) >= _PARSE_CACHE_MAX:
                _PARSE_CACHE.clear()
            _PARSE_CACHE[text] = spec
        return spec

    @classmethod
    def from_url(cls, url: str) -> MatchSpec:
        """The spec for the package file at `url` (or a path).

        A `#<md5>` or `#sha256:<hex>` suffix, as in explicit environment files, pins the hash
        too (`parse` follows conda and drops a `#...` comment instead).
        """
        base, _, fragment = url.strip().partition("#")
        if not base.endswith(_PACKAGE_EXTENSIONS):
            raise _error(url, "not a .conda or .tar.bz2 file", len(base))
        spec = _parse_package_url(url, base)
        if not fragment:
            return spec
        digest = fragment.removeprefix("sha256:").lower()
        is_hex = bool(digest) and all(c in "0123456789abcdef" for c in digest)
        where = len(base) + 1
        if is_hex and len(digest) == 32 and not fragment.startswith("sha256:"):
            return spec._with(md5=digest)
        if is_hex and len(digest) == 64:
            return spec._with(sha256=digest)
        raise _error(url, "expected an md5 or sha256:<hex> after '#'", where)

    def _with(self, **changes: Any) -> MatchSpec:
        fields = {name: getattr(self, name) for name in _PUBLIC_FIELDS}
        fields.update(changes)
        name = fields.pop("name")
        return MatchSpec(name, **fields)

    # -- matching

    def matches(self, record: PackageRecord) -> bool:
        """Whether `record` satisfies every constraint of this spec."""
        name = self.name
        if name != "*" and record.name != name:
            nm = self._name_match
            if nm is None or not nm(record.name):
                return False
        vfn = self._version_fn
        if vfn is not None:
            v = _VERSION_CACHE.get(record.version)
            if v is None:
                v = record.parsed_version
            if not vfn(v):
                return False
        build = self.build
        if build is not None and not build.matches(record.build):
            return False
        bn = self.build_number
        if bn is not None and not bn.matches(record.build_number):
            return False
        return not self._extra or self._match_extra(record)

    def _match_extra(self, record: PackageRecord) -> bool:
        if (
            self.channel is not None or self.subdir is not None or self.md5 is not None
        ) and not self._match_location(record):
            return False
        return self._match_rest(record)

    def _match_location(self, record: PackageRecord) -> bool:
        if self.md5 is not None and record.md5 != self.md5:
            return False
        if self.subdir is not None and record.subdir != self.subdir:
            return False
        channel = self.channel
        if channel is not None:
            theirs = _record_channel(record.channel)
            if theirs != channel and not (channel == "defaults" and theirs in _DEFAULTS):
                url = record.url
                if not (url and "://" in channel and url.startswith(channel.rstrip("/") + "/")):
                    return False
        return True

    def _match_rest(self, record: PackageRecord) -> bool:
        if self.sha256 is not None and record.sha256 != self.sha256:
            return False
        if self.fn is not None and record.fn != self.fn:
            return False
        if self.url is not None and record.url != self.url:
            return False
        if self.license is not None and not _glob_matcher(self.license, lower=True)(
            record.license or ""
        ):
            return False
        if self.license_family is not None and not _glob_matcher(self.license_family, lower=True)(
            record.license_family or ""
        ):
            return False
        if self.track_features is not None and self.track_features != frozenset(
            record.track_features
        ):
            return False
        return self.features is None or self.features == frozenset(record.features)

    # -- identity and printing

    def _key(self) -> tuple[Any, ...]:
        version = self.version
        # "==1.2" and "1.2", "=1.2" and "1.2.*" are the same constraint; conda writes either.
        vkey = None if version is None or version.is_any else _version_key(str(version))
        return (
            self.name,
            vkey,
            None if self.build is None else str(self.build),
            None if self.build_number is None else str(self.build_number),
            self.channel,
            self.subdir,
            self.namespace,
            self.md5,
            self.sha256,
            self._fn_key(),
            self.url,
            self.license,
            self.license_family,
            self.track_features,
            self.features,
        )

    def _fn_key(self) -> str | None:
        # A file name that is just the URL's last part adds nothing (conda prints the URL only).
        fn, url = self.fn, self.url
        if fn is not None and url is not None and unquote(url.rsplit("/", 1)[-1]) == fn:
            return None
        return fn

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MatchSpec):
            return NotImplemented
        return self is other or self._key() == other._key()

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = self._hash = hash(self._key())
        return h

    def __repr__(self) -> str:
        return f'MatchSpec("{self}")'

    def __reduce__(self) -> tuple[Any, ...]:
        # Matchers hold compiled functions; the canonical text rebuilds an equal spec.
        return (MatchSpec.parse, (str(self),))

    def __str__(self) -> str:
        s = self._str
        if s is None:
            s = self._str = self._canonical()
        return s

    def _canonical(self) -> str:
        out: list[str] = []
        brackets: list[str] = []
        channel = self.channel
        exact_channel = channel is not None and "*" not in channel
        if exact_channel:
            out.append(channel)  # type: ignore[arg-type]
        elif channel is not None:
            brackets.append(f"channel={channel}")
        if self.subdir is not None:
            if exact_channel:
                out.append("/" + self.subdir)
            else:
                brackets.append(f"subdir={self.subdir}")
        if self.namespace:
            out.append(f":{self.namespace}:" if out else f"{self.namespace}:")
        elif out:
            out.append("::")
        out.append(self.name)

        exact_version = False
        version = self.version
        if version is not None and not version.is_any:
            v = str(version)
            if any(c in v for c in "><$^|,()"):
                brackets.append(f"version='{v}'")
            elif v[:2] in ("!=", "~="):
                if self.build is not None:
                    brackets.append(f"version='{v}'")
                else:
                    out.append(v)
            elif v.endswith(".*") and "*" not in v[:-2] and v[0] != "=":
                out.append("=" + v[:-2])
            elif v.endswith("*") and "*" not in v[:-1] and v[0] != "=":
                out.append("=" + v[:-1])
            elif version.is_exact and "*" not in v:
                out.append("==" + v.lstrip("="))
                exact_version = True
            elif v[0] == "=" and v[1:2] != "=" and "*" not in v:
                out.append(v)
            else:
                # Patterns such as 1.*.3 have no positional spelling.
                brackets.append(f"version='{v}'")

        if self.build is not None:
            b = str(self.build)
            if any(c in b for c in "><$^|,"):
                brackets.append(f"build='{b}'")
            elif "*" in b or not exact_version:
                brackets.append(f"build={b}")
            else:
                out.append("=" + b)

        values: dict[str, str | None] = {
            "build_number": None if self.build_number is None else str(self.build_number),
            "track_features": _features_str(self.track_features),
            "features": _features_str(self.features),
            "url": None if self.url is not None and exact_channel else self.url,
            "md5": self.md5,
            "sha256": self.sha256,
            "license": self.license,
            "license_family": self.license_family,
            "fn": None if self.url is not None else self.fn,
        }
        for key in _TRAILING_KEYS:
            value = values[key]
            if value is None:
                continue
            brackets.append(f"{key}={_quote(value)}")
        if brackets:
            out.append("[" + ",".join(brackets) + "]")
        elif out[-1].endswith(_PACKAGE_EXTENSIONS):
            # "x==1.conda" would read back as a file; an empty bracket section keeps it a spec.
            out.append("[]")
        return "".join(out)


def _quote(value: str) -> str:
    # conda quotes with ' when needed; a value holding ' gets " (the parser takes either).
    if value and not any(c in value for c in ", ='\"]") and not any(c.isspace() for c in value):
        return value
    return f'"{value}"' if "'" in value else f"'{value}'"


def _version_key(text: str) -> str:
    """Version spec text with conda's equivalent spellings of one constraint made equal."""
    if any(c in text for c in ",|()"):
        return text
    if text.startswith("=="):
        return text[2:]
    if text.startswith("=") and not text.startswith(("=<", "=>")):
        text = text[1:]
        if not text.endswith("*"):
            return text + ".*"
    if text.endswith("*") and not text.endswith(".*") and "*" not in text[:-1]:
        return text[:-1] + ".*"
    return text


# The constraints beyond the name and the version.
CONSTRAINT_FIELDS = (
    "build",
    "build_number",
    "channel",
    "subdir",
    "namespace",
    "md5",
    "sha256",
    "fn",
    "url",
    "license",
    "license_family",
    "track_features",
    "features",
)
_PUBLIC_FIELDS = ("name", "version", *CONSTRAINT_FIELDS, "original")


def _features_str(value: frozenset[str] | None) -> str | None:
    return None if value is None else " ".join(sorted(value))


_PARSE_CACHE: dict[str, MatchSpec] = {}
_PARSE_CACHE_MAX = 200_000


# --- the parser -------------------------------------------------------------------------------


# name, then (optionally) a version/build part starting with a blank or an operator, with none
# of the characters that need the full parser (brackets, channels, comments, control chars).
_FAST_SPEC = re.compile(r"([A-Za-z0-9_.+*-]+)([ =<>!~][^\[\]():#@\x00-\x1f\x7f]*)?")


def _parse_fast(text: str) -> MatchSpec | None:
    """The everyday `name[ version[ build]]` with nothing unusual in it, or None.

    Anything odd (brackets, channels, comments, URLs, errors) goes to the full parser, which
    gives the same result and proper error positions.
    """
    if text.__class__ is not str:
        return None
    m = _FAST_SPEC.fullmatch(text)
    if m is None:
        return None
    name, rest = m.groups()
    if name.endswith(_PACKAGE_EXTENSIONS):
        return None
    if rest is None:
        return _make(name.lower(), None, None, None, None, None, None, text)
    if " if " in rest:
        return None
    # Many packages share a constraint (">=3.6", "1.2.* py_0"): parse each one once.
    parsed = _CONSTRAINT_CACHE.get(rest)
    if parsed is None:
        vb = rest.strip()
        if len(rest) < 2 or not vb or vb.endswith(_PACKAGE_EXTENSIONS):
            return None
        version_text, build_text = _split_version_build(vb)
        version_text = _fuzzy_version(version_text, build_text)
        if build_text is not None and _BUILD_BAD.search(build_text) is not None:
            return None
        try:
            version = VersionSpec.parse(version_text)
            build = None if build_text is None else _string_matcher(build_text)
        except ParseError:
            return None
        parsed = (version, build)
        if len(_CONSTRAINT_CACHE) >= _PARSE_CACHE_MAX:
            _CONSTRAINT_CACHE.clear()
        _CONSTRAINT_CACHE[rest] = parsed
    return _make(name.lower(), parsed[0], parsed[1], None, None, None, None, text)


_CONSTRAINT_CACHE: dict[str, tuple[VersionSpec, StringMatcher | None]] = {}


def _parse(text: str) -> MatchSpec:
    if not isinstance(text, str):
        raise TypeError(f"MatchSpec.parse needs a str, not {type(text).__name__}")
    body = text
    cut = body.find("#")
    if cut >= 0:
        body = body[:cut]
    cut = body.find(" if ")
    if cut >= 0:
        body = body[:cut]
    start = len(body) - len(body.lstrip())
    body = body.strip()
    if not body:
        raise _error(text, "empty match spec", 0)
    bad = _URL_BAD.search(body)
    if bad is not None:
        raise _error(text, "control character in a match spec", start + bad.start())

    if body.endswith("@") and " " not in body and "[" not in body:
        feature = body[:-1]
        bad = _NAME_BAD.search(feature) if feature else None
        if not feature or bad is not None or "*" in feature:
            where = start if bad is None else start + bad.start()
            raise _error(text, "bad feature name before '@'", where)
        return MatchSpec("*", track_features=frozenset({feature}), original=text)

    if body.endswith(_PACKAGE_EXTENSIONS) and "[" not in body:
        return _parse_package_url(text, body)

    return _parse_spec(text, body, start)


def _parse_package_url(text: str, body: str) -> MatchSpec:
    url = body
    if "://" not in url:
        path = os.path.abspath(os.path.expanduser(url))
        url = "file://" + path.replace(os.sep, "/")
    if "'" in url and '"' in url:
        raise _error(text, "a package URL cannot hold both kinds of quotes", text.find('"'))
    bad = _URL_BAD.search(body)
    if bad is not None:
        raise _error(text, "control character in a package URL", text.find(bad.group()))
    scheme, _, rest = url.partition("://")
    if not _SCHEME.fullmatch(scheme) or "/" not in rest:
        raise _error(text, "not a package URL or path", text.find(body))
    fn = unquote(url.rsplit("/", 1)[-1])
    directory = url[: len(url) - len(url.rsplit("/", 1)[-1])].rstrip("/")
    head, _, last = directory.rpartition("/")
    if last not in _KNOWN_SUBDIRS:
        return MatchSpec("*", fn=fn, url=url, original=text)
    stem = fn[: -len(".conda")] if fn.endswith(".conda") else fn[: -len(".tar.bz2")]
    parts = stem.rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        raise _error(
            text, "a package file name must be name-version-build", text.find(fn) if fn else None
        )
    name, version, build = parts
    if _NAME_BAD.search(name) is not None or _BUILD_BAD.search(build) is not None:
        raise _error(text, "not a package file name (name-version-build)", text.find(fn))
    channel = _canonical_channel(head) if head and not head.endswith(":/") else None
    return MatchSpec(
        name,
        version=_version_spec(text, "==" + version, None),
        build=_string_matcher(build),
        channel=channel,
        subdir=last,
        fn=fn,
        url=url,
        original=text,
    )


def _version_spec(text: str, value: str, position: int | None) -> VersionSpec:
    try:
        return VersionSpec.parse(value)
    except ParseError as err:
        raise _error(text, f"bad version {value!r}: {err.reason}", position) from None


def _parse_brackets(text: str, inner: str, offset: int) -> dict[str, tuple[str, int]]:
    """key=value pairs of a bracket section; `offset` is where `inner` starts in `text`."""
    found: dict[str, tuple[str, int]] = {}
    i, n = 0, len(inner)
    while True:
        while i < n and inner[i] in " \t,":
            i += 1
        if i >= n:
            return found
        m = _KEY_RE.match(inner, i)
        if m is None:
            raise _error(text, "expected key=value in brackets", offset + i)
        key = m.group(0)
        key_pos = offset + i
        i = m.end()
        while i < n and inner[i] == " ":
            i += 1
        if i >= n or inner[i] != "=":
            raise _error(text, f"expected '=' after {key!r} in brackets", offset + i)
        i += 1
        while i < n and inner[i] == " ":
            i += 1
        value_pos = offset + i
        if i < n and inner[i] in "'\"":
            quote = inner[i]
            close = inner.find(quote, i + 1)
            if close < 0:
                raise _error(text, f"unbalanced {quote} quote in brackets", offset + i)
            value = inner[i + 1 : close]
            i = close + 1
            if i < n and inner[i] not in " \t,":
                raise _error(text, "expected ',' after a quoted value", offset + i)
        else:
            j = i
            while j < n and inner[j] not in " \t,":
                if inner[j] in "'\"":
                    raise _error(text, f"unbalanced {inner[j]} quote in brackets", offset + j)
                j += 1
            value = inner[i:j]
            i = j
        if key not in _BRACKET_KEYS:
            raise _error(text, f"unknown key {key!r} in brackets", key_pos)
        if not value.strip() or (key in _FEATURE_KEYS and not _split_features(value)):
            raise _error(text, f"empty value for {key!r} in brackets", value_pos)
        found[key] = (value.strip(), value_pos)


def _check_channel(text: str, channel: str, position: int) -> None:
    """A channel is a name or path (`conda-forge`, `pkgs/main`, `/srv/chan`) or a URL."""
    bad = _CHANNEL_BAD.search(channel)
    if bad is not None:
        raise _error(text, f"invalid character {bad.group()!r} in channel", position + bad.start())
    scheme, sep, rest = channel.partition("://")
    if sep:
        # file:///srv/chan has no host but a path; other URLs need a host.
        where = rest.strip("/") if scheme.lower() == "file" else rest.split("/", 1)[0]
        if not _SCHEME.fullmatch(scheme) or not where:
            raise _error(text, "invalid channel URL", position)
    elif not _CHANNEL_NAME.fullmatch(channel):
        raise _error(text, "invalid channel name", position)


def _parse_spec(text: str, body: str, start: int) -> MatchSpec:
    brackets: dict[str, tuple[str, int]] = {}
    close = body.rfind("]")
    open_after = body.rfind("[")
    if open_after > close:
        raise _error(text, "unclosed '['", start + open_after)
    if close >= 0:
        opening = body.rfind("[", 0, close)
        if opening < 0:
            raise _error(text, "']' without '['", start + close)
        tail = body[close + 1 :].strip()
        # conda's legacy "(optional, target=...)" suffix carries nothing a match uses.
        if tail and not (tail.startswith("(") and tail.endswith(")")):
            raise _error(text, "unexpected text after the brackets", start + close + 1)
        brackets = _parse_brackets(text, body[opening + 1 : close], start + opening + 1)
        body = body[:opening].rstrip()
        if "[" in body:
            raise _error(text, "more than one bracket section", start + body.find("["))
        if "]" in body:
            raise _error(text, "']' without '['", start + body.find("]"))
    elif body.endswith(")") and "(" in body:
        paren = body.rfind("(")
        if any(w in body[paren:] for w in ("optional", "target")):
            body = body[:paren].rstrip()

    # channel[/subdir]:[namespace]:  — conda splits on the last two colons.
    channel = subdir = namespace = None
    parts = body.rsplit(":", 2)
    spec_start = start + len(body) - len(parts[-1])
    if len(parts) == 3:
        channel_text, namespace = parts[0], parts[1]
        if not channel_text.strip():
            raise _error(text, "missing channel before '::'", start)
        _check_channel(
            text, channel_text.strip(), start + len(channel_text) - len(channel_text.lstrip())
        )
        channel, subdir = _split_channel(channel_text)
    elif len(parts) == 2:
        namespace = parts[0]
    if namespace is not None:
        namespace = namespace.strip()
        if namespace and not _NAMESPACE.fullmatch(namespace):
            raise _error(text, "invalid namespace", start + body.find(namespace))
    rest = parts[-1]
    lead = len(rest) - len(rest.lstrip())
    rest = rest.lstrip()
    spec_start += lead
    if not rest:
        raise _error(text, "missing package name", spec_start)

    # name: everything up to the first blank or operator.
    m = _NAME_RE.match(rest)
    if m is None:
        raise _error(text, "missing package name", spec_start)
    name = m.group()
    i = m.end()
    bad = _NAME_BAD.search(name)
    if bad is not None:
        raise _error(
            text, f"invalid character {bad.group(0)!r} in package name", spec_start + bad.start()
        )
    if name.endswith(_PACKAGE_EXTENSIONS):
        raise _error(text, "a package name cannot end like a package file", spec_start)
    after = rest[i:]
    vb_pos = spec_start + i
    version_text: str | None = None
    build_text: str | None = None
    # conda ignores a lone trailing "=" ("numpy="); any other lone operator is an error.
    if len(after) == 1 and after != "=" and after != " ":
        raise _error(text, f"missing version after {after!r}", vb_pos + 1)
    vb = after.strip() if len(after) > 1 else ""
    if vb:
        vb_pos += len(after) - len(after.lstrip())
        version_text, build_text = _split_version_build(vb)
        version_text = _fuzzy_version(version_text, build_text)

    if "name" in brackets:
        name = brackets["name"][0]
        bad = _NAME_BAD.search(name)
        if bad is not None:
            raise _error(text, "invalid package name in brackets", brackets["name"][1])
    if "version" in brackets:
        version_text, vb_pos = brackets["version"]
        version_text = version_text.replace(" ", "")
    if "build" in brackets:
        build_text = brackets["build"][0]
    if "channel" in brackets:
        value, pos = brackets["channel"]
        _check_channel(text, value, pos)
        b_channel, b_subdir = _split_channel(value)
        channel = b_channel or channel
        subdir = b_subdir or subdir
    if "subdir" in brackets:
        subdir = brackets["subdir"][0]
    if "namespace" in brackets:
        namespace = brackets["namespace"][0]

    version = None
    if version_text is not None:
        version = _version_spec(text, version_text, vb_pos)
    build = None
    if build_text is not None:
        bad = _BUILD_BAD.search(build_text)
        if bad is not None:
            raise _error(text, f"invalid character {bad.group()!r} in build string", vb_pos)
        try:
            build = _string_matcher(build_text)
        except ParseError as err:
            raise _error(text, f"bad build string: {err.reason}", vb_pos) from None
    build_number = None
    if "build_number" in brackets:
        value, pos = brackets["build_number"]
        try:
            build_number = BuildNumberSpec.parse(value)
        except ParseError as err:
            raise _error(text, f"bad build number: {err.reason}", pos) from None

    if not brackets:
        return _make(name.lower(), version, build, build_number, channel, subdir, namespace, text)

    def get(key: str) -> str | None:
        item = brackets.get(key)
        return None if item is None else item[0]

    track = get("track_features")
    feats = get("features")
    return MatchSpec(
        name,
        version=version,
        build=build,
        build_number=build_number,
        channel=channel,
        subdir=subdir,
        namespace=namespace,
        md5=get("md5"),
        sha256=get("sha256"),
        fn=get("fn"),
        url=get("url"),
        license=get("license"),
        license_family=get("license_family"),
        track_features=None if track is None else _split_features(track),
        features=None if feats is None else _split_features(feats),
        original=text,
    )


def _make(
    name: str,
    version: VersionSpec | None,
    build: StringMatcher | None,
    build_number: BuildNumberSpec | None,
    channel: str | None,
    subdir: str | None,
    namespace: str | None,
    original: str,
) -> MatchSpec:
    """The common case (no bracket-only fields) without __init__'s coercions."""
    spec = object.__new__(MatchSpec)
    spec.name = name
    spec.version = version
    spec.build = build
    spec.build_number = build_number
    spec.channel = None if channel == "*" else channel
    spec.subdir = subdir
    spec.namespace = namespace or None
    spec.md5 = spec.sha256 = spec.fn = spec.url = None
    spec.license = spec.license_family = None
    spec.track_features = spec.features = None
    spec.original = original
    spec._version_fn = None if version is None or version.is_any else version.matcher
    spec._name_match = None if "*" not in name or name == "*" else _glob_matcher(name, lower=True)
    spec._extra = channel is not None or subdir is not None
    spec._str = spec._hash = None
    return spec


def _finish(spec: MatchSpec) -> None:
    """Derived state used by `matches`, computed once per spec."""
    version = spec.version
    spec._version_fn = None if version is None or version.is_any else version.matcher
    name = spec.name
    spec._name_match = None if name == "*" or "*" not in name else _glob_matcher(name, lower=True)
    spec._extra = (
        spec.channel is not None
        or spec.subdir is not None
        or spec.md5 is not None
        or spec.sha256 is not None
        or spec.fn is not None
        or spec.url is not None
        or spec.license is not None
        or spec.license_family is not None
        or spec.track_features is not None
        or spec.features is not None
    )
    spec._str = None
    spec._hash = None
