"""Safe arithmetic expressions for the command line: parsed with ``ast``, never ``eval``.

Imports only the engine, ``_ieee`` and ``_checks``. ``parse`` accepts numbers (read as floats), the
variable names it is given, ``+ - * / **``, unary ``-`` and ``+``, and calls
of the op table's functions (``FUNCTIONS``, derived from ``engine.RULES``)
with positional arguments. Everything else (attributes, subscripts, lambdas,
strings, keywords, comprehensions...) raises ``ExpressionError`` before
anything is evaluated. Evaluation walks the tree with an explicit stack, so
depth is limited only by what ``ast.parse`` accepts.

>>> e = parse("x*y + exp(x)", ["x", "y"])
>>> e.names
('x', 'y')
>>> e.evaluate({"x": 0.0, "y": 3.0})
1.0
>>> parse("x.__class__", ["x"])
Traceback (most recent call last):
...
autograd_tiny.expr.ExpressionError: not allowed: attribute access (at column 1)
"""

from __future__ import annotations

import ast
import builtins
import inspect
import keyword
import operator
import re
from collections.abc import Iterable, Mapping
from typing import Any, Callable

from . import _ieee, engine
from ._checks import is_number

__all__ = [
    "FUNCTIONS",
    "MAX_LENGTH",
    "Expression",
    "ExpressionError",
    "check_variable_name",
    "parse",
]

MAX_LENGTH = 10_000  # characters; ast.parse itself fails on much less when deeply nested

# Every op of the derivative table that is callable by name: the engine's module
# function of that name, or the builtin for abs (Value.__abs__ makes it an op).
FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: getattr(engine, name, None) or getattr(builtins, name)
    for name in engine.RULES
    if name.isidentifier() and (callable(getattr(engine, name, None)) or name == "abs")
}


def _binary(
    symbol: str, op: Callable[[Any, Any], Any], on_floats: Callable[[float, float], float]
) -> Callable[[Any, Any], Any]:
    """``op`` when a Value takes part (the engine records a node), else ``on_floats``.

    Two plain numbers become floats as ``Value()`` would make them, so constant
    arithmetic gives what the engine's forward value would, with no graph built.
    """
    where = f"operand of {symbol}"

    def apply(x: Any, y: Any) -> Any:
        if isinstance(x, engine.Value) or isinstance(y, engine.Value):
            return op(x, y)
        return on_floats(engine.to_float(x, where), engine.to_float(y, where))

    return apply


# On floats + - * cannot raise; / and ** follow the engine's IEEE table
# (1/0 → inf, 0/0 → nan, 10**400 → inf, (-8)**(1/3) → nan, never complex).
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: _binary("+", operator.add, operator.add),
    ast.Sub: _binary("-", operator.sub, operator.sub),
    ast.Mult: _binary("*", operator.mul, operator.mul),
    ast.Div: _binary("/", operator.truediv, _ieee.div),
    ast.Mod: _binary("%", operator.mod, _ieee.mod),
    ast.Pow: engine.power,
}
_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.USub: lambda x: -x,
    ast.UAdd: lambda x: x,
}

# Readable names for the syntax people try most often.
_DESCRIPTIONS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "if-else expressions",
    ast.NamedExpr: "assignment (:=)",
    ast.JoinedStr: "strings",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.Starred: "starred arguments",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}


class ExpressionError(ValueError):
    """An expression that is not allowed or not valid; the message says why and where."""


def _where(node: ast.AST) -> str:
    column = getattr(node, "col_offset", None)
    return f" (at column {column + 1})" if column is not None else ""


def _function_list() -> str:
    return ", ".join(sorted(FUNCTIONS))


def check_variable_name(name: str) -> str:
    """Return ``name`` if it can name a variable, else raise ``ExpressionError``.

    >>> check_variable_name("x1")
    'x1'
    >>> check_variable_name("exp")
    Traceback (most recent call last):
    ...
    autograd_tiny.expr.ExpressionError: variable name 'exp' is a function name; choose another
    """
    if not name.isidentifier():
        raise ExpressionError(f"variable name {name!r} is not a Python identifier")
    if keyword.iskeyword(name):
        raise ExpressionError(f"variable name {name!r} is a Python keyword; choose another")
    if name in FUNCTIONS:
        raise ExpressionError(f"variable name {name!r} is a function name; choose another")
    return name


