"""The expression language inside `${{ }}` and `if:`: a small Jinja-compatible interpreter.

Recipes use a tiny part of Jinja: names, literals, attribute and item access, calls, filters,
`is` tests, arithmetic, `~`, comparisons, `in`, `and`/`or`/`not` and `x if c else y`. Parsing
them here (instead of compiling a Jinja template per string) keeps rendering fast and lets
evaluation record exactly the variables it reads: `a and b` reads `b` only when `a` holds.

An expression compiles once into a tree of closures `fn(scope) -> value`; `scope` holds the
variables and the set that collects names read.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping

# typing is only needed by type checkers: annotations stay strings here (PEP 563), and
# importing it costs ~2 ms of every `naja build --render-only`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class ExprError(Exception):
    """An expression that does not parse or cannot be evaluated (the caller adds the position)."""


class _Undefined:
    """A name nobody defined: false, empty when printed, undefined again when looked into."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __str__(self) -> str:
        return ""

    def __repr__(self) -> str:
        return "Undefined"

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Undefined)

    def __hash__(self) -> int:
        return 0


UNDEFINED = _Undefined()


class Scope:
    """What an expression sees: variables, filters, tests, and the names it has read."""

    __slots__ = ("filters", "tests", "used", "variables")

    def __init__(
        self,
        variables: Mapping[str, Any],
        filters: Mapping[str, Callable[..., Any]],
        tests: Mapping[str, Callable[..., Any]],
        used: set[str] | None,
    ) -> None:
        self.variables = variables
        self.filters = filters
        self.tests = tests
        self.used = used


if TYPE_CHECKING:
    Fn = Callable[[Scope], Any]

# ---------------------------------------------------------------------------------- tokens
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<float>\d+\.\d+(?:[eE][-+]?\d+)?)
  | (?P<int>\d+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>\*\*|//|==|!=|<=|>=|[-+*/%~<>()\[\]{}.,:|=])
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), body)


def _tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExprError(f"unexpected character {text[pos]!r} at column {pos + 1}")
        pos = m.end()
        kind = m.lastgroup
        value = m.group()
        if kind == "ws":
            continue
        if kind == "int":
            tokens.append(("const", int(value)))
        elif kind == "float":
            tokens.append(("const", float(value)))
        elif kind == "string":
            tokens.append(("const", _unescape(value[1:-1])))
        elif kind == "name":
            tokens.append(("name", value))
        else:
            tokens.append(("op", value))
    tokens.append(("eof", None))
    return tokens


