"""Python source from the rule table: forward formulas (``FORWARD``) and ``Expr``,
expressions that print themselves, on which ``gates`` runs the derivative rules.

Imports the engine, ``_ieee`` and ``branches`` (its ``Oracle``). A rule from
``RULES`` called with ``Expr`` objects in place of numbers gives back the source
of its local partials; a comparison inside a rule (relu, abs) asks an ``Oracle``.

>>> x, y = Expr("x"), Expr("y")
>>> source(x * y + 1.0), source((x + y) * 2.0), FORWARD["tanh"].format("v3")
('x * y + 1.0', '2.0 * (x + y)', '_tanh(v3)')
>>> source(x - -y), source(-x * y + 1.0), source(4.0 * (2.0 * x))
('x + y', '1.0 - x * y', '8.0 * x')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Callable

from .._ieee import floor as _floor
from .._ieee import mod as _mod
from .._ieee import real_pow as _pow
from ..engine import FLOAT_FUNCTIONS, REGISTRY, Value
from .branches import Oracle

__all__ = [
    "ATOM",
    "FORWARD",
    "NAMESPACE",
    "Expr",
    "arithmetic",
    "negated",
    "number_source",
    "source",
]


# --------------------------------------------------------------------------
# Forward formulas: op name -> Python source ({0}, {1} are the operands).
# Function calls use the engine's IEEE-safe float functions (never a math
# exception); "/" is a bare division whose ZeroDivisionError sends the call
# back to the eager engine.
# --------------------------------------------------------------------------


class _Formulas(dict[str, str]):
    """``FORWARD``: an op defined with ``define_op`` after import gets its formula on first
    use, a call of its float function (put in ``NAMESPACE`` as ``_op_<name>``)."""

    def __missing__(self, op: str) -> str:
        entry = REGISTRY.get(op)
        if entry is None:
            raise KeyError(op)
        NAMESPACE[f"_op_{op}"] = entry.forward
        slots = ", ".join("{" + str(i) + "}" for i in range(entry.arity))
        formula = f"_op_{op}({slots})"
        self[op] = formula
        return formula

    def __getitem__(self, op: str) -> str:
        entry = REGISTRY.get(op)
        if entry is not None and not entry.builtin:  # a user's op, maybe defined again
            NAMESPACE[f"_op_{op}"] = entry.forward
        return dict.__getitem__(self, op)

    def __contains__(self, op: object) -> bool:
        return dict.__contains__(self, op) or op in REGISTRY


FORWARD: dict[str, str] = _Formulas(
    {
        "+": "{0} + {1}",
        "-": "{0} - {1}",
        "*": "{0} * {1}",
        "/": "{0} / {1}",
        "**": "_pow({0}, {1})",
        "neg": "-{0}",
        "abs": "abs({0})",
        "leaky_relu": "{0} if {0} > 0.0 else {1} * {0}",
        # the engine's FLOAT_FUNCTIONS, each called by its name with an underscore
        **{op: f"_{op}({{0}})" for op in FLOAT_FUNCTIONS},
        "relu": "0.0 if {0} <= 0.0 else {0}",  # inline: no call
        "identity": "{0}",
        "%": "_mod({0}, {1})",
        # what compile(grad(f)) makes of a rule's branches (engine.where), inline
        **{
            op: f"(1.0 if {{0}} {symbol} {{1}} else 0.0)"
            for op, symbol in (
                ("lt", "<"),
                ("le", "<="),
                ("gt", ">"),
                ("ge", ">="),
                ("eq", "=="),
                ("ne", "!="),
            )
        },
        "if_true": "({1} if {0} > 0.0 else -0.0)",
        "if_false": "(-0.0 if {0} > 0.0 else {1})",
    }
)

NAMESPACE: dict[str, Any] = {
    **{f"_{op}": function for op, function in FLOAT_FUNCTIONS.items()},
    "_pow": _pow,
    "_mod": _mod,
    "_floor": _floor,
    "_inf": math.inf,
    "_nan": math.nan,
    # C's own where the engine's IEEE wrapper only catches what they raise (an overflow,
    # sin of inf): the generated code then goes back to the eager engine, which gives the
    # same inf or nan. (log and sqrt keep the wrapper: a select computes both of a rule's
    # sides, and log of a negative number in the untaken one is common.)
    "_exp": math.exp,
    "_sin": math.sin,
    "_cos": math.cos,
}
for _op in REGISTRY:  # the binary ops of the registry: calls of their float functions
    FORWARD[_op]


def number_source(x: float) -> str:
    if x != x:
        return "_nan"
    if math.isinf(x):
        return "_inf" if x > 0 else "-_inf"
    return repr(float(x))


# --------------------------------------------------------------------------
# Expressions that print Python source. A derivative rule from RULES is
# called with these in place of numbers; the result is its source code.
# Comparisons ask an oracle, so a rule with a branch (relu, abs) is run once
# per branch and becomes an if/else.
# --------------------------------------------------------------------------

ATOM, UNARY, PRODUCT, SUM = 4, 3, 2, 1


class Expr(Value):
    """Source text standing in for a number (a Value so that the module functions accept it)."""

    __slots__ = ("negates", "oracle", "prec", "scaled", "src")

    src: str
    prec: int
    oracle: Oracle | None
    negates: Expr | None  # this is -negates
    scaled: tuple[float, Expr] | None  # this is c * e

    def __init__(
        self,
        src: str,
        prec: int = ATOM,
        oracle: Oracle | None = None,
        *,
        negates: Expr | None = None,
        scaled: tuple[float, Expr] | None = None,
    ) -> None:
        self.src = src
        self.prec = prec
        self.oracle = oracle
        self.negates = negates
        self.scaled = scaled

    def __repr__(self) -> str:
        return f"Expr({self.src!r})"

    def with_oracle(self, oracle: Oracle | None) -> Expr:
        return Expr(self.src, self.prec, oracle, negates=self.negates, scaled=self.scaled)

    def _wrap(self, prec: int) -> str:
        return self.src if self.prec > prec else f"({self.src})"

    # -- arithmetic, folding x*1, x*-1, x/1, x+0, x-0, x**1 and signs (``arithmetic``) ----

    def _binary(self, other: Any, symbol: str, reflected: bool) -> Expr:
        other = _as_operand(other)
        left, right = (other, self) if reflected else (self, other)
        return arithmetic(symbol, left, right, self.oracle)

    def __add__(self, other: Any) -> Any:
        return self if _is(other, 0.0) else self._binary(other, "+", False)

    def __radd__(self, other: Any) -> Any:
        return self if _is(other, 0.0) else self._binary(other, "+", True)

    def __sub__(self, other: Any) -> Any:
        return self if _is(other, 0.0) else self._binary(other, "-", False)

    def __rsub__(self, other: Any) -> Any:
        return self._binary(other, "-", True)

    def __mul__(self, other: Any) -> Any:
        if _is(other, 1.0):
            return self
        if _is(other, -1.0):
            return -self
        return self._binary(other, "*", False)

    def __rmul__(self, other: Any) -> Any:
        if _is(other, 1.0):
            return self
        if _is(other, -1.0):
            return -self
        return self._binary(other, "*", True)

    def __truediv__(self, other: Any) -> Any:
        return self if _is(other, 1.0) else self._binary(other, "/", False)

    def __rtruediv__(self, other: Any) -> Any:
        return self._binary(other, "/", True)

    def __pow__(self, other: Any) -> Any:
        if _is(other, 1.0):
            return self
        return Expr(f"_pow({self.src}, {source(_as_operand(other))})", ATOM, self.oracle)

    def __rpow__(self, other: Any) -> Any:
        return Expr(f"_pow({source(_as_operand(other))}, {self.src})", ATOM, self.oracle)

    def __neg__(self) -> Any:
        return negated(self)

    def __abs__(self) -> Any:
        return self._call("abs")

    def _call(self, function: str) -> Expr:
        return Expr(f"{function}({self.src})", ATOM, self.oracle)

    def _apply(self, op: str, operands: Sequence[Any]) -> Any:
        """A registry op (``define_op``) inside a rule: a call of its float function.

        A select's partial (``if_true(c, 1.0)``) is a branch in a rule: the untaken side
        is no contribution at all, so the code after it moves inside an ``if``."""
        if op in ("if_true", "if_false") and self.oracle is not None and operands[0] is self:
            taken = self._compare(0.0, ">") == (op == "if_true")
            return operands[1] if taken else 0.0
        formula = FORWARD[op]
        return Expr(
            formula.format(*[_operand(_as_operand(o), ATOM, False) for o in operands]),
            ATOM,
            self.oracle,
        )

    def __floor__(self) -> Expr:
        return Expr(f"_floor({self.src})", ATOM, self.oracle)

    # -- comparisons: a branch in a rule ---------------------------------------

    def _compare(self, other: Any, symbol: str) -> bool:
        if self.oracle is None:
            raise TypeError(f"cannot compare the expression {self.src}")
        return self.oracle.decide(f"{self.src} {symbol} {source(_as_operand(other))}")

    def __eq__(self, other: object) -> bool:
        # In a rule (with an oracle) x == 0 is a branch like x < 0; elsewhere identity.
        if self.oracle is None:
            return self is other
        return self._compare(other, "==")

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __lt__(self, other: Any) -> bool:
        return self._compare(other, "<")

    def __le__(self, other: Any) -> bool:
        return self._compare(other, "<=")

    def __gt__(self, other: Any) -> bool:
        return self._compare(other, ">")

    def __ge__(self, other: Any) -> bool:
        return self._compare(other, ">=")

    __hash__ = object.__hash__


def _call_method(op: str) -> Callable[[Expr], Expr]:
    def method(self: Expr) -> Expr:
        return self._call(f"_{op}")

    method.__name__ = op
    return method


# x.exp(), x.log()... inside a rule print calls of the engine's float functions.
for _op in FLOAT_FUNCTIONS:
    setattr(Expr, _op, _call_method(_op))


def negated(x: Any) -> Any:
    """-x, exactly: a number negated, ``-(-e)`` is ``e``, and ``-(c * e)`` is ``-c * e``."""
    if not isinstance(x, Expr):
        return -x
    if x.negates is not None:
        return x.negates
    if x.scaled is not None and x.src.startswith(number_source(x.scaled[0]) + " * "):
        return _scale(-x.scaled[0], x.scaled[1], x.oracle)
    return Expr(f"-{x._wrap(UNARY)}", UNARY, x.oracle, negates=x)


def _power_of_two(c: float) -> bool:
    """|c| = 2**k with k >= 0: c * x is then exact unless it overflows."""
    m, _ = math.frexp(abs(c))
    return m == 0.5 and abs(c) >= 1.0


def _scale(c: float, e: Expr, oracle: Oracle | None) -> Expr:
    """c * e, written ``c * e``, folding a scale e already has: (a * x) * c is
    (a * c) * x bit for bit when a = ±2**k (k >= 0, so a * x is exact or overflows),
    |c| >= 1 (an overflow of a * x is one of a * c * x) and a * c is finite."""
    if e.scaled is not None:
        a, x = e.scaled
        if _power_of_two(a) and math.isfinite(c) and abs(c) >= 1.0 and math.isfinite(a * c):
            c, e = a * c, x
    text = f"{_operand(c, PRODUCT, False)} * {_operand(e, PRODUCT, True)}"
    return Expr(text, PRODUCT, oracle, scaled=(c, e))


def arithmetic(symbol: str, left: Any, right: Any, oracle: Oracle | None = None) -> Any:
    """``left symbol right`` (+ - * /) as an expression, with the rewrites that give the
    same bits for every input: a sum with a negated term is a difference (a + -b is
    a - b, -a + b is b - a), a product or quotient with negated factors is the negated
    product of the factors (IEEE rounding is symmetric), a constant takes the sign, and
    scales fold (``_scale``). Numbers are folded by Python itself."""
    if not isinstance(left, Expr) and not isinstance(right, Expr):
        return _FLOAT_OPS[symbol](left, right)
    if symbol in "+-":
        minus = symbol == "-"
        if _negative(right):  # a + -b is a - b; a - -b is a + b
            return arithmetic("+" if minus else "-", left, negated(right), oracle)
        if _negative(left) and not minus:  # -a + b is b - a
            return arithmetic("-", right, negated(left), oracle)
        if not minus and isinstance(left, Expr) and left is right:  # x + x is 2.0 * x
            return _scale(2.0, left, oracle)
        text = f"{_operand(left, SUM, False)} {symbol} {_operand(right, SUM, True)}"
        return Expr(text, SUM, oracle)
    sign = False
    if isinstance(left, Expr) and left.negates is not None:
        left, sign = left.negates, not sign
    if isinstance(right, Expr) and right.negates is not None:
        right, sign = right.negates, not sign
    if sign and not isinstance(left, Expr):  # the constant takes the sign
        left, sign = -left, False
    elif sign and not isinstance(right, Expr):
        right, sign = -right, False
    if symbol == "*" and not (isinstance(left, Expr) and isinstance(right, Expr)):
        constant, e = (right, left) if isinstance(left, Expr) else (left, right)
        out: Expr = _scale(constant, e, oracle)  # written constant first
    else:
        text = f"{_operand(left, PRODUCT, False)} {symbol} {_operand(right, PRODUCT, True)}"
        out = Expr(text, PRODUCT, oracle)
    return negated(out) if sign else out


def _negative(x: Any) -> bool:
    """x is a negated expression or a negative number (not -0.0: a + -0.0 is a, a - 0.0
    is a, but a + 0.0 is not a for a = -0.0)."""
    if isinstance(x, Expr):
        return x.negates is not None
    return x < 0.0


_FLOAT_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}


def _is(x: Any, number: float) -> bool:
    return not isinstance(x, Expr) and isinstance(x, (int, float)) and x == number


def _as_operand(x: Any) -> Any:
    if isinstance(x, Expr):
        return x
    if isinstance(x, Value):  # a constant the engine wrapped, e.g. in power()
        return float(x.data)
    return float(x)


def _operand(x: Any, prec: int, right: bool) -> str:
    """Source of an operand, in parentheses where Python's precedence needs them."""
    if isinstance(x, Expr):
        src, own = x.src, x.prec
    else:
        src = number_source(x)
        own = UNARY if src.startswith("-") else ATOM
    return f"({src})" if own < prec or (right and own == prec) else src


def source(x: Any) -> str:
    return x.src if isinstance(x, Expr) else number_source(x)
