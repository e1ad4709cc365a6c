"""Requirement strings printed the way rattler's MatchSpec prints them in a rendered recipe.

`sleef =3.8` -> `sleef 3.8.*`, `ffmpeg * [build=lgpl_*]` -> `ffmpeg * lgpl_*`,
`foo>=1.2` -> `foo >=1.2`. Anything not understood is kept as written.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"[A-Za-z0-9_.\-]+|\*")
_OPERATOR_START = re.compile(r"[<>=!~]")
_BRACKET = re.compile(r"\[(?P<body>[^\]]*)\]\s*$")


def _split_brackets(body: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in re.split(r",(?=\s*[A-Za-z_]+\s*=)", body):
        key, sep, value = part.partition("=")
        if not sep:
            continue
        value = value.strip().strip("'\"")
        out[key.strip()] = value
    return out


_LEADING_ZEROS = re.compile(r"(?<![0-9A-Za-z])0+(?=[0-9])")


def _version(text: str) -> str:
    """A version constraint as rattler prints it (`=1.2` -> `1.2.*`, `==26.01` -> `==26.1`)."""
    text = _LEADING_ZEROS.sub("", text)
    plain = not any(ch in text for ch in "<>=!,|~")
    if plain and len(text) > 1 and text.endswith("*") and not text.endswith(".*"):
        # `3.10*` means the same as `3.10.*`, which is how rattler writes it.
        return text[:-1] + ".*"
    if text.startswith("=") and not text.startswith("=="):
        rest = text[1:]
        if rest and not any(ch in rest for ch in "<>=!,|"):
            if rest.endswith(".*"):
                return rest
            if rest.endswith("*"):
                return rest[:-1].rstrip(".") + ".*"
            return rest + ".*"
    return text


def format_dependency(spec: str) -> str:
    text = " ".join(spec.split())
    if not text:
        return text
    brackets: dict[str, str] = {}
    m = _BRACKET.search(text)
    if m is not None:
        brackets = _split_brackets(m.group("body"))
        text = text[: m.start()].rstrip()
    name_match = _NAME.match(text)
    if name_match is None:
        return spec.strip()
    name = name_match.group(0)
    rest = text[name_match.end() :]
    version: str | None = None
    build: str | None = None
    if rest.startswith(" ") or not rest:
        # `>=1.0, <2 | >=3` is one constraint: spaces around `,` and `|` and after an operator
        # do not separate version from build.
        squeezed = re.sub(r"\s*([,|])\s*", r"\1", rest)
        squeezed = re.sub(r"(^|[\s,|])([<>=!~]=?|==)\s+", r"\1\2", squeezed)
        parts = squeezed.split()
        if len(parts) > 2:
            return text
        if parts:
            version = parts[0]
        if len(parts) > 1:
            build = parts[1]
    elif _OPERATOR_START.match(rest):
        # `name=1.2=build`, `name>=1.2`, `name==1.2`
        if rest.startswith("=") and not rest.startswith("=="):
            pieces = rest[1:].split("=")
            if len(pieces) == 2 and not pieces[0].startswith("="):
                version, build = "=" + pieces[0], pieces[1]
            else:
                version = rest
        else:
            version = rest
    else:
        return text
    if "version" in brackets and version in (None, "*"):
        version = brackets.pop("version")
    if "build" in brackets and build is None:
        build = brackets.pop("build")
    # Package names are case-insensitive; rattler prints them lower-cased.
    out = name.lower()
    if version is not None:
        version = _version(version)
        out += " " + version
    if build is not None:
        out += " " + build
    if brackets:
        out += "[" + ", ".join(f"{k}={v}" for k, v in brackets.items()) + "]"
    return out