# A number written against a name, like 2x or 2.5y: the product people mean.
_JUXTAPOSED = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)([A-Za-z_]\w*)")


def _syntax_message(text: str, error: SyntaxError) -> str:
    """One line for a syntax error: what to write instead where we can tell, and the column.

    >>> _syntax_message("2x + 1", SyntaxError("invalid decimal literal", ("", 1, 1, "")))
    'write 2*x for a product (at column 1)'
    """
    message = (error.msg or "invalid syntax").splitlines()[0]
    for match in _JUXTAPOSED.finditer(text):
        number, name = match.groups()
        # Only where the parser stopped: elsewhere the error has another cause.
        if not match.start() < (error.offset or 0) <= match.end():
            continue
        try:
            float(number + name)  # 1e5 is a number, not 1 * e5
        except ValueError:
            return f"write {number}*{name} for a product (at column {match.start() + 1})"
    offset = error.offset or 0
    if 0 < offset <= len(text) and not text[offset - 1].isprintable():
        # Python 3.11 names the character itself; older parsers only say "invalid syntax".
        return (
            f"invalid syntax: invalid non-printable character "
            f"U+{ord(text[offset - 1]):04X} (at column {offset})"
        )
    if message.startswith("Exceeds the limit"):  # int_max_str_digits
        return f"invalid number: a number has too many digits{_at_column(error.offset)}"
    if not error.offset or "EOF" in message:
        return (
            f"invalid syntax: the expression ends too early (at column {len(text) + 1}, "
            f"after {text!r:.60})"
        )
    if message == "invalid syntax":
        return f"invalid syntax{_at_column(error.offset)}"
    return f"invalid syntax: {message}{_at_column(error.offset)}"


def _at_column(offset: int | None) -> str:
    return f" (at column {offset})" if offset else ""


def _constant(node: ast.Constant) -> float:
    value = node.value
    if not is_number(value):
        kind = "strings" if isinstance(value, (str, bytes)) else f"{type(value).__name__} constants"
        raise ExpressionError(f"{kind} are not allowed, only real numbers{_where(node)}")
    try:
        return float(value)
    except OverflowError:
        raise ExpressionError(
            f"the number at column {node.col_offset + 1} is too large for a float"
        ) from None


def _check(tree: ast.Expression, variables: frozenset[str]) -> tuple[str, ...]:
    """Reject every node outside the whitelist; return the variable names used, in order."""
    used: list[str] = []
    stack: list[ast.AST] = [tree.body]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Constant):
            _constant(node)
        elif isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise ExpressionError(
                    f"{node.id} is a function: call it as {node.id}(...){_where(node)}"
                )
            if node.id not in used:
                used.append(node.id)
        elif isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.BitXor):
                power = ast.unparse(ast.BinOp(node.left, ast.Pow(), node.right))
                raise ExpressionError(
                    f"use ** for powers (^ is not one): write {power}{_where(node)}"
                )
            if type(node.op) not in _BINARY:
                raise ExpressionError(
                    f"operator {type(node.op).__name__} is not allowed "
                    f"(only + - * / **){_where(node)}"
                )
            stack += [node.right, node.left]
        elif isinstance(node, ast.UnaryOp):
            if type(node.op) not in _UNARY:
                raise ExpressionError(
                    f"operator {type(node.op).__name__} is not allowed "
                    f"(only unary - and +){_where(node)}"
                )
            stack.append(node.operand)
        elif isinstance(node, ast.Call):
            _check_call(node, variables)
            stack += reversed(node.args)
        else:
            what = _DESCRIPTIONS.get(type(node), f"{type(node).__name__} syntax")
            raise ExpressionError(f"not allowed: {what}{_where(node)}")
    # Stack order pops left operands first, so ``used`` follows reading order.
    missing = [name for name in used if name not in variables]
    if missing:
        raise ExpressionError(
            f"no value for {', '.join(map(repr, missing))}: give "
            + ", ".join(f"--var {name}=NUMBER" for name in missing)
        )
    return tuple(used)


