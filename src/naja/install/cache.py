"""The package cache (`pkgs_dirs`): archives and their extracted folders, shared by environments.

Layout is conda's: `<pkgs>/<fn>` is the archive and `<pkgs>/<name>-<version>-<build>/` the
extracted package, whose `info/repodata_record.json` says which record it is. Writes go to the
first writable directory; the others (an existing conda or mamba cache, say) are reused
read-only. Each package is fetched and extracted under a per-package `flock`, so concurrent naja
processes share the cache: one extracts, the others wait and reuse.
"""

from __future__ import annotations

import glob
import heapq
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import msgspec

from naja.install.archive import extract_archive, strip_package_ext, verify_checksums
from naja.install.cache_clean import CleanReport
from naja.install.errors import BadPackageError, CacheError, InstallError
from naja.install.extract_helper import ExtractHelper, helper_available
from naja.install.locks import FileLock
from naja.install.package_link import PackageToLink
from naja.specs.records import RepoDataRecord

if TYPE_CHECKING:
    from naja.install.arrivals import Arrivals

RECORD_FILE = "info/repodata_record.json"
LOCK_DIR = ".naja-locks"


class _RecordStamp(msgspec.Struct):
    """The identifying fields of a cached repodata_record.json."""

    name: str = ""
    version: str = ""
    build: str = ""
    sha256: str | None = None
    md5: str | None = None
    url: str | None = None
    fn: str | None = None


_stamp_decoder = msgspec.json.Decoder(_RecordStamp)


def default_pkgs_dirs() -> list[Path]:
    """Where packages are cached: NAJA_CACHE_DIR/pkgs, then CONDA_PKGS_DIRS, else ~/.cache/naja/pkgs."""
    dirs: list[Path] = []
    naja_root = os.environ.get("NAJA_CACHE_DIR")
    if naja_root:
        dirs.append(Path(naja_root) / "pkgs")
    conda_dirs = os.environ.get("CONDA_PKGS_DIRS")
    if conda_dirs:
        dirs += [Path(os.path.expanduser(d)) for d in conda_dirs.split(",") if d.strip()]
    if not dirs:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        dirs.append(Path(xdg) / "naja" / "pkgs")
    seen: set[Path] = set()
    return [d for d in dirs if not (d in seen or seen.add(d))]


def _writable(d: Path) -> bool:
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(d, os.W_OK | os.X_OK)


def url_to_path(url: str) -> str | None:
    """The local path of a file:// URL (None for other schemes)."""
    if url.startswith("file://"):
        return unquote(urlparse(url).path)
    if url.startswith("/"):
        return url
    return None


