"""Applying unlink + link to a prefix so that it ends in the old state or the new one, never half.

The journal (`journal.py`) says, before anything is touched, which packages go and — package by
package, before that package's first file — every path a new package may create and which of
those existed. Files of removed packages, and files a new package overwrites, are not deleted
but moved (same-filesystem renames) into `conda-meta/.naja-backup/`. Rolling back therefore
means: delete what the journal says may be new, move the backup back. Committing means: mark
the journal committed, drop the backup, drop the journal. A process killed at any point leaves
the journal behind, and the next naja run on the prefix (`recover`) finishes a committed
transaction or undoes an uncommitted one — under a `flock` on the prefix so two processes never
work on it at once.

New packages are linked in the order they become available (`link` may be a stream that the
package cache fills while it downloads and extracts), so linking overlaps extraction; where two
new packages share a path, the later one in link order wins whatever the arrival order.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from naja.errors import NajaError
from naja.install.errors import InstallError, TransactionError
from naja.install.history import append_history, history_block, history_size, truncate_history
from naja.install.journal import (
    JOURNAL,
    JOURNAL_TMP,
    Header,
    Journal,
    JournalWriter,
    Package,
    read_journal,
)
from naja.install.linking import HARDLINK, PROBE_PREFIX, BulkLinks, Linker
from naja.install.locks import FileLock
from naja.install.noarch import PythonInfo, compile_pyc, python_runs
from naja.install.package_link import (
    LinkPlan,
    PackageToLink,
    add_pyc_to_record,
    execute_plan,
    plan_package,
)
from naja.install.prefix_records import (
    CONDA_META,
    installed_records,
    record_filename,
    record_paths,
    write_record,
)
from naja.install.scripts import run_script
from naja.specs.records import PrefixRecord, RepoDataRecord

BACKUP = f"{CONDA_META}/.naja-backup"
PREFIX_LOCK = f"{CONDA_META}/.naja-prefix.lock"


@dataclass
class ProgressEvent:
    """Reported to the `progress` callback: `stage` is one of download, extract, unlink, link,
    pyc, scripts, commit; `done`/`total` count packages (bytes for download, files for pyc)."""

    stage: str
    done: int
    total: int
    package: str | None = None


Progress = Callable[[ProgressEvent], None]


@dataclass
class TransactionResult:
    linked: list[PrefixRecord] = field(default_factory=list)
    unlinked: list[PrefixRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    # Seconds per step (plan, unlink, link, pyc, meta, ...), for --json output and benchmarks.
    timings: dict[str, float] = field(default_factory=dict)


def _remove_path(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except (IsADirectoryError, PermissionError):
        if not (os.path.isdir(path) and not os.path.islink(path)):
            raise
        with contextlib.suppress(OSError):
            os.rmdir(path)


def _prune_dirs(prefix: str, paths: Sequence[str]) -> None:
    """Remove the now-empty folders that held `paths`, deepest first, never the prefix itself."""
    dirs: set[str] = set()
    for p in paths:
        parent = p.rpartition("/")[0]
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = parent.rpartition("/")[0]
    for d in sorted(dirs, key=lambda s: s.count("/"), reverse=True):
        if d == CONDA_META or d.startswith(CONDA_META + "/"):
            continue
        with contextlib.suppress(OSError):
            os.rmdir(os.path.join(prefix, d))


def _backup_files(prefix: str) -> list[str]:
    root = os.path.join(prefix, BACKUP)
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        rel = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        out += [rel + f for f in filenames]
        out += [rel + d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
    return out


def _stash(prefix: str, rel: str, made: set[str]) -> bool:
    """Move prefix/rel into the backup (atomic rename). False if it did not exist."""
    src = os.path.join(prefix, rel)
    dst = os.path.join(prefix, BACKUP, rel)
    parent = os.path.dirname(dst)
    if parent not in made:
        os.makedirs(parent, exist_ok=True)
        made.add(parent)
    try:
        if os.path.isdir(src) and not os.path.islink(src):
            return False  # folders are never owned by one package; they are pruned instead
        os.rename(src, dst)
        return True
    except FileNotFoundError:
        return False


def _rollback(prefix: str, journal: Journal) -> None:
    """Undo (idempotent: a rollback killed half-way is finished by the next one)."""
    backed_up = set(_backup_files(prefix))
    pre = set(journal.preexisting)
    for t in journal.targets:
        if t in pre and t not in backed_up:
            continue  # never touched: still the original file
        _remove_path(os.path.join(prefix, t))
    _sweep(prefix)
    backup = os.path.join(prefix, BACKUP)
    for rel in sorted(backed_up):
        dst = os.path.join(prefix, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst) and not os.path.isdir(dst):
            os.unlink(dst)
        os.rename(os.path.join(backup, rel), dst)
    _prune_dirs(prefix, journal.targets)
    shutil.rmtree(backup, ignore_errors=True)
    truncate_history(prefix, journal.header.history_size)
    os.unlink(os.path.join(prefix, JOURNAL))


def _finish(prefix: str, journal: Journal) -> None:
    shutil.rmtree(os.path.join(prefix, BACKUP), ignore_errors=True)
    _prune_dirs(prefix, journal.header.unlinked_paths)
    os.unlink(os.path.join(prefix, JOURNAL))


def _sweep(prefix: str) -> None:
    """Drop the scratch files a killed process can leave in conda-meta (none hold state)."""
    meta = os.path.join(prefix, CONDA_META)
    for name in os.listdir(meta):
        if name.startswith(PROBE_PREFIX) or name.endswith(".naja-tmp") or name == JOURNAL_TMP:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(meta, name))


def _recover_locked(prefix: str) -> str | None:
    _sweep(prefix)
    journal = read_journal(prefix)
    if journal is None:
        if os.path.isdir(os.path.join(prefix, BACKUP)):
            # A finished commit removes the backup before the journal, so a backup without a
            # journal holds nothing anyone needs.
            shutil.rmtree(os.path.join(prefix, BACKUP), ignore_errors=True)
        return None
    if journal.committed:
        _finish(prefix, journal)
        return "finished"
    _rollback(prefix, journal)
    return "rolled back"


def prefix_lock(prefix: str) -> FileLock:
    os.makedirs(os.path.join(prefix, CONDA_META), exist_ok=True)
    return FileLock(os.path.join(prefix, PREFIX_LOCK), what=f"the environment {prefix}")


def recover(prefix: str | os.PathLike[str]) -> str | None:
    """Finish or undo a transaction an earlier naja process left behind.

    Returns "finished", "rolled back" or None (nothing to do).
    """
    prefix = os.path.abspath(prefix)
    try:
        names = os.listdir(os.path.join(prefix, CONDA_META))
    except FileNotFoundError:
        return None
    if not any(n.startswith(".naja-") and n != ".naja-prefix.lock" for n in names):
        return None
    with prefix_lock(prefix):
        return _recover_locked(prefix)


def _python_info(
    link: Sequence[RepoDataRecord], keep: Sequence[PrefixRecord]
) -> PythonInfo | None:
    for r in link:
        if r.name == "python":
            return PythonInfo.from_record(r.version, r.python_site_packages_path)
    for k in keep:
        if k.name == "python":
            return PythonInfo.from_record(k.version, k.python_site_packages_path)
    return None


class LinkSource(Protocol):
    """Packages to link, possibly still being fetched: `records` in link order; iterating
    yields each package once it is extracted (in any order) and raises what went wrong."""

    records: Sequence[RepoDataRecord]

    def __iter__(self) -> Iterator[PackageToLink]: ...


class _Ready:
    """A LinkSource of packages that are all extracted already."""

    def __init__(self, packages: Sequence[PackageToLink]) -> None:
        self.packages = list(packages)
        self.records = [p.record for p in self.packages]

    def __iter__(self) -> Iterator[PackageToLink]:
        return iter(self.packages)


def _dist(r: RepoDataRecord) -> str:
    return f"{r.name}-{r.version}-{r.build}"


@dataclass
class Transaction:
    """Remove `unlink` (installed records) and add `link` (extracted packages, or a LinkSource
    that delivers them as they are extracted) in `prefix`."""

    prefix: str
    unlink: Sequence[PrefixRecord] = ()
    link: Sequence[PackageToLink] | LinkSource = ()
    link_mode: str = HARDLINK
    run_scripts: bool = True
    compile_pyc: bool = True
    progress: Progress | None = None
    warn: Callable[[str], None] | None = None
    history_cmd: str | None = None
    jobs: int | None = None
    requested_specs: Sequence[str] = ()
    # Test hook: called with a label at each step boundary (crash tests raise from it).
    checkpoint: Callable[[str], None] | None = None
    # The prefix lock's descriptor while apply() holds it (handed to the link helper).
    _lock_fd: int | None = field(default=None, init=False, repr=False)

    def _warn(self, msg: str) -> None:
        self._result.warnings.append(msg)
        if self.warn:
            self.warn(msg)

    def _report(self, stage: str, done: int, total: int, package: str | None = None) -> None:
        if self.progress:
            self.progress(ProgressEvent(stage, done, total, package))

    def _check(self, label: str) -> None:
        # Step boundaries double as the timing points reported in TransactionResult.timings.
        now = time.perf_counter()
        stage = label.partition(":")[0]
        self._timings[stage] = self._timings.get(stage, 0.0) + now - self._last
        self._last = now
        if self.checkpoint:
            self.checkpoint(label)

    def apply(self) -> TransactionResult:
        prefix = self.prefix = os.path.abspath(self.prefix)
        os.makedirs(os.path.join(prefix, CONDA_META), exist_ok=True)
        with prefix_lock(prefix) as lock:
            self._lock_fd = lock.fd
            _recover_locked(prefix)
            return self._apply_locked()

    def _apply_locked(self) -> TransactionResult:
        prefix = self.prefix
        result = self._result = TransactionResult()
        self._timings = result.timings
        self._last = time.perf_counter()
        source: LinkSource = self.link if hasattr(self.link, "records") else _Ready(self.link)  # type: ignore[arg-type]
        self._source = source

        installed = installed_records(prefix)
        unlink_names = {record_filename(r) for r in self.unlink}
        missing = unlink_names - {record_filename(r) for r in installed}
        if missing:
            raise InstallError(
                f"cannot remove {', '.join(sorted(missing))}: not installed in {prefix}"
            )
        keep = [r for r in installed if record_filename(r) not in unlink_names]
        self._owner_old = {p: r.name for r in keep for p in record_paths(r)}
        # A path a kept package also owns (an earlier clobber) stays: removing the package
        # that overwrote it must not break the one that keeps it.
        self._shared: set[str] = set()
        unlinked_paths: list[str] = []
        for r in self.unlink:
            for p in record_paths(r):
                if p in self._owner_old:
                    self._shared.add(p)
                    self._warn(f"{p} of the removed {r.name} is also in the installed {self._owner_old[p]}; kept")
                else:
                    unlinked_paths.append(p)
        self._check("plan")

        writer = JournalWriter(
            prefix,
            Header(
                started=time.time(),
                unlink=sorted(unlink_names),
                unlinked_paths=unlinked_paths,
                history_size=history_size(prefix),
            ),
        )
        self._check("journal-written")
        self._links: BulkLinks | None = None
        try:
            try:
                self._run(source, keep, writer, result)
            except BaseException as exc:
                try:
                    cancel = getattr(source, "cancel", None)
                    if cancel is not None:
                        cancel()
                    if self._links is not None:
                        # No link thread may create a file after the undo removed it.
                        self._links.cancel()
                        self._links.wait()
                    _rollback(prefix, writer.journal)
                except BaseException as rb_exc:  # pragma: no cover - a second failure
                    raise TransactionError(
                        f"the transaction failed ({exc}) and undoing it failed too ({rb_exc})",
                        hint="run naja again on this environment: it finishes the undo from the journal",
                    ) from rb_exc
                if isinstance(exc, NajaError):
                    raise
                if isinstance(exc, OSError):
                    raise TransactionError(
                        f"the transaction failed and was rolled back: {exc}",
                        hint="check free disk space and permissions of " + prefix,
                    ) from exc
                raise
            writer.commit()
        finally:
            writer.close()
        self._check("committed")
        _finish(prefix, writer.journal)
        self._check("finish")
        self._report("commit", 1, 1)
        return result

    def _unlink_phase(self, result: TransactionResult) -> None:
        prefix = self.prefix
        if self.run_scripts:
            for r in self.unlink:
                msg = run_script(prefix, r, "pre-unlink")
                if msg:
                    result.messages.append(msg)
        made: set[str] = set()
        for i, r in enumerate(self.unlink):
            for p in record_paths(r):
                if p not in self._shared:
                    _stash(prefix, p, made)
            _stash(prefix, f"{CONDA_META}/{record_filename(r)}", made)
            result.unlinked.append(r)
            self._report("unlink", i + 1, len(self.unlink), r.name)
            self._check(f"unlinked:{r.name}")
        self._stash_made = made
        self._check("unlink-done")

    def _claim(self, plan: LinkPlan, order: int) -> tuple[Package, set[str], set[str]]:
        """Decide, for each path of a newly arrived package, whether it creates it, leaves it
        to a later package, or replaces an earlier one's; and what existed before."""
        prefix = self.prefix
        dist = plan.dist
        targets = list(dict.fromkeys(plan.all_targets()))
        skip: set[str] = set()
        replace: set[str] = set()
        preexisting: list[str] = []
        created = self._created
        self._dists[order] = dist
        # Usually no path is shared and the prefix was empty: then there is nothing to decide
        # per path, and the bookkeeping below is two C-level dict operations.
        if self._check_disk or not created.keys().isdisjoint(targets):
            lexists = os.path.lexists
            check_disk = self._check_disk
            for t in targets:
                prev = created.get(t)
                if prev is not None:
                    if t.startswith(CONDA_META):
                        continue
                    other = self._dists[prev]
                    if prev < order:
                        replace.add(t)
                        self._warn(f"{t} is in both {other} and {dist}; {dist} wins")
                    else:
                        skip.add(t)
                        self._warn(f"{t} is in both {dist} and {other}; {other} wins")
                elif check_disk and lexists(f"{prefix}/{t}"):
                    preexisting.append(t)
                    if not t.startswith(CONDA_META):
                        owner = self._owner_old.get(t)
                        if owner is not None:
                            self._warn(f"{dist} overwrites {t} of the installed {owner}")
                        else:
                            self._warn(f"{dist} overwrites {t}, which no installed package owns")
        if skip:
            created.update((t, order) for t in targets if t not in skip)
        else:
            created.update(dict.fromkeys(targets, order))
        return Package(dist=dist, targets=targets, preexisting=preexisting), skip, replace

    def _run(
        self,
        source: LinkSource,
        keep: list[PrefixRecord],
        writer: JournalWriter,
        result: TransactionResult,
    ) -> None:
        prefix = self.prefix
        # Removal first: it needs no package file, so it overlaps the downloads.
        self._unlink_phase(result)

        order = {_dist(r): i for i, r in enumerate(source.records)}
        total = len(order)
        python = _python_info(source.records, keep)
        # path -> link order of the package that creates it; order -> that package's dist
        self._created: dict[str, int] = {}
        self._dists: dict[int, str] = {}
        # In an empty prefix nothing can be overwritten: skip the per-path existence checks.
        self._check_disk = bool(keep) or _has_files(prefix)
        linker = Linker(prefix, self.link_mode, warn=self._warn)
        made_dirs: set[str] = set()
        # Plain hardlinks go to child processes (a thread where there are none) package by
        # package, while this thread does the rest (folders, symlinks, records) and a worker
        # thread the prefix replacements; assigned before any thread starts, so an interrupt
        # cannot orphan one. The children hold the prefix lock too: after a kill -9 of this
        # process, recovery waits for them. One thread, not one per core: link(2) is so short
        # that threads mostly trade the GIL (every call releases and re-takes it), and a
        # second one measured slower in wall time at twice the CPU time.
        self._links = BulkLinks(
            linker,
            workers=self.jobs or 1,
            helper_fds=(self._lock_fd,) if self._lock_fd is not None else None,
            # Two children link while this thread plans: measured 6 % faster warm than one,
            # which finished well after the planning.
            helpers=min(2, os.cpu_count() or 1),
        )
        self._links.start()
        plans: list[LinkPlan | None] = [None] * total
        records: list[PrefixRecord | None] = [None] * total
        done = 0
        for pkg in source:
            plan = plan_package(pkg, python, compile_pyc=self.compile_pyc)
            k = order[plan.dist]
            entry, skip, replace = self._claim(plan, k)
            writer.package(entry)  # from here on this package's paths may change
            for t in entry.preexisting:
                _stash(prefix, t, self._stash_made)
            if replace:
                # An earlier package made these (maybe still queued): let its links land first.
                self._links.drain()
                for t in replace:
                    _remove_path(f"{prefix}/{t}")
            deferred: tuple[list[str], list[str]] = ([], [])
            rec = execute_plan(
                plan, prefix, linker, made_dirs, skip=skip, deferred=deferred, submit=self._links.submit
            )
            self._links.feed_package(plan.pkg.extracted_dir, prefix, *deferred)
            plans[k], records[k] = plan, rec
            done += 1
            self._report("link", done, total, plan.pkg.record.name)
            self._check(f"linked:{plan.pkg.record.name}")
        if done != total:
            raise InstallError(f"only {done} of {total} packages arrived for linking")
        ready_plans = [p for p in plans if p is not None]
        ready = [r for r in records if r is not None]
        self._finish_link(ready_plans, ready, python, result, self._links.join, writer)
        result.linked = ready
        if self.unlink or ready:
            append_history(
                prefix,
                history_block(self.unlink, ready, cmd=self.history_cmd, specs=self.requested_specs),
            )
        self._check("history")

    def _write_records(self, plans: list[LinkPlan], records: list[PrefixRecord]) -> None:
        by_name = {p.pkg.record.name: p.pkg.requested_spec for p in plans}
        for rec in records:
            if rec.requested_spec is None:
                rec.requested_spec = by_name.get(rec.name)
            write_record(self.prefix, rec)
            self._check(f"meta:{rec.name}")

    def _finish_link(
        self,
        plans: list[LinkPlan],
        records: list[PrefixRecord],
        python: PythonInfo | None,
        result: TransactionResult,
        join_links: Callable[[], None],
        writer: JournalWriter,
    ) -> None:
        """pyc, scripts and conda-meta, overlapping the background hardlinks where possible."""
        prefix = self.prefix
        pyc_plans = [p for p in plans if p.python is not None and p.compile_pyc]
        if not pyc_plans:
            # Nothing needs the files yet: write conda-meta while the links are being made,
            # once the prefix replacements (which complete the records) are done.
            if self._links is not None:
                self._links.drain(jobs_only=True)
            self._write_records(plans, records)
        join_links()
        self._check("links-done")
        if pyc_plans and python is not None:
            exe = os.path.join(prefix, python.executable)
            if python_runs(exe):
                pairs = {p.dist: p.pyc_pairs() for p in pyc_plans}
                pyc_targets = [pyc for ps in pairs.values() for _, pyc in ps]
                lexists = os.path.lexists
                pre = [t for t in pyc_targets if lexists(f"{prefix}/{t}")]
                writer.package(Package(dist="(compiled .pyc)", targets=pyc_targets, preexisting=pre))
                for t in pre:
                    _stash(prefix, t, self._stash_made)
                files = [py for ps in pairs.values() for py, _ in ps]
                done = 0

                def on_batch(n: int) -> None:
                    nonlocal done
                    done += n
                    self._report("pyc", done, len(files))

                compile_pyc(prefix, python.executable, files, progress=on_batch)
                for plan, rec in zip(plans, records, strict=True):
                    add_pyc_to_record(rec, prefix, pairs.get(plan.dist, []))
            self._check("pyc")
        if self.run_scripts:
            for i, plan in enumerate(plans):
                msg = run_script(prefix, plan.pkg.record, "post-link")
                if msg:
                    result.messages.append(msg)
                self._report("scripts", i + 1, len(plans), plan.pkg.record.name)
        if pyc_plans:
            self._write_records(plans, records)


def _has_files(prefix: str) -> bool:
    try:
        with os.scandir(prefix) as it:
            return any(e.name != CONDA_META for e in it)
    except FileNotFoundError:
        return False