def _check_call(node: ast.Call, variables: frozenset[str]) -> None:
    if isinstance(node.func, ast.Constant):
        raise ExpressionError(
            f"write {ast.unparse(node.func)}*(...) for a product, not "
            f"{ast.unparse(node.func)}(...){_where(node)}"
        )
    if not isinstance(node.func, ast.Name):
        what = _DESCRIPTIONS.get(type(node.func), "calling an expression")
        raise ExpressionError(
            f"not allowed: {what}{_where(node.func)}; call a function by name ({_function_list()})"
        )
    name = node.func.id
    if name not in FUNCTIONS and name in variables:
        raise ExpressionError(f"{name!r} is a variable, not a function{_where(node)}")
    if name not in FUNCTIONS:
        raise ExpressionError(
            f"unknown function {name!r}{_where(node)} (allowed: {_function_list()})"
        )
    if node.keywords:
        raise ExpressionError(f"keyword arguments are not allowed in {name}(...){_where(node)}")
    for argument in node.args:
        if isinstance(argument, ast.Starred):
            raise ExpressionError(f"starred arguments are not allowed{_where(argument)}")
    try:
        inspect.signature(FUNCTIONS[name]).bind(*node.args)
    except TypeError:
        raise ExpressionError(
            f"{name}() does not take {len(node.args)} argument"
            f"{'' if len(node.args) == 1 else 's'}{_where(node)}"
        ) from None


class Expression:
    """A checked expression: ``source``, the variables it uses (``names``), ``evaluate``.

    >>> parse("a + a", ["a"]).evaluate({"a": 1.5})
    3.0
    """

    def __init__(self, source: str, tree: ast.Expression, names: tuple[str, ...]) -> None:
        self.source = source
        self.tree = tree
        self.names = names

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """The expression's value, with each variable taken from ``values`` (Values or numbers).

        Numbers give a float; Values give a Value whose graph records every op.
        Arithmetic follows the engine's IEEE rules either way: ``1/0`` is inf.

        >>> parse("1/0 - x/0", ["x"]).evaluate({"x": -1.0})
        inf
        """
        missing = [name for name in self.names if name not in values]
        if missing:
            raise ExpressionError(f"no value for {', '.join(missing)}")
        # Post-order walk with an explicit stack: (node, children done?).
        results: list[Any] = []
        stack: list[tuple[ast.AST, bool]] = [(self.tree.body, False)]
        while stack:
            node, ready = stack.pop()
            if isinstance(node, ast.Constant):
                results.append(_constant(node))
            elif isinstance(node, ast.Name):
                results.append(values[node.id])
            elif not ready:
                stack.append((node, True))
                children = (
                    [node.left, node.right]
                    if isinstance(node, ast.BinOp)
                    else [node.operand]
                    if isinstance(node, ast.UnaryOp)
                    else list(node.args)
                    if isinstance(node, ast.Call)
                    else []
                )
                stack += [(child, False) for child in reversed(children)]
            elif isinstance(node, ast.BinOp):
                right = results.pop()
                left = results.pop()
                results.append(_BINARY[type(node.op)](left, right))
            elif isinstance(node, ast.UnaryOp):
                results.append(_UNARY[type(node.op)](results.pop()))
            elif isinstance(node, ast.Call):
                count = len(node.args)
                args = results[len(results) - count :]
                del results[len(results) - count :]
                results.append(FUNCTIONS[node.func.id](*args))  # type: ignore[attr-defined]
        return results[0]


def parse(source: str, variables: Iterable[str] = ()) -> Expression:
    """Check ``source`` against the whitelist and return an ``Expression``.

    ``variables`` are the names it may use. Every problem, including input
    that makes ``ast.parse`` itself fail (syntax, nesting too deep for the
    parser, a too long string), raises ``ExpressionError`` with one line.

    >>> parse("__import__('os')", [])
    Traceback (most recent call last):
    ...
    autograd_tiny.expr.ExpressionError: unknown function '__import__' (at column 1) (allowed: ...)
    >>> parse("sin(x) ** 2", ["x"]).evaluate({"x": 0.0})
    0.0
    """
    if not isinstance(source, str):
        raise TypeError(f"parse() needs a str, got {type(source).__name__}")
    text = source.strip()
    if not text:
        raise ExpressionError("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}"
        )
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise ExpressionError(_syntax_message(text, error)) from None
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression is nested too deeply to parse") from None
    except ValueError as error:  # e.g. null bytes on some Python versions
        raise ExpressionError(f"invalid expression: {str(error).splitlines()[0]}") from None
    names = _check(tree, frozenset(variables))
    return Expression(text, tree, names)
