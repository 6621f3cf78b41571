"""The math: each op's local partial derivatives, one entry per op, in ``RULES``.

Read this module first. An entry maps an op to the partial derivatives of its
output with respect to each input, in input order::

    unary op:  rule(x, out)     -> (d out/d x,)
    binary op: rule(x, y, out)  -> (d out/d x, d out/d y)

``x``, ``y`` and ``out`` are floats in a first-order backward pass and Values when
the backward pass is itself differentiated (higher order), so each rule uses only
arithmetic and the module functions defined here (``exp``, ``cos``...), which give
a float for a number and a node for a Value. The registry of ``ops`` adds every
op's float function, domain and PyTorch counterpart, and defines the newer ops.

Import order: ``_ieee``, then this module (it imports nothing else of the
package), ``ops``, ``value``, ``walk``; ``engine`` imports them in that order.
The math comes first and knows nothing of how nodes are made: ``value`` hands
over its node class and its constant-leaf function, once, right after defining
them (``_bind_nodes``); no rule or module function runs before that.

>>> from autograd_tiny import Value
>>> RULES["tanh"](0.5, 0.25)
(0.9375,)
>>> cos(0.0), cos(Value(0.0)).op
(1.0, 'cos')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Callable

from . import _ieee
from ._ieee import cos as _cos
from ._ieee import div as _div
from ._ieee import exp as _exp
from ._ieee import log as _log
from ._ieee import log1p as _log1p
from ._ieee import real_pow as _pow
from ._ieee import relu as _relu
from ._ieee import sigmoid as _sigmoid
from ._ieee import sin as _sin
from ._ieee import softplus as _softplus
from ._ieee import sqrt as _sqrt

__all__ = [
    "FLOAT_FUNCTIONS",
    "RULES",
    "cos",
    "exp",
    "identity",
    "leaky_relu",
    "log",
    "log1p",
    "power",
    "relu",
    "sigmoid",
    "sin",
    "softplus",
    "sqrt",
    "tanh",
    "to_float",
]

Scalar = Any  # a Value, an int or a float

# --------------------------------------------------------------------------
# The derivative table (``ops`` adds the entries of the ops it defines). The
# functions the rules call are defined below it.
# --------------------------------------------------------------------------

RULES: dict[str, Callable[..., tuple[Any, ...]]] = {
    "+": lambda x, y, out: (1.0, 1.0),
    "-": lambda x, y, out: (1.0, -1.0),
    "*": lambda x, y, out: (y, x),
    "/": lambda x, y, out: (1 / y, -out / y),
    # NOTE: d/dx x**y is taken as 0 at x = y = 0 (not 0 * inf), as in PyTorch, so
    # polynomials sum(c * x**i) have finite derivatives of every order at 0. d/dy x**y
    # is taken as 0 where x <= 0 (no real derivative in y there): a constant exponent
    # on a negative base never turns into nan; a nan base still gives nan.
    "**": lambda x, y, out: (
        0.0 if _number(x) == 0 and _number(y) == 0 else y * power(x, y - 1),
        0.0 if x <= 0 else out * log(x),
    ),
    "neg": lambda x, out: (-1.0,),
    # NOTE: abs'(0) = 0, as in PyTorch; at a nan every derivative is nan.
    "abs": lambda x, out: (1.0 if x > 0 else -1.0 if x < 0 else 0.0 if x <= 0 else _undefined(x),),
    "exp": lambda x, out: (out,),
    "log": lambda x, out: (1 / x,),
    "log1p": lambda x, out: (1 / (1 + x),),
    "sqrt": lambda x, out: (0.5 / out,),
    "tanh": lambda x, out: (1 - out * out,),
    "sigmoid": lambda x, out: (out * (1 - out),),
    "softplus": lambda x, out: (sigmoid(x),),
    # NOTE: relu'(0) = 0, as in PyTorch; at a nan every derivative is nan (PyTorch: 1).
    "relu": lambda x, out: (0.0 if x <= 0 else 1.0 if x > 0 else _undefined(x),),
    "leaky_relu": lambda x, a, out: (
        1.0 if x > 0 else a if x <= 0 else _undefined(x),
        0.0 if x > 0 else x if x <= 0 else _undefined(x),
    ),
    "sin": lambda x, out: (cos(x),),
    "cos": lambda x, out: (-sin(x),),
    "identity": lambda x, out: (1.0,),
    # NOTE: x % y is Python's (the sign of y); d/dy = -floor(x / y), a step function.
    "%": lambda x, y, out: (1.0, -_floor_of(_div(_number(x), _number(y)))),
}


# Set once by ``value`` (see "Import order" above): the node class, ``value.Value``,
# and ``value._constant``, which wraps a plain number taking part in an op as a leaf.
Value: Any = None
"""The class of graph nodes, ``value.Value``: ``value`` sets it right after defining it."""
_constant: Callable[[Any, str], Any]


def _bind_nodes(node_class: type, constant: Callable[[Any, str], Any]) -> None:
    """Called by ``value`` once: the class of graph nodes and how to wrap a number as one."""
    global Value, _constant
    Value, _constant = node_class, constant


def to_float(x: Any, where: str) -> float:
    """Convert a user's number to float, or raise an error naming it and ``where``.

    What ``Value()`` accepts: int, float, bool and real numbers with ``__float__``.

    >>> to_float(3, "my_function()")
    3.0
    """
    if isinstance(x, Value):
        raise TypeError(
            f"{where} got a Value ({x!r}); use it directly to keep the graph, "
            f"or pass its .data ({x.data!r}) for a new leaf"
        )
    if x is None or isinstance(x, (str, bytes, bytearray, complex)):
        raise TypeError(f"{where} needs a real number, got {type(x).__name__} {x!r}")
    try:
        return float(x)
    except OverflowError:
        raise OverflowError(
            f"{where} got an int too large for a float ({x.bit_length()} bits)"
        ) from None
    except (TypeError, ValueError):
        raise TypeError(f"{where} needs a real number, got {type(x).__name__} {x!r}") from None


def _real(x: Any, op: str) -> float:
    return x if type(x) is float else to_float(x, f"{op}()")


# --------------------------------------------------------------------------
# Module functions: a Value gives a Value, a number gives a float. The rules
# below use them so that one rule serves floats and Values alike.
# --------------------------------------------------------------------------


def exp(x: Scalar) -> Any:
    """e**x for a Value or a number. ``exp(0)`` → 1.0"""
    return x.exp() if isinstance(x, Value) else _exp(_real(x, "exp"))


def log(x: Scalar) -> Any:
    """Natural log for a Value or a number (-inf at 0, nan below)."""
    return x.log() if isinstance(x, Value) else _log(_real(x, "log"))


def log1p(x: Scalar) -> Any:
    """log(1 + x) for a Value or a number."""
    return x.log1p() if isinstance(x, Value) else _log1p(_real(x, "log1p"))


def sqrt(x: Scalar) -> Any:
    """Square root for a Value or a number (nan below 0)."""
    return x.sqrt() if isinstance(x, Value) else _sqrt(_real(x, "sqrt"))


def tanh(x: Scalar) -> Any:
    """tanh for a Value or a number."""
    return x.tanh() if isinstance(x, Value) else math.tanh(_real(x, "tanh"))


def sigmoid(x: Scalar) -> Any:
    """Logistic sigmoid for a Value or a number. ``sigmoid(0)`` → 0.5"""
    return x.sigmoid() if isinstance(x, Value) else _sigmoid(_real(x, "sigmoid"))


def softplus(x: Scalar) -> Any:
    """log(1 + e**x) for a Value or a number."""
    return x.softplus() if isinstance(x, Value) else _softplus(_real(x, "softplus"))


def relu(x: Scalar) -> Any:
    """max(x, 0) for a Value or a number."""
    return x.relu() if isinstance(x, Value) else _relu(_real(x, "relu"))


def leaky_relu(x: Scalar, slope: Scalar = 0.01) -> Any:
    """x if x > 0 else slope * x, for Values or numbers."""
    if isinstance(x, Value):
        return x.leaky_relu(slope)
    if isinstance(slope, Value):
        return _constant(x, "leaky_relu").leaky_relu(slope)
    xf = _real(x, "leaky_relu")
    return xf if xf > 0.0 else _real(slope, "leaky_relu") * xf


def sin(x: Scalar) -> Any:
    """Sine for a Value or a number."""
    return x.sin() if isinstance(x, Value) else _sin(_real(x, "sin"))


def cos(x: Scalar) -> Any:
    """Cosine for a Value or a number."""
    return x.cos() if isinstance(x, Value) else _cos(_real(x, "cos"))


def power(x: Scalar, y: Scalar) -> Any:
    """x**y for Values or numbers, real-valued (nan, never complex)."""
    if isinstance(x, Value) or isinstance(y, Value):
        return (x if isinstance(x, Value) else _constant(x, "**")) ** y
    return _pow(_real(x, "power"), _real(y, "power"))


def identity(x: Scalar) -> Any:
    """A new node equal to ``x`` (derivative 1); a number stays a float.

    Each transform call differentiates such a node for a Value argument, so its
    variable is its own even when an enclosing call passes in its variable.

    >>> from autograd_tiny import Value
    >>> x = Value(2.0)
    >>> y = identity(x)
    >>> y.data, y.op, y.parents == (x,)
    (2.0, 'identity', True)
    """
    return x.identity() if isinstance(x, Value) else _real(x, "identity")


def _node_operand(operands: Sequence[Any]) -> Any:
    """The operand that makes an op's node: a Value, a subclass (compile's traced values)
    before a plain one; None when every operand is a number."""
    chosen = None
    for operand in operands:
        if isinstance(operand, Value) and (chosen is None or operand.__class__ is not Value):
            chosen = operand
    return chosen


def _undefined(x: Any) -> Any:
    """A kinked op's partial at a nan input: nan, and nan at every higher order too
    (``exp(x)`` is its own derivative, and x is nan)."""
    return exp(x)


def _number(x: Any) -> Any:
    """The number a rule branches on: ``.data`` of a Value, anything else as it is
    (a subclass, such as the compiler's traced values, answers ``==`` itself)."""
    return x.data if x.__class__ is Value else x


def _floor_of(z: Any) -> Any:
    """floor(z) for a rule: a plain float for a number or a Value (a step function has
    no graph to differentiate); an expression asks ``math.floor`` (the compiler's)."""
    if isinstance(z, float):
        return _ieee.floor(z)
    if z.__class__ is Value:
        return _ieee.floor(z.data)
    return math.floor(z)


# The unary ops that are one float function each, and that function: the
# table the compiler's generated code and its symbolic rules are built from.
# (neg, abs and leaky_relu are operators or take two inputs; ``ops`` adds the newer ops.)
FLOAT_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "exp": _exp,
    "log": _log,
    "log1p": _log1p,
    "sqrt": _sqrt,
    "tanh": math.tanh,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "relu": _relu,
    "sin": _sin,
    "cos": _cos,
}