# --------------------------------------------------------------------------------- runtime
def to_str(value: Any) -> str:
    """How a value prints inside a template (minijinja style: `true`, empty for none)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None or value is UNDEFINED:
        return ""
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value)


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def run(a: Any, b: Any) -> bool:
        try:
            return bool(op(a, b))
        except TypeError:
            # Values of different kinds (`"14" < 14`) compare unequal rather than failing.
            return False

    return run


_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": _compare(operator.lt),
    "<=": _compare(operator.le),
    ">": _compare(operator.gt),
    ">=": _compare(operator.ge),
}


def _contains(container: Any, item: Any) -> bool:
    if container is UNDEFINED or container is None:
        return False
    try:
        if isinstance(container, str):
            return to_str(item) in container
        return item in container
    except TypeError:
        return False


def _arith(op: str) -> Callable[[Any, Any], Any]:
    fn = {
        "+": operator.add,
        "-": operator.sub,
        "*": operator.mul,
        "/": operator.truediv,
        "//": operator.floordiv,
        "%": operator.mod,
        "**": operator.pow,
    }[op]

    def run(a: Any, b: Any) -> Any:
        try:
            return fn(a, b)
        except TypeError as exc:
            raise ExprError(f"cannot apply `{op}` to {_kind(a)} and {_kind(b)}: {exc}") from None
        except ZeroDivisionError:
            raise ExprError("division by zero") from None

    return run


def _kind(value: Any) -> str:
    if value is UNDEFINED:
        return "an undefined value"
    return f"{type(value).__name__} {value!r}"


def _getattr(obj: Any, name: str) -> Any:
    if name.startswith("_"):
        raise ExprError(f"attribute {name!r} is not accessible")
    if isinstance(obj, Mapping):
        return obj.get(name, UNDEFINED)
    if obj is UNDEFINED or obj is None:
        return UNDEFINED
    return getattr(obj, name, UNDEFINED)


def _getitem(obj: Any, key: Any) -> Any:
    if obj is UNDEFINED or obj is None:
        return UNDEFINED
    try:
        return obj[key]
    except (KeyError, IndexError, TypeError):
        return UNDEFINED


# ---------------------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.names: set[str] = set()
        self.calls: list[tuple[str, Any]] = []

    # -- helpers
    def peek(self) -> tuple[str, Any]:
        return self.tokens[self.pos]

    def next(self) -> tuple[str, Any]:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def at(self, kind: str, value: Any = None) -> bool:
        tok = self.tokens[self.pos]
        return tok[0] == kind and (value is None or tok[1] == value)

    def accept(self, kind: str, value: Any = None) -> bool:
        if self.at(kind, value):
            self.pos += 1
            return True
        return False

    def expect(self, kind: str, value: Any = None) -> tuple[str, Any]:
        if not self.at(kind, value):
            got = self.peek()
            want = value if value is not None else kind
            found = "end of expression" if got[0] == "eof" else repr(got[1])
            raise ExprError(f"expected {want!r}, found {found}")
        return self.next()

    # -- grammar (Jinja's precedence, lowest first)
    def parse(self) -> Fn:
        fn = self.expression()
        if not self.at("eof"):
            raise ExprError(f"unexpected {self.peek()[1]!r}")
        return fn

    def expression(self) -> Fn:
        body = self.or_()
        if self.accept("name", "if"):
            test = self.or_()
            other = self.expression() if self.accept("name", "else") else None

            def cond(s: Scope, body=body, test=test, other=other) -> Any:
                if test(s):
                    return body(s)
                return UNDEFINED if other is None else other(s)

            return cond
        return body

    def or_(self) -> Fn:
        left = self.and_()
        while self.accept("name", "or"):
            right = self.and_()

            def either(s: Scope, a=left, b=right) -> Any:
                value = a(s)
                return value if value else b(s)

            left = either
        return left

    def and_(self) -> Fn:
        left = self.not_()
        while self.accept("name", "and"):
            right = self.not_()

            def both(s: Scope, a=left, b=right) -> Any:
                value = a(s)
                return b(s) if value else value

            left = both
        return left

    def not_(self) -> Fn:
        if self.accept("name", "not"):
            inner = self.not_()
            return lambda s: not inner(s)
        return self.compare()

    def compare(self) -> Fn:
        left = self.math1()
        ops: list[tuple[str, Fn]] = []
        while True:
            tok = self.peek()
            if tok[0] == "op" and tok[1] in _COMPARE:
                self.next()
                ops.append((tok[1], self.math1()))
            elif tok == ("name", "in"):
                self.next()
                ops.append(("in", self.math1()))
            elif tok == ("name", "not") and self.tokens[self.pos + 1] == ("name", "in"):
                self.pos += 2
                ops.append(("not in", self.math1()))
            else:
                break
        if not ops:
            return left

        def chain(s: Scope, first=left, ops=ops) -> bool:
            a = first(s)
            for op, fn in ops:
                b = fn(s)
                if op == "in":
                    ok = _contains(b, a)
                elif op == "not in":
                    ok = not _contains(b, a)
                else:
                    ok = _COMPARE[op](a, b)
                if not ok:
                    return False
                a = b
            return True

        return chain

    def math1(self) -> Fn:
        left = self.concat()
        while self.at("op", "+") or self.at("op", "-"):
            left = _binary(left, self.next()[1], self.concat)
        return left

    def concat(self) -> Fn:
        parts = [self.math2()]
        while self.accept("op", "~"):
            parts.append(self.math2())
        if len(parts) == 1:
            return parts[0]
        return lambda s: "".join(to_str(p(s)) for p in parts)

    def math2(self) -> Fn:
        left = self.pow_()
        while self.peek()[0] == "op" and self.peek()[1] in ("*", "/", "//", "%"):
            left = _binary(left, self.next()[1], self.pow_)
        return left

    def pow_(self) -> Fn:
        left = self.unary()
        while self.at("op", "**"):
            left = _binary(left, self.next()[1], self.unary)
        return left

    def unary(self, with_filter: bool = True) -> Fn:
        if self.accept("op", "-"):
            inner = self.unary(False)
            node: Fn = lambda s: _arith("-")(0, inner(s))  # noqa: E731
        elif self.accept("op", "+"):
            node = self.unary(False)
        else:
            node = self.postfix(self.primary())
        if with_filter:
            node = self.filters(node)
        return node

    def primary(self) -> Fn:
        kind, value = self.next()
        if kind == "const":
            return lambda s, v=value: v
        if kind == "name":
            if value in ("true", "True"):
                return lambda s: True
            if value in ("false", "False"):
                return lambda s: False
            if value in ("none", "None"):
                return lambda s: None
            self.names.add(value)

            def load(s: Scope, name=value) -> Any:
                if s.used is not None:
                    s.used.add(name)
                return s.variables.get(name, UNDEFINED)

            return load
        if kind == "op" and value == "(":
            if self.accept("op", ")"):
                return lambda s: ()
            first = self.expression()
            if self.accept("op", ","):
                items = [first]
                while not self.at("op", ")"):
                    items.append(self.expression())
                    if not self.accept("op", ","):
                        break
                self.expect("op", ")")
                return lambda s: tuple(i(s) for i in items)
            self.expect("op", ")")
            return first
        if kind == "op" and value == "[":
            items = []
            while not self.at("op", "]"):
                items.append(self.expression())
                if not self.accept("op", ","):
                    break
            self.expect("op", "]")
            return lambda s: [i(s) for i in items]
        if kind == "op" and value == "{":
            pairs = []
            while not self.at("op", "}"):
                key = self.expression()
                self.expect("op", ":")
                pairs.append((key, self.expression()))
                if not self.accept("op", ","):
                    break
            self.expect("op", "}")
            return lambda s: {k(s): v(s) for k, v in pairs}
        found = "end of expression" if kind == "eof" else repr(value)
        raise ExprError(f"unexpected {found}")

    def arguments(self) -> tuple[list[Fn], list[tuple[str, Fn]]]:
        args: list[Fn] = []
        kwargs: list[tuple[str, Fn]] = []
        while not self.at("op", ")"):
            if self.at("name") and self.tokens[self.pos + 1] == ("op", "="):
                name = self.next()[1]
                self.next()
                kwargs.append((name, self.expression()))
            else:
                args.append(self.expression())
            if not self.accept("op", ","):
                break
        self.expect("op", ")")
        return args, kwargs

    def postfix(self, node: Fn) -> Fn:
        while True:
            if self.accept("op", "."):
                node = _attribute(node, self.expect("name")[1])
            elif self.accept("op", "["):
                node = self.subscript(node)
            elif self.accept("op", "("):
                node = self.call(node)
            else:
                return node

    def subscript(self, node: Fn) -> Fn:
        parts: list[Fn | None] = [None, None, None]
        index = 0
        is_slice = False
        while not self.at("op", "]"):
            if self.accept("op", ":"):
                is_slice = True
                index += 1
                if index > 2:
                    raise ExprError("too many `:` in a slice")
                continue
            parts[index] = self.expression()
        self.expect("op", "]")
        if is_slice:

            def sliced(s: Scope, n=node, p=parts) -> Any:
                bounds = [x(s) if x is not None else None for x in p]
                return _getitem(n(s), slice(*bounds))

            return sliced
        key = parts[0]
        if key is None:
            raise ExprError("empty subscript")
        return lambda s: _getitem(node(s), key(s))

    def call(self, node: Fn) -> Fn:
        callee_name = None
        args, kwargs = self.arguments()
        # Remember `compiler('c')`-style calls: they read variant keys named after the argument.
        if self.tokens[self.pos - 1] == ("op", ")"):
            callee_name = self._last_name
        if callee_name is not None and args:
            self.calls.append((callee_name, args[0]))

        def run(s: Scope, n=node, args=args, kwargs=kwargs) -> Any:
            fn = n(s)
            if not callable(fn):
                raise ExprError(f"{_kind(fn)} is not callable")
            try:
                return fn(*(a(s) for a in args), **{k: v(s) for k, v in kwargs})
            except ExprError:
                raise
            except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
                raise ExprError(f"call failed: {exc}") from None

        return run

    @property
    def _last_name(self) -> str | None:
        # The name right before the opening parenthesis of the call just parsed.
        depth = 0
        for i in range(self.pos - 1, -1, -1):
            tok = self.tokens[i]
            if tok == ("op", ")"):
                depth += 1
            elif tok == ("op", "("):
                depth -= 1
                if depth == 0:
                    prev = self.tokens[i - 1] if i > 0 else ("eof", None)
                    return prev[1] if prev[0] == "name" else None
        return None

    def filters(self, node: Fn) -> Fn:
        while True:
            if self.accept("op", "|"):
                name = self.expect("name")[1]
                args, kwargs = self.arguments() if self.accept("op", "(") else ([], [])
                node = _filter_call(node, name, args, kwargs)
            elif self.accept("name", "is"):
                negate = self.accept("name", "not")
                name = self.expect("name")[1]
                if self.accept("op", "("):
                    args, kwargs = self.arguments()
                elif self.peek()[0] in ("const", "name") and self.peek()[1] not in (
                    "and",
                    "or",
                    "else",
                    "if",
                ):
                    args, kwargs = [self.primary()], []
                else:
                    args, kwargs = [], []
                node = _test_call(node, name, args, kwargs, negate)
            else:
                return node


def _binary(left: Fn, op: str, parse_right: Callable[[], Fn]) -> Fn:
    fn = _arith(op)
    right = parse_right()
    return lambda s: fn(left(s), right(s))


def _attribute(node: Fn, name: str) -> Fn:
    return lambda s: _getattr(node(s), name)


def _filter_call(node: Fn, name: str, args: list[Fn], kwargs: list[tuple[str, Fn]]) -> Fn:
    def run(s: Scope) -> Any:
        fn = s.filters.get(name)
        if fn is None:
            raise ExprError(f"unknown filter `{name}`")
        try:
            return fn(node(s), *(a(s) for a in args), **{k: v(s) for k, v in kwargs})
        except ExprError:
            raise
        except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
            raise ExprError(f"filter `{name}` failed: {exc}") from None

    return run


def _test_call(
    node: Fn, name: str, args: list[Fn], kwargs: list[tuple[str, Fn]], negate: bool
) -> Fn:
    def run(s: Scope) -> bool:
        fn = s.tests.get(name)
        if fn is None:
            raise ExprError(f"unknown test `{name}`")
        result = bool(fn(node(s), *(a(s) for a in args), **{k: v(s) for k, v in kwargs}))
        return not result if negate else result

    return run


class Compiled:
    """A parsed expression: call `run(scope)`; `names` are all names it may read."""

    __slots__ = ("calls", "fn", "names")

    def __init__(self, fn: Fn, names: frozenset[str], calls: tuple[tuple[str, Any], ...]):
        self.fn = fn
        self.names = names
        self.calls = calls


def compile_expression(text: str) -> Compiled:
    """Parse `text`; raises ExprError with a readable reason."""
    parser = _Parser(text)
    fn = parser.parse()
    calls = []
    for callee, arg in parser.calls:
        try:
            value = arg(Scope({}, {}, {}, None))
        except Exception:
            continue
        if isinstance(value, str):
            calls.append((callee, value))
    return Compiled(fn, frozenset(parser.names), tuple(calls))
