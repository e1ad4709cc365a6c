"""naja.install: put packages into an environment (prefix) and take them out again.

The entry point for the CLI is `install`::

    from naja.install import install, PackageCache

    result = install(
        "/path/to/env",
        records_to_link,            # RepoDataRecords (from the solver), in link order
        records_to_unlink=(),       # PrefixRecords of installed packages to remove
        cache=None,                 # PackageCache; default: NAJA_CACHE_DIR/pkgs, CONDA_PKGS_DIRS,
                                    #   else ~/.cache/naja/pkgs
        link_mode="hardlink",       # "hardlink" (falls back to copy, with a warning) | "copy" | "softlink"
        progress=None,              # callable(ProgressEvent): stage, done, total, package
                                    #   ("download" counts bytes; "download"/"extract"
                                    #   events come from worker threads)
        run_scripts=True,           # False: --no-scripts (post-link / pre-unlink)
    )
    result.linked, result.unlinked, result.warnings, result.messages

What happens: every record's archive is fetched into the package cache (`file://` and plain
paths are hardlinked or copied, `http(s)://` downloaded by `naja.fetch`, or by a `fetch`
callable) and extracted by a worker pool sized to the cores — each member validated, each
package renamed into place only when complete. Meanwhile one `Transaction` removes the old
packages and links each new one as soon as it is extracted: files hardlinked (or
copied/reflinked/softlinked), prefixes replaced, noarch: python packages placed into
site-packages with entry points and `.pyc` files; then scripts run and `conda-meta/<dist>.json`
and `conda-meta/history` are written. A journal makes the whole change all-or-nothing even
across a bad package, a failing script, a full disk, Ctrl-C or `kill -9`: the next call on the
prefix (or `recover(prefix)`) finishes or undoes it.

An installed package whose name is also in `records_to_link` is replaced (unlinked first)
even if not listed in `records_to_unlink`; one already installed with the identical record is
left alone; when python's minor version changes, installed noarch: python packages are
relinked into the new site-packages. `remove(prefix, names)` unlinks packages by name.
`PackageCache.clean(...)` frees cache space for `naja clean`. `TransactionResult.timings`
gives seconds per step.
"""

from __future__ import annotations

import gc
import importlib
import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from naja.install.errors import (
    BadPackageError,
    CacheError,
    ChecksumMismatchError,
    InstallError,
    LinkError,
    ScriptError,
    TransactionError,
)
from naja.install.linking import COPY, HARDLINK, LINK_MODES, SOFTLINK

if TYPE_CHECKING:
    from naja.install.cache import Fetcher, PackageCache
    from naja.install.package_link import PackageToLink
    from naja.install.prefix_records import installed_records
    from naja.install.transaction import ProgressEvent, Transaction, TransactionResult, recover
    from naja.specs.records import PrefixRecord, RepoDataRecord

