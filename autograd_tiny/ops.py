"""The op registry: every op's float function, partials, domain and PyTorch counterpart.

``REGISTRY`` maps an op's name to its ``Op``; ``RULES`` (from ``rules``) holds its
partials. The first ops' partials are the table in ``rules``; the newer built-ins
below are defined the way a user defines an op, with ``define_op``'s machinery,
one entry each. Everything else (Value methods, compile's formulas, the CLI's
whitelist, the test strategies, the torch parity map) is derived from here.

Import order: after ``rules`` (the math, which this module imports) and before
``value``, which imports ``REGISTRY`` and gives every built-in unary op a method
(``x.tan()``, listed in ``_METHODS``). Imports only ``_ieee`` and ``rules``; an op
function meets Values through ``rules`` (``_node_operand``), never ``value``.

>>> from autograd_tiny import Value
>>> REGISTRY["tan"].arity, REGISTRY["tan"].torch
(1, 'torch.tan')
>>> maximum(Value(2.0), 3.0).op
'maximum'
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, replace
from typing import Any, Callable

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
from .rules import (
    FLOAT_FUNCTIONS,
    RULES,
    _node_operand,
    _number,
    _real,
    cos,
    exp,
    identity,
    leaky_relu,
    log,
    log1p,
    power,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    tanh,
)

__all__ = [
    "REGISTRY",
    "Op",
    "acos",
    "asin",
    "atan",
    "atan2",
    "clamp",
    "clamp_max",
    "clamp_min",
    "cosh",
    "define_op",
    "eq",
    "erf",
    "floor",
    "ge",
    "gt",
    "if_false",
    "if_true",
    "le",
    "log2",
    "log10",
    "lt",
    "maximum",
    "minimum",
    "ne",
    "sinh",
    "tan",
    "where",
]

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
_METHODS: list[str] = []  # the built-in unary ops that ``value`` makes Value methods too


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


def _checked_partials(
    name: str, partials: Callable[..., tuple[Any, ...]]
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


def define_op(
    name: str,
    forward: Callable[..., float],
    partials: Callable[..., tuple[Any, ...]],
    *,
    domain: Domain | None = None,
    torch: str | None = None,
    smooth: Callable[..., bool] | None = None,
) -> Callable[..., Any]:
    """Define a new op from its float function and its local partial derivatives.

    ``partials(x, out)`` (one input) or ``partials(x, y, out)`` (two) returns the
    partials in input order, written with arithmetic and the module functions
    (``exp``, ``cos``...) so that they work on floats and on Values (every order).
    Returns the op as a function of Values or numbers, like ``exp``; its nodes have
    ``.op == name`` and ``grad``, ``jvp``, ``compile``, ``explain`` and ``draw_dot``
    all know it. ``domain`` (one ``(low, high)`` per input) says where it is smooth,
    for the property tests of ``autograd_tiny.testing``. Defining a name again replaces
    your earlier definition (a notebook cell run twice); a built-in's name is refused.

    >>> from autograd_tiny import Value
    >>> softsign = define_op("softsign", lambda x: x / (1 + abs(x)),
    ...                      lambda x, out: (1 / (1 + abs(x)) ** 2,), domain=((-5, 5),))
    >>> y = softsign(Value(3.0)); y.backward()
    >>> y.op, y.data, y.parents[0].grad
    ('softsign', 0.75, 0.0625)
    """
    return _register(name, forward, partials, domain, torch, smooth, builtin=False)


def _register(
    name: str,
    forward: Callable[..., float],
    partials: Callable[..., tuple[Any, ...]],
    domain: Domain | None,
    torch: str | None,
    smooth: Callable[..., bool] | None,
    builtin: bool,
) -> Callable[..., Any]:
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
        chosen = _node_operand(operands)  # a Value makes the node, else floats give a float
        if chosen is not None:
            return chosen._apply(name, operands)
        return entry.call_forward(*[_real(o, name) for o in operands])

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"The op {name!r} on Values (a node) or numbers (a float)."
    return function


def _builtin(
    name: str,
    forward: Callable[..., float],
    partials: Callable[..., tuple[Any, ...]],
    domain: Domain,
    torch: str,
    smooth: Callable[..., bool] | None = None,
) -> Callable[..., Any]:
    function = _register(name, forward, partials, domain, torch, smooth, builtin=True)
    if REGISTRY[name].arity == 1:  # a method too, as the first ops have: x.tan()
        _METHODS.append(name)
    return function


# The first ops' float functions, domains and PyTorch counterparts (their rules: ``rules``).
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
    "leaky_relu": (
        lambda x, a: x if x > 0.0 else a * x,
        ((-10, 10, 0.01), (0, 1)),
        "lambda x, slope: torch.where(x > 0, x, slope * x)",
    ),
    "sin": (_sin, ((-10, 10),), "torch.sin"),
    "cos": (_cos, ((-10, 10),), "torch.cos"),
    "identity": (lambda x: x, ((-10, 10),), "torch.clone"),
}
_FIRST_CALLERS: dict[str, Callable[..., Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": power,
    "%": operator.mod,
    "neg": operator.neg,
    "abs": abs,
    "exp": exp,
    "log": log,
    "log1p": log1p,
    "sqrt": sqrt,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "softplus": softplus,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "sin": sin,
    "cos": cos,
    "identity": identity,
}
for _name, (_forward, _domain, _torch) in _FIRST_OPS.items():
    REGISTRY[_name] = Op(
        _name,
        len(_domain),
        _forward,
        RULES[_name],
        _domain,
        _torch,
        builtin=True,
        function=_FIRST_CALLERS[_name],
    )
REGISTRY["%"] = replace(REGISTRY["%"], smooth=lambda x, y: abs(x / y - round(x / y)) > 1e-3)

_LN2, _LN10, _TWO_OVER_ROOT_PI = math.log(2.0), math.log(10.0), 2.0 / math.sqrt(math.pi)

# The newer built-ins: one entry each, defined as a user defines an op.
tan = _builtin("tan", _ieee.tan, lambda x, out: (1 + out * out,), ((-1.4, 1.4),), "torch.tan")
atan = _builtin("atan", _ieee.atan, lambda x, out: (1 / (1 + x * x),), ((-10, 10),), "torch.atan")
asin = _builtin(
    "asin", _ieee.asin, lambda x, out: (1 / sqrt(1 - x * x),), ((-0.95, 0.95),), "torch.asin"
)
acos = _builtin(
    "acos", _ieee.acos, lambda x, out: (-1 / sqrt(1 - x * x),), ((-0.95, 0.95),), "torch.acos"
)
cosh: Callable[..., Any]  # defined just below; sinh's derivative calls it
sinh = _builtin("sinh", _ieee.sinh, lambda x, out: (cosh(x),), ((-5, 5),), "torch.sinh")
cosh = _builtin("cosh", _ieee.cosh, lambda x, out: (sinh(x),), ((-5, 5),), "torch.cosh")
log2 = _builtin("log2", _ieee.log2, lambda x, out: (1 / (x * _LN2),), ((0.05, 100),), "torch.log2")
log10 = _builtin(
    "log10", _ieee.log10, lambda x, out: (1 / (x * _LN10),), ((0.05, 100),), "torch.log10"
)
erf = _builtin(
    "erf", _ieee.erf, lambda x, out: (_TWO_OVER_ROOT_PI * exp(-(x * x)),), ((-3, 3),), "torch.erf"
)
# NOTE: atan2(y, x) is the angle of the point (x, y); at the origin, where it jumps, its
# partials are taken as 0, as in PyTorch.
atan2 = _builtin(
    "atan2",
    _ieee.atan2,
    lambda y, x, out: (
        (0.0, 0.0)
        if _number(x) == 0 and _number(y) == 0
        else (x / (x * x + y * y), -y / (x * x + y * y))
    ),
    ((-10, 10), (0.5, 10)),
    "torch.atan2",
)


# The piecewise built-ins (ties, bounds, comparisons, selects) live in their own module,
# which registers them through ``_builtin`` above; they are this module's names too.
from .piecewise import (  # noqa: E402 - piecewise needs _builtin, defined above
    clamp,
    clamp_max,
    clamp_min,
    eq,
    floor,
    ge,
    gt,
    if_false,
    if_true,
    le,
    lt,
    maximum,
    minimum,
    ne,
    where,
)
