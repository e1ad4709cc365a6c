"""Markdown tables as data: parse every pipe table of a benchmark's result file by column name.

The benchmark scripts are written by different people and change; the report must not depend
on column order, number formatting or units. A table is a heading (the nearest `#` line above
it), normalised column names and rows of cells; numbers are read out of cells such as
`13.88 s`, `1.33 ms`, `0.21x`, `5,957` or `+533.6`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0}
_DURATION = re.compile(
    r"([-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*(ns|µs|us|ms|min|s)\b"
)


def norm(text: str) -> str:
    """A column name or label reduced for matching: lower case, no markup, single spaces."""
    text = re.sub(r"[`*]", "", text).lower()
    return re.sub(r"\s+", " ", text).strip()


def parse_number(cell: str | None) -> float | None:
    """The first number in a cell (`0.21x` → 0.21, `5,957` → 5957), or None."""
    if cell is None:
        return None
    m = _NUMBER.search(cell.replace("\u2212", "-"))
    if not m:
        return None
    return float(m.group(0).replace(",", ""))


def parse_seconds(cell: str | None, default_unit: str = "s") -> float | None:
    """A duration in seconds from `1.33 ms`, `13.88 s`, `0.3 µs`; a bare number is in
    `default_unit` (taken from the column name by the caller, e.g. `median ms`)."""
    if cell is None:
        return None
    m = _DURATION.search(cell)
    if m:
        return float(m.group(1).replace(",", "")) * _UNITS[m.group(2)]
    value = parse_number(cell)
    return None if value is None else value * _UNITS[default_unit]


def unit_of(column: str) -> str:
    """The time unit a column name announces (`naja solve ms` → ms, `median wall (s)` → s)."""
    words = re.findall(r"[a-zµ]+", norm(column))
    for unit in ("ns", "µs", "us", "ms", "min", "s"):
        if unit in words:
            return unit
    return "s"


@dataclass
class Table:
    """One pipe table: the heading it sits under, its columns (normalised) and its rows."""

    heading: str
    columns: list[str]
    rows: list[dict[str, str]] = field(default_factory=list)

    def column(self, *candidates: str) -> str | None:
        """The first column whose name equals, else contains, one of `candidates` (in order)."""
        for cand in candidates:
            c = norm(cand)
            if c in self.columns:
                return c
        for cand in candidates:
            c = norm(cand)
            for col in self.columns:
                if c in col:
                    return col
        return None

    def has(self, *candidates: str) -> bool:
        return all(self.column(c) is not None for c in candidates)

    def row(self, pattern: str, column: str | None = None) -> dict[str, str] | None:
        """The first row whose `column` (default: the first) matches the regex `pattern`
        (searched, case-insensitive, on the normalised cell)."""
        col = self.column(column) if column else self.columns[0]
        if col is None:
            return None
        rx = re.compile(pattern, re.IGNORECASE)
        for r in self.rows:
            if rx.search(norm(r.get(col, ""))):
                return r
        return None

    def cell(self, row: dict[str, str] | None, *candidates: str) -> str | None:
        if row is None:
            return None
        col = self.column(*candidates)
        return None if col is None else row.get(col)


def _split(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    # `\|` inside a cell is a literal bar, not a separator.
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)]


def _is_separator(line: str) -> bool:
    cells = _split(line)
    return bool(cells) and all(re.fullmatch(r":?-{2,}:?", c.replace(" ", "")) for c in cells)


def parse_tables(text: str) -> list[Table]:
    """Every pipe table of a Markdown document, outside code fences, in order."""
    tables: list[Table] = []
    lines = text.splitlines()
    heading = ""
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        elif not in_fence and line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif (
            not in_fence
            and line.lstrip().startswith("|")
            and i + 1 < len(lines)
            and _is_separator(lines[i + 1])
        ):
            columns = [norm(c) for c in _split(line)]
            table = Table(heading, columns)
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                cells = _split(lines[i])
                cells += [""] * (len(columns) - len(cells))
                table.rows.append(dict(zip(columns, cells, strict=False)))
                i += 1
            tables.append(table)
            continue
        i += 1
    return tables


def find_table(tables: list[Table], *columns: str, heading: str | None = None) -> Table | None:
    """The first table having all `columns` (by name, see `Table.column`) and, if given, a
    heading matching the regex `heading`."""
    for t in tables:
        if heading is not None and not re.search(heading, t.heading, re.IGNORECASE):
            continue
        if t.has(*columns):
            return t
    return None
