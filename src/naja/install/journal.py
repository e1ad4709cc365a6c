"""The transaction journal (`conda-meta/.naja-transaction.journal`): JSON lines, append-only.

Line 1 (written atomically, before the prefix changes at all) names the removed packages and
their paths. Then, before a package's first file is touched, one line lists every path that
package may create and which of those already existed. A last line marks the commit. A kill
can tear only the line being written — and nothing of that package was touched yet — so a
torn last line is ignored when reading.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import msgspec

from naja.install.errors import InstallError
from naja.install.prefix_records import CONDA_META

JOURNAL = f"{CONDA_META}/.naja-transaction.journal"
JOURNAL_TMP = ".naja-transaction.journal.tmp"


class Header(msgspec.Struct, tag="header", kw_only=True):
    version: int = 2
    started: float = 0.0
    unlink: list[str] = []  # conda-meta file names of removed packages
    unlinked_paths: list[str] = []  # their paths (folders get pruned on commit)
    history_size: int = -1  # conda-meta/history size before, for truncating on undo


class Package(msgspec.Struct, tag="package", kw_only=True):
    dist: str
    targets: list[str]  # every prefix-relative path this package may create
    preexisting: list[str] = []  # those of `targets` that existed (and get stashed)


class Commit(msgspec.Struct, tag="commit", kw_only=True):
    pass


_Line = Header | Package | Commit
_decoder = msgspec.json.Decoder(_Line)
_encoder = msgspec.json.Encoder()


@dataclass
class Journal:
    """The merged view of a journal file: what recovery needs to finish or undo it."""

    header: Header
    targets: list[str] = field(default_factory=list)
    preexisting: list[str] = field(default_factory=list)
    committed: bool = False

    def add(self, pkg: Package) -> None:
        self.targets += pkg.targets
        self.preexisting += pkg.preexisting


class JournalWriter:
    """Writes the journal of one transaction and mirrors it in memory (`journal`)."""

    def __init__(self, prefix: str, header: Header) -> None:
        self.path = os.path.join(prefix, JOURNAL)
        tmp = os.path.join(prefix, CONDA_META, JOURNAL_TMP)
        with open(tmp, "wb") as f:
            f.write(_encoder.encode(header) + b"\n")
        os.replace(tmp, self.path)  # the header lands whole or not at all
        self.journal = Journal(header)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)

    def _append(self, line: _Line) -> None:
        data = memoryview(_encoder.encode(line) + b"\n")
        while data:
            data = data[os.write(self._fd, data) :]

    def package(self, pkg: Package) -> None:
        """Record a package's paths; only after this returns may any of them be touched."""
        self._append(pkg)
        self.journal.add(pkg)

    def commit(self) -> None:
        self._append(Commit())
        self.journal.committed = True

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def read_journal(prefix: str) -> Journal | None:
    path = os.path.join(prefix, JOURNAL)
    try:
        with open(path, "rb") as f:
            lines = f.read().split(b"\n")
    except FileNotFoundError:
        return None
    if lines and not lines[-1]:
        lines.pop()
    journal: Journal | None = None
    for i, raw in enumerate(lines):
        try:
            line = _decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            if i == len(lines) - 1 and journal is not None:
                break  # torn by a kill while being written: that package was not started
            raise InstallError(
                f"the transaction journal {path} is damaged (line {i + 1})",
                hint="inspect the environment by hand, then delete the journal",
            ) from None
        if isinstance(line, Header):
            journal = Journal(line)
        elif journal is None:
            raise InstallError(f"the transaction journal {path} has no header")
        elif isinstance(line, Package):
            journal.add(line)
        else:
            journal.committed = True
    return journal
