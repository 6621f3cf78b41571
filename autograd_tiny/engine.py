"""The engine: ``Value`` nodes, the derivative table, and the backward pass.

This module owns the computation graph and nothing else; of the package it
imports only ``_ieee``, the float math beneath it (``tests/test_layering.py``
enforces that).

>>> x = Value(3.0, label="x")
>>> y = x * x * x
>>> y.backward()
>>> x.grad
27.0
>>> y.backward()          # gradients accumulate: every .grad doubles
>>> x.grad
54.0
"""

from __future__ import annotations

import contextvars
import itertools
import math
import operator
import os
import sys
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Callable, Union

from . import _ieee
from ._ieee import cos as _cos
from ._ieee import div as _div
from ._ieee import exp as _exp
from ._ieee import log as _log
from ._ieee import log1p as _log1p
from ._ieee import mod as _mod
from ._ieee import real_pow as _pow
from ._ieee import relu as _relu
from ._ieee import sigmoid as _sigmoid
from ._ieee import sin as _sin
from ._ieee import softplus as _softplus
from ._ieee import sqrt as _sqrt

__all__ = [
    "Value", "RULES", "FLOAT_FUNCTIONS", "local_partials", "to_float", "no_grad", "enable_grad",
    "is_grad_enabled", "is_anomaly_enabled", "variable", "clock", "reaches_older",
    "detect_anomaly", "gradients", "reverse_topological_order", "forward_order",
    "exp", "log", "log1p", "sqrt", "tanh", "sigmoid", "softplus", "relu", "leaky_relu",
    "sin", "cos", "power", "identity",
    "Op", "REGISTRY", "define_op",
    "tan", "atan", "asin", "acos", "sinh", "cosh", "atan2", "log2", "log10", "erf",
    "maximum", "minimum", "clamp", "clamp_min", "clamp_max",
    "lt", "le", "gt", "ge", "eq", "ne", "if_true", "if_false", "where", "floor",
]

Scalar = Union["Value", int, float]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


# --------------------------------------------------------------------------
# Modes: no_grad and detect_anomaly, one context variable (thread- and
# asyncio-safe; one lookup per operation).
# --------------------------------------------------------------------------

_NO_GRAD = 1
_ANOMALY = 2
_MODE: contextvars.ContextVar[int] = contextvars.ContextVar("autograd_tiny_mode", default=0)

# Set by ``compile`` while it traces, in its own context only: an object whose
# ``rule(rule, operands)`` evaluates a rule on Values (its branches become comparison
# and select nodes, see ``where``) and whose ``compare(value, other, op)`` decides
# a comparison of a Value (refused where the replay could not repeat it).
_TRACING: contextvars.ContextVar[Any] = contextvars.ContextVar("autograd_tiny_tracing",
                                                               default=None)

# Where each node was created, recorded only inside detect_anomaly().
_ORIGIN: weakref.WeakKeyDictionary[Value, str] = weakref.WeakKeyDictionary()


@contextmanager
def no_grad() -> Iterator[None]:
    """Operations inside record no parents: results are leaves.

    >>> x = Value(2.0)
    >>> with no_grad():
    ...     y = x * x
    >>> y.parents
    ()
    """
    token = _MODE.set(_MODE.get() | _NO_GRAD)
    try:
        yield
    finally:
        _MODE.reset(token)


@contextmanager
def enable_grad() -> Iterator[None]:
    """Record parents again, even inside an enclosing ``no_grad()`` (transforms use it).

    >>> x = Value(2.0)
    >>> with no_grad(), enable_grad():
    ...     y = x * x
    >>> y.parents == (x, x)
    True
    """
    token = _MODE.set(_MODE.get() & ~_NO_GRAD)
    try:
        yield
    finally:
        _MODE.reset(token)


def is_grad_enabled() -> bool:
    """False inside ``no_grad()``."""
    return not _MODE.get() & _NO_GRAD


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    return bool(_MODE.get() & _ANOMALY)


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise ``FloatingPointError`` at the first non-finite value, forward or backward.

    The message names the operation, its inputs and the file and line of
    your code that created the node.

    >>> with detect_anomaly():
    ...     Value(0.0).log()
    Traceback (most recent call last):
    ...
    FloatingPointError: log produced -inf from Value(data=0.0, grad=0.0) at ...
    """
    token = _MODE.set(_MODE.get() | _ANOMALY)
    try:
        yield
    finally:
        _MODE.reset(token)


def _user_location() -> str:
    """The innermost stack frame outside this package, as ``file:line``."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return "<unknown>"


# --------------------------------------------------------------------------
# The Value node
# --------------------------------------------------------------------------

# Leaves carry a birth tick from one counter (``next`` on it is atomic in CPython),
# so a transform can tell the Values that existed before its call (what its
# function closes over) from the ones made during it. Constants wrapped for an op
# are never "before": they stand for numbers, not for anything to differentiate.
_ticks = itertools.count(1)  # next() on it is atomic in CPython
_epoch = 0  # the birth of leaves made now: the latest tick clock() gave (one shared int)
_CONSTANT_BIRTH = sys.maxsize


def clock() -> int:
    """A new birth tick: leaves made before this call have a smaller one, leaves made
    after it this one or larger (a race between threads can only make a leaf look older)."""
    global _epoch
    tick = next(_ticks)
    _epoch = tick
    return tick

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
        raise TypeError(
            f"{where} needs a real number, got {type(x).__name__} {x!r}"
        ) from None


