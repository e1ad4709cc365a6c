"""Conda's rules as clauses for the CDCL core, built lazily as the search reaches them.

One variable per candidate record; the candidates of a name form an at-most-one group and
are numbered in preference order (so "the best free candidate" is the first free one).
A record's `depends` and `constrains` are only encoded once the record becomes true, and a
name's records are only looked up once some requirement or constraint mentions it.

Decisions follow conda's preferences: first installed packages (each keeps its record),
then the requested specs in request order (each takes its best candidate, so requested
versions are lexicographically highest), then every other open requirement in the order it
appeared (breadth first from the request). (Fewest-candidates-first and conflict-activity
orders were tried: no fewer conflicts on the problem set or on pigeonhole puzzles, and far
slower decisions on large indexes.)
Before a candidate is decided its clauses are added (a look-ahead): one whose dependencies
are already ruled out is refuted by propagation where it stands, not by a conflict that
would backjump over everything decided since.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from naja.solve.engine import Sat
from naja.solve.index import Candidate, Index
from naja.specs.match_spec import CONSTRAINT_FIELDS, MatchSpec

# Tags on clauses, read back by the explanation: (kind, ...).
ROOT = "root"  # ("root", spec_index): a requested spec
KEEP = "keep"  # ("keep", name): an installed package stays installed
DEP = "dep"  # ("dep", var, spec_text): a record's dependency
CON = "con"  # ("con", var, spec_text): a record's constraint on another name
PIN = "pin"  # ("pin", pin_index): a pinned spec
GROUP = "group"  # ("group", x, y): two records of one name

# A dependency excluding at most this many records of its name also gets "not both" pairs.
EXCLUDE_PAIRS_MAX = 4


def parse_spec(text: Any) -> Any:
    """A MatchSpec from text (`MatchSpec.parse` memoises; repodata repeats dependency strings
    heavily); anything else is already a spec."""
    return MatchSpec.parse(text) if isinstance(text, str) else text


def _version_key(rec: Any) -> Any:
    return rec.parsed_version.sort_key


def _version_only(ms: Any) -> bool:
    """Whether a spec constrains nothing but the name and the version."""
    return all(getattr(ms, f, None) is None for f in CONSTRAINT_FIELDS)


class Name:
    """The solver's state for one package name: its candidates as a run of variables."""

    __slots__ = ("_versions", "base", "cands", "gid", "name", "vars")

    def __init__(self, name: str, base: int, cands: list[Candidate], gid: int) -> None:
        self.name = name
        self.base = base
        self.cands = cands
        self.vars = range(base, base + len(cands))
        self.gid = gid
        self._versions: dict[str, int] | None = None

    def versions(self) -> dict[str, int]:
        """Each distinct version text -> the index of one candidate that has it."""
        if self._versions is None:
            self._versions = {}
            for i, c in enumerate(self.cands):
                self._versions.setdefault(c.record.version, i)
        return self._versions


class Requirement:
    """An open requirement: `parent` (0 for the request) needs one of `vars` of `name`."""

    __slots__ = ("bits", "name", "parent", "vars")

    def __init__(self, parent: int, name: Name, vars_: list[int], bits: int) -> None:
        self.parent = parent
        self.name = name
        self.vars = vars_
        self.bits = bits  # bit (v - name.base) set for each var in vars


class Memo:
    """What every encoding of one request computes alike, whatever its variable numbering:
    each name's candidates in preference order, and which of them (by position) a spec
    matches. Shared by the re-solves that shrink an unsat core (`naja.solve.core`), which
    would otherwise sort and match the same records once per statement tried."""

    __slots__ = ("cands", "match")

    def __init__(self) -> None:
        self.cands: dict[str, list[Candidate] | None] = {}
        self.match: dict[str, tuple[list[int], int]] = {}


