"""Replacing a package's build prefix placeholder with the target prefix.

Text files: every occurrence is replaced, then a shebang line longer than the kernel allows
(or holding an escaped space) is rewritten to `#!/usr/bin/env NAME ARGS`, as conda does.
Binary files: each NUL-terminated string holding the placeholder is rewritten in place and
padded with NULs so the file keeps its length and offsets.
"""

from __future__ import annotations

import mmap
import re
import sys

from naja.install.errors import LinkError

# Linux refuses longer `#!` lines (BINPRM_BUF_SIZE); macOS allows 512.
MAX_SHEBANG_LENGTH = 512 if sys.platform == "darwin" else 127

_SHEBANG = re.compile(
    rb"^(#!"  # the whole line
    rb"(?:[ ]*)"
    rb"(/(?:\\ |[^ \n\r\t])*)"  # the interpreter: no unescaped whitespace
    rb"(.*)"  # options
    rb")$",
    re.MULTILINE,
)


def replace_long_shebang(data: bytes) -> bytes:
    """Rewrite a too-long (or space-holding) first line `#!/a/b/python -x` to `#!/usr/bin/env python -x`."""
    if not data.startswith(b"#!"):
        return data
    m = _SHEBANG.match(data)
    if not m:
        return data
    whole, executable, options = m.groups()
    head, _, name = executable.rpartition(b"/")
    if len(whole) > MAX_SHEBANG_LENGTH or b"\\ " in head:
        new = b"#!/usr/bin/env " + name + options
        return new + data[len(whole) :]
    return data


def replace_text(data: bytes, placeholder: bytes, new_prefix: bytes) -> bytes:
    return replace_long_shebang(data.replace(placeholder, new_prefix))


def _check_binary_prefix(placeholder: bytes, new_prefix: bytes, path: str) -> None:
    if len(new_prefix) > len(placeholder):
        raise LinkError(
            f"cannot install {path or 'a binary file'}: the prefix ({len(new_prefix)} bytes) is "
            f"longer than the package's build placeholder ({len(placeholder)} bytes)",
            hint="use a shorter prefix path",
        )


def binary_patches(
    data: bytes | mmap.mmap, placeholder: bytes, new_prefix: bytes, *, path: str = ""
) -> list[tuple[int, bytes]]:
    """(offset, new bytes) for each NUL-terminated string holding the placeholder, each patch
    as long as what it replaces, so the file keeps its length and offsets."""
    _check_binary_prefix(placeholder, new_prefix, path)
    pad = len(placeholder) - len(new_prefix)
    find = data.find
    patches = []
    start = find(placeholder)
    while start >= 0:
        end = find(b"\0", start)
        if end < 0:
            end = len(data)
        segment = data[start:end]
        count = segment.count(placeholder)
        patches.append((start, segment.replace(placeholder, new_prefix) + b"\0" * (pad * count)))
        start = find(placeholder, end)
    return patches


def replace_binary(
    data: bytes, placeholder: bytes, new_prefix: bytes, *, path: str = ""
) -> bytes | bytearray:
    """Replace inside each NUL-terminated string, keeping the total length."""
    patches = binary_patches(data, placeholder, new_prefix, path=path)
    if not patches:
        return data
    # Same length in and out: copy once, then rewrite each affected C string in place.
    out = bytearray(data)
    for start, new in patches:
        out[start : start + len(new)] = new
    return out


def replace_prefix(
    data: bytes, placeholder: str, new_prefix: str, file_mode: str, *, path: str = ""
) -> bytes | bytearray:
    ph = placeholder.encode("utf-8")
    np = new_prefix.encode("utf-8")
    if file_mode == "binary":
        return replace_binary(data, ph, np, path=path)
    return replace_text(data, ph, np)