class Value:
    """A scalar in a computation graph: its number, its gradient, and how it was made.

    ``data`` is a float; ``grad`` (0.0 at start) receives d(output)/d(this)
    from ``backward()``; ``op`` names the operation that made it (``""`` for a
    leaf) and ``parents`` holds that operation's inputs in order.

    >>> a = Value(2.0, label="a")
    >>> b = a + a
    >>> b.op, [p.label for p in b.parents]
    ('+', ['a', 'a'])
    >>> b
    Value(data=4.0, grad=0.0)
    """

    # The op's inputs sit in two slots, not a tuple: one object per node instead
    # of two, which halves what the cyclic GC has to walk over (see ``parents``).
    __slots__ = ("data", "grad", "label", "op", "_x", "_y", "_born", "__weakref__")

    data: float
    grad: float
    label: str
    op: str
    _x: Value | None
    _y: Value | None
    _born: int  # leaves only: see ``clock``

    def __init__(self, data: Any, label: str = "") -> None:
        self.data = data if type(data) is float else to_float(data, "Value()")
        if type(label) is not str:
            raise TypeError(f"Value() label must be a str, got {type(label).__name__} {label!r}")
        self.grad = 0.0
        self.label = label
        self.op = ""
        self._x = None
        self._y = None
        self._born = _epoch

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the op that made this node, in order; ``()`` for a leaf."""
        x = self._x
        if x is None:
            return ()
        y = self._y
        return (x,) if y is None else (x, y)

    # -- conversions and comparisons (on .data) ------------------------------

    def __repr__(self) -> str:
        return f"Value(data={self.data!r}, grad={self.grad!r})"

    def __float__(self) -> float:
        tracing = _TRACING.get()
        if tracing is not None:
            tracing.compare(self, None, None)
        return self.data

    def __lt__(self, other: Any) -> bool:
        tracing = _TRACING.get()
        if tracing is not None:
            return bool(tracing.compare(self, other, "lt"))
        return self.data < _data(other)

    def __le__(self, other: Any) -> bool:
        tracing = _TRACING.get()
        if tracing is not None:
            return bool(tracing.compare(self, other, "le"))
        return self.data <= _data(other)

    def __gt__(self, other: Any) -> bool:
        tracing = _TRACING.get()
        if tracing is not None:
            return bool(tracing.compare(self, other, "gt"))
        return self.data > _data(other)

    def __ge__(self, other: Any) -> bool:
        tracing = _TRACING.get()
        if tracing is not None:
            return bool(tracing.compare(self, other, "ge"))
        return self.data >= _data(other)

    __hash__ = object.__hash__

    # -- binary operators ----------------------------------------------------

    def __add__(self, other: Scalar) -> Value:
        if other.__class__ is not Value:
            other = _constant(other, "+")
        return _node(self.data + other.data, "+", self, other)

    def __radd__(self, other: Scalar) -> Value:
        other = _constant(other, "+")
        return _node(other.data + self.data, "+", other, self)

    def __sub__(self, other: Scalar) -> Value:
        if other.__class__ is not Value:
            other = _constant(other, "-")
        return _node(self.data - other.data, "-", self, other)

    def __rsub__(self, other: Scalar) -> Value:
        other = _constant(other, "-")
        return _node(other.data - self.data, "-", other, self)

    def __mul__(self, other: Scalar) -> Value:
        if other.__class__ is not Value:
            other = _constant(other, "*")
        return _node(self.data * other.data, "*", self, other)

    def __rmul__(self, other: Scalar) -> Value:
        other = _constant(other, "*")
        return _node(other.data * self.data, "*", other, self)

    def __truediv__(self, other: Scalar) -> Value:
        if other.__class__ is not Value:
            other = _constant(other, "/")
        return _node(_div(self.data, other.data), "/", self, other)

    def __rtruediv__(self, other: Scalar) -> Value:
        other = _constant(other, "/")
        return _node(_div(other.data, self.data), "/", other, self)

    def __pow__(self, other: Scalar) -> Value:
        if other.__class__ is not Value:
            other = _constant(other, "**")
        return _node(_pow(self.data, other.data), "**", self, other)

    def __rpow__(self, other: Scalar) -> Value:
        other = _constant(other, "**")
        return _node(_pow(other.data, self.data), "**", other, self)

    def __mod__(self, other: Scalar) -> Value:
        if other.__class__ is not Value:
            other = _constant(other, "%")
        return _node(_mod(self.data, other.data), "%", self, other)

    def __rmod__(self, other: Scalar) -> Value:
        other = _constant(other, "%")
        return _node(_mod(other.data, self.data), "%", other, self)

    def _apply(self, op: str, operands: Sequence[Any]) -> Value:
        """The node of a registry op (``define_op``) on ``operands``, this Value among them."""
        entry = REGISTRY[op]
        nodes = [a if isinstance(a, Value) else _constant(a, op) for a in operands]
        return _node(entry.call_forward(*[n.data for n in nodes]), op, *nodes)

    # -- unary operations ----------------------------------------------------

    def __neg__(self) -> Value:
        return _node(-self.data, "neg", self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _node(abs(self.data), "abs", self)

    def exp(self) -> Value:
        """e to the power of this value."""
        return _node(_exp(self.data), "exp", self)

    def log(self) -> Value:
        """Natural logarithm (-inf at 0, nan below)."""
        return _node(_log(self.data), "log", self)

    def log1p(self) -> Value:
        """log(1 + x), accurate near 0."""
        return _node(_log1p(self.data), "log1p", self)

    def sqrt(self) -> Value:
        """Square root (nan below 0)."""
        return _node(_sqrt(self.data), "sqrt", self)

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _node(math.tanh(self.data), "tanh", self)

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x), computed without overflow."""
        return _node(_sigmoid(self.data), "sigmoid", self)

    def softplus(self) -> Value:
        """log(1 + e^x), computed without overflow."""
        return _node(_softplus(self.data), "softplus", self)

    def relu(self) -> Value:
        """max(x, 0); its derivative at 0 is taken as 0."""
        return _node(_relu(self.data), "relu", self)

    def leaky_relu(self, slope: Scalar = 0.01) -> Value:
        """x for x > 0, slope * x otherwise (differentiable in slope too)."""
        a = slope if slope.__class__ is Value else _constant(slope, "leaky_relu")
        x = self.data
        return _node(x if x > 0.0 else a.data * x, "leaky_relu", self, a)

    def identity(self) -> Value:
        """A new node equal to this one (derivative 1): what a transform differentiates."""
        return _node(self.data, "identity", self)

    def sin(self) -> Value:
        """Sine (nan at ±inf)."""
        return _node(_sin(self.data), "sin", self)

    def cos(self) -> Value:
        """Cosine (nan at ±inf)."""
        return _node(_cos(self.data), "cos", self)

    # -- backward ------------------------------------------------------------

    def backward(self, gradient: Any = 1.0) -> None:
        """Add d(self)/d(node) * gradient to the ``.grad`` of every node below.

        Gradients accumulate like PyTorch's: call ``zero_grad`` (or set
        ``.grad = 0.0``) between steps. Each call adds only its own
        contribution, so calling twice doubles every ``.grad`` exactly.

        >>> x = Value(2.0)
        >>> (x * x).backward()
        >>> x.grad
        4.0
        """
        seed = gradient if type(gradient) is float else to_float(gradient, "backward(gradient)")
        if _MODE.get() & _ANOMALY:
            order = reverse_topological_order(self)
            adjoint = _propagate(order, seed, create_graph=False)
            held = [(node, node.grad) for node in order if node.grad]
            try:
                for node in order:
                    node.grad += adjoint[node]
            except BaseException:
                _restore(order, held)
                raise
            return
        _backward_into_grad(self, seed)


