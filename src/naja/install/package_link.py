"""Linking one extracted package into a prefix: its plan (every path it will create, known
before anything is touched) and the execution that produces its conda-meta PrefixRecord."""

from __future__ import annotations

import functools
import hashlib
import mmap
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from naja.install.errors import InstallError, LinkError
from naja.install.linking import COPY, HARDLINK, LINK_TYPE_NUMBER, Linker
from naja.install.noarch import EntryPoint, PythonInfo, entry_point_script, pyc_path, target_path
from naja.install.pkginfo import PathEntry, read_link_json, read_paths
from naja.install.prefix_records import LinkedPath as RecordPath
from naja.install.prefix_replace import binary_patches, replace_prefix
from naja.specs.records import Link, PathsData, PrefixRecord, RepoDataRecord


@dataclass
class PackageToLink:
    """A record whose package is extracted at `extracted_dir` (and whose archive is `tarball`)."""

    record: RepoDataRecord
    extracted_dir: str
    tarball: str | None = None
    requested_spec: str | None = None


@dataclass
class LinkPlan:
    """Everything one package will create in the prefix, computed from the cache only."""

    pkg: PackageToLink
    entries: list[PathEntry]
    targets: list[str]
    entry_points: list[EntryPoint] = field(default_factory=list)
    python: PythonInfo | None = None
    compile_pyc: bool = False

    @property
    def dist(self) -> str:
        r = self.pkg.record
        return f"{r.name}-{r.version}-{r.build}"

    @property
    def meta_path(self) -> str:
        return f"conda-meta/{self.dist}.json"

    def entry_point_targets(self) -> list[str]:
        if self.python is None:
            return []
        return [f"{self.python.bin_dir}/{ep.name}" for ep in self.entry_points]

    def pyc_pairs(self) -> list[tuple[str, str]]:
        """(`.py` target, `.pyc` target) for each module to compile (noarch: python only).

        Not part of `all_targets`: they are journaled only once the interpreter is known to
        run, just before compiling."""
        py = self.python
        if py is None or not self.compile_pyc:
            return []
        sp = py.site_packages + "/"
        return [
            (t, pyc_path(t, py))
            for t, e in zip(self.targets, self.entries, strict=True)
            if t.endswith(".py") and t.startswith(sp) and e.path_type != "softlink"
        ]

    def all_targets(self) -> list[str]:
        out = list(self.targets)
        out += self.entry_point_targets()
        out.append(self.meta_path)
        return out


def plan_package(pkg: PackageToLink, python: PythonInfo | None, *, compile_pyc: bool) -> LinkPlan:
    entries = read_paths(pkg.extracted_dir)
    rec = pkg.record
    py = None
    eps: list[EntryPoint] = []
    if rec.noarch == "python":
        if python is None:
            raise InstallError(
                f"{rec.name} {rec.version} is a noarch: python package but the environment "
                "has no python",
                hint="install python into the environment in the same transaction",
            )
        py = python
        link_json = read_link_json(pkg.extracted_dir)
        if link_json and link_json.noarch and link_json.noarch.entry_points:
            eps = [EntryPoint.parse(t) for t in link_json.noarch.entry_points]
        targets = [target_path(e.path, py) for e in entries]
    else:
        targets = [e.path for e in entries]
    plan = LinkPlan(pkg, entries, targets, eps, py, compile_pyc=compile_pyc)
    return plan


def _replace_into(
    src: str,
    dst: str,
    e: PathEntry,
    t: str,
    prefix: str,
    linker: Linker,
    mode: str,
    can_reflink: bool,
    rp: RecordPath,
    dist: str,
) -> None:
    """Write `src` with its placeholder replaced by `prefix` to `dst` (a link if unchanged)."""
    try:
        if e.file_mode == "binary":
            sha = _binary_into(src, dst, (e.prefix_placeholder or "").encode(), prefix.encode(), t)
            if sha is None:
                linker.place(src, dst, COPY if e.no_link else mode, can_reflink)
            else:
                rp.sha256_in_prefix = sha
            return
        with open(src, "rb") as f:
            data = f.read()
        new = replace_prefix(data, e.prefix_placeholder or "", prefix, e.file_mode or "text", path=t)
        if new is data or new == data:
            linker.place(src, dst, COPY if e.no_link else mode, can_reflink)
            return
        st_mode = os.stat(src).st_mode & 0o7777
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, st_mode)
        try:
            _write_all(fd, new)
            os.fchmod(fd, st_mode)
        finally:
            os.close(fd)
        rp.sha256_in_prefix = _sha256(new)
    except (FileExistsError, FileNotFoundError) as exc:
        error = _placing_error(exc, t, dist, prefix, e.path, src, os.path.dirname(src))
        if error is None:
            raise
        raise error from None


