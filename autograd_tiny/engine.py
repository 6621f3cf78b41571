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
import os
import sys
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Callable, Union

from ._ieee import IEEEFloat as _IEEEFloat
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
    "Value", "RULES", "FLOAT_FUNCTIONS", "local_partials", "to_float", "no_grad", "enable_grad",
    "is_grad_enabled", "is_anomaly_enabled", "variable", "clock", "reaches_older",
    "detect_anomaly", "gradients", "reverse_topological_order", "forward_order",
    "exp", "log", "log1p", "sqrt", "tanh", "sigmoid", "softplus", "relu", "leaky_relu",
    "sin", "cos", "power", "identity",
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
# ``clock()`` gives a new tick: every leaf made before has a smaller one, every later leaf a larger.
clock: Callable[[], int] = itertools.count(1).__next__
_CONSTANT_BIRTH = sys.maxsize

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
        self._born = clock()

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
        return self.data

    def __lt__(self, other: Any) -> bool:
        return self.data < _data(other)

    def __le__(self, other: Any) -> bool:
        return self.data <= _data(other)

    def __gt__(self, other: Any) -> bool:
        return self.data > _data(other)

    def __ge__(self, other: Any) -> bool:
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
            out._born = clock()
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
}


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
        return rule(x, node) if y is None else rule(x, y, node)
    try:
        if y is None:
            return rule(x.data, node.data)
        return rule(x.data, y.data, node.data)
    except ArithmeticError:  # e.g. log'(0) = 1/0: redo it with IEEE floats
        args = [_IEEEFloat(p.data) for p in node.parents]
        return tuple(float(d) for d in rule(*args, _IEEEFloat(node.data)))


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
    rules = RULES
    try:
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
    except BaseException:  # including a Ctrl-C in the merge just above
        _restore(order, held)
        raise


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
    order = reverse_topological_order(output)
    adjoint = _propagate(order, 1.0, create_graph)
    return [adjoint.get(item, 0.0) for item in inputs]
