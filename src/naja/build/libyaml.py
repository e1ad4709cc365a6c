"""libyaml's composer (PyYAML's C extension) without PyYAML's start-up cost.

`import yaml` runs the whole package: reader, scanner, parser, constructor, resolver, emitter,
representer and dumper, with module-level regular expressions (yaml.reader's non-printable
class alone compiles for ~3 ms) and datetime/base64 imports: ~7 ms per process, a quarter of a
whole `naja build --render-only`. The recipe reader only composes node trees with the C parser
(yaml._yaml.CParser) and needs neither the Python parser nor tag resolution (scalars stay text;
only their style matters, see naja.build.yaml_nodes).

The C extension itself only reads, when it is initialised, classes from the package's modules:
the node classes it builds trees of (yaml.nodes, imported for real) and the error, token and
event classes of the other modules (never used while composing a valid document). When the
`yaml` package is not imported yet, load_composer() therefore registers the real package module
*without running its __init__*, gives the extension stand-ins for those other classes, and
registers a hook that completes the package the moment anything else needs it:

  * any attribute of `yaml` that is not there yet (`yaml.safe_load`, `from yaml import ...`)
    runs the package's real __init__ in that same module object, then points the extension's
    names back at the real classes (Cython looks module globals up at each use);
  * so does the import of any other `yaml.` submodule (a finder on sys.meta_path watches for
    them while the package is pending);
  * a stand-in raised while composing (a YAML error) makes compose() complete the package and
    parse again, so errors are PyYAML's own, with their messages and marks.

So after the first of those, the process has exactly the `yaml` package it would have had
otherwise; until then only yaml.nodes and the extension are loaded (~0.5 ms).

The light load is opt-in (`allow_light_load()`): only the `naja build --render-only` fast path
asks for it, a short single-threaded process where those ~7 ms are a quarter of the run. Any
other use (the library, the server, a whole build) imports `yaml` the ordinary way, so threads
and import hooks there never meet a half-loaded package. If the light load fails in any way
(another PyYAML release whose extension reads other classes), the package is completed and the
ordinary extension is used.
"""

from __future__ import annotations

import importlib
import sys
import types
from _thread import RLock  # threading itself is not needed (nor loaded) here
from importlib.machinery import ModuleSpec

# Submodules whose classes the extension reads at initialisation and that are not imported for
# real by the light load (yaml.nodes is: the trees are made of its classes).
_STANDIN_MODULES = (
    "error",
    "reader",
    "scanner",
    "parser",
    "composer",
    "constructor",
    "emitter",
    "serializer",
    "representer",
    "tokens",
    "events",
)

_lock = RLock()
_light_allowed = False
_composer: type | None = None


class _PendingYAMLError(Exception):
    """Base of the stand-ins: raised by the extension before the package is complete."""


class _StandInModule(types.ModuleType):
    """A temporary `yaml.<sub>` whose every class is a fresh stand-in (made on first read)."""

    def __getattr__(self, name: str) -> type:
        if name.startswith("__"):
            raise AttributeError(name)
        standin = type(name, (_PendingYAMLError,), {"__module__": self.__name__})
        setattr(self, name, standin)
        return standin


class _CompleteOnImport:
    """A meta path finder that completes the pending package before any other `yaml.`
    submodule is imported (then leaves the import to the usual finders)."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> object:
        if not name.startswith("yaml.") or _completing or not complete_package():
            return None
        module = sys.modules.pop(name, None)
        if module is None:
            return None
        # The package's __init__ has just imported this very module: hand that one over
        # instead of letting the import run it a second time. (It leaves sys.modules for a
        # moment, or the import machinery would take its spec and load it again.)
        return ModuleSpec(name, _AlreadyLoaded(module))


class _AlreadyLoaded:
    """Loader of a module that completing the package has already imported."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec: object) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__spec__ = self.spec  # the import machinery set ours


class _PendingPackage(types.ModuleType):
    """The real `yaml` package module, its __init__ not run yet: runs it on first need."""

    def __getattr__(self, name: str) -> object:
        complete_package()
        if isinstance(self, _PendingPackage):  # being completed by this very thread
            raise AttributeError(f"module 'yaml' has no attribute {name!r}")
        return getattr(self, name)


_completing = False


