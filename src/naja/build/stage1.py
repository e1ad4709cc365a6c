"""Evaluated recipe sections -> the stage-1 recipe as rattler-build serialises it.

Input is plain Python (selectors applied, templates rendered); output drops empty and default
values the way rattler-build's serializer skips them, so renders compare field by field.
"""

from __future__ import annotations

from urllib.parse import quote

from naja.build.dependency import format_dependency
from naja.build.pins import Pin

# typing is only needed by type checkers: annotations stay strings here (PEP 563), and
# importing it costs ~2 ms of every `naja build --render-only`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def as_text(value: Any) -> str:
    """A scalar as recipe text (`true`/`false` in lower case)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def as_list(value: Any) -> list[Any]:
    """`value` as a list: None is empty, a non-list is a list of one."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _text_list(value: Any) -> list[str]:
    return [as_text(v) for v in as_list(value) if v is not None and v != ""]


def _text_lists(value: dict[str, Any]) -> dict[str, list[str]]:
    """Each key's `_text_list`, keys whose list is empty left out."""
    return {k: lst for k, v in value.items() if (lst := _text_list(v))}


def _prune(value: Any) -> Any:
    """Drop None, empty strings and empty containers (recursively)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _prune(v)
            if v is None or v == [] or v == {}:
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [x for x in (_prune(v) for v in value) if x is not None]
    if isinstance(value, Pin):
        return value.to_json()
    return value


def package(pkg: dict[str, Any]) -> dict[str, Any]:
    return {"name": as_text(pkg.get("name")), "version": as_text(pkg.get("version"))}


def sources(value: Any) -> list[dict[str, Any]]:
    out = []
    for src in as_list(value):
        if not isinstance(src, dict):
            continue
        item: dict[str, Any] = {}
        for key, v in src.items():
            if v is None or v == [] or v == "":
                continue
            if key == "patches":
                item[key] = _text_list(v)
            elif key == "url":
                item[key] = [as_text(u) for u in v] if isinstance(v, list) else as_text(v)
            elif key in ("use_gitignore", "lfs") and isinstance(v, bool):
                if v != (key == "use_gitignore"):
                    item[key] = v
            elif key == "depth":
                item[key] = v
            elif key in ("sha256", "md5"):
                item[key] = as_text(v).strip().lower()
            elif key in ("tag", "branch") and "git" in src:
                # rattler-build stores a git tag or branch as the full ref in `rev`.
                kind = "tags" if key == "tag" else "heads"
                item["rev"] = f"refs/{kind}/{as_text(v)}"
            else:
                item[key] = _prune(v) if isinstance(v, (dict, list)) else as_text(v)
        if item:
            out.append(item)
    return out


def script(value: Any) -> Any:
    """A script as written: a string, a list of lines, or a mapping (content/file/env/...)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value else None
    if isinstance(value, list):
        return _lines(value)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, v in value.items():
            if v is None or v == [] or v == {} or v == "":
                continue
            if key == "env" or key == "secrets":
                if isinstance(v, dict):
                    env = {k: as_text(x) for k, x in v.items() if x is not None and x != ""}
                    if env:
                        out[key] = env
                else:
                    out[key] = _text_list(v)
            elif key == "content":
                lines = _lines(v) if isinstance(v, list) else as_text(v)
                if lines:
                    out[key] = lines
            else:
                out[key] = as_text(v)
        if "file" in out and "interpreter" not in out:
            interpreter = _INTERPRETERS.get(out["file"].rpartition(".")[2]) if "." in out["file"] else None
            if interpreter:
                out["interpreter"] = interpreter
        return out or None
    return as_text(value)


# rattler-build infers the interpreter of a script file from its extension.
_INTERPRETERS = {
    "sh": "bash",
    "bash": "bash",
    "bat": "cmd",
    "cmd": "cmd",
    "py": "python",
    "nu": "nu",
    "pl": "perl",
    "ps1": "powershell",
    "r": "rscript",
    "R": "rscript",
    "rb": "ruby",
    "js": "nodejs",
    "lua": "lua",
}


def _lines(value: list[Any]) -> Any:
    """A list of script lines; a single line is written as a plain string."""
    lines = [as_text(x) for x in value if x is not None]
    if not lines:
        return None
    if len(lines) == 1:
        return lines[0]
    return lines


