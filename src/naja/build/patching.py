"""Applies unified diffs (a recipe's `patches:`) without the `patch` program.

The strip level is found like rattler-build does: the smallest -pN for which every file the
patch touches exists in the source tree (or is created by it). Hunks must apply exactly at
their line or within a small fuzz of offsets; anything else is an error naming the hunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from naja.build.build_errors import BuildError

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass
class FilePatch:
    old: str
    new: str
    hunks: list[tuple[int, list[str]]] = field(default_factory=list)


def parse(text: str, where: str) -> list[FilePatch]:
    files: list[FilePatch] = []
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old = line[4:].split("\t")[0].strip()
            new = lines[i + 1][4:].split("\t")[0].strip()
            files.append(FilePatch(old, new))
            i += 2
            continue
        m = _HUNK.match(line)
        if m and files:
            start = int(m.group(1))
            body: list[str] = []
            i += 1
            while (
                i < len(lines)
                and lines[i][:1] in (" ", "+", "-", "\\")
                and not lines[i].startswith("--- ")
            ):
                body.append(lines[i])
                i += 1
            files[-1].hunks.append((start, body))
            continue
        i += 1
    if not files:
        raise BuildError(f"{where} is not a unified diff (no ---/+++ headers)")
    return files


def _strip(path: str, n: int) -> str | None:
    if path == "/dev/null":
        return None
    parts = path.split("/")
    return "/".join(parts[n:]) if len(parts) > n else None


def _strip_level(files: list[FilePatch], root: Path) -> int:
    for n in range(0, 4):
        ok = True
        for f in files:
            target = _strip(f.old, n) or _strip(f.new, n)
            if target is None or (f.old != "/dev/null" and not (root / target).exists()):
                ok = False
                break
        if ok:
            return n
    return 1


def apply_patch(patch_file: Path, root: Path) -> None:
    files = parse(patch_file.read_text(encoding="utf-8", errors="surrogateescape"), str(patch_file))
    level = _strip_level(files, root)
    for f in files:
        target_rel = _strip(f.new, level) or _strip(f.old, level)
        assert target_rel is not None
        target = root / target_rel
        if f.new == "/dev/null":
            target.unlink()
            continue
        old_lines = (
            []
            if f.old == "/dev/null"
            else target.read_text(encoding="utf-8", errors="surrogateescape").splitlines(
                keepends=True
            )
        )
        out = list(old_lines)
        offset = 0
        for n, (start, body) in enumerate(f.hunks, 1):
            want = [b[1:] for b in body if b[:1] in (" ", "-")]
            repl = [b[1:] for b in body if b[:1] in (" ", "+")]
            at = max(start - 1 + offset, 0) if want else start + offset
            found = None
            for delta in (0, *[d for k in range(1, 51) for d in (k, -k)]):
                pos = at + delta
                if 0 <= pos <= len(out) and _same(out[pos : pos + len(want)], want):
                    found = pos
                    break
            if found is None:
                raise BuildError(
                    f"patch {patch_file.name}: hunk {n} for {target_rel} does not apply",
                    hint="regenerate the patch against this source version",
                )
            out[found : found + len(want)] = repl
            offset += len(repl) - len(want) + (found - at)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(out), encoding="utf-8", errors="surrogateescape")


def _same(a: list[str], b: list[str]) -> bool:
    return len(a) == len(b) and all(
        x.rstrip("\r\n") == y.rstrip("\r\n") for x, y in zip(a, b, strict=True)
    )