def extract_workers(*, helpers: bool) -> int:
    """Extraction workers by default: one per core when each has a child process to do the
    work (`extract_helper`), else one per two cores. Extracting in a thread is mostly small
    system calls and tar parsing under the GIL, with the downloads and the linking alongside:
    on two cores one extraction thread finished sooner, with a third less CPU time, than two
    that kept handing the GIL back and forth."""
    cores = os.cpu_count() or 1
    return cores if helpers else max(1, cores // 2)


Fetcher = Callable[[RepoDataRecord, Path], None]
"""Downloads a record's package to a given path (verified or not; the cache re-checks it)."""


def _http_fetch(record: RepoDataRecord, dest: Path) -> None:
    from naja.fetch import Downloader, DownloadRequest

    with Downloader() as dl:
        dl.download(
            DownloadRequest(url=record.url or "", target=dest, sha256=record.sha256, size=record.size)
        )


class PackageCache:
    """A list of package directories: the first writable one receives new packages."""

    def __init__(self, pkgs_dirs: Sequence[str | os.PathLike[str]] | None = None) -> None:
        dirs = [Path(d) for d in pkgs_dirs] if pkgs_dirs else default_pkgs_dirs()
        self.pkgs_dirs = dirs
        self._writable: Path | None = None

    @property
    def writable_dir(self) -> Path:
        if self._writable is None:
            for d in self.pkgs_dirs:
                if _writable(d):
                    self._writable = d
                    break
            else:
                raise CacheError(
                    "no writable package cache among " + ", ".join(map(str, self.pkgs_dirs)),
                    hint="set NAJA_CACHE_DIR or CONDA_PKGS_DIRS to a writable directory",
                )
        return self._writable

    # -- lookup --------------------------------------------------------------------------

    @staticmethod
    def _matches(extracted: Path, record: RepoDataRecord) -> bool:
        try:
            stamp = _stamp_decoder.decode((extracted / RECORD_FILE).read_bytes())
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return False
        if (stamp.name, stamp.version, stamp.build) != (record.name, record.version, record.build):
            return False
        if record.sha256 and stamp.sha256:
            return stamp.sha256 == record.sha256
        if record.md5 and stamp.md5:
            return stamp.md5 == record.md5
        return stamp.url == record.url

    def find(self, record: RepoDataRecord) -> PackageToLink | None:
        """An extracted package of every pkgs dir that matches `record`, or None."""
        dist = strip_package_ext(record.fn or os.path.basename(record.url or ""))
        for d in self.pkgs_dirs:
            extracted = d / dist
            if self._matches(extracted, record):
                tarball = d / (record.fn or "")
                return PackageToLink(
                    record, str(extracted), str(tarball) if tarball.is_file() else None
                )
        return None

    # -- populate ------------------------------------------------------------------------

    def _lock(self, dist: str) -> FileLock:
        lock_dir = self.writable_dir / LOCK_DIR
        lock_dir.mkdir(exist_ok=True)
        return FileLock(str(lock_dir / f"{dist}.lock"), what=f"package cache entry {dist}")

    def _obtain_archive(self, record: RepoDataRecord, fetch: Fetcher | None) -> Path:
        """The archive in the writable cache, verified against the record's checksum."""
        fn = record.fn or os.path.basename(record.url or "")
        dest = self.writable_dir / fn
        if dest.is_file():
            try:
                verify_checksums(dest, record.sha256, record.md5, package=fn)
                return dest
            except BadPackageError:
                dest.unlink()
        tmp = dest.with_name(f".{fn}.{uuid.uuid4().hex[:8]}.partial")
        try:
            src = url_to_path(record.url or "")
            if src is not None:
                try:
                    os.link(src, tmp)
                except OSError:
                    shutil.copyfile(src, tmp)
            elif fetch is not None:
                fetch(record, tmp)
            else:
                _http_fetch(record, tmp)
            verify_checksums(tmp, record.sha256, record.md5, package=fn)
            os.replace(tmp, dest)
        except FileNotFoundError:
            raise InstallError(
                f"package file {record.url} does not exist",
                hint="the channel's index lists a file it does not hold; refresh the index",
            ) from None
        finally:
            if tmp.exists():
                tmp.unlink()
        return dest

    def ensure(
        self,
        record: RepoDataRecord,
        *,
        fetch: Fetcher | None = None,
        archive: str | os.PathLike[str] | None = None,
        verified: bool = False,
        extract: Callable[..., object] = extract_archive,
    ) -> PackageToLink:
        """The record's package, extracted in the cache (fetched and extracted if needed).

        `archive`, if given, is an already downloaded file for the record (the fetch engine's
        output): it is verified (unless `verified`) and moved into the cache. `extract` does
        the extracting (`archive.extract_archive`, or an `ExtractHelper`'s).
        """
        hit = self.find(record)
        if hit is not None:
            return hit
        fn = record.fn or os.path.basename(record.url or "")
        dist = strip_package_ext(fn)
        with self._lock(dist):
            hit = self.find(record)  # another process may have finished meanwhile
            if hit is not None:
                return hit
            if archive is not None:
                if not verified:
                    verify_checksums(archive, record.sha256, record.md5, package=fn)
                target = self.writable_dir / fn
                if os.path.abspath(archive) != str(target):
                    os.replace(archive, target)
                tarball = target
            else:
                tarball = self._obtain_archive(record, fetch)
            extracted = self.writable_dir / dist
            # Half-extracted folders of killed processes (we hold the lock, so they are dead).
            for leftover in self.writable_dir.glob(f"{glob.escape(dist)}.naja-tmp-*"):
                shutil.rmtree(leftover, ignore_errors=True)
            if extracted.exists() or extracted.is_symlink():
                # A stale or foreign folder of the same name: move it aside, then drop it.
                trash = extracted.with_name(f".{dist}.stale-{uuid.uuid4().hex[:8]}")
                os.rename(extracted, trash)
                shutil.rmtree(trash, ignore_errors=True)
            extract(tarball, extracted, digest_verified=bool(record.sha256 or record.md5))
            self._write_record(extracted, record)
            self._note_url(record)
            return PackageToLink(record, str(extracted), str(tarball))

    def _note_url(self, record: RepoDataRecord) -> None:
        # conda lists where each cached archive came from in urls.txt (one append per line).
        if record.url:
            fd = os.open(self.writable_dir / "urls.txt", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, (record.url + "\n").encode("utf-8"))
            finally:
                os.close(fd)

    @staticmethod
    def _write_record(extracted: Path, record: RepoDataRecord) -> None:
        data = msgspec.json.format(msgspec.json.encode(record.to_dict(), order="sorted"), indent=2)
        fd, tmp = tempfile.mkstemp(dir=extracted / "info", prefix=".repodata_record.")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, extracted / RECORD_FILE)

    def populate(
        self,
        records: Iterable[RepoDataRecord],
        *,
        jobs: int | None = None,
        fetch: Fetcher | None = None,
        on_done: Callable[[PackageToLink], None] | None = None,
        on_download: Callable[[Any], None] | None = None,
        stop: threading.Event | None = None,
    ) -> list[PackageToLink]:
        """Make every record available extracted, in parallel (threads: zstd, bz2, hashing and
        file writes release the GIL). Returns them in the order given. `on_done` is called
        (from worker threads) as each one is ready; `on_download` receives the download
        engine's `naja.fetch.ProgressEvent`s. Setting `stop` (or a failure) skips the packages
        not started yet."""
        stop = stop or threading.Event()
        records = list(records)
        out: list[PackageToLink | None] = [None] * len(records)
        todo: list[int] = []
        for i, r in enumerate(records):
            hit = self.find(r)
            if hit is not None:
                out[i] = hit
                if on_done:
                    on_done(hit)
            else:
                todo.append(i)
        if todo:
            workers = max(1, min(jobs or extract_workers(helpers=helper_available()), len(todo)))
            _ExtractPool(self, records, out, workers, fetch, on_done, stop).run(todo, on_download)
        return [p for p in out if p is not None]

    def stream(
        self,
        records: Sequence[RepoDataRecord],
        *,
        specs: dict[str, str] | None = None,
        on_ready: Callable[[PackageToLink], None] | None = None,
        **options: Any,
    ) -> Arrivals:
        """The records' packages as a LinkSource for `Transaction`: fetched and extracted in
        the background, handed over one by one as they are ready (`specs` fills in each
        one's requested_spec by name; `on_ready` sees each as it is handed over)."""
        from naja.install.arrivals import Arrivals

        return Arrivals(self, records, options, specs or {}, on_ready)

    # -- cleaning (`naja clean`) --------------------------------------------------------

    def clean(
        self,
        *,
        tarballs: bool = True,
        extracted: bool = False,
        in_use: Iterable[str | os.PathLike[str]] = (),
        dry_run: bool = False,
    ) -> CleanReport:
        """Free space in the writable cache.

        Always removes scratch left by killed processes (partial downloads, half-extracted
        folders). `tarballs`: archives whose extracted folder exists (they can be re-fetched).
        `extracted`: extracted folders not in `in_use` (the `extracted_package_dir` of every
        environment's records — the caller knows the environments). Each entry is removed
        under its package lock, so a concurrent install is never pulled from under.
        """
        root = self.writable_dir
        keep = {os.path.abspath(p) for p in in_use}
        report = CleanReport()
        for entry in os.scandir(root):
            name = entry.name
            path = entry.path
            if name.startswith(".naja-download-") or ".naja-tmp-" in name or ".stale-" in name:
                report.add(path, "scratch", dry_run)
            elif entry.is_file() and name.endswith((".conda", ".tar.bz2")):
                if tarballs and os.path.isdir(os.path.join(root, strip_package_ext(name))):
                    with self._lock(strip_package_ext(name)):
                        report.add(path, "tarball", dry_run)
            elif (
                extracted
                and entry.is_dir(follow_symlinks=False)
                and os.path.isfile(os.path.join(path, RECORD_FILE))
                and os.path.abspath(path) not in keep
            ):
                with self._lock(name):
                    report.add(path, "extracted", dry_run)
        return report


