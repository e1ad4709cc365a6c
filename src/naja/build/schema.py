"""Checking a recipe's shape before rendering: known keys per section, mappings where needed.

A misspelt key (`requirement:`, `lisence:`) would otherwise be silently ignored; here it is an
error pointing at the key, with the closest valid name as a hint. Both branches of every
`if/then/else` are checked, so a typo hidden behind a selector is caught on any platform.
"""

from __future__ import annotations

from collections.abc import Iterator

from naja.build.yaml_nodes import Map, Node, Scalar, Seq

_TOP = frozenset(
    {
        "schema_version",
        "context",
        "package",
        "recipe",
        "source",
        "build",
        "requirements",
        "tests",
        "about",
        "extra",
        "outputs",
        "cache",
    }
)
_OUTPUT = frozenset(
    {
        "package",
        "staging",
        "cache",
        "inherit",
        "source",
        "build",
        "requirements",
        "tests",
        "about",
        "extra",
    }
)
_SECTIONS: dict[str, frozenset[str]] = {
    "package": frozenset({"name", "version"}),
    "recipe": frozenset({"name", "version"}),
    "staging": frozenset({"name"}),
    "source": frozenset(
        {
            "url",
            "sha256",
            "md5",
            "file_name",
            "patches",
            "target_directory",
            "git",
            "rev",
            "tag",
            "branch",
            "depth",
            "lfs",
            "path",
            "use_gitignore",
            "filter",
            "expected_commit",
            "attestation",
        }
    ),
    "build": frozenset(
        {
            "number",
            "string",
            "skip",
            "noarch",
            "script",
            "python",
            "variant",
            "dynamic_linking",
            "files",
            "prefix_detection",
            "merge_build_and_host_envs",
            "always_include_files",
            "always_copy_files",
            "post_process",
            "include_files",
            "link_options",
        }
    ),
    "requirements": frozenset(
        {"build", "host", "run", "run_constraints", "run_exports", "ignore_run_exports"}
    ),
    "about": frozenset(
        {
            "homepage",
            "repository",
            "documentation",
            "license",
            "license_file",
            "license_family",
            "license_url",
            "summary",
            "description",
            "prelink_message",
        }
    ),
    "tests": frozenset(
        {
            "script",
            "python",
            "package_contents",
            "downstream",
            "r",
            "perl",
            "ruby",
            "files",
            "requirements",
        }
    ),
}
# Keys whose value must be a mapping (when present and not null).
_MAPPING_VALUES: dict[str, frozenset[str]] = {
    "build": frozenset({"python", "dynamic_linking", "prefix_detection", "variant"}),
    "requirements": frozenset({"ignore_run_exports"}),
    "tests": frozenset({"python", "requirements", "files", "package_contents", "r", "perl", "ruby"}),
}
# Keys whose value must be a list or a single scalar, never a mapping.
_LIST_VALUES: dict[str, frozenset[str]] = {
    "requirements": frozenset({"build", "host", "run", "run_constraints"}),
    "about": frozenset({"license_file"}),
    "source": frozenset({"patches"}),
}
# Sections that are a list of items (a single mapping is accepted as a one-item list).
_LISTS = frozenset({"source", "tests"})


def _branches(node: Node) -> Iterator[Node]:
    """The node itself, or every leaf of an `if/then/else` (lists spliced)."""
    if isinstance(node, Map) and "if" in node.items and "then" in node.items:
        for key in ("then", "else"):
            sub = node.items.get(key)
            if sub is not None:
                yield from _branches(sub)
    elif isinstance(node, Seq):
        for item in node.items:
            yield from _branches(item)
    else:
        yield node


def _check_keys(node: Map, allowed: frozenset[str], where: str) -> None:
    for key, key_node in node.keys.items():
        if key in allowed:
            continue
        import difflib  # only for the error message

        close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.5)
        hint = f"did you mean `{close[0]}`?" if close else None
        valid = ", ".join(sorted(allowed))
        raise key_node.error(f"unknown key `{key}` in {where} (valid keys: {valid})", hint=hint)


def _check_section(name: str, node: Node) -> None:
    allowed = _SECTIONS.get(name)
    if allowed is None:
        return
    conditional = isinstance(node, Map) and "if" in node.items and "then" in node.items
    for item in _branches(node) if name in _LISTS or conditional else [node]:
        if not isinstance(item, Map):
            if name in _LISTS:
                raise item.error(f"each entry of `{name}` must be a mapping")
            raise item.error(f"`{name}` must be a mapping")
        _check_keys(item, allowed, f"`{name}`")
        _check_values(name, item)


def _is_conditional(node: Node) -> bool:
    return isinstance(node, Map) and "if" in node.items and "then" in node.items


def _check_values(section: str, node: Map) -> None:
    for key, value in node.items.items():
        for leaf in _branches(value) if _is_conditional(value) else [value]:
            if isinstance(leaf, Scalar) and leaf.plain and leaf.value in ("", "~", "null"):
                continue
            if key in _MAPPING_VALUES.get(section, ()) and not isinstance(leaf, Map):
                raise leaf.error(f"`{section}.{key}` must be a mapping")
            if key in _LIST_VALUES.get(section, ()) and isinstance(leaf, Map) and not _is_conditional(leaf):
                raise leaf.error(f"`{section}.{key}` must be a list")


def check_recipe(root: Map) -> None:
    """Raise a RecipeError at the first unknown key or misplaced value."""
    _check_keys(root, _TOP, "the recipe")
    for key, value in root.items.items():
        if key in _SECTIONS:
            _check_section(key, value)
    outputs = root.items.get("outputs")
    if isinstance(outputs, Seq):
        for output in _branches(outputs):
            if not isinstance(output, Map):
                raise output.error("each output must be a mapping")
            _check_keys(output, _OUTPUT, "an output")
            for key, value in output.items.items():
                if key in _SECTIONS:
                    _check_section(key, value)