# Loaded on first use (PEP 562), not with the package: the extraction helper processes import
# `naja.install.archive`, which imports this package first, and must start fast (~20 ms
# instead of ~45 ms, twice per cold install).
_LAZY = {
    "Fetcher": "cache",
    "PackageCache": "cache",
    "PackageToLink": "package_link",
    "installed_records": "prefix_records",
    "record_filename": "prefix_records",
    "ProgressEvent": "transaction",
    "Transaction": "transaction",
    "TransactionResult": "transaction",
    "recover": "transaction",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value

__all__ = [
    "COPY",
    "HARDLINK",
    "LINK_MODES",
    "SOFTLINK",
    "BadPackageError",
    "CacheError",
    "ChecksumMismatchError",
    "InstallError",
    "LinkError",
    "PackageCache",
    "PackageToLink",
    "ProgressEvent",
    "ScriptError",
    "Transaction",
    "TransactionError",
    "TransactionResult",
    "install",
    "installed_records",
    "recover",
    "remove",
]


def _same(a: RepoDataRecord, b: PrefixRecord) -> bool:
    if (a.name, a.version, a.build) != (b.name, b.version, b.build):
        return False
    if a.sha256 and b.sha256:
        return a.sha256 == b.sha256
    return True


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _noarch_relinks(
    installed: dict[str, PrefixRecord],
    todo: list[RepoDataRecord],
    unlink: list[PrefixRecord],
    unlink_names: set[str],
) -> list[RepoDataRecord]:
    """noarch: python packages that stay but must move because python's minor version (and so
    site-packages) changes: they are unlinked and linked again, as conda does."""
    new_py = next((r for r in todo if r.name == "python"), None)
    old_py = installed.get("python")
    if new_py is None or old_py is None:
        return []
    same_minor = _minor(new_py.version) == _minor(old_py.version)
    if same_minor and new_py.python_site_packages_path == old_py.python_site_packages_path:
        return []
    from naja.install.prefix_records import record_filename
    from naja.specs.records import RepoDataRecord

    linking = {r.name for r in todo}
    out: list[RepoDataRecord] = []
    for r in installed.values():
        if r.noarch != "python" or r.name in linking or record_filename(r) in unlink_names:
            continue
        unlink.append(r)
        unlink_names.add(record_filename(r))
        fields = {f: getattr(r, f) for f in RepoDataRecord.__struct_fields__}
        out.append(RepoDataRecord(**fields))
    return out


def install(
    prefix: str | os.PathLike[str],
    records_to_link: Iterable[RepoDataRecord],
    records_to_unlink: Iterable[PrefixRecord] = (),
    *,
    cache: PackageCache | None = None,
    link_mode: str = HARDLINK,
    progress: Callable[[ProgressEvent], None] | None = None,
    run_scripts: bool = True,
    compile_pyc: bool = True,
    jobs: int | None = None,
    fetch: Fetcher | None = None,
    requested_specs: Sequence[str] = (),
    warn: Callable[[str], None] | None = None,
    history_cmd: str | None = None,
) -> TransactionResult:
    """Fetch, extract and link `records_to_link` into `prefix`, removing `records_to_unlink`.

    All or nothing: on any error (a bad package, a failing post-link script, a full disk,
    KeyboardInterrupt) the prefix is rolled back before the exception propagates.
    """
    from naja.install.cache import PackageCache
    from naja.install.prefix_records import installed_records, record_filename
    from naja.install.transaction import ProgressEvent, Transaction, TransactionResult, recover

    prefix = os.path.abspath(prefix)
    cache = cache or PackageCache()
    link = list(records_to_link)
    unlink = list(records_to_unlink)
    recover(prefix)
    installed = {r.name: r for r in installed_records(prefix)}
    unlink_names = {record_filename(r) for r in unlink}
    todo: list[RepoDataRecord] = []
    for rec in link:
        old = installed.get(rec.name)
        if old is not None and record_filename(old) not in unlink_names:
            if _same(rec, old):
                continue
            unlink.append(old)
            unlink_names.add(record_filename(old))
        todo.append(rec)
    todo += _noarch_relinks(installed, todo, unlink, unlink_names)
    if not todo and not unlink:
        return TransactionResult()  # everything asked for is installed already
    spec_by_name: dict[str, str] = {}
    for spec in requested_specs:
        name = spec.split()[0].split("=")[0].split("<")[0].split(">")[0].split("[")[0]
        spec_by_name[name.split("::")[-1]] = spec

    total = len(todo)
    done = 0

    def extracted(pkg: PackageToLink) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(ProgressEvent("extract", done, total, pkg.record.name))

    def downloaded(ev: object) -> None:
        if progress:
            progress(ProgressEvent("download", ev.total_downloaded, ev.total_bytes or 0, ev.name))  # type: ignore[attr-defined]

    # Packages are fetched and extracted in the background and linked as each one is ready.
    packages = cache.stream(
        todo,
        specs=spec_by_name,
        on_ready=extracted,
        jobs=jobs,
        fetch=fetch,
        on_download=downloaded if progress else None,
    )
    tx = Transaction(
        prefix,
        unlink=unlink,
        link=packages,
        link_mode=link_mode,
        run_scripts=run_scripts,
        compile_pyc=compile_pyc,
        progress=progress,
        warn=warn,
        history_cmd=history_cmd,
        requested_specs=requested_specs,
        jobs=jobs,
    )
    # The transaction allocates some 10^5 small objects per 10^4 files (paths, records, link
    # pairs) that form no reference cycles; the generational collections those allocations
    # trigger find nothing and took ~15 ms of a 0.25 s warm install: they wait until it ends.
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        return tx.apply()
    finally:
        if gc_was_on:
            gc.enable()


def remove(
    prefix: str | os.PathLike[str],
    names: Iterable[str],
    *,
    run_scripts: bool = True,
    progress: Callable[[ProgressEvent], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> TransactionResult:
    """Unlink the installed packages called `names` (exactly their files, then empty folders)."""
    from naja.install.prefix_records import installed_records
    from naja.install.transaction import Transaction, recover

    prefix = os.path.abspath(prefix)
    recover(prefix)
    installed = {r.name: r for r in installed_records(prefix)}
    names = list(names)
    missing = [n for n in names if n not in installed]
    if missing:
        raise InstallError(
            f"not installed in {prefix}: {', '.join(missing)}",
            hint="list the environment's packages to check the names",
        )
    tx = Transaction(
        prefix,
        unlink=[installed[n] for n in names],
        run_scripts=run_scripts,
        progress=progress,
        warn=warn,
    )
    return tx.apply()