_BUILD_DEFAULT_FALSE = ("merge_build_and_host_envs",)


def build(section: dict[str, Any] | None) -> dict[str, Any]:
    section = section or {}
    out: dict[str, Any] = {}
    for key, v in section.items():
        if key in ("skip", "string", "number"):
            continue
        if key == "script":
            s = script(v)
            if s is not None:
                out["script"] = s
            continue
        if key == "noarch":
            if v:
                out["noarch"] = as_text(v)
            continue
        if key == "python":
            py = _python_build(v or {})
            if py:
                out["python"] = py
            continue
        if key == "dynamic_linking":
            dl = _dynamic_linking(v or {})
            if dl:
                out["dynamic_linking"] = dl
            continue
        if key in _BUILD_DEFAULT_FALSE:
            if v:
                out[key] = bool(v)
            continue
        if key == "prefix_detection":
            pd = _prefix_detection(v or {})
            if pd:
                out[key] = pd
            continue
        if key == "variant":
            var = _prune(v or {})
            if var:
                out[key] = var
            continue
        if key in ("always_include_files", "always_copy_files"):
            lst = _text_list(v)
            if lst:
                out[key] = lst
            continue
        if key == "files":
            if isinstance(v, dict):
                include = _text_list(v.get("include"))
                exclude = _text_list(v.get("exclude"))
                if include or exclude:
                    f: dict[str, Any] = {"include": include}
                    if exclude:
                        f["exclude"] = exclude
                    out[key] = f
            elif lst := _text_list(v):
                out[key] = lst
            continue
        pv = _prune(v)
        if pv is None or pv == [] or pv == {} or pv is False:
            continue
        out[key] = pv
    return out


