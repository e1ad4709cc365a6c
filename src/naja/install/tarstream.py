"""A streaming tar reader that validates every member and writes it below a target directory.

`tarfile` costs tens of microseconds per member and follows what the archive says; conda
packages hold tens of thousands of small files, and a package is untrusted input. This reader
parses ustar/GNU/pax headers from decompressed chunks, checks each member *before* writing it
(no absolute paths, no `..`, no links leaving the target, no device files, nothing written
through a symlink) and creates files with plain `os` calls.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator

BLOCK = 512
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
_DIR_HANDLE = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_CLOEXEC
_UMASK = os.umask(0)
os.umask(_UMASK)


class TarFormatError(Exception):
    """The stream is not a well-formed tar or a member is unsafe; the message says which."""


class _Chunks:
    """Serves exact-size reads out of an iterator of decompressed chunks."""

    __slots__ = ("buf", "it", "pos")

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.it: Iterator[bytes] = iter(chunks)
        self.buf = b""
        self.pos = 0

    def _more(self) -> bool:
        for chunk in self.it:
            if chunk:
                rest = self.buf[self.pos :]
                self.buf = rest + chunk if rest else chunk
                self.pos = 0
                return True
        return False

    def read(self, n: int) -> bytes:
        """Exactly `n` bytes, or fewer only at end of stream."""
        while len(self.buf) - self.pos < n:
            if not self._more():
                break
        out = self.buf[self.pos : self.pos + n]
        self.pos += len(out)
        return out

    def copy_to(self, fd: int, n: int) -> None:
        """Write the next `n` bytes to a file descriptor without joining chunks."""
        while n > 0:
            if self.pos >= len(self.buf) and not self._more():
                raise TarFormatError("archive ends inside a file")
            end = min(len(self.buf), self.pos + n)
            view = memoryview(self.buf)[self.pos : end]
            while view:
                written = os.write(fd, view)
                view = view[written:]
            n -= end - self.pos
            self.pos = end

    def skip(self, n: int) -> None:
        while n > 0:
            if self.pos >= len(self.buf) and not self._more():
                raise TarFormatError("archive ends inside a member")
            step = min(n, len(self.buf) - self.pos)
            self.pos += step
            n -= step

    def drain(self) -> None:
        for _ in self.it:
            pass


def _number(field: bytes) -> int:
    if field[-1:] in (b"\0", b" "):
        try:
            # The usual form: zero-padded octal digits, then NUL or space.
            return int(field[:-1], 8)
        except ValueError:
            pass
    if field and field[0] & 0x80:  # GNU base-256 for sizes above 8 GiB
        return int.from_bytes(field[1:], "big")
    text = field.split(b"\0", 1)[0].strip()
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise TarFormatError(f"bad numeric header field {field!r}") from None


_ZERO_BLOCK = bytes(BLOCK)


def _cstr(field: bytes) -> bytes:
    return field.split(b"\0", 1)[0]


def _pax(data: bytes) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise TarFormatError("bad pax header") from None
        if length <= 0:
            raise TarFormatError("bad pax header")
        record = data[space + 1 : pos + length - 1]
        key, _, value = record.partition(b"=")
        out[key.decode("utf-8", "replace")] = value
        pos += length
    return out


def clean_member_path(raw: bytes) -> str:
    """The member's path relative to the package root, or TarFormatError if it is unsafe."""
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        name = raw.decode("utf-8", "surrogateescape")
    # Fast path for the usual `lib/foo/bar.py`: no dot segments, empty segments or NULs.
    if (
        name
        and name[0] != "/"
        and name[0] != "."
        and "/." not in name
        and "//" not in name
        and "\0" not in name
        and name[-1] != "/"
        and (len(name) < 2 or name[1] != ":")
    ):
        return name
    if "\0" in name:
        raise TarFormatError(f"member name {name!r} contains a NUL byte")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise TarFormatError(f"member {name!r} has an absolute path")
    parts = [p for p in name.split("/") if p and p != "."]
    if any(p == ".." for p in parts):
        raise TarFormatError(f"member {name!r} points outside the package ('..')")
    return "/".join(parts)