def complete_package() -> bool:
    """Run the pending `yaml` package's __init__ and give the extension the real classes.
    False when there is nothing to complete (or while completing)."""
    global _completing
    with _lock:
        pkg = sys.modules.get("yaml")
        if _completing or not isinstance(pkg, _PendingPackage):
            return False
        _completing = True
        try:
            if _CompleteOnImport in sys.meta_path:
                sys.meta_path.remove(_CompleteOnImport)
            pkg.__spec__.loader.exec_module(pkg)  # type: ignore[union-attr]
            pkg.__class__ = types.ModuleType
            ext = sys.modules.get("yaml._yaml")
            if ext is not None:
                for name, value in list(vars(ext).items()):
                    if isinstance(value, type) and issubclass(value, _PendingYAMLError):
                        real = importlib.import_module(value.__module__)
                        setattr(ext, name, getattr(real, value.__name__))
        finally:
            _completing = False
        return True


def _light_load() -> type:
    """yaml._yaml.CParser with only yaml.nodes imported (see the module docstring)."""
    # What importlib.util.find_spec / module_from_spec do for a top-level package (importlib.util
    # itself is not imported: it costs more than this whole light load).
    spec = None
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        spec = find_spec("yaml", None) if find_spec is not None else None
        if spec is not None:
            break
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        raise ImportError("PyYAML is not installed")
    pkg = _PendingPackage("yaml")
    pkg.__spec__ = spec
    pkg.__loader__ = spec.loader
    pkg.__package__ = "yaml"
    pkg.__path__ = spec.submodule_search_locations
    if spec.has_location:
        pkg.__file__ = spec.origin
        if spec.cached is not None:
            pkg.__cached__ = spec.cached
    sys.modules["yaml"] = pkg
    standins = {}
    try:
        importlib.import_module("yaml.nodes")
        for sub in _STANDIN_MODULES:
            mod = _StandInModule(f"yaml.{sub}")
            standins[sub] = mod
            sys.modules[mod.__name__] = mod
            setattr(pkg, sub, mod)
        try:
            ext = importlib.import_module("yaml._yaml")
        finally:
            # Stand-in modules never stay visible: a later import gets the real ones.
            for sub, mod in standins.items():
                if sys.modules.get(mod.__name__) is mod:
                    del sys.modules[mod.__name__]
                if vars(pkg).get(sub) is mod:
                    delattr(pkg, sub)
    except ImportError:
        complete_package()  # no C extension: the plain package, as `import yaml` gives it
        raise
    sys.meta_path.insert(0, _CompleteOnImport)  # type: ignore[arg-type]
    return ext.CParser


def allow_light_load() -> None:
    """Let load_composer() skip PyYAML's package start-up (see the module docstring)."""
    global _light_allowed
    _light_allowed = True


def load_composer() -> type:
    """A subclass of yaml._yaml.CParser composing node trees without resolving tags.

    Raises ImportError when PyYAML has no C extension here (the caller uses PyYAML's Python
    loader then).
    """
    global _composer
    if _composer is not None:
        return _composer
    with _lock:
        if _composer is not None:
            return _composer
        cparser = None
        if _light_allowed and "yaml" not in sys.modules:
            try:
                cparser = _light_load()
            except ImportError:
                raise
            except Exception:
                complete_package()  # whatever went wrong: the ordinary package, complete
        if cparser is None:
            cparser = importlib.import_module("yaml._yaml").CParser

        class Composer(cparser):  # type: ignore[misc, valid-type]
            """CParser without tag resolution: every node gets its kind's default tag."""

            def resolve(self, kind: type, value: object, implicit: object) -> str:
                return _DEFAULT_TAGS[kind.__name__]

            def descend_resolver(self, parent: object, index: object) -> None:
                pass

            def ascend_resolver(self) -> None:
                pass

        _composer = Composer
        return Composer


_DEFAULT_TAGS = {
    "ScalarNode": "tag:yaml.org,2002:str",
    "SequenceNode": "tag:yaml.org,2002:seq",
    "MappingNode": "tag:yaml.org,2002:map",
}


def compose(text: str) -> object:
    """The node tree of the single YAML document in `text` (None when empty), as
    `yaml.compose` gives it; YAML errors are PyYAML's (yaml.YAMLError subclasses)."""
    composer = load_composer()
    try:
        return _compose_with(composer, text)
    except _PendingYAMLError:
        # An error raised before the package was complete: complete it, and parse again so
        # that the error is PyYAML's own.
        complete_package()
        return _compose_with(composer, text)


def _compose_with(composer: type, text: str) -> object:
    parser = composer(text)
    try:
        return parser.get_single_node()
    finally:
        parser.dispose()
