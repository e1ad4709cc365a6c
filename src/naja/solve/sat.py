"""CDCL core over integer variables: the search engine under naja's conda solver.

Why our own solver rather than a SAT library: conda's semantics are easier to state natively
(one record per name is a native at-most-one group, `constrains` are lazily added conflict
pairs, dependencies are only encoded once a record is chosen) and the explanation of an
unsatisfiable request needs the resolution proof, which off-the-shelf solvers do not hand out.

Literals are ints: `2*v` is "v is true", `2*v + 1` is "v is false"; `lit ^ 1` negates. The
engine knows nothing about packages: it asks its `Brancher` what to decide next and tells it
when a variable first becomes true (so the brancher can add that variable's clauses lazily).

Pieces: two-watched-literal propagation over clauses, native at-most-one groups and negative
pairs (`not (x and y)`, propagated ahead of the clauses), 1-UIP conflict analysis (with the
cheap clause minimisation) and non-chronological backjumping, Luby restarts once a search is
clearly hard, and a proof log (the clauses each learnt clause was resolved from) that
`core()` walks to return the original constraints behind a level-0 conflict. A clause found
satisfied from a lower level than the literal being propagated has that watch parked until
the search backtracks below the level (hard searches otherwise spend most of their time
revisiting such clauses).

Clauses may arrive at any time. One that is unit under the current assignment implies its
literal at the level of its highest false literal, which may be below the current level;
such a literal stays on the trail when backtracking to that level (a partial form of
chronological backtracking). Without this, a refuted candidate would be forgotten by the
next backjump and re-refuted by a conflict that throws away every decision made since.
"""

from __future__ import annotations

from typing import Any, Protocol

# A clause is a list of literals; positions 0 and 1 hold its watched literals.
Clause = list[int]
# Why a variable is assigned: None for a decision, a clause, or an int x meaning the
# negative pair "not (x and this)" (at-most-one group or a lazily added conflict pair).
Reason = Clause | int | None


RESTART_UNIT = 64




def _luby(i: int) -> int:
    """The i-th term (1-based) of the Luby sequence 1 1 2 1 1 2 4 1 1 2 ..."""
    k = 1
    while (1 << k) - 1 < i:
        k += 1
    while i != (1 << k) - 1:
        i -= (1 << (k - 1)) - 1
        k = 1
        while (1 << k) - 1 < i:
            k += 1
    return 1 << (k - 1)


class Brancher(Protocol):
    """What the engine needs from the problem encoding."""

    def decide(self) -> int:
        """A literal to assign next (unassigned), 0 when every requirement is met, or -1
        after adding clauses that must be propagated before deciding."""
        ...

    def expand(self, var: int) -> None:
        """`var` has become true for the first time: add the clauses it brings."""
        ...


