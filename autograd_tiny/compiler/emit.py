"""From lines of generated code to Python functions: names, returns, chunks, ``exec``.

``define(name, signature, body, result)`` makes the function; a body of more
than ``CHUNK`` statements is made of chunks, each compiled on its own. The
helpers name the arguments (``argument_names``), build a result of any shape
(``shape_source``), and start each gradient with an assignment where nothing
guards its first term (``first_assignments``). Imports ``symbolic`` (the names
generated code may call); ``codegen`` imports it.

>>> add = define("add", ["x", "y"], ["    v0 = x + y"], "v0")
>>> add(1.0, 2.0)
3.0
>>> add(1, 2)
Traceback (most recent call last):
...
autograd_tiny.compiler.emit.NotFloats
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import math
import re
from typing import Any, Callable

from .inline import NAME as _NAME
from .inline import inline
from .symbolic import NAMESPACE, number_source

__all__ = [
    "CHUNK",
    "OTHER_BRANCH",
    "NotFloats",
    "argument_names",
    "chained_zero",
    "define",
    "first_assignments",
    "guard_condition",
    "guarded",
    "live",
    "run",
    "shape_source",
    "tuple_display",
]


def shape_source(shape: Any, items: list[str]) -> str:
    """Python source building ``shape`` (nested lists and tuples) from ``items`` in order."""
    position = 0

    def build(part: Any) -> str:
        nonlocal position
        if not isinstance(part, (list, tuple)):
            position += 1
            return items[position - 1]
        inner = [build(x) for x in part]
        if isinstance(part, list):
            return f"[{', '.join(inner)}]"
        return tuple_display(inner) if inner else "()"

    return build(shape)


def first_assignments(
    lines: list[str], names: list[str], indent: int
) -> tuple[list[str], list[str]]:
    """``name += x`` as ``name = x`` (``name -= x`` as ``name = -x``) where it is the
    first statement of ``name`` and no ``if`` guards it; returns the lines and the names
    still to be set to 0.0 first. (Only the sign of a zero can differ: 0.0 + -0.0 is
    0.0, as ``Value.backward`` sums.)"""
    pending = set(names)
    lines = list(lines)
    first: dict[str, int] = {}
    for i, line in enumerate(lines):
        for name in _NAME.findall(line):
            if name in pending and name not in first:
                first[name] = i
        if len(first) == len(pending):
            break
    prefix = "    " * indent
    for name, i in first.items():
        head = f"{prefix}{name} += "
        if lines[i].startswith(head):
            lines[i] = f"{prefix}{name} = " + lines[i][len(head) :]
            pending.discard(name)
        elif lines[i].startswith(f"{prefix}{name} -= "):
            term = lines[i][len(head) :]
            term = term if _SAFE_NAME.match(term) else f"({term})"
            lines[i] = f"{prefix}{name} = -{term}"
            pending.discard(name)
    return lines, [n for n in names if n in pending]


def chained_zero(names: list[str], indent: int) -> str:
    return "    " * indent + " = ".join(names) + " = 0.0"


_SAFE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")
# the names generated code gives its own variables (``inline.NAME``) and params (p0, ...)
_RESERVED = re.compile(r"(?:[vgkhp][0-9]+|gs[0-9]+)\Z")


# Names the generated code uses itself: its batch variables and Python's builtins (abs).
_TAKEN = {"total", "rows", "shared", "aux", *dir(builtins)}


def argument_names(f: Callable[..., Any], count: int) -> list[str]:
    """f's own parameter names when they are plain and distinct, else a0, a1, ..."""
    code = getattr(f, "__code__", None)
    if code is not None and code.co_argcount == count and not code.co_flags & 0x04:
        names = list(code.co_varnames[:count])
        if len(set(names)) == count and all(
            _SAFE_NAME.match(n)
            and not _RESERVED.match(n)
            and not keyword.iskeyword(n)
            and n not in _TAKEN
            for n in names
        ):
            return names
    return [f"a{i}" for i in range(count)]


