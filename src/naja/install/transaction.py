"""Applying unlink + link to a prefix so that it ends in the old state or the new one, never half.

Before anything changes, a journal (`conda-meta/.naja-transaction.journal`) lists every path the
transaction may create and which of them already existed. Files of removed packages, and files
that a new package overwrites, are not deleted but moved (same-filesystem renames) into
`conda-meta/.naja-backup/`. Rolling back therefore means: delete what the journal says may be
new, move the backup back. Committing means: mark the journal committed, drop the backup, drop
the journal. A process killed at any point leaves the journal behind, and the next naja run on
the prefix (`recover`) finishes a committed transaction or undoes an uncommitted one — under a
`flock` on the prefix so two processes never work on it at once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import msgspec

from naja.errors import NajaError
from naja.install.errors import InstallError, TransactionError
from naja.install.history import append_history, history_block, history_size, truncate_history
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
from naja.specs.records import PrefixRecord

JOURNAL = f"{CONDA_META}/.naja-transaction.journal"
BACKUP = f"{CONDA_META}/.naja-backup"
PREFIX_LOCK = f"{CONDA_META}/.naja-prefix.lock"

_JOURNAL_TMP = ".naja-transaction.journal.tmp"

APPLYING = "applying"
COMMITTED = "committed"


class Journal(msgspec.Struct, kw_only=True):
    """What a crashed transaction needs for the next run to finish or undo it."""

    version: int = 1
    state: str = APPLYING
    started: float = 0.0
    unlink: list[str] = []  # conda-meta file names of removed packages
    link: list[str] = []  # conda-meta file names of added packages
    targets: list[str] = []  # every prefix-relative path the link phase may create
    preexisting: list[str] = []  # those of `targets` that existed before the transaction
    unlinked_paths: list[str] = []  # paths of removed packages (their folders get pruned)
    history_size: int = -1  # conda-meta/history size before, for truncating on undo


_journal_decoder = msgspec.json.Decoder(Journal)


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


def _write_journal(prefix: str, journal: Journal) -> None:
    path = os.path.join(prefix, JOURNAL)
    tmp = os.path.join(prefix, CONDA_META, _JOURNAL_TMP)
    with open(tmp, "wb") as f:
        f.write(msgspec.json.encode(journal))
    os.replace(tmp, path)


def _read_journal(prefix: str) -> Journal | None:
    path = os.path.join(prefix, JOURNAL)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    try:
        return _journal_decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise InstallError(
            f"the transaction journal {path} is damaged",
            hint="inspect the environment by hand, then delete the journal",
        ) from None


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
    truncate_history(prefix, journal.history_size)
    os.unlink(os.path.join(prefix, JOURNAL))


def _finish(prefix: str, journal: Journal) -> None:
    shutil.rmtree(os.path.join(prefix, BACKUP), ignore_errors=True)
    _prune_dirs(prefix, journal.unlinked_paths)
    os.unlink(os.path.join(prefix, JOURNAL))


def _sweep(prefix: str) -> None:
    """Drop the scratch files a killed process can leave in conda-meta (none hold state)."""
    meta = os.path.join(prefix, CONDA_META)
    for name in os.listdir(meta):
        if name.startswith(PROBE_PREFIX) or name.endswith(".naja-tmp") or name == _JOURNAL_TMP:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(meta, name))


def _recover_locked(prefix: str) -> str | None:
    _sweep(prefix)
    journal = _read_journal(prefix)
    if journal is None:
        if os.path.isdir(os.path.join(prefix, BACKUP)):
            # Killed after the journal was removed but before... cannot happen; or a backup
            # from a transaction whose journal write never landed: nothing was moved yet.
            shutil.rmtree(os.path.join(prefix, BACKUP), ignore_errors=True)
        return None
    if journal.state == COMMITTED:
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
    link: Sequence[PackageToLink], keep: Sequence[PrefixRecord]
) -> PythonInfo | None:
    for p in link:
        if p.record.name == "python":
            return PythonInfo.from_record(p.record.version, p.record.python_site_packages_path)
    for r in keep:
        if r.name == "python":
            return PythonInfo.from_record(r.version, r.python_site_packages_path)
    return None


@dataclass
class Transaction:
    """Remove `unlink` (installed records) and add `link` (extracted packages) in `prefix`."""

    prefix: str
    unlink: Sequence[PrefixRecord] = ()
    link: Sequence[PackageToLink] = ()
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
        with prefix_lock(prefix):
            _recover_locked(prefix)
            return self._apply_locked()

    def _apply_locked(self) -> TransactionResult:
        prefix = self.prefix
        result = TransactionResult()
        self._timings = result.timings
        self._last = time.perf_counter()

        self._result = result
        warn = self._warn
        installed = installed_records(prefix)
        unlink_names = {record_filename(r) for r in self.unlink}
        missing = unlink_names - {record_filename(r) for r in installed}
        if missing:
            raise InstallError(
                f"cannot remove {', '.join(sorted(missing))}: not installed in {prefix}"
            )
        keep = [r for r in installed if record_filename(r) not in unlink_names]
        python = _python_info(self.link, keep)
        plans = [plan_package(p, python, compile_pyc=self.compile_pyc) for p in self.link]
        self._check("plan")

        # -- what the link phase will create, and what of it exists already --------------
        targets: list[str] = []
        owner_new: dict[str, str] = {}
        # Paths two new packages share: only the later one creates it (conda: last one wins).
        self._skip: dict[str, set[str]] = {}
        for plan in plans:
            dist = plan.dist
            for t in plan.all_targets():
                prev = owner_new.get(t)
                if prev is not None and prev != dist and not t.startswith(CONDA_META):
                    warn(f"{t} is in both {prev} and {dist}; {dist} wins")
                    self._skip.setdefault(prev, set()).add(t)
                owner_new[t] = dist
                targets.append(t)
        preexisting: list[str] = []
        owner_old = {p: r.name for r in keep for p in record_paths(r)} if self.unlink or installed else {}
        # A path a kept package also owns (an earlier clobber) stays: removing the package
        # that overwrote it must not break the one that keeps it.
        self._shared: set[str] = set()
        unlinked_paths: list[str] = []
        for r in self.unlink:
            for p in record_paths(r):
                if p in owner_old and p not in owner_new:
                    self._shared.add(p)
                    warn(f"{p} of the removed {r.name} is also in the installed {owner_old[p]}; kept")
                else:
                    unlinked_paths.append(p)
        if installed or _has_files(prefix):
            lexists = os.path.lexists
            unlinked_set = set(unlinked_paths)
            for t in dict.fromkeys(targets):
                if lexists(os.path.join(prefix, t)):
                    preexisting.append(t)
                    if t in unlinked_set or t.startswith(CONDA_META):
                        continue
                    if t in owner_old:
                        warn(f"{owner_new[t]} overwrites {t} of the installed {owner_old[t]}")
                    else:
                        warn(f"{owner_new[t]} overwrites {t}, which no installed package owns")

        journal = Journal(
            started=time.time(),
            unlink=sorted(unlink_names),
            link=[p.dist + ".json" for p in plans],
            targets=list(dict.fromkeys(targets)),
            preexisting=preexisting,
            unlinked_paths=unlinked_paths,
            history_size=history_size(prefix),
        )
        _write_journal(prefix, journal)
        self._check("journal-written")
        self._links: BulkLinks | None = None
        try:
            self._run(plans, installed, python, preexisting, result)
        except BaseException as exc:
            try:
                if self._links is not None:
                    # No link thread may create a file after the undo removed it.
                    self._links.cancel()
                    self._links.wait()
                _rollback(prefix, journal)
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
        journal.state = COMMITTED
        _write_journal(prefix, journal)
        self._check("committed")
        _finish(prefix, journal)
        self._check("finish")
        self._report("commit", 1, 1)
        return result

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
    ) -> None:
        """pyc, scripts and conda-meta, overlapping the background hardlinks where possible."""
        prefix = self.prefix
        pyc_plans = [p for p in plans if p.pyc] if python is not None else []
        if not pyc_plans:
            # Nothing needs the files yet: write conda-meta while the links are being made.
            self._write_records(plans, records)
        join_links()
        self._check("links-done")
        if pyc_plans and python is not None:
            exe = os.path.join(prefix, python.executable)
            if python_runs(exe):
                files = [py for p in pyc_plans for py, _ in p.pyc]
                done = 0

                def on_batch(n: int) -> None:
                    nonlocal done
                    done += n
                    self._report("pyc", done, len(files))

                compile_pyc(prefix, python.executable, files, progress=on_batch)
                for plan, rec in zip(plans, records, strict=True):
                    add_pyc_to_record(rec, prefix, plan.pyc)
            self._check("pyc")
        if self.run_scripts:
            for i, plan in enumerate(plans):
                msg = run_script(prefix, plan.pkg.record, "post-link")
                if msg:
                    result.messages.append(msg)
                self._report("scripts", i + 1, len(plans), plan.pkg.record.name)
        if pyc_plans:
            self._write_records(plans, records)

    def _run(
        self,
        plans: list[LinkPlan],
        installed: list[PrefixRecord],
        python: PythonInfo | None,
        preexisting: list[str],
        result: TransactionResult,
    ) -> None:
        prefix = self.prefix
        made: set[str] = set()
        # -- unlink ------------------------------------------------------------------------
        if self.run_scripts:
            for r in self.unlink:
                msg = run_script(prefix, r, "pre-unlink")
                if msg:
                    result.messages.append(msg)
        for i, r in enumerate(self.unlink):
            for p in record_paths(r):
                if p not in self._shared:
                    _stash(prefix, p, made)
            _stash(prefix, f"{CONDA_META}/{record_filename(r)}", made)
            result.unlinked.append(r)
            self._report("unlink", i + 1, len(self.unlink), r.name)
            self._check(f"unlinked:{r.name}")
        # Paths the new packages overwrite (clobbers) move aside too, so undo can restore them.
        lexists = os.path.lexists
        for t in preexisting:
            if lexists(os.path.join(prefix, t)):
                _stash(prefix, t, made)
        self._check("clobbers-stashed")

        # -- link ----------------------------------------------------------------------------
        linker = Linker(prefix, self.link_mode, warn=self._warn)
        made_dirs: set[str] = set()
        # Plain hardlinks go to background threads package by package, while this thread does
        # the rest (folders, prefix replacement, symlinks, records); assigned before any thread
        # starts, so an interrupt cannot orphan one.
        self._links = BulkLinks(linker, workers=self.jobs or os.cpu_count() or 1)
        self._links.start()
        records: list[PrefixRecord] = []
        for i, plan in enumerate(plans):
            deferred: list[tuple[str, str]] = []
            rec = execute_plan(
                plan, prefix, linker, made_dirs, skip=self._skip.get(plan.dist, set()), deferred=deferred
            )
            self._links.feed(deferred)
            records.append(rec)
            self._report("link", i + 1, len(plans), plan.pkg.record.name)
            self._check(f"linked:{plan.pkg.record.name}")
        self._finish_link(plans, records, python, result, self._links.join)
        result.linked = records
        if self.unlink or records:
            append_history(
                prefix,
                history_block(
                    self.unlink, records, cmd=self.history_cmd, specs=self.requested_specs
                ),
            )
        self._check("history")


def _has_files(prefix: str) -> bool:
    try:
        with os.scandir(prefix) as it:
            return any(e.name != CONDA_META for e in it)
    except FileNotFoundError:
        return False