def check_symlink(member: str, target: str, known: dict[str, str] | None = None) -> None:
    """A symlink at `member` pointing to `target` must resolve inside the package root.

    `known` maps the archive's other symlinks to their targets, so a chain through a linked
    directory (`a/dl -> ..`, then `x -> a/dl/../..`) is followed the way the kernel would.
    """
    if not target:
        raise TarFormatError(f"symlink {member!r} has an empty target")
    if target.startswith("/"):
        raise TarFormatError(f"symlink {member!r} points to the absolute path {target!r}")
    known = known or {}
    stack: list[str] = member.split("/")[:-1]
    pending = [p for p in target.split("/") if p and p != "."]
    hops = 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            if not stack:
                raise TarFormatError(f"symlink {member!r} -> {target!r} leaves the package")
            stack.pop()
            continue
        stack.append(part)
        link = known.get("/".join(stack))
        if link is not None:
            hops += 1
            if hops > 40 or link.startswith("/"):
                raise TarFormatError(f"symlink {member!r} -> {target!r} cannot be resolved safely")
            stack.pop()
            pending[:0] = [p for p in link.split("/") if p and p != "."]


class Extractor:
    """Extracts one tar stream into `root` (an existing, empty-or-partial directory).

    `members` collects (path, kind) of what was written: kind is "file", "symlink", "dir".
    """

    def __init__(self, root: str, *, header_checksums: bool = True) -> None:
        self.root = root
        # Off when the whole archive's digest was verified already: a corrupt header cannot
        # get past that, and a crafted one carries a valid checksum anyway.
        self.header_checksums = header_checksums
        self.dirs: set[str] = {""}
        self.symlinks: dict[str, str] = {}
        self.files: set[str] = set()
        self.members: list[tuple[str, str]] = []
        self._dir_fd = -1  # a handle on the folder the last file went into

    def _ensure_parent(self, path: str) -> None:
        parent = path.rpartition("/")[0]
        if parent in self.dirs:
            return
        # Nothing may be written through a symlink the same archive created.
        probe = parent
        while probe:
            if probe in self.symlinks or probe in self.files:
                raise TarFormatError(f"member {path!r} would be written through {probe!r}")
            probe = probe.rpartition("/")[0]
        os.makedirs(os.path.join(self.root, parent), exist_ok=True)
        probe = parent
        while probe and probe not in self.dirs:
            self.dirs.add(probe)
            probe = probe.rpartition("/")[0]

    def _clear(self, path: str, full: str) -> None:
        # A later member with the same name replaces the earlier one (tar semantics).
        if path in self.files or path in self.symlinks:
            os.unlink(full)
            self.files.discard(path)
            self.symlinks.pop(path, None)
        elif path in self.dirs:
            raise TarFormatError(f"member {path!r} replaces a directory")

    def extract(self, chunks: Iterable[bytes]) -> None:
        src = _Chunks(chunks)
        # Files are created relative to a handle on their folder (members of one folder come
        # together): the kernel then resolves one name per file instead of the whole path.
        try:
            self._extract(src)
        finally:
            if self._dir_fd >= 0:
                os.close(self._dir_fd)
                self._dir_fd = -1
        src.drain()

    def _extract(self, src: _Chunks) -> None:
        long_name: bytes | None = None
        long_link: bytes | None = None
        pax: dict[str, bytes] = {}
        zero_blocks = 0
        root = self.root
        dirs, files, symlinks = self.dirs, self.files, self.symlinks
        checksums = self.header_checksums
        fd_dir: str | None = None  # the folder self._dir_fd is a handle on
        while True:
            hdr = src.read(BLOCK)
            if len(hdr) < BLOCK:
                if not hdr and zero_blocks:
                    break
                if not hdr:
                    # Some writers end without the two zero blocks; accept a clean stop.
                    break
                raise TarFormatError("archive is truncated")
            if hdr == _ZERO_BLOCK:
                zero_blocks += 1
                if zero_blocks == 2:
                    break
                continue
            zero_blocks = 0
            # The checksum field itself counts as eight spaces.
            if checksums and _number(hdr[148:156]) != sum(hdr) - sum(hdr[148:156]) + 256:
                raise TarFormatError("tar header checksum mismatch (corrupt archive)")
            kind = hdr[156:157]
            size = _number(hdr[124:136])
            if kind in (b"L", b"K", b"x", b"g"):
                data = src.read(size)
                if len(data) < size:
                    raise TarFormatError("archive is truncated")
                src.skip(-size % BLOCK)
                if kind == b"L":
                    long_name = _cstr(data)
                elif kind == b"K":
                    long_link = _cstr(data)
                elif kind == b"x":
                    pax = _pax(data)
                continue
            if long_name is not None:
                raw_name = long_name
            elif "path" in pax:
                raw_name = pax["path"]
            else:
                raw_name = _cstr(hdr[0:100])
                if hdr[257:262] == b"ustar" and hdr[345] != 0:
                    raw_name = _cstr(hdr[345:500]) + b"/" + raw_name
            if long_link is not None:
                raw_link = long_link
            elif "linkpath" in pax:
                raw_link = pax["linkpath"]
            else:
                raw_link = _cstr(hdr[157:257])
            if "size" in pax:
                size = int(pax["size"])
            long_name = long_link = None
            pax = {}
            path = clean_member_path(raw_name)
            mode = _number(hdr[100:108]) & 0o777
            if kind in (b"0", b"\0", b"7"):
                if not path:
                    raise TarFormatError("a file member has an empty name")
                parent, _, name = path.rpartition("/")
                if parent not in dirs:
                    self._ensure_parent(path)
                if path in files or path in symlinks or path in dirs:
                    self._clear(path, f"{root}/{path}")
                if parent != fd_dir:
                    if self._dir_fd >= 0:
                        os.close(self._dir_fd)
                        self._dir_fd = -1
                    self._dir_fd = os.open(f"{root}/{parent}" if parent else root, _DIR_HANDLE)
                    fd_dir = parent
                fd = os.open(name, _CREATE, mode, dir_fd=self._dir_fd)
                try:
                    if mode & _UMASK:
                        os.fchmod(fd, mode)
                    src.copy_to(fd, size)
                finally:
                    os.close(fd)
                src.skip(-size % BLOCK)
                self.files.add(path)
                self.members.append((path, "file"))
            elif kind == b"5":
                src.skip(size + (-size % BLOCK))
                if path and path not in self.dirs:
                    self._ensure_parent(path + "/x")
                    self.members.append((path, "dir"))
            elif kind == b"2":
                target = raw_link.decode("utf-8", "surrogateescape")
                check_symlink(path, target, self.symlinks)
                self._ensure_parent(path)
                full = os.path.join(root, path)
                self._clear(path, full)
                os.symlink(target, full)
                self.symlinks[path] = target
                self.members.append((path, "symlink"))
            elif kind == b"1":
                target = clean_member_path(raw_link)
                if target not in self.files:
                    raise TarFormatError(
                        f"hard link {path!r} -> {target!r} does not point to an earlier file"
                    )
                self._ensure_parent(path)
                full = os.path.join(root, path)
                self._clear(path, full)
                os.link(os.path.join(root, target), full)
                self.files.add(path)
                self.members.append((path, "file"))
            elif kind in (b"3", b"4", b"6"):
                what = {b"3": "character device", b"4": "block device", b"6": "FIFO"}[kind]
                raise TarFormatError(f"member {path!r} is a {what}")
            elif kind == b"S":
                raise TarFormatError(f"member {path!r} is a GNU sparse file (unsupported)")
            else:
                raise TarFormatError(f"member {path!r} has unknown type {kind!r}")

    def recheck_symlinks(self) -> None:
        """Check every symlink again against the final set (a later link can redirect an earlier one)."""
        for path, target in self.symlinks.items():
            check_symlink(path, target, self.symlinks)


def is_regular(path: str) -> bool:
    return stat.S_ISREG(os.lstat(path).st_mode)