def fixed_arity(f: Callable[..., Any], count: int) -> bool:
    """``f`` takes exactly ``count`` positional arguments, no more, no fewer (its
    signature, through ``functools.wraps``): then a call of an entry point with
    another count is a TypeError for ``f`` too, and the entry needs no ``*rest``."""
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    taken = [p for p in parameters if p.kind in positional]
    return (
        len(taken) == count
        and all(p.default is inspect.Parameter.empty for p in taken)
        and all(p.kind in (*positional, inspect.Parameter.VAR_KEYWORD) for p in parameters)
    )


def tuple_display(items: list[str]) -> str:
    """Python source of a tuple of these: ``()``, ``(a,)``, ``(a, b)``."""
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def run(text: str) -> dict[str, Any]:
    """Run generated source (ours, never the user's): the names it defines."""
    namespace = dict(NAMESPACE)
    exec(text, namespace)
    return namespace


class NotFloats(Exception):
    """Raised by generated code called with anything but floats: the caller converts."""


NAMESPACE["_NotFloats"] = NotFloats


class _OtherBranch:
    """The type of ``OTHER_BRANCH``."""

    def __repr__(self) -> str:
        return "OTHER_BRANCH"


OTHER_BRANCH = _OtherBranch()
"""What the code of a decided trace (``branches``) returns where a call takes another
branch than the trace did: the caller tries another trace (a return, not an exception:
misses are common where calls alternate between branches)."""
NAMESPACE["_OTHER_BRANCH"] = OTHER_BRANCH


def guard_condition(guards: list[tuple[str, float]]) -> str:
    """What a decided trace's guards ask (a source and the number it must be: 1.0 for a
    comparison whose branch the trace took), as one condition.

    >>> guard_condition([("v1", 1.0), ("v2", 0.0), ("v4", math.nan)])
    'v1 == 1.0 and v2 == 0.0 and v4 != v4'
    """
    return " and ".join(
        f"{s} != {s}" if math.isnan(n) else f"{s} == {number_source(n)}" for s, n in guards
    )


def guarded(result: str, guards: list[tuple[str, float]]) -> str:
    """``result`` where the guards hold, else ``OTHER_BRANCH``.

    >>> guarded("v3", [("v1", 1.0)])
    '((v3) if v1 == 1.0 else _OTHER_BRANCH)'
    """
    if not guards:
        return result
    return f"(({result}) if {guard_condition(guards)} else _OTHER_BRANCH)"


# Past this many statements a generated function is written in chunks (see ``_define``).
CHUNK = 4000


def define(
    name: str,
    signature: list[str],
    body: list[str],
    result: str,
    *,
    slow: Callable[..., Any] | None = None,
    fallback: Callable[..., Any] | None = None,
    fixed: bool = False,
) -> Callable[..., Any]:
    """The function ``def name(signature): body; return result``, run with ``exec``.

    It raises ``NotFloats`` when called with anything but floats. Given ``slow`` and
    ``fallback`` it is an entry point instead, what a user calls directly: other
    arguments (another count, an int, a Value) go to ``slow(*args)`` (with ``fixed``,
    for a function taking exactly its signature, another count is Python's own
    TypeError, as for that function: the entry then has no ``*rest``), and what
    the eager engine must redo (a division by zero, an overflow) to
    ``fallback(*args)``; nothing else stands between the call and the code.

    Python's compiler takes about 2 KB per statement of one function while it works;
    a function of more than ``CHUNK`` statements is made of chunks instead, each
    compiled on its own (so the compiler's memory stays that of one chunk), that
    keep the variables in one list: ``v3`` is ``s[7]``. Chunks split only between
    top-level statements, never inside an ``if``.
    """
    body = live(body, result)
    if len(body) <= CHUNK:
        body, result = inline(body, result)
    if slow is not None and fallback is not None and len(body) <= CHUNK:
        return _entry(name, signature, body, result, slow, fallback, fixed)
    check = ""
    if signature:  # floats only: anything else goes back to the caller's slow path
        check = (
            "    if "
            + " or ".join(f"{a}.__class__ is not float" for a in signature)
            + ":\n        raise _NotFloats\n"
        )
    if len(body) <= CHUNK:
        text = (
            f"def {name}({', '.join(signature)}):\n"
            + check
            + "".join(line + "\n" for line in body)
            + f"    return {result}\n"
        )
        return run(text)[name]
    slots: dict[str, int] = {arg: i for i, arg in enumerate(signature)}
    arguments = (
        re.compile(r"\b(?:" + "|".join(map(re.escape, signature)) + r")\b") if signature else None
    )

    def slot(match: re.Match[str]) -> str:
        index = slots.setdefault(match.group(0), len(slots))
        return f"s[{index}]"

    def rewrite(line: str) -> str:
        line = _NAME.sub(slot, line)
        return arguments.sub(slot, line) if arguments is not None else line

    namespace = dict(NAMESPACE)
    chunks: list[Callable[..., Any]] = []
    start = 0
    while start < len(body):
        end = min(start + CHUNK, len(body))
        while end < len(body) and body[end].startswith("     "):  # inside an if block
            end += 1
        text = "def chunk(s):\n" + "".join(rewrite(line) + "\n" for line in body[start:end])
        exec(text, namespace)
        chunks.append(namespace.pop("chunk"))
        start = end
    tail = rewrite(result)
    finish = run(f"def finish(s):\n    return {tail}\n")["finish"]
    size = len(slots)
    count = len(signature)

    def function(*args: Any) -> Any:
        if len(args) != count:
            raise TypeError(f"{name}() takes {count} arguments, got {len(args)}")
        for a in args:
            if a.__class__ is not float:
                raise NotFloats
        s: list[Any] = [*args, *[0.0] * (size - count)]
        for chunk in chunks:
            early = chunk(s)  # None, or what a statement returned (a guard's OTHER_BRANCH)
            if early is not None:
                return early
        return finish(s)

    function.__name__ = name
    return function