def _placing_error(
    exc: OSError, t: str, dist: str, prefix: str, path: str, src: str, package_dir: str
) -> LinkError | None:
    """What to tell the user when a package file could not be placed at `t`; None when the
    OS error says it best (re-raise it)."""
    if isinstance(exc, FileExistsError):
        return LinkError(
            f"cannot link {t} of {dist}: the path already exists in {prefix}",
            hint="this is a bug in naja's clobber handling; please report it",
        )
    if not os.path.lexists(src):
        return LinkError(
            f"{dist}: {path} is listed in paths.json but missing from the extracted "
            f"package {package_dir}",
            hint="remove the extracted folder from the package cache and retry",
        )
    return None


def _binary_into(src: str, dst: str, placeholder: bytes, prefix: bytes, t: str) -> str | None:
    """`src` with its binary placeholder strings patched, written to `dst`; returns the sha256
    of what was written, or None (nothing written) when no string changes.

    Binaries can be tens of MB (libpython) and change in a few places: the file is mapped,
    not read; copied by the kernel (copy_file_range), not through Python buffers; only the
    patched strings are written; and the hash runs over the mapping with the patches spliced
    in. The bytes are exactly `replace_binary`'s.
    """
    with open(src, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if not size:
            return None
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            patches = binary_patches(mm, placeholder, prefix, path=t)
            if all(mm[off : off + len(new)] == new for off, new in patches):
                return None
            st_mode = os.fstat(f.fileno()).st_mode & 0o7777
            view = memoryview(mm)
            try:
                fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, st_mode)
                try:
                    _copy_whole(f.fileno(), fd, size, view)
                    for off, new in patches:
                        os.pwrite(fd, new, off)
                    os.fchmod(fd, st_mode)
                finally:
                    os.close(fd)
                h = hashlib.sha256()
                pos = 0
                for off, new in patches:
                    h.update(view[pos:off])
                    h.update(new)
                    pos = off + len(new)
                h.update(view[pos:])
                return h.hexdigest()
            finally:
                view.release()


def _copy_whole(src_fd: int, dst_fd: int, size: int, data: memoryview) -> None:
    """Copy `size` bytes from the start of `src_fd` to `dst_fd` (both at offset 0)."""
    copied = 0
    try:
        while copied < size:
            n = os.copy_file_range(src_fd, dst_fd, size - copied, copied, copied)
            if n <= 0:
                break
            copied += n
    except (OSError, AttributeError):  # not Linux, another filesystem type, an old kernel
        pass
    while copied < size:
        copied += os.pwrite(dst_fd, data[copied:], copied)