class Encoding:
    """Builds and drives the clauses of one conda request; the `Brancher` of `Sat`."""

    def __init__(
        self,
        index: Index,
        *,
        prefer_installed: frozenset[str] | set[str] = frozenset(),
        pins: Sequence[Any] = (),
        flexible: bool = False,
        allowed: set[Any] | None = None,
        memo: Memo | None = None,
    ) -> None:
        self.sat = Sat()
        self.memo = memo if memo is not None else Memo()
        self.index = index
        self.prefer_installed = prefer_installed
        self.flexible = flexible
        self.names: dict[str, Name] = {}
        self.var_name: list[Name | None] = [None]
        self.var_cand: list[Candidate | None] = [None]
        self.root_reqs: list[Requirement] = []
        self.reqs: list[Requirement] = []
        self.spec_cands: dict[str, tuple[Name | None, list[int], int]] = {}
        self.pins: dict[str, list[tuple[int, Any]]] = {}
        for i, pin in enumerate(pins):
            ms = parse_spec(pin)
            self.pins.setdefault(ms.name, []).append((i, ms))
        # When set, only clauses with these tags are added (used to shrink a conflict core).
        self.allowed = allowed
        self.soft: list[str] = []
        self._ptr: list[tuple[int, int]] = []

    # -- names and candidate sets ---------------------------------------------------------

    def _sort_key(self, cand: Candidate) -> tuple[Any, ...]:
        rec = cand.record
        tf = rec.track_features
        key = (
            _version_key(rec),
            -len(tf) if tf else 0,
            rec.build_number or 0,
            rec.timestamp or 0,
        )
        if self.flexible:
            return (-cand.channel_rank, *key)
        return key

    def name(self, name: str) -> Name | None:
        """The Name for `name`, loading its candidates on first use; None when there are none."""
        n = self.names.get(name)
        if n is not None or name in self.names:
            return n
        memo = self.memo.cands
        if name in memo:
            cands = memo[name]
        else:
            cands = self.index.candidates(name) or None
            if cands is not None:
                cands.sort(key=self._sort_key, reverse=True)
                if name in self.prefer_installed:
                    # Keeping what is installed beats every other preference for this name.
                    cands.sort(key=lambda c: not c.installed)
            memo[name] = cands
        if cands is None:
            self.names[name] = None  # type: ignore[assignment]
            return None
        vars_ = self.sat.new_vars(len(cands), group=True)
        n = Name(name, vars_.start, cands, len(self.sat.groups) - 1)
        self.names[name] = n
        self.var_name.extend([n] * len(cands))
        self.var_cand.extend(cands)
        for i, ms in self.pins.get(name, ()):
            tag = (PIN, i)
            if self.allowed is not None and tag not in self.allowed:
                continue
            for v, cand in zip(vars_, cands, strict=True):
                if not ms.matches(cand.record):
                    self.sat.add_clause([2 * v + 1], tag)
        return n

    def matching(self, spec: Any) -> tuple[Name | None, list[int], int]:
        """The variables matching `spec`, in preference order, and their bitset (memoised)."""
        key = spec if isinstance(spec, str) else str(spec)
        hit = self.spec_cands.get(key)
        if hit is not None:
            return hit
        ms = parse_spec(spec)
        n = self.name(ms.name)
        if n is None:
            hit = (None, [], 0)
        else:
            base = n.base
            known = self.memo.match.get(key)
            if known is None:
                cands = n.cands
                if _version_only(ms):
                    # Builds share versions: test each distinct version once (python has
                    # hundreds of builds on conda-forge and thousands of distinct specs
                    # point at it).
                    ok = {t for t, i in n.versions().items() if ms.matches(cands[i].record)}
                    pos = [i for i, c in enumerate(cands) if c.record.version in ok]
                else:
                    pos = [i for i, c in enumerate(cands) if ms.matches(c.record)]
                bits = 0
                for i in pos:
                    bits |= 1 << i
                known = self.memo.match[key] = (pos, bits)
            pos, bits = known
            hit = (n, [base + i for i in pos], bits)
        self.spec_cands[key] = hit
        return hit

    # -- clauses --------------------------------------------------------------------------

    def statement(self, tag: Any) -> Any:
        """The requirement a clause tag stands for, independent of variable numbering: all
        builds of a package that share one dependency string state one requirement."""
        if tag[0] == DEP or tag[0] == CON:
            return (tag[0], self.var_name[tag[1]].name, tag[2])  # type: ignore[union-attr]
        return tag

    def require(self, parent: int, spec: Any, tag: Any) -> None:
        """`parent` (0: the request itself) needs a record matching `spec`."""
        if self.allowed is not None and self.statement(tag) not in self.allowed:
            return
        n, vars_, bits = self.matching(spec)
        lits = [v + v for v in vars_]
        if parent:
            lits.append(2 * parent + 1)
        self.sat.add_clause(lits, tag)
        if parent and n is not None and 0 < len(n.cands) - len(vars_) <= EXCLUDE_PAIRS_MAX:
            # A dependency that rules out only a few records of a name (`b !=3`) also says
            # "not both" for each of them: implied by the clause and the name's at-most-one,
            # but as direct pairs it propagates as soon as the parent is chosen, and the
            # conflicts learnt from it are short. (Pigeonhole-like puzzles go from hopeless
            # to a few thousand conflicts; most conda dependencies rule out too many
            # records for this to pay.)
            base = n.base
            for v in n.vars:
                if not (bits >> (v - base)) & 1:
                    self.sat.add_pair(parent, v, tag)
        if n is not None and vars_:
            req = Requirement(parent, n, vars_, bits)
            if parent:
                self.reqs.append(req)
            else:
                self.root_reqs.append(req)

    def constrain(self, var: int, spec: Any, tag: Any) -> None:
        """`var` allows only records matching `spec` for that spec's name."""
        if self.allowed is not None and self.statement(tag) not in self.allowed:
            return
        ms = parse_spec(spec)
        n = self.name(ms.name)
        if n is None:
            return
        _, _, bits = self.matching(spec)
        base = n.base
        for v in n.vars:
            if not (bits >> (v - base)) & 1:
                self.sat.add_pair(var, v, tag)

    def expand(self, var: int) -> None:
        rec = self.var_cand[var].record  # type: ignore[union-attr]
        for dep in rec.depends:
            self.require(var, dep, (DEP, var, dep))
        for con in rec.constrains:
            self.constrain(var, con, (CON, var, con))

    # -- decisions ------------------------------------------------------------------------

    def decide(self) -> int:
        sat = self.sat
        val, group_true = sat.val, sat.group_true
        # What is installed, then the request, in that order: each takes its best candidate
        # (an installed one keeps its record), so requested versions are lexicographically
        # highest among solutions that keep the installed packages.
        for req in self.root_reqs:
            n = req.name
            t = group_true[n.gid]
            if t and (req.bits >> (t - n.base)) & 1:
                continue
            for v in req.vars:
                if val[2 * v] == 0:
                    return self._pick(v)
        # Then open dependencies in the order they appeared (breadth first from the request).
        reqs = self.reqs
        level = len(sat.trail_lim)
        ptrs = self._ptr
        while ptrs and ptrs[-1][0] > level:
            ptrs.pop()
        start = ptrs[-1][1] if ptrs else 0
        for sweep in (0, 1):
            # The second sweep re-checks from the top: a backjump can make an earlier parent
            # true again without its requirement being revisited.
            i = start if sweep == 0 else 0
            while i < len(reqs):
                req = reqs[i]
                i += 1
                if val[2 * req.parent] != 1:
                    continue
                n = req.name
                t = group_true[n.gid]
                if t and (req.bits >> (t - n.base)) & 1:
                    continue
                for v in req.vars:
                    if val[2 * v] == 0:
                        ptrs.append((level, i - 1))
                        return self._pick(v)
            if start == 0:
                break
        return self.decide_soft()

    def _pick(self, v: int) -> int:
        """Decide v, but first add its clauses: a candidate whose dependencies are already
        ruled out is then refuted by propagation at this level instead of by a conflict that
        would backjump over every decision made since its dependency was fixed."""
        sat = self.sat
        if sat.expanded[v]:
            return 2 * v
        sat.expanded[v] = True
        mark = len(sat.trail)
        self.expand(v)
        if len(sat.trail) != mark or sat._conflict is not None:
            return -1
        return 2 * v

    def decide_soft(self) -> int:
        """Installed packages a remove job would like to keep, each tried once."""
        val, group_true = self.sat.val, self.sat.group_true
        for name in self.soft:
            n = self.name(name)
            if n is None or group_true[n.gid]:
                continue
            for v, c in zip(n.vars, n.cands, strict=True):
                if c.installed and val[2 * v] == 0:
                    return 2 * v
        return 0

    def model(self) -> list[Candidate]:
        """The chosen candidates, in the order they were chosen."""
        return [self.var_cand[v] for v in self.sat.true_vars()]  # type: ignore[misc]