class _Missing:
    """The default of an entry point's parameters: an argument not given."""


_MISSING = _Missing()


def _entry(
    name: str,
    signature: list[str],
    body: list[str],
    result: str,
    slow: Callable[..., Any],
    fallback: Callable[..., Any],
    fixed: bool,
) -> Callable[..., Any]:
    """``define``'s entry point: the checks and the fallback in the generated code itself."""
    args = ", ".join(signature)
    if fixed:  # no defaults and no *rest to fill: the cheapest call Python has
        floats = " or ".join(f"{a}.__class__ is not float" for a in signature) or "False"
        slash = ", /" if signature else ""  # positional only, as the general path
        head = [
            f"def {name}({args}{slash}):",
            f"    if {floats}:",
            f"        return _slow({args})",
        ]
    else:
        head = _variable_head(name, signature)
    lines = [
        *head,
        "    try:",
        *["    " + line for line in body],
        f"        return {result}",
        "    except _FALLS_BACK:",
        f"        return _fallback({args})",
    ]
    namespace = dict(
        NAMESPACE,
        _slow=slow,
        _fallback=fallback,
        _MISSING=_MISSING,
        _FALLS_BACK=(ArithmeticError, ValueError),
    )
    exec("\n".join(lines) + "\n", namespace)
    return namespace[name]


def _variable_head(name: str, signature: list[str]) -> list[str]:
    """An entry's first lines where the function may take another count of arguments."""
    args = ", ".join(signature)
    # each parameter defaults to a marker that is no float: fewer arguments go to slow too
    params = "".join(f"{a}=_MISSING, " for a in signature)
    floats = "".join(f" or {a}.__class__ is not float" for a in signature)
    given = (
        f"*[a for a in ({args}{',' if len(signature) == 1 else ''}) if a is not _MISSING], "
        if signature
        else ""
    )
    slash = "/, " if signature else ""  # positional only: a keyword is a TypeError
    return [
        f"def {name}({params}{slash}*_rest):",
        f"    if _rest{floats}:",
        f"        return _slow({given}*_rest)",
    ]


_ASSIGNMENT = re.compile(r"    (v[0-9]+) = ")


def live(body: list[str], result: str) -> list[str]:
    """``body`` without the forward lines (``vN = ...`` at the top level) whose variable
    nothing after them reads: pure formulas, so dropping one changes no result."""
    needed = set(_NAME.findall(result))
    kept: list[str] = []
    for line in reversed(body):
        match = _ASSIGNMENT.match(line)
        if match is not None and match.group(1) not in needed:
            continue
        needed.update(_NAME.findall(line))
        kept.append(line)
    kept.reverse()
    return kept