def _data(x: Any) -> float:
    if isinstance(x, Value):
        return x.data
    if isinstance(x, (int, float)):
        return float(x)
    return to_float(x, "comparison with a Value")


def _constant(x: Any, op: str) -> Value:
    """Wrap a plain number taking part in ``op`` as a leaf."""
    if isinstance(x, Value):
        return x
    leaf = Value.__new__(Value)
    leaf.data = x if type(x) is float else to_float(x, f"operand of {op}")
    leaf.grad = 0.0
    leaf.label = ""
    leaf.op = ""
    leaf._x = None
    leaf._y = None
    leaf._born = _CONSTANT_BIRTH
    return leaf


_new_value = Value.__new__


def _node(data: float, op: str, x: Value, y: Value | None = None) -> Value:
    """Create the result node of ``op`` on inputs x (and y): the hot path of every operation."""
    out = _new_value(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    mode = _MODE.get()
    if mode:
        if mode & _ANOMALY:
            where = _user_location()
            if not math.isfinite(data):
                inputs = ", ".join(repr(p) for p in (x, y) if p is not None)
                raise FloatingPointError(f"{op} produced {data!r} from {inputs} at {where}")
            _ORIGIN[out] = where
        if mode & _NO_GRAD:
            out.op = ""
            out._x = out._y = None
            out._born = _epoch
            return out
    out.op = op
    out._x = x
    out._y = y
    return out


# --------------------------------------------------------------------------
# Module functions: a Value gives a Value, a number gives a float. The rules
# below use them so that one rule serves floats and Values alike.
# --------------------------------------------------------------------------

def _real(x: Any, op: str) -> float:
    return x if type(x) is float else to_float(x, f"{op}()")


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

    >>> x = Value(2.0)
    >>> y = identity(x)
    >>> y.data, y.op, y.parents == (x,)
    (2.0, 'identity', True)
    """
    return x.identity() if isinstance(x, Value) else _real(x, "identity")


def variable(x: Any, label: str = "") -> Value:
    """A fresh node for a transform to differentiate: a new leaf for a number,
    a new ``identity`` node on top of a Value (its graph still reaches ``x``).

    >>> variable(3, "x")
    Value(data=3.0, grad=0.0)
    """
    if type(x) is float:
        return Value(x, label)
    if isinstance(x, Value):
        node: Value = identity(x)
        node.label = label
        return node
    return Value(to_float(x, f"argument {label or x!r}"), label)


def reaches_older(order: Sequence[Value], birth: int) -> bool:
    """Whether any node in ``order`` is a leaf made before the tick ``birth``.

    A transform asks this of its function's graph: a yes means the function
    closes over (or was given) Values that existed before the call.
    """
    for node in order:  # noqa: SIM110 - a plain loop: any() of a generator is slower here
        if node._x is None and node._born < birth:
            return True
    return False


def _undefined(x: Any) -> Any:
    """A kinked op's partial at a nan input: nan, and nan at every higher order too
    (``exp(x)`` is its own derivative, and x is nan)."""
    return exp(x)


def _number(x: Any) -> Any:
    """The number a rule branches on: ``.data`` of a Value, anything else as it is
    (a subclass, such as the compiler's traced values, answers ``==`` itself)."""
    return x.data if x.__class__ is Value else x


# The unary ops that are one float function each, and that function: the
# table the compiler's generated code and its symbolic rules are built from.
# (neg, abs and leaky_relu are operators or take two inputs.)
FLOAT_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "exp": _exp, "log": _log, "log1p": _log1p, "sqrt": _sqrt, "tanh": math.tanh,
    "sigmoid": _sigmoid, "softplus": _softplus, "relu": _relu, "sin": _sin, "cos": _cos,
}


# --------------------------------------------------------------------------
# The derivative table. Each entry maps an op to the local partial
# derivatives of its output with respect to each input, in input order:
#     unary op:  rule(x, out)     -> (d out/d x,)
#     binary op: rule(x, y, out)  -> (d out/d x, d out/d y)
# x, y, out are floats in a first-order backward pass and Values when the
# backward pass itself is differentiated (higher order), so each rule uses
# only arithmetic and the module functions above.
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
    "**": lambda x, y, out: (0.0 if _number(x) == 0 and _number(y) == 0 else y * power(x, y - 1),
                             0.0 if x <= 0 else out * log(x)),
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
    "leaky_relu": lambda x, a, out: (1.0 if x > 0 else a if x <= 0 else _undefined(x),
                                     0.0 if x > 0 else x if x <= 0 else _undefined(x)),
    "sin": lambda x, out: (cos(x),),
    "cos": lambda x, out: (-sin(x),),
    "identity": lambda x, out: (1.0,),
    # NOTE: x % y is Python's (the sign of y); d/dy = -floor(x / y), a step function.
    "%": lambda x, y, out: (1.0, -_floor_of(_div(_number(x), _number(y)))),
}