class Sat:
    """A CDCL solver whose variables, clauses and groups can grow during the search."""

    __slots__ = (
        "_conflict",
        "_core",
        "_pending",
        "antecedents",
        "brancher",
        "conflicts",
        "decisions",
        "expanded",
        "final_conflict",
        "group",
        "group_true",
        "groups",
        "level",
        "neg",
        "origin",
        "pair_origin",
        "parked",
        "qhead",
        "qnative",
        "reason",
        "restart_after",
        "trail",
        "trail_lim",
        "val",
        "watches",
    )

    def __init__(self) -> None:
        # Index 0 is a dummy variable so that real ones start at 1.
        self.val: list[int] = [0, 0]  # per literal: 1 true, -1 false, 0 unassigned
        self.level: list[int] = [0]
        self.reason: list[Reason] = [None]
        # Per literal: the clauses watching it (a None only while `propagate` runs).
        self.watches: list[list[Clause]] = [[], []]
        self.group: list[int] = [-1]
        self.neg: list[list[int] | None] = [None]
        self.expanded: list[bool] = [True]
        self.groups: list[list[int]] = []
        self.group_true: list[int] = []
        self.trail: list[int] = []
        self.trail_lim: list[int] = []
        # Per decision level: watches taken off `watches` while their clause is satisfied by a
        # literal of that level, put back when backtracking below it; each as two items,
        # the watched literal then the clause (no tuple per parked watch).
        self.parked: list[list[Any]] = [[]]
        # Trail positions up to which clauses / native constraints have been propagated.
        self.qhead = 0
        self.qnative = 0
        self._pending: list[int] = []
        self._conflict: Clause | None = None
        # Proof bookkeeping: original clause id -> (clause, tag); learnt id -> antecedents.
        self.origin: dict[int, tuple[Clause, Any]] = {}
        self.antecedents: dict[int, tuple[Clause, list[Any]]] = {}
        self.pair_origin: dict[tuple[int, int], Any] = {}
        self.final_conflict: Clause | None = None
        self._core: tuple[Clause, list[Any]] | None = None
        self.brancher: Brancher | None = None
        self.conflicts = 0
        self.decisions = 0
        # Conflicts before restarts begin (None: never restart).
        self.restart_after: int | None = 1000

    # -- building -------------------------------------------------------------------------

    @property
    def nvars(self) -> int:
        return len(self.level) - 1

    def new_vars(self, count: int, group: bool = False) -> range:
        """`count` fresh unassigned variables, optionally forming one at-most-one group."""
        first = len(self.level)
        gid = len(self.groups) if group else -1
        self.val.extend([0, 0] * count)
        self.level.extend([0] * count)
        self.reason.extend([None] * count)
        self.watches.extend([] for _ in range(2 * count))
        self.group.extend([gid] * count)
        self.neg.extend([None] * count)
        self.expanded.extend([False] * count)
        vars_ = range(first, first + count)
        if group:
            self.groups.append(list(vars_))
            self.group_true.append(0)
        return vars_

    def add_pair(self, x: int, y: int, tag: Any) -> Clause | None:
        """Forbid x and y together; returns a conflict clause if both are already true."""
        key = (x, y) if x < y else (y, x)
        if key in self.pair_origin:
            return None
        self.pair_origin[key] = tag
        nx, ny = self.neg[x], self.neg[y]
        if nx is None:
            self.neg[x] = [y]
        else:
            nx.append(y)
        if ny is None:
            self.neg[y] = [x]
        else:
            ny.append(x)
        val = self.val
        vx, vy = val[2 * x], val[2 * y]
        if vx == 1 and vy == 1:
            return self._note(self._pair_clause(x, y))
        if vx == 1 and vy == 0:
            self._assign(2 * y + 1, x, self.level[x])
        elif vy == 1 and vx == 0:
            self._assign(2 * x + 1, y, self.level[y])
        return None

    def add_clause(self, lits: list[int], tag: Any) -> Clause | None:
        """Add an original clause under the current assignment; `tag` (hashable) is what
        `core()` reports for it.

        Returns the clause if it is already falsified (a conflict); assigns its last free
        literal if it is unit. Duplicate literals are the caller's business.
        """
        cl = list(lits)
        self.origin[id(cl)] = (cl, tag)
        return self._note(self._attach(cl))

    def _note(self, conflict: Clause | None) -> Clause | None:
        if conflict is not None and self._conflict is None:
            self._conflict = conflict
        return conflict

    def _attach(self, cl: Clause) -> Clause | None:
        val, level = self.val, self.level
        n = len(cl)
        if n == 0:
            return cl
        if n == 1:
            lit = cl[0]
            if val[lit] == -1:
                return cl
            if val[lit] == 0:
                self._assign(lit, cl, 0)
            return None
        # Watch two literals that are not false if there are two (the usual case: no sort).
        first = -1
        for k in range(n):
            if val[cl[k]] != -1:
                if first < 0:
                    first = k
                    continue
                cl[0], cl[first] = cl[first], cl[0]
                cl[1], cl[k] = cl[k], cl[1]
                self.watches[cl[0]].append(cl)
                self.watches[cl[1]].append(cl)
                return None
        # At most one literal is not false: the others go in from the highest level down, so
        # the second watch is the last literal to be unassigned on backtracking.
        cl.sort(key=lambda q: (1 << 30) if val[q] != -1 else level[q >> 1], reverse=True)
        self.watches[cl[0]].append(cl)
        self.watches[cl[1]].append(cl)
        v0 = val[cl[0]]
        if v0 == -1:
            return cl
        if v0 == 0:
            # cl[1] is the false literal of the highest level: the clause is unit from there.
            self._assign(cl[0], cl, level[cl[1] >> 1])
        return None

    # -- assignment -----------------------------------------------------------------------

    def _assign(self, lit: int, reason: Reason, at: int = -1) -> None:
        """Make lit true; `at` is its decision level when it is implied below the current one
        (a clause added late can be unit at a lower level: such literals survive
        backtracking to that level instead of being lost with the levels above it)."""
        val = self.val
        val[lit] = 1
        val[lit ^ 1] = -1
        v = lit >> 1
        self.level[v] = len(self.trail_lim) if at < 0 else at
        self.reason[v] = reason
        self.trail.append(lit)

    def _pair_clause(self, x: int, y: int) -> Clause:
        cl = [2 * x + 1, 2 * y + 1]
        self.origin[id(cl)] = (cl, ("pair", x, y))
        return cl

    def propagate(self) -> Clause | None:
        """Unit propagation to a fixpoint; returns a falsified clause on conflict."""
        # The hottest loop of the solver (hard problems spend most of their time here), so
        # assignments are inlined rather than calls to `_assign`, and everything it touches
        # is bound to a local first. Literals implied here take the current level.
        val, trail, watches = self.val, self.trail, self.watches
        level, reason = self.level, self.reason
        group, groups, group_true, neg = self.group, self.groups, self.group_true, self.neg
        expanded, pending = self.expanded, self._pending
        cur = len(self.trail_lim)
        push = trail.append
        qhead = self.qhead
        parked = self.parked
        while len(parked) <= cur:
            parked.append([])
        qn = self.qnative
        while qhead < len(trail):
            # Native constraints (at-most-one groups, negative pairs) first, for every
            # literal not yet through them: they are cheap, and a conflict they find makes
            # the clause visits of the literals still queued unnecessary.
            while qn < len(trail):
                lit = trail[qn]
                qn += 1
                if lit & 1:
                    continue
                v = lit >> 1
                if not expanded[v]:
                    pending.append(v)
                g = group[v]
                if g >= 0:
                    u = group_true[g]
                    if u and u != v:
                        self.qhead, self.qnative = qhead, qn
                        return self._pair_clause(u, v)
                    group_true[g] = v
                    for w in groups[g]:
                        if w != v and val[2 * w] == 0:
                            q = 2 * w + 1
                            val[q] = 1
                            val[q - 1] = -1
                            level[w] = cur
                            reason[w] = v
                            push(q)
                nv = neg[v]
                if nv is not None:
                    for w in nv:
                        vw = val[2 * w]
                        if vw == 0:
                            q = 2 * w + 1
                            val[q] = 1
                            val[q - 1] = -1
                            level[w] = cur
                            reason[w] = v
                            push(q)
                        elif vw == 1:
                            self.qhead, self.qnative = qhead, qn
                            return self._pair_clause(v, w)
            lit = trail[qhead]
            qhead += 1
            fl = lit ^ 1
            ws = watches[fl]
            if not ws:
                continue
            fll = level[lit >> 1]
            # Most visited clauses stay put (satisfied, or no other free literal yet): the
            # few that move leave a None behind, filtered out (in C) once the list is done.
            moved = False
            for i, cl in enumerate(ws):
                other = cl[0]
                if other == fl:
                    other = cl[1]
                    cl[0] = other
                    cl[1] = fl
                if val[other] == 1:
                    lo = level[other >> 1]
                    if lo < fll:
                        # Satisfied from a lower level than fl is falsified at: until the
                        # search backtracks below that level, visiting the clause again
                        # (every time fl is falsified anew) is wasted. Park this watch
                        # there; both literals are unassigned again when it comes back.
                        park = parked[lo]
                        park.append(fl)
                        park.append(cl)
                        ws[i] = None  # type: ignore[call-overload]  # filtered out below
                        moved = True
                    continue
                for k in range(2, len(cl)):
                    lk = cl[k]
                    if val[lk] != -1:
                        cl[1] = lk
                        cl[k] = fl
                        watches[lk].append(cl)
                        ws[i] = None  # type: ignore[call-overload]
                        moved = True
                        break
                else:
                    if val[other] == -1:
                        if moved:
                            watches[fl] = [*filter(None, ws)]
                        self.qhead, self.qnative = qhead, qn
                        return cl
                    val[other] = 1
                    val[other ^ 1] = -1
                    w = other >> 1
                    level[w] = cur
                    reason[w] = cl
                    push(other)
            if moved:
                watches[fl] = [*filter(None, ws)]
        self.qhead, self.qnative = qhead, qn
        return None

    def _search_propagate(self) -> Clause | None:
        """Propagate, let the brancher expand newly true variables, repeat to a fixpoint."""
        pending, val, expanded = self._pending, self.val, self.expanded
        brancher = self.brancher
        assert brancher is not None
        while True:
            conflict = self._conflict if self._conflict is not None else self.propagate()
            if conflict is not None:
                self._conflict = None
                pending.clear()
                return conflict
            if not pending:
                return None
            todo = pending[:]
            pending.clear()
            for v in todo:
                if val[2 * v] == 1 and not expanded[v]:
                    expanded[v] = True
                    brancher.expand(v)
                    if self._conflict is not None:
                        break

    # -- search ---------------------------------------------------------------------------

    def solve(self, brancher: Brancher, limit: int | None = None) -> bool | None:
        """Search for a model; on False, `final_conflict` holds the level-0 conflict.

        Returns None when more than `limit` conflicts were needed (undecided).
        """
        self.brancher = brancher
        level = self.level
        restart_at: int | None = None
        luby_i = 0
        conflict = self._search_propagate()
        while True:
            if conflict is not None:
                self.conflicts += 1
                if limit is not None and self.conflicts > limit:
                    return None
                # A lazily added clause can be falsified entirely below the current level.
                top = max((level[q >> 1] for q in conflict), default=0)
                if top < len(self.trail_lim):
                    self._backtrack(top)
                if not self.trail_lim:
                    self.final_conflict = conflict
                    return False
                learnt, bt, ants = self._analyze(conflict)
                self._backtrack(bt)
                self.antecedents[id(learnt)] = (learnt, ants)
                conflict = self._attach(learnt)
                if conflict is None:
                    conflict = self._search_propagate()
                continue
            if restart_at is not None and self.conflicts >= restart_at:
                # Luby restarts once the search is clearly hard: learnt clauses stay, and the
                # decisions start again from the top with what they taught.
                luby_i += 1
                restart_at = self.conflicts + RESTART_UNIT * _luby(luby_i)
                self._backtrack(0)
            elif (
                restart_at is None
                and self.restart_after is not None
                and self.conflicts >= self.restart_after
            ):
                restart_at = self.conflicts
            lit = brancher.decide()
            if lit == 0:
                # Before calling it a model: every true variable's clauses must be in.
                late = [q >> 1 for q in self.trail if not q & 1 and not self.expanded[q >> 1]]
                if not late:
                    return True
                self._pending.extend(late)
                conflict = self._search_propagate()
                continue
            if lit < 0:
                # The brancher added clauses instead (a look-ahead): propagate them first.
                conflict = self._search_propagate()
                continue
            self.decisions += 1
            self.trail_lim.append(len(self.trail))
            self._assign(lit, None)
            conflict = self._search_propagate()

    def _analyze(self, conflict: Clause) -> tuple[Clause, int, list[Any]]:
        """1-UIP learning: the learnt clause (asserting literal first), backjump level, proof."""
        level, trail, reason = self.level, self.trail, self.reason
        cur = len(self.trail_lim)
        seen: set[int] = set()
        mark = seen.add
        learnt: Clause = [0]
        ants: list[Any] = [conflict]
        counter = 0
        lits: Clause = conflict
        idx = len(trail) - 1
        while True:
            # The implied variable itself is already in `seen`, so a reason clause can be
            # walked whole.
            for q in lits:
                v = q >> 1
                if v in seen:
                    continue
                mark(v)
                lv = level[v]
                if lv == cur:
                    counter += 1
                elif lv > 0:
                    learnt.append(q)
                else:
                    ants.append(v)  # a level-0 fact the proof relies on
            p = trail[idx]
            while p >> 1 not in seen or level[p >> 1] != cur:
                idx -= 1
                p = trail[idx]
            idx -= 1
            counter -= 1
            if counter == 0:
                break
            pv = p >> 1
            r = reason[pv]
            if isinstance(r, int):
                ants.append(("pair", r, pv))
                lits = [2 * r + 1]
            else:
                assert r is not None  # an implied literal has a reason
                ants.append(r)
                lits = r
        learnt[0] = p ^ 1
        if len(learnt) > 2:
            learnt = self._minimize(learnt, ants)
        bt = 0
        if len(learnt) > 1:
            best = 1
            top = level[learnt[1] >> 1]
            for k in range(2, len(learnt)):
                lk = level[learnt[k] >> 1]
                if lk > top:
                    best, top = k, lk
            learnt[1], learnt[best] = learnt[best], learnt[1]
            bt = top
        return learnt, bt, ants

    def _minimize(self, learnt: Clause, ants: list[Any]) -> Clause:
        """Drop literals whose reason is made of the clause's other literals (and level-0
        facts): the shorter clause is implied by the same resolution steps plus that reason."""
        level, reason = self.level, self.reason
        in_clause = {q >> 1 for q in learnt}
        out = [learnt[0]]
        for q in learnt[1:]:
            v = q >> 1
            r: Any = reason[v]
            if r is None:
                out.append(q)
                continue
            if r.__class__ is int:
                # A negative pair: v is false because variable r is true.
                if r in in_clause:
                    ants.append(("pair", r, v))
                elif level[r] == 0:
                    ants.append(("pair", r, v))
                    ants.append(r)
                else:
                    out.append(q)
                continue
            for x in r:
                y = x >> 1
                if y != v and y not in in_clause and level[y] != 0:
                    out.append(q)
                    break
            else:
                ants.append(r)
                ants.extend(x >> 1 for x in r if x >> 1 != v and level[x >> 1] == 0)
        return out

    def _backtrack(self, to_level: int) -> None:
        if len(self.trail_lim) <= to_level:
            return
        start = self.trail_lim[to_level]
        val, group, group_true, reason = self.val, self.group, self.group_true, self.reason
        level = self.level
        trail = self.trail
        keep: list[int] = []
        for k in range(start, len(trail)):
            lit = trail[k]
            v = lit >> 1
            if level[v] <= to_level:
                keep.append(lit)  # implied below the levels being undone
                continue
            val[lit] = 0
            val[lit ^ 1] = 0
            reason[v] = None
            if not lit & 1:
                g = group[v]
                if g >= 0 and group_true[g] == v:
                    group_true[g] = 0
        del trail[start:]
        trail.extend(keep)
        del self.trail_lim[to_level:]
        parked, watches = self.parked, self.watches
        for lv in range(to_level + 1, len(parked)):
            back = parked[lv]
            if back:
                for j in range(0, len(back), 2):
                    watches[back[j]].insert(0, back[j + 1])
                parked[lv] = []
        # Kept literals are propagated again: what they implied above was undone.
        self.qhead = self.qnative = start

    # -- model and proof ------------------------------------------------------------------

    def true_vars(self) -> list[int]:
        """Variables true in the model, in assignment order (unassigned ones count as false)."""
        return [lit >> 1 for lit in self.trail if not lit & 1]

    def core(self) -> list[Any]:
        """Tags of the original constraints behind the final conflict (an unsat core).

        Walks the proof: a learnt clause is replaced by the clauses it was resolved from, and
        every level-0 literal the derivation relies on by the reason that fixed it. The walk
        is done once (the explanation asks more than once; a hard proof has many thousand
        learnt clauses).
        """
        assert self.final_conflict is not None
        if self._core is not None and self._core[0] is self.final_conflict:
            return list(self._core[1])
        reason, pair_origin = self.reason, self.pair_origin
        antecedents, origin = self.antecedents, self.origin
        tags: list[Any] = []
        seen_tags: set[int] = set()
        seen_vars: set[int] = set()
        seen_pairs: set[tuple[Any, ...]] = set()
        stack: list[Any] = [self.final_conflict]
        # The final conflict's literals are all false at level 0: their reasons are needed.
        stack.extend(q >> 1 for q in self.final_conflict)
        while stack:
            item = stack.pop()
            cls = item.__class__
            if cls is int:
                if item in seen_vars:
                    continue
                seen_vars.add(item)
                r = reason[item]
                if r is None:
                    continue
                if r.__class__ is int:
                    stack.append(("pair", r, item))
                    stack.append(r)
                else:
                    stack.append(r)
                    stack.extend(q >> 1 for q in r if q >> 1 != item)
                continue
            if cls is tuple:
                # A pair reached again adds nothing: its tag is already in, first.
                if item in seen_pairs:
                    continue
                seen_pairs.add(item)
                key = (item[1], item[2]) if item[1] < item[2] else (item[2], item[1])
                tag = pair_origin.get(key)
                if tag is None:
                    tag = ("group", item[1], item[2])
                tags.append(tag)
                continue
            k = id(item)
            if k in seen_tags:
                continue
            seen_tags.add(k)
            ant = antecedents.get(k)
            if ant is not None:
                stack.extend(ant[1])
                continue
            orig = origin.get(k)
            if orig is not None:
                tag = orig[1]
                if isinstance(tag, tuple) and tag and tag[0] == "pair":
                    stack.append(tag)
                else:
                    tags.append(tag)
        # The same constraint can be reached along several paths; keep the first.
        out = list(dict.fromkeys(tags))
        self._core = (self.final_conflict, out)
        return list(out)