def _write_all(fd: int, data: bytes | bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _check_inside(prefix: str, rel: str, dist: str) -> None:
    """A directory a package writes into may be a symlink (made by another package, or by
    the user) only if it leads to a place inside the prefix.

    Each archive's own symlinks are checked when it is read; this catches a chain across
    packages (one package's `x -> .`, another's `b -> x/..`, a third's file `b/f`) that
    would put files outside the environment.
    """
    root = os.path.realpath(prefix)
    real = os.path.realpath(f"{prefix}/{rel}")
    if real != root and not real.startswith(root + os.sep):
        raise LinkError(
            f"cannot install {dist}: {rel} in {prefix} is a symbolic link leading outside "
            f"the environment ({real})",
            hint="a package (or a change made by hand) linked a folder out of the "
            "environment; remove that link or that package",
        )


def _sha256(data: bytes | bytearray) -> str:
    return hashlib.sha256(data).hexdigest()


def execute_plan(
    plan: LinkPlan,
    prefix: str,
    linker: Linker,
    made_dirs: set[str],
    *,
    skip: set[str] | frozenset[str] = frozenset(),
    deferred: tuple[list[str], list[str]] | None = None,
    submit: Callable[[Callable[[], None]], None] | None = None,
) -> PrefixRecord:
    """Create the package's files (which must not exist yet) and return its PrefixRecord.

    `made_dirs` is the transaction-wide set of prefix-relative directories known to exist;
    `skip` holds paths that a later package of the same transaction also has: that package
    creates them (the later one wins, as in conda) and this one only records them.
    With `deferred` (two lists), plain hardlinks are not made but their package-relative source
    and prefix-relative target appended there, for `linking.BulkLinks` to make; with `submit`, prefix replacements run there too (the
    record is complete once those jobs are done).
    """
    src_root = plan.pkg.extracted_dir
    mode, can_reflink = linker.decide(src_root, prefix)
    place = linker.place
    link = os.link
    paths: list[RecordPath] = []
    append = paths.append
    fast_hardlink = mode == HARDLINK

    def ensure_parent(rel: str) -> None:
        # mkdir(2) the missing levels top-down; no stat(2) (os.makedirs stats every level).
        missing = []
        parent = rel.rpartition("/")[0]
        while parent not in made_dirs:
            missing.append(parent)
            parent = parent.rpartition("/")[0]
        for d in reversed(missing):
            try:
                os.mkdir(f"{prefix}/{d}")
            except FileExistsError:
                if not os.path.isdir(f"{prefix}/{d}"):
                    raise
                if os.path.islink(f"{prefix}/{d}"):
                    _check_inside(prefix, d, plan.dist)
            made_dirs.add(d)

    made_dirs.add("")
    defer = deferred is not None and fast_hardlink
    defer_src, defer_dst = deferred if deferred is not None else ([], [])
    defer_src_append, defer_dst_append = defer_src.append, defer_dst.append
    for e, t in zip(plan.entries, plan.targets, strict=True):
        if t.rpartition("/")[0] not in made_dirs:
            ensure_parent(t)
        ptype = e.path_type
        if (
            defer
            and ptype == "hardlink"
            and not e.prefix_placeholder
            and not e.no_link
            and not (skip and t in skip)
        ):
            # The common case, kept lean: tens of thousands of these per environment.
            # (no per-file tuple or joined path here: the link helper joins them)
            defer_src_append(e.path)
            defer_dst_append(t)
            append(RecordPath(path=t, path_type=ptype, sha256=e.sha256, size_in_bytes=e.size_in_bytes))
            continue
        src = f"{src_root}/{e.path}"
        dst = f"{prefix}/{t}"
        sha_in_prefix = None
        try:
            if skip and t in skip:
                pass
            elif ptype == "softlink" and os.path.islink(src):
                os.symlink(os.readlink(src), dst)
            elif ptype == "directory":
                os.makedirs(dst, exist_ok=True)
                made_dirs.add(t)
            elif e.prefix_placeholder and e.file_mode in ("text", "binary", None):
                rp = RecordPath(
                    path=t,
                    path_type=ptype,
                    sha256=e.sha256,
                    size_in_bytes=e.size_in_bytes,
                    file_mode=e.file_mode,
                    prefix_placeholder=e.prefix_placeholder,
                    no_link=e.no_link,
                )
                job = functools.partial(
                    _replace_into, src, dst, e, t, prefix, linker, mode, can_reflink, rp, plan.dist
                )
                if submit is not None:
                    submit(job)  # the record's sha256_in_prefix is filled in by the job
                else:
                    job()
                append(rp)
                continue
            elif fast_hardlink and not e.no_link:
                # (a "softlink" entry stored as a regular file, as old packages do, lands here)
                if deferred is not None:
                    defer_src_append(e.path)
                    defer_dst_append(t)
                else:
                    try:
                        link(src, dst, follow_symlinks=False)
                    except OSError:
                        place(src, dst, HARDLINK, can_reflink)
            else:
                place(src, dst, COPY if (e.no_link and mode != COPY) else mode, can_reflink)
        except (FileExistsError, FileNotFoundError) as exc:
            error = _placing_error(exc, t, plan.dist, prefix, e.path, src, src_root)
            if error is None:
                raise
            raise error from None
        append(
            RecordPath(
                path=t,
                path_type=ptype,
                sha256=e.sha256,
                sha256_in_prefix=sha_in_prefix,
                size_in_bytes=e.size_in_bytes,
                file_mode=e.file_mode,
                prefix_placeholder=e.prefix_placeholder,
                no_link=e.no_link,
            )
        )

    if plan.python is not None and plan.entry_points:
        python_abs = f"{prefix}/{plan.python.executable}"
        for ep, t in zip(plan.entry_points, plan.entry_point_targets(), strict=True):
            ensure_parent(t)
            script = entry_point_script(ep, python_abs)
            dst = f"{prefix}/{t}"
            if skip and t in skip:
                continue
            fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o755)
            try:
                _write_all(fd, script)
                os.fchmod(fd, 0o755)
            finally:
                os.close(fd)
            append(
                RecordPath(
                    path=t,
                    path_type="unix_python_entry_point",
                    sha256=_sha256(script),
                    size_in_bytes=len(script),
                )
            )
    return make_prefix_record(plan, paths, mode)


def make_prefix_record(plan: LinkPlan, paths: list[RecordPath], mode: str) -> PrefixRecord:
    pkg = plan.pkg
    fields = msgspec.structs.asdict(pkg.record)
    fields.update(
        files=[p.path for p in paths],
        paths_data=PathsData(paths_version=1, paths=paths),
        link=Link(source=pkg.extracted_dir, type=LINK_TYPE_NUMBER.get(mode, 1)),
        requested_spec=pkg.requested_spec,
        package_tarball_full_path=pkg.tarball,
        extracted_package_dir=pkg.extracted_dir,
    )
    return PrefixRecord(**fields)


def add_pyc_to_record(record: PrefixRecord, prefix: str, pyc: list[tuple[str, str]]) -> None:
    """Record the `.pyc` files that compiling actually produced."""
    if not pyc or record.paths_data is None:
        return
    for _, target in pyc:
        if os.path.isfile(f"{prefix}/{target}"):
            record.files.append(target)
            record.paths_data.paths.append(RecordPath(path=target, path_type="pyc_file"))


__all__ = [
    "LinkPlan",
    "PackageToLink",
    "add_pyc_to_record",
    "execute_plan",
    "plan_package",
]