def _floor_of(z: Any) -> Any:
    """floor(z) for a rule: a plain float for a number or a Value (a step function has
    no graph to differentiate); an expression asks ``math.floor`` (the compiler's)."""
    if isinstance(z, float):
        return _ieee.floor(z)
    if z.__class__ is Value:
        return _ieee.floor(z.data)
    return math.floor(z)


# --------------------------------------------------------------------------
# The op registry: each op's float function, local partials (``RULES``), the
# inputs on which it is smooth (for property tests) and PyTorch's
# counterpart (for parity tests). The built-ins above are registered below,
# the newer built-ins are defined the way users define theirs: ``define_op``.
# --------------------------------------------------------------------------

Domain = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Op:
    """An op of the registry.

    ``domain`` has one entry per input: ``(low, high)``, or ``(low, high, gap)``
    for ``low <= x <= high`` with ``|x| >= gap`` (away from a kink at 0);
    ``smooth(*inputs)`` excludes what an interval cannot (ties, jumps).
    ``torch`` is Python source for PyTorch's counterpart (names ``torch``, ``F``).
    """

    name: str
    arity: int
    forward: Callable[..., float]
    partials: Callable[..., tuple[Any, ...]]
    domain: Domain | None = None
    torch: str | None = None
    smooth: Callable[..., bool] | None = None
    builtin: bool = False
    function: Callable[..., Any] | None = None  # the op as a function of Values or numbers

    def call_forward(self, *numbers: float) -> float:
        """``forward`` on floats; an error in a user's function names the op and the function."""
        try:
            return float(self.forward(*numbers))
        except Exception as error:
            if self.builtin:
                raise
            raise type(error)(
                f"op {self.name!r}: its forward function {_function_name(self.forward)} "
                f"failed on {numbers}: {error}"
            ) from error


REGISTRY: dict[str, Op] = {}


def _function_name(f: Callable[..., Any]) -> str:
    return getattr(f, "__qualname__", getattr(f, "__name__", repr(f)))


def _arity(partials: Callable[..., Any], name: str) -> int:
    code = getattr(partials, "__code__", None)
    count = code.co_argcount if code is not None else -1
    if count not in (2, 3):
        raise ValueError(
            f"define_op({name!r}): partials must take (x, out) or (x, y, out), "
            f"got {_function_name(partials)} with {count} positional parameters"
        )
    return count - 1


def _checked_partials(name: str, partials: Callable[..., tuple[Any, ...]]
                      ) -> Callable[..., tuple[Any, ...]]:
    """A user's partials as a rule: an error (other than IEEE arithmetic, which the
    engine redoes with IEEE floats) names the op and the function."""
    arity = partials.__code__.co_argcount - 1

    def rule(*args: Any) -> tuple[Any, ...]:
        try:
            local = partials(*args)
        except ArithmeticError:
            raise
        except Exception as error:
            raise type(error)(
                f"op {name!r}: its partials function {_function_name(partials)} failed: {error}"
            ) from error
        if not isinstance(local, (tuple, list)) or len(local) != arity:
            raise TypeError(
                f"op {name!r}: its partials function {_function_name(partials)} must return "
                f"{arity} partial derivative(s) in a tuple, got {local!r}"
            )
        return tuple(local)

    return _with_arity(rule, arity)