def _python_build(v: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, x in v.items():
        if key == "entry_points":
            lst = [_entry_point(e) for e in _text_list(x)]
            if lst:
                out[key] = lst
        elif key == "skip_pyc_compilation":
            lst = _text_list(x)
            if lst:
                out[key] = lst
        elif key in ("use_python_app_entrypoint", "version_independent"):
            if x:
                out[key] = True
        elif x not in (None, "", [], {}):
            out[key] = _prune(x)
    return out


def _entry_point(text: str) -> str:
    name, sep, target = text.partition("=")
    if not sep:
        return text.strip()
    return f"{name.strip()} = {target.strip()}"


def _dynamic_linking(v: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, x in v.items():
        if key == "binary_relocation":
            if x is False:
                out[key] = False
            elif isinstance(x, list):
                out[key] = _text_list(x)
        elif key in ("overlinking_behavior", "overdepending_behavior"):
            if x and x != "ignore":
                out[key] = as_text(x)
        elif isinstance(x, list):
            lst = _text_list(x)
            if lst:
                out[key] = lst
        elif x not in (None, "", {}):
            out[key] = x
    return out


def _prefix_detection(v: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, x in v.items():
        if key == "ignore":
            if x is True:
                out[key] = True
            elif isinstance(x, list):
                lst = _text_list(x)
                if lst:
                    out[key] = lst
        elif key == "ignore_binary_files":
            if x:
                out[key] = True
        elif key == "force_file_type":
            ff = _text_lists(x or {})
            if ff:
                out[key] = ff
        elif x not in (None, "", [], {}):
            out[key] = _prune(x)
    return out


def dependency_list(value: Any) -> list[Any]:
    out: list[Any] = []
    for dep in as_list(value):
        if dep is None:
            continue
        if isinstance(dep, Pin):
            out.append(dep.to_json())
        elif isinstance(dep, dict):
            out.append(_prune(dep))
        else:
            text = as_text(dep).strip()
            if text:
                out.append(format_dependency(text))
    return out


def requirements(section: dict[str, Any] | None) -> dict[str, Any]:
    section = section or {}
    out: dict[str, Any] = {}
    for key in ("build", "host", "run", "run_constraints"):
        deps = dependency_list(section.get(key))
        if deps:
            out[key] = deps
    rx = section.get("run_exports")
    if rx:
        if isinstance(rx, dict):
            rxo = {k: dependency_list(v) for k, v in rx.items()}
            rxo = {k: v for k, v in rxo.items() if v}
        else:
            rxo = {"weak": dependency_list(rx)}
            rxo = {k: v for k, v in rxo.items() if v}
        if rxo:
            out["run_exports"] = rxo
    ire = section.get("ignore_run_exports")
    if isinstance(ire, dict):
        ireo = _text_lists(ire)
        if ireo:
            out["ignore_run_exports"] = ireo
    return out


def _contents(value: Any) -> Any:
    """A content check: a plain list, or `{exists, not_exists}` once anything must be absent."""
    if isinstance(value, dict):
        exists = _text_list(value.get("exists"))
        not_exists = _text_list(value.get("not_exists"))
        if not_exists:
            return {"exists": exists, "not_exists": not_exists}
        return exists
    return _text_list(value)


def tests(value: Any) -> list[dict[str, Any]]:
    out = []
    for test in as_list(value):
        if not isinstance(test, dict):
            continue
        item: dict[str, Any] = {}
        if "python" in test:
            py = test.get("python") or {}
            pyo: dict[str, Any] = {"imports": _text_list(py.get("imports"))}
            if py.get("pip_check") is False:
                pyo["pip_check"] = False
            if py.get("python_version") not in (None, ""):
                pv = py["python_version"]
                pyo["python_version"] = _text_list(pv) if isinstance(pv, list) else as_text(pv)
            item["python"] = pyo
        elif "package_contents" in test:
            pc = test.get("package_contents") or {}
            pco: dict[str, Any] = {}
            for k, v in pc.items():
                if k == "strict":
                    if v:
                        pco[k] = True
                    continue
                c = _contents(v)
                if c:
                    pco[k] = c
            item["package_contents"] = pco
        elif "script" in test:
            s = script(test.get("script"))
            item["script"] = s if s is not None else {}
            reqs = test.get("requirements") or {}
            reqo = {k: dependency_list(v) for k, v in reqs.items()}
            reqo = {k: v for k, v in reqo.items() if v}
            if reqo:
                item["requirements"] = reqo
            files = test.get("files") or {}
            fo = _text_lists(files)
            if fo:
                item["files"] = fo
        else:
            item = _prune(test)
        out.append(item)
    return out


def about(section: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, v in (section or {}).items():
        if key == "license_file" and isinstance(v, list):
            # An explicit list is kept even when every entry was selected away.
            out[key] = _text_list(v)
            continue
        if v is None and key in ("description", "summary"):
            # `description:` with nothing after it is an empty text, not an absent one.
            out[key] = ""
            continue
        if v is None or v == "" or v == []:
            continue
        if key == "license_file":
            out[key] = _text_list(v)
        elif key in _URL_FIELDS:
            out[key] = _url(as_text(v).strip())
        else:
            out[key] = _prune(v) if isinstance(v, (list, dict)) else as_text(v).strip()
    return out


_URL_FIELDS = frozenset({"homepage", "repository", "documentation"})


def _url(text: str) -> str:
    """URLs come out as the WHATWG parser writes them: an empty path becomes `/`."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    if "/" not in rest and "?" not in rest and "#" not in rest:
        rest += "/"
    host, slash, path = rest.partition("/")
    path = quote(path, safe="/%:@!$&'()*+,;=-._~?#[]")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}"


def assemble(
    context: dict[str, Any],
    package_: dict[str, Any],
    sources_: Any,
    build_: dict[str, Any],
    number: int,
    string: str,
    requirements_: Any,
    tests_: list[Any],
    about_: Any,
    extra: Any,
) -> dict[str, Any]:
    """The stage-1 recipe of one output, sections in rattler-build's shapes."""
    # The evaluated context is always written, `{}` for a recipe without one.
    recipe: dict[str, Any] = {"schema_version": 1, "context": context}
    recipe["package"] = package(package_)
    srcs = sources(sources_)
    if srcs:
        recipe["source"] = srcs
    build_out = build(build_)
    build_out["number"] = number
    build_out["string"] = string
    recipe["build"] = build_out
    # Always present, even empty: rattler-build writes `requirements: {}`.
    recipe["requirements"] = requirements(requirements_)
    tests_out = tests(tests_)
    if tests_out:
        recipe["tests"] = tests_out
    about_out = about(about_)
    if about_out:
        recipe["about"] = about_out
    if extra:
        recipe["extra"] = _prune(extra)
    return recipe