class _ExtractPool:
    """`PackageCache.populate`'s workers: each takes the biggest package that is ready (local,
    or downloaded) and extracts it.

    Downloads run in the calling thread's download engine, and their packages complete in no
    useful order (the big ones, sharing the bandwidth, come in last); taking the biggest ready
    package first instead of the first-come one keeps a big package from waiting behind many
    small ones and becoming the lone tail that leaves the other cores idle.
    """

    def __init__(
        self,
        cache: PackageCache,
        records: list[RepoDataRecord],
        out: list[PackageToLink | None],
        workers: int,
        fetch: Fetcher | None,
        on_done: Callable[[PackageToLink], None] | None,
        stop: threading.Event,
    ) -> None:
        self.cache = cache
        self.records = records
        self.out = out
        self.workers = workers
        self.fetch = fetch
        self.on_done = on_done
        self.stop = stop
        self.errors: list[BaseException] = []
        self._ready: list[tuple[int, int, Path | None]] = []  # heap: (-size, index, archive)
        self._more = True  # packages may still be added (downloads in flight)
        self._no_helper = False  # a helper process could not be started
        self._cond = threading.Condition()

    def _add(self, i: int, archive: Path | None) -> None:
        with self._cond:
            heapq.heappush(self._ready, (-(self.records[i].size or 0), i, archive))
            self._cond.notify()

    def _next(self) -> tuple[int, Path | None] | None:
        with self._cond:
            while not self._ready and self._more and not self.stop.is_set():
                self._cond.wait(0.1)
            if self.stop.is_set() or not self._ready:
                return None
            _, i, archive = heapq.heappop(self._ready)
            return i, archive

    def _work(self) -> None:
        helper: ExtractHelper | None = None
        try:
            while (item := self._next()) is not None:
                i, archive = item
                if helper is None and helper_available() and not self._no_helper:
                    # Started by the thread that uses it, which outlives it (the child is
                    # told to die with the thread that started it).
                    try:
                        helper = ExtractHelper()
                    except OSError:  # cannot start a process: extract in this thread
                        self._no_helper = True
                pkg = self.cache.ensure(
                    self.records[i],
                    fetch=self.fetch,
                    archive=archive,
                    verified=archive is not None,
                    extract=helper.extract if helper is not None else extract_archive,
                )
                self.out[i] = pkg
                if self.on_done:
                    self.on_done(pkg)
        except BaseException as e:
            self.errors.append(e)
            self.stop.set()
        finally:
            if helper is not None:
                helper.close()

    def run(self, todo: list[int], on_download: Callable[[Any], None] | None) -> None:
        records = self.records
        # Remote files go through the download engine; each is extracted once it is in.
        remote = [
            i for i in todo if self.fetch is None and url_to_path(records[i].url or "") is None
        ]
        remote_set = set(remote)
        for i in todo:
            if i not in remote_set:
                self._add(i, None)
        threads = [
            threading.Thread(target=self._work, name="naja-extract")
            for _ in range(self.workers)
        ]
        staging: Path | None = None
        try:
            for t in threads:
                t.start()
            if remote:
                staging = Path(
                    tempfile.mkdtemp(prefix=".naja-download-", dir=self.cache.writable_dir)
                )
                self._download(remote, staging, on_download)
        except BaseException:
            self.stop.set()
            raise
        finally:
            with self._cond:
                self._more = False
                self._cond.notify_all()
            # The workers move downloaded archives out of the staging folder: wait for them.
            for t in threads:
                if t.ident is not None:
                    t.join()
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
        if self.errors:
            raise self.errors[0]

    def _download(
        self, indexes: list[int], staging: Path, on_download: Callable[[Any], None] | None
    ) -> None:
        from naja.fetch import Downloader, DownloadRequest

        records = self.records
        requests = [
            DownloadRequest(
                url=records[i].url or "",
                target=staging / (records[i].fn or os.path.basename(records[i].url or "")),
                sha256=records[i].sha256,
                md5=None if records[i].sha256 else records[i].md5,
                size=records[i].size,
                tag=i,
            )
            for i in indexes
        ]
        with Downloader(on_progress=on_download) as dl:
            for res in dl.iter_completed(requests, raise_on_error=True):
                if self.stop.is_set():
                    break  # an extraction failed: the rest is not needed
                self._add(res.request.tag, res.path)  # type: ignore[arg-type]