def _with_arity(rule: Callable[..., tuple[Any, ...]], arity: int) -> Callable[..., tuple[Any, ...]]:
    # Code reads a rule's arity from ``__code__.co_argcount``; give the wrapper the right one.
    if arity == 1:
        return lambda x, out: rule(x, out)
    return lambda x, y, out: rule(x, y, out)


def define_op(name: str, forward: Callable[..., float], partials: Callable[..., tuple[Any, ...]],
              *, domain: Domain | None = None, torch: str | None = None,
              smooth: Callable[..., bool] | None = None) -> Callable[..., Any]:
    """Define a new op from its float function and its local partial derivatives.

    ``partials(x, out)`` (one input) or ``partials(x, y, out)`` (two) returns the
    partials in input order, written with arithmetic and this module's functions
    so that they work on floats and on Values (every order). Returns the op as
    a function of Values or numbers, like ``exp``; its nodes have ``.op == name``
    and ``grad``, ``jvp``, ``compile``, ``explain`` and ``draw_dot`` all know it.
    ``domain`` (one ``(low, high)`` per input) says where it is smooth, for the
    property tests of ``autograd_tiny.testing``. Defining a name again replaces
    your earlier definition (a notebook cell run twice); a built-in's name is refused.

    >>> softsign = define_op("softsign", lambda x: x / (1 + abs(x)),
    ...                      lambda x, out: (1 / (1 + abs(x)) ** 2,), domain=((-5, 5),))
    >>> y = softsign(Value(3.0)); y.backward()
    >>> y.op, y.data, y.parents[0].grad
    ('softsign', 0.75, 0.0625)
    """
    return _register(name, forward, partials, domain, torch, smooth, builtin=False)


def _register(name: str, forward: Callable[..., float], partials: Callable[..., tuple[Any, ...]],
              domain: Domain | None, torch: str | None, smooth: Callable[..., bool] | None,
              builtin: bool) -> Callable[..., Any]:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"define_op: an op name must be a Python identifier, got {name!r}")
    earlier = REGISTRY.get(name)
    if (name in RULES and earlier is None) or (earlier is not None and earlier.builtin):
        raise ValueError(f"define_op: {name!r} is a built-in op; choose another name")
    if not callable(forward) or not callable(partials):
        raise TypeError(f"define_op({name!r}): forward and partials must be functions")
    arity = _arity(partials, name)
    if domain is not None and len(domain) != arity:
        raise ValueError(f"define_op({name!r}): domain needs {arity} interval(s), got {domain!r}")
    REGISTRY[name] = Op(name, arity, forward, partials, domain, torch, smooth, builtin)
    RULES[name] = partials if builtin else _checked_partials(name, partials)
    if arity == 1 and builtin:
        FLOAT_FUNCTIONS[name] = forward
    function = _op_function(name, arity)
    REGISTRY[name] = replace(REGISTRY[name], function=function)
    return function


def _op_function(name: str, arity: int) -> Callable[..., Any]:
    entry = REGISTRY[name]

    def function(*operands: Any) -> Any:
        if len(operands) != arity:
            raise TypeError(f"{name}() takes {arity} argument(s), got {len(operands)}")
        chosen = None
        for operand in operands:
            if isinstance(operand, Value) and (chosen is None or operand.__class__ is not Value):
                chosen = operand  # a subclass (compile's traced values) makes the node
        if chosen is not None:
            return chosen._apply(name, operands)
        return entry.call_forward(*[_real(o, name) for o in operands])

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"The op {name!r} on Values (a node) or numbers (a float)."
    return function


def _builtin(name: str, forward: Callable[..., float], partials: Callable[..., tuple[Any, ...]],
             domain: Domain, torch: str, smooth: Callable[..., bool] | None = None
             ) -> Callable[..., Any]:
    function = _register(name, forward, partials, domain, torch, smooth, builtin=True)
    if REGISTRY[name].arity == 1:  # a method too, as the first ops have: x.tan()
        def method(self: Value) -> Value:
            return self._apply(name, (self,))

        method.__name__ = method.__qualname__ = name
        method.__doc__ = function.__doc__
        setattr(Value, name, method)
    return function


def _apart(x: float, y: float) -> bool:
    return abs(x - y) > 1e-3


def _above(a: Any, b: Any) -> Any:
    """d max(a, b) / d a: 1 above, 0 below, 1/2 at a tie (PyTorch splits it evenly)."""
    return 1.0 if a > b else 0.0 if a < b else 0.5 if a <= b else _undefined(a + b)


def _at_least(a: Any, b: Any) -> Any:
    """1 where a >= b (a clamp passes its input through at the bound, as PyTorch's), else 0."""
    return 1.0 if a >= b else 0.0 if a < b else _undefined(a + b)


