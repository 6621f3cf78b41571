"""The Value node: how a graph is recorded, one node per operation.

``Value`` holds a number, its gradient, the op that made it and that op's inputs;
its operators and methods make the result node with ``_node``, the hot path of
every operation, which reads the modes (``modes``) once. ``clock`` gives the
birth ticks that let a transform tell old leaves from new ones.

Import order: after ``rules``, ``ops`` and ``modes`` (it imports them: ``to_float``,
``REGISTRY``, the mode flags), before ``walk``. Right after defining ``Value`` and
``_constant`` it hands them to ``rules`` (``rules._bind_nodes``), whose math runs on
nodes without importing this module, and gives the built-in unary ops of ``ops``
their methods (``x.tan()``). ``Value.backward`` is the walk's (``walk.backward``),
imported when called: the walk reads Values, so it comes after this module.

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

import itertools
import math
import sys
import threading
from collections.abc import Sequence
from typing import Any, Callable, Union

from . import modes, rules
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
from .modes import _ANOMALY, _NO_GRAD, _ORIGIN, _user_location
from .ops import _METHODS, REGISTRY
from .rules import to_float

__all__ = ["Value", "clock", "reaches_older", "variable"]

Scalar = Union["Value", int, float]

# Read from the module, not imported by name: CPython 3.11 compiles ``name.method()``
# on a name an import statement bound as a plain attribute load and call, which its
# specializer cannot speed up, and _node (every operation) calls ``_MODE.get()``.
_MODE, _TRACING = modes._MODE, modes._TRACING

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


_clock_lock = threading.Lock()


def clock() -> int:
    """A new birth tick: leaves made before this call have a smaller one, leaves made
    after it this one or larger, in any thread (the lock keeps ``_epoch`` the latest
    tick: two threads cannot leave it at the older of theirs)."""
    global _epoch
    with _clock_lock:
        tick = next(_ticks)
        _epoch = tick
    return tick


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
    __slots__ = ("__weakref__", "_born", "_x", "_y", "data", "grad", "label", "op")

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
        from .walk import backward  # the walk comes after this module (see above)

        backward(self, gradient)


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


def variable(x: Any, label: str = "") -> Value:
    """A fresh node for a transform to differentiate: a new leaf for a number,
    a new ``identity`` node on top of a Value (its graph still reaches ``x``).

    >>> variable(3, "x")
    Value(data=3.0, grad=0.0)
    """
    if type(x) is float:
        return Value(x, label)
    if isinstance(x, Value):
        node: Value = x.identity()
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


def _registry_method(name: str) -> Callable[[Value], Value]:
    def method(self: Value) -> Value:
        return self._apply(name, (self,))

    method.__name__ = method.__qualname__ = name
    method.__doc__ = REGISTRY[name].function.__doc__
    return method


# The built-in unary ops of ``ops`` are methods too, as the first ops are: x.tan().
for _name in _METHODS:
    setattr(Value, _name, _registry_method(_name))

rules._bind_nodes(Value, _constant)  # the math meets its nodes (see "Import order")
