"""Why a request is unsatisfiable, in words a person reads top-down (and as a JSON tree).

The conflict's statements (see `naja.solve.core`: the shrunk unsat core) are printed as a
tree from the requested specs down the dependency chains, builds collapsed and versions
merged into ranges, then one line per name asked for in incompatible ways, then at most
one `hint:` line when the fix is obvious.
"""

from __future__ import annotations

from typing import Any

from naja.solve.core import minimize
from naja.solve.encoding import CON, DEP, GROUP, KEEP, PIN, ROOT, Encoding, parse_spec
from naja.solve.errors import Unsatisfiable
from naja.solve.ranges import merge_ranges
from naja.solve.request import SolveRequest
from naja.solve.suggest import closest_names

MAX_LINES = 40

_OVERRIDES = {
    "__glibc": "CONDA_OVERRIDE_GLIBC",
    "__cuda": "CONDA_OVERRIDE_CUDA",
    "__linux": "CONDA_OVERRIDE_LINUX",
    "__osx": "CONDA_OVERRIDE_OSX",
    "__win": "CONDA_OVERRIDE_WIN",
}


class _Core:
    """The statements of a core, organised for printing."""

    def __init__(self, request: SolveRequest, enc: Encoding) -> None:
        self.request = request
        self.enc = enc
        core = enc.sat.core()
        self.roots: list[int] = []
        self.keeps: list[str] = []
        self.pins: list[int] = []
        self.removes: list[int] = []
        self.virtuals: list[str] = []
        # (kind, parent name, target name) -> {"specs": [...], "vars": set()}
        self.edges: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.clash: set[str] = set()
        for tag in core:
            kind = tag[0]
            if kind == ROOT:
                self.roots.append(tag[1])
            elif kind == KEEP:
                self.keeps.append(tag[1])
            elif kind == PIN:
                self.pins.append(tag[1])
            elif kind == "virtual":
                self.virtuals.append(tag[1])
            elif kind == "remove":
                self.removes.append(tag[1])
            elif kind == GROUP:
                n = enc.var_name[tag[1]]
                if n is not None:
                    self.clash.add(n.name)
            elif kind in (DEP, CON):
                parent = enc.var_name[tag[1]].name  # type: ignore[union-attr]
                target = parse_spec(tag[2]).name
                e = self.edges.setdefault((kind, parent, target), {"specs": [], "vars": set()})
                shown = " ".join(tag[2].split())
                if shown not in e["specs"]:
                    e["specs"].append(shown)
                e["vars"].add(tag[1])
        self.roots = sorted(set(self.roots))
        # Who asks what of each name: name -> [(spec, provenance)]
        self.incoming: dict[str, list[tuple[str, str]]] = {}
        for i in self.roots:
            spec = str(request.specs[i])
            self.incoming.setdefault(parse_spec(spec).name, []).append((spec, "requested"))
        for i in self.pins:
            spec = str(request.pins[i])
            self.incoming.setdefault(parse_spec(spec).name, []).append((spec, "pinned"))
        for name in self.keeps:
            rec = enc.index.installed().get(name)
            what = f"installed {rec.version}" if rec is not None else "installed"
            self.incoming.setdefault(name, []).append((name, what))
        for name in self.virtuals:
            have = ", ".join(c.record.version for c in enc.index.candidates(name))
            self.incoming.setdefault(name, []).append((f"{name} {have}", "virtual package"))
        for (kind, parent, target), e in self.edges.items():
            who = self.describe(parent, e["vars"])
            prov = f"dependency of {who}" if kind == DEP else f"constraint of {who}"
            self.incoming.setdefault(target, []).append((_join(e["specs"], " | "), prov))

    # -- wording ---------------------------------------------------------------------------

    def describe(self, name: str, vars_: set[int]) -> str:
        """`numpy >=1.11,<=1.13 (12 builds)`: the chosen variables of one name, collapsed."""
        n = self.enc.names.get(name)
        if n is None:
            return name
        recs = [self.enc.var_cand[v].record for v in sorted(vars_)]  # type: ignore[union-attr]
        if len(recs) == 1:
            return f"{name} {recs[0].version} ({recs[0].build})"
        versions = merge_ranges([r.version for r in recs], [c.record.version for c in n.cands])
        if versions == "any version":
            return f"{name} (all {len(recs)} builds)"
        return f"{name} {versions} ({len(recs)} builds)"

    def status(self, spec: str, requested: bool = False) -> tuple[str, str | None]:
        """Why a spec may be impossible on its own: ("missing"|"virtual"|"nomatch"|"", text)."""
        enc = self.enc
        ms = parse_spec(spec)
        n, vars_, _ = enc.matching(spec)
        if n is None:
            if ms.name.startswith("__"):
                return "virtual", f"the virtual package {ms.name} is not present on this system"
            text = f"no package named {ms.name} exists in the channels"
            # Spelling suggestions only make sense for what the user typed.
            close = closest_names(ms.name, enc.index.all_names()) if requested else []
            if close:
                text += f" (closest: {', '.join(close)})"
            return "missing", text
        if not vars_:
            versions = sorted({c.record.parsed_version for c in n.cands})
            avail = str(versions[0]) if len(versions) == 1 else f"{versions[0]} to {versions[-1]}"
            if ms.name.startswith("__"):
                have = ", ".join(sorted({c.record.version for c in n.cands}))
                return "virtual", f"this system has {ms.name} {have}"
            return "nomatch", f"no {ms.name} matches (available: {avail})"
        return "", None

    # -- the tree --------------------------------------------------------------------------

    def tree(self) -> list[dict[str, Any]]:
        nodes: list[dict[str, Any]] = []
        visited: set[str] = set()
        for i in self.roots:
            spec = str(self.request.specs[i])
            name = parse_spec(spec).name
            kind, why = self.status(spec, requested=True)
            node = {
                "label": f"{spec} (requested)",
                "kind": "requested",
                "name": name,
                "spec": spec,
                "problem": kind or None,
                "detail": why,
                "children": [],
            }
            if name not in visited:
                visited.add(name)
                node["children"] = self.children(name, visited)
            nodes.append(node)
        for i in self.pins:
            spec = str(self.request.pins[i])
            nodes.append(
                {
                    "label": f"{spec} (pinned)",
                    "kind": "pin",
                    "name": parse_spec(spec).name,
                    "spec": spec,
                    "problem": None,
                    "detail": None,
                    "children": [],
                }
            )
        for name in self.keeps:
            rec = self.enc.index.installed().get(name)
            label = f"{name} {rec.version} (installed)" if rec is not None else name
            node = {
                "label": label,
                "kind": "installed",
                "name": name,
                "spec": name,
                "problem": None,
                "detail": None,
                "children": [],
            }
            if name not in visited:
                visited.add(name)
                node["children"] = self.children(name, visited)
            nodes.append(node)
        return nodes

    def children(self, name: str, visited: set[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for (kind, parent, target), e in self.edges.items():
            if parent != name:
                continue
            who = self.describe(parent, e["vars"])
            specs = _join(e["specs"], " or ")
            verb = "requires" if kind == DEP else "allows only"
            problem, detail = "", None
            for spec in e["specs"]:
                problem, detail = self.status(spec)
                if not problem:
                    break
            node = {
                "label": f"{who} {verb} {specs}",
                "kind": "dependency" if kind == DEP else "constraint",
                "name": target,
                "spec": specs,
                "parent": who,
                "problem": problem or None,
                "detail": detail if problem else None,
                "children": [],
            }
            if target not in visited:
                visited.add(target)
                node["children"] = self.children(target, visited)
            out.append(node)
        return out

    def conflicts(self) -> list[dict[str, Any]]:
        """Names asked for in incompatible ways (two requirements or a constraint)."""
        out = []
        for name, reqs in self.incoming.items():
            constrained = any(p.startswith("constraint") for _, p in reqs)
            if len(reqs) < 2 and not constrained and name not in self.clash:
                continue
            out.append({"name": name, "requirements": [{"spec": s, "from": p} for s, p in reqs]})
        return out

    def hint(self, tree: list[dict[str, Any]]) -> str | None:
        problems: list[dict[str, Any]] = []

        def walk(nodes: list[dict[str, Any]]) -> None:
            for node in nodes:
                if node.get("problem"):
                    problems.append(node)
                walk(node["children"])

        walk(tree)
        names = [c["name"] for c in self.conflicts()]
        for node in problems:
            name = node["name"]
            if node["problem"] == "virtual":
                var = _OVERRIDES.get(name)
                have = [c.record.version for c in self.enc.index.candidates(name)]
                setting = f"set {var}=<version>" if var else "check the virtual packages"
                if have:
                    return (
                        f"{name} {have[0]} on this system is not what {node['spec']} needs; "
                        f"{setting} if that is wrong, or ask for an older build"
                    )
                return (
                    f"{name} was not detected on this system; {setting} if it is there, "
                    "or ask for a build that does not need it"
                )
            if node["problem"] == "missing":
                detail = node["detail"] or ""
                if "closest:" in detail:
                    return f"did you mean {detail.split('(closest: ')[1][:-1]}?"
                if node["kind"] == "dependency":
                    return (
                        f"{name} is in none of the channels: add a channel that has it, "
                        f"or ask for a version of {node['parent'].split()[0]} that does "
                        "not need it"
                    )
                return f"{name} is in none of the channels: add a channel that has it"
        for name in names:
            if name.startswith("__"):
                var = _OVERRIDES.get(name)
                if var:
                    have = [c.record.version for c in self.enc.index.candidates(name)]
                    now = f" {have[0]}" if have else ""
                    return (
                        f"{name}{now} on this system does not fit; set {var} if that is "
                        "wrong, or ask for an older build"
                    )
        if self.keeps:
            # Installed packages are only ever kept, never removed unasked: say so.
            which = ", ".join(self.keeps)
            return f"installed {which} cannot stay: update or remove {which} first"
        return None


def _join(items: list[str], sep: str, limit: int = 3) -> str:
    """At most `limit` items; builds that each word a dependency differently stay short."""
    if len(items) <= limit:
        return sep.join(items)
    return sep.join(items[:limit]) + f" (and {len(items) - limit} more)"


MAX_CHILDREN = 5
MAX_DEPTH = 6
MAX_CONFLICT_LINES = 6


def _count(nodes: list[dict[str, Any]]) -> int:
    return sum(1 + _count(n["children"]) for n in nodes)


def _render(nodes: list[dict[str, Any]], prefix: str, lines: list[str], depth: int = 0) -> None:
    # Big conflicts (puzzles, not package stacks) are cut to a readable overview; the
    # JSON form keeps every node.
    shown = nodes if len(nodes) <= MAX_CHILDREN else nodes[: MAX_CHILDREN - 1]
    hidden = nodes[len(shown) :]
    for k, node in enumerate(shown):
        last = k == len(shown) - 1 and not hidden
        text = node["label"]
        if node.get("detail"):
            text += f": {node['detail']}"
        lines.append(f"{prefix}{'└─ ' if last else '├─ '}{text}")
        below = prefix + ("   " if last else "│  ")
        if depth + 1 < MAX_DEPTH:
            _render(node["children"], below, lines, depth + 1)
        elif node["children"]:
            lines.append(f"{below}└─ … {_count(node['children'])} more below")
    if hidden:
        lines.append(f"{prefix}└─ … {len(hidden) + _count(hidden)} more requirements")


def explain(request: SolveRequest, enc: Encoding) -> Unsatisfiable:
    """The Unsatisfiable error for an encoding whose search ended in a level-0 conflict."""
    enc = minimize(request, enc)
    core = _Core(request, enc)
    tree = core.tree()
    conflicts = core.conflicts()
    hint = core.hint(tree)
    requested = [str(request.specs[i]) for i in core.roots]
    if len(requested) == 1:
        head = f"cannot install {requested[0]}:"
    elif requested:
        head = f"cannot install {', '.join(requested)} together:"
    else:
        head = "the installed packages and the request cannot be reconciled:"
    lines = [head]
    _render(tree, "  ", lines)
    for c in conflicts[:MAX_CONFLICT_LINES]:
        reqs = _join([f"{r['spec']} ({r['from']})" for r in c["requirements"]], "; ", 4)
        lines.append(f"  conflict: {c['name']} cannot be all of: {reqs}")
    if len(conflicts) > MAX_CONFLICT_LINES:
        lines.append(f"  … and {len(conflicts) - MAX_CONFLICT_LINES} more names in conflict")
    if len(lines) > MAX_LINES:
        extra = len(lines) - MAX_LINES + 1
        lines = [*lines[: MAX_LINES - 1], f"  … {extra} more lines (see the JSON form)"]
    text = "\n".join(lines)
    problems = {"requested": requested, "tree": tree, "conflicts": conflicts, "hint": hint}
    return Unsatisfiable(text, problems, hint=hint)