# The first ops' float functions, domains and PyTorch counterparts (their rules are above).
_FIRST_OPS: dict[str, tuple[Callable[..., float], Domain, str]] = {
    "+": (operator.add, ((-10, 10), (-10, 10)), "torch.add"),
    "-": (operator.sub, ((-10, 10), (-10, 10)), "torch.sub"),
    "*": (operator.mul, ((-10, 10), (-10, 10)), "torch.mul"),
    "/": (_div, ((-10, 10), (-10, 10, 0.5)), "torch.div"),
    "**": (_pow, ((0.2, 5), (-3, 3)), "torch.pow"),
    "%": (_mod, ((-10, 10), (-10, 10, 0.5)), "torch.remainder"),
    "neg": (operator.neg, ((-10, 10),), "torch.neg"),
    "abs": (abs, ((-10, 10, 0.01),), "torch.abs"),
    "exp": (_exp, ((-10, 5),), "torch.exp"),
    "log": (_log, ((0.05, 100),), "torch.log"),
    "log1p": (_log1p, ((-0.9, 100),), "torch.log1p"),
    "sqrt": (_sqrt, ((0.05, 100),), "torch.sqrt"),
    "tanh": (math.tanh, ((-5, 5),), "torch.tanh"),
    "sigmoid": (_sigmoid, ((-15, 15),), "torch.sigmoid"),
    "softplus": (_softplus, ((-15, 15),), "F.softplus"),
    "relu": (_relu, ((-10, 10, 0.01),), "torch.relu"),
    "leaky_relu": (lambda x, a: x if x > 0.0 else a * x, ((-10, 10, 0.01), (0, 1)),
                   "lambda x, slope: torch.where(x > 0, x, slope * x)"),
    "sin": (_sin, ((-10, 10),), "torch.sin"),
    "cos": (_cos, ((-10, 10),), "torch.cos"),
    "identity": (lambda x: x, ((-10, 10),), "torch.clone"),
}
_FIRST_CALLERS: dict[str, Callable[..., Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "**": power, "%": operator.mod, "neg": operator.neg, "abs": abs, "exp": exp, "log": log,
    "log1p": log1p, "sqrt": sqrt, "tanh": tanh, "sigmoid": sigmoid, "softplus": softplus,
    "relu": relu, "leaky_relu": leaky_relu, "sin": sin, "cos": cos, "identity": identity,
}
for _name, (_forward, _domain, _torch) in _FIRST_OPS.items():
    REGISTRY[_name] = Op(_name, len(_domain), _forward, RULES[_name], _domain, _torch,
                         builtin=True, function=_FIRST_CALLERS[_name])
REGISTRY["%"] = replace(REGISTRY["%"], smooth=lambda x, y: abs(x / y - round(x / y)) > 1e-3)

_LN2, _LN10, _TWO_OVER_ROOT_PI = math.log(2.0), math.log(10.0), 2.0 / math.sqrt(math.pi)

# The newer built-ins: one entry each, defined as a user defines an op.
tan = _builtin("tan", _ieee.tan, lambda x, out: (1 + out * out,), ((-1.4, 1.4),), "torch.tan")
atan = _builtin("atan", _ieee.atan, lambda x, out: (1 / (1 + x * x),), ((-10, 10),),
                "torch.atan")
asin = _builtin("asin", _ieee.asin, lambda x, out: (1 / sqrt(1 - x * x),), ((-0.95, 0.95),),
                "torch.asin")
acos = _builtin("acos", _ieee.acos, lambda x, out: (-1 / sqrt(1 - x * x),), ((-0.95, 0.95),),
                "torch.acos")
cosh: Callable[..., Any]  # defined just below; sinh's derivative calls it
sinh = _builtin("sinh", _ieee.sinh, lambda x, out: (cosh(x),), ((-5, 5),), "torch.sinh")
cosh = _builtin("cosh", _ieee.cosh, lambda x, out: (sinh(x),), ((-5, 5),), "torch.cosh")
log2 = _builtin("log2", _ieee.log2, lambda x, out: (1 / (x * _LN2),), ((0.05, 100),),
                "torch.log2")
log10 = _builtin("log10", _ieee.log10, lambda x, out: (1 / (x * _LN10),), ((0.05, 100),),
                 "torch.log10")
erf = _builtin("erf", _ieee.erf, lambda x, out: (_TWO_OVER_ROOT_PI * exp(-(x * x)),),
               ((-3, 3),), "torch.erf")
# NOTE: atan2(y, x) is the angle of the point (x, y); at the origin, where it jumps, its
# partials are taken as 0, as in PyTorch.
atan2 = _builtin("atan2", _ieee.atan2,
                 lambda y, x, out: (0.0, 0.0) if _number(x) == 0 and _number(y) == 0
                 else (x / (x * x + y * y), -y / (x * x + y * y)),
                 ((-10, 10), (0.5, 10)), "torch.atan2")
# NOTE: at a tie maximum and minimum split the gradient evenly, as PyTorch does.
maximum = _builtin("maximum", _ieee.maximum, lambda x, y, out: (_above(x, y), _above(y, x)),
                   ((-10, 10), (-10, 10)), "torch.maximum", _apart)
minimum = _builtin("minimum", _ieee.minimum, lambda x, y, out: (_above(y, x), _above(x, y)),
                   ((-10, 10), (-10, 10)), "torch.minimum", _apart)
# NOTE: at its bound a clamp passes the gradient to its input, as torch.clamp does.
clamp_min = _builtin("clamp_min", _ieee.clamp_min,
                     lambda x, low, out: (_at_least(x, low), 1 - _at_least(x, low)),
                     ((-10, 10), (-10, 10)), "torch.clamp_min", _apart)
clamp_max = _builtin("clamp_max", _ieee.clamp_max,
                     lambda x, high, out: (_at_least(high, x), 1 - _at_least(high, x)),
                     ((-10, 10), (-10, 10)), "torch.clamp_max", _apart)


def clamp(x: Scalar, low: Scalar, high: Scalar) -> Any:
    """``x`` limited to ``[low, high]``: ``clamp_max(clamp_min(x, low), high)``, as torch.clamp
    (``high`` wins when ``low > high``); differentiable in all three.

    >>> clamp(5.0, 0.0, 1.0), clamp(-5.0, 0.0, 1.0), clamp(0.5, 0.0, 1.0)
    (1.0, 0.0, 0.5)
    """
    return clamp_max(clamp_min(x, low), high)


# Comparisons and selects: what a rule's branch (``x <= 0`` in relu's) becomes when
# ``compile`` traces a backward pass. A comparison is 1.0 or 0.0 (constant: its
# derivatives are 0); ``where(c, a, b)`` is ``if_true(c, a) + if_false(c, b)``, whose
# untaken side is -0.0, which added to anything leaves it unchanged, bit for bit. Their
# partials are selects too: a traced backward pass keeps a branch's contributions
# inside that branch (compiler/tracing.py), as the eager rule never computes the other.
_CMP_TORCH = "lambda x, y: torch.where(x {} y, 1.0, 0.0).to(x.dtype) + 0 * (x + y)"


def _comparison(name: str, compare: Callable[[float, float], bool], symbol: str
                ) -> Callable[..., Any]:
    return _builtin(name, lambda x, y: 1.0 if compare(x, y) else 0.0,
                    lambda x, y, out: (0.0, 0.0), ((-10, 10), (-10, 10)),
                    _CMP_TORCH.format(symbol), _apart)


lt = _comparison("lt", operator.lt, "<")
le = _comparison("le", operator.le, "<=")
gt = _comparison("gt", operator.gt, ">")
ge = _comparison("ge", operator.ge, ">=")
eq = _comparison("eq", operator.eq, "==")
ne = _comparison("ne", operator.ne, "!=")
if_true: Callable[..., Any]  # its partial is a select too: defined just below
if_false: Callable[..., Any]
if_true = _builtin("if_true", lambda c, a: a if c > 0 else -0.0,
                   lambda c, a, out: (0.0, if_true(c, 1.0)), ((-1, 1, 0.5), (-10, 10)),
                   "lambda c, a: torch.where(c > 0, a, torch.full_like(a, -0.0)) + 0 * c")
if_false = _builtin("if_false", lambda c, b: -0.0 if c > 0 else b,
                    lambda c, b, out: (0.0, if_false(c, 1.0)), ((-1, 1, 0.5), (-10, 10)),
                    "lambda c, b: torch.where(c > 0, torch.full_like(b, -0.0), b) + 0 * c")


# floor is a step function: derivative 0 (what ``%``'s rule needs, as a node when traced).
floor = _builtin("floor", _ieee.floor, lambda x, out: (0.0,), ((-10, 10),), "torch.floor",
                 lambda x: abs(x - round(x)) > 1e-3)


def where(condition: Scalar, then: Scalar, otherwise: Scalar) -> Any:
    """``then`` where ``condition > 0``, else ``otherwise``, differentiable in both branches:
    ``if_true(condition, then) + if_false(condition, otherwise)``. A comparison node
    (``gt(x, 0.0)``) is the usual condition.

    >>> where(gt(2.0, 0.0), 10.0, 20.0), where(gt(-2.0, 0.0), 10.0, 20.0)
    (10.0, 20.0)
    """
    return if_true(condition, then) + if_false(condition, otherwise)


# --------------------------------------------------------------------------
# Backward
# --------------------------------------------------------------------------

def forward_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, inputs before their users, first inputs first.

    A depth-first walk that lists a node once all its inputs are listed
    (post-order; iterative, so any depth works), going into each op's first
    input before its second. For code that builds its expression left to
    right, as ``(a * b) + c`` does, that is the order the code ran in.

    >>> a = Value(1.0, label="a"); b = Value(2.0, label="b"); c = a * b
    >>> [n.op or n.label for n in forward_order(c)]
    ['a', 'b', '*']
    """
    order: list[Value] = []
    seen: set[Value] = set()  # nodes whose inputs have been pushed
    stack: list[Value | None] = [root]  # None: "the node below has its inputs listed"
    while stack:
        node = stack.pop()
        if node is None:
            order.append(stack.pop())  # type: ignore[arg-type]
        elif node not in seen:
            seen.add(node)
            stack += (node, None)
            x = node._x
            if x is not None:
                y = node._y
                if y is not None and y not in seen:
                    stack.append(y)
                if x not in seen:
                    stack.append(x)  # popped first: x's inputs come first
    return order


def reverse_topological_order(root: Value) -> list[Value]:
    """``forward_order`` backwards: every node listed after all the nodes that use it.

    The order backpropagation visits nodes in, the root first: for code
    that builds left to right, the code read from its last line up.

    >>> a = Value(1.0, label="a"); b = a + a; c = b * 2
    >>> [n.op or n.label for n in reverse_topological_order(c)]
    ['*', '', '+', 'a']
    """
    order = forward_order(root)
    order.reverse()
    return order


def local_partials(node: Value, create_graph: bool = False) -> tuple[Any, ...]:
    """The local partial derivatives of ``node``'s op, one per input, from ``RULES``.

    Floats by default; Values (a differentiable graph) with ``create_graph=True``.

    >>> x, y = Value(3.0), Value(4.0)
    >>> local_partials(x * y)
    (4.0, 3.0)
    """
    x, y = node._x, node._y
    if x is None:
        raise ValueError(f"local_partials() needs the result of an op; {node!r} is a leaf")
    rule = RULES[node.op]
    if create_graph:
        tracing = _TRACING.get()
        if tracing is not None:  # compile is tracing: branches become select nodes
            return tracing.rule(rule, (x, node) if y is None else (x, y, node))
        return rule(x, node) if y is None else rule(x, y, node)
    try:
        if y is None:
            return rule(x.data, node.data)
        return rule(x.data, y.data, node.data)
    except ArithmeticError:  # e.g. log'(0) = 1/0: redo it on Values, whose math is IEEE's
        return _ieee_partials(rule, [p.data for p in node.parents], node.data)


def _ieee_partials(rule: Callable[..., tuple[Any, ...]], inputs: list[float], out: float
                   ) -> tuple[float, ...]:
    """A rule evaluated on leaf Values (no graph, no anomaly check): IEEE results, 1/0 = inf."""
    token = _MODE.set(_NO_GRAD)
    try:
        return tuple(float(d) for d in rule(*[Value(v) for v in inputs], Value(out)))
    finally:
        _MODE.reset(token)


def _propagate(order: list[Value], seed: Any, create_graph: bool) -> dict[Value, Any]:
    """Adjoints d(root)/d(node) * seed for every node in ``order`` (root first)."""
    adjoint: dict[Value, Any] = {order[0]: seed}
    check = bool(_MODE.get() & _ANOMALY)
    for node in order:
        parents = node.parents
        if not parents:
            continue
        upstream = adjoint[node]
        for parent, local in zip(parents, local_partials(node, create_graph)):
            contribution = local * upstream
            if check and not math.isfinite(float(contribution)):
                where = _ORIGIN.get(node, "an unknown place (build the graph inside "
                                          "detect_anomaly() to record it)")
                raise FloatingPointError(
                    f"backward of {node.op} produced gradient {float(contribution)!r} "
                    f"for its input {parent!r} (inputs {', '.join(map(repr, parents))}; "
                    f"upstream gradient {float(upstream)!r}); the node was created at {where}"
                )
            if parent in adjoint:
                adjoint[parent] = adjoint[parent] + contribution
            else:
                adjoint[parent] = contribution
    return adjoint


def _backward_into_grad(root: Value, seed: float) -> None:
    """``backward()``'s fast path: walk ``reverse_topological_order`` once,
    adding each node's contributions straight into its inputs' ``.grad``.

    Each .grad collects this call's adjoint directly (an attribute, not a
    dictionary entry: much faster). What the grads held before is set aside
    first and added back at the end, so every .grad still gains exactly this
    call's contribution, summed in the same order as ``gradients``. All or
    nothing: if anything interrupts the walk (Ctrl-C, an error), every .grad
    is put back as it was. Like any ``.grad +=``, not for two threads at once
    on graphs sharing nodes.
    """
    order = reverse_topological_order(root)
    held = [(node, node.grad) for node in order if node.grad]
    try:
        _accumulate(order, root, seed, held)
    except BaseException:  # a Ctrl-C or an error anywhere in the walk, the merge included
        _restore(order, held)
        raise


def _accumulate(order: list[Value], root: Value, seed: float,
                held: list[tuple[Value, float]]) -> None:
    """The walk of ``_backward_into_grad`` (a frame of its own: whatever interrupts it,
    the caller's handler sees the exception leave this call)."""
    rules = RULES
    for node, _ in held:
        node.grad = 0.0
    root.grad = seed
    for node in order:
        x = node._x
        if x is None:
            continue
        upstream = node.grad
        y = node._y
        try:
            if y is None:
                (local_x,) = rules[node.op](x.data, node.data)
            else:
                local_x, local_y = rules[node.op](x.data, y.data, node.data)
        except ArithmeticError:  # e.g. log'(0) = 1/0: redo it with IEEE floats
            local_x, *rest = local_partials(node, False)
            local_y = rest[0] if rest else 0.0
        x.grad += local_x * upstream
        if y is not None:
            y.grad += local_y * upstream
    for node, before in held:
        node.grad = before + node.grad


def _restore(order: list[Value], held: list[tuple[Value, float]]) -> None:
    """Put every ``.grad`` in ``order`` back as it was before a backward pass."""
    for node in order:
        node.grad = 0.0
    for node, before in held:
        node.grad = before


def gradients(output: Value, inputs: Sequence[Value], *, create_graph: bool = False) -> list[Any]:
    """d output / d input for each input, leaving every ``.grad`` untouched.

    With ``create_graph=True`` the results are Values whose own graph can be
    differentiated again (this is how higher-order derivatives work).

    >>> x = Value(3.0)
    >>> gradients(x * x, [x])
    [6.0]
    """
    if not isinstance(output, Value):
        raise TypeError(f"gradients() needs a Value output, got {type(output).__name__}")
    for item in inputs:
        if not isinstance(item, Value):
            raise TypeError(f"gradients() inputs must be Values, got {type(item).__name__}")
    if _TRACING.get() is not None:
        create_graph = True  # compile is tracing: float gradients would be frozen in the replay
    order = reverse_topological_order(output)
    adjoint = _propagate(order, 1.0, create_graph)
    return [adjoint.get(item, 0.0) for item in inputs]
