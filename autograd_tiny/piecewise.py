"""The piecewise built-in ops: ties, bounds, comparisons and selects, one entry each.

``maximum``/``minimum`` (a tie splits the gradient evenly, as PyTorch does) and
``clamp`` (its bound passes the gradient on); the comparisons ``lt le gt ge eq ne``
(1.0 or 0.0, derivative 0), ``where`` = ``if_true`` + ``if_false`` and ``floor``:
what a rule's branch becomes when ``compile`` traces a backward pass
(``compiler/branches.py``). Registered through ``ops._builtin``, as every
built-in; ``ops`` imports this module at its end and re-exports its names.

>>> from autograd_tiny import Value
>>> maximum(Value(2.0), 3.0).op, where(gt(2.0, 0.0), 10.0, 20.0)
('maximum', 10.0)
"""

from __future__ import annotations

import operator
from typing import Any, Callable

from . import _ieee
from .ops import _builtin
from .rules import Scalar, _undefined

__all__ = [
    "clamp",
    "clamp_max",
    "clamp_min",
    "eq",
    "floor",
    "ge",
    "gt",
    "if_false",
    "if_true",
    "le",
    "lt",
    "maximum",
    "minimum",
    "ne",
    "where",
]


def _apart(x: float, y: float) -> bool:
    return abs(x - y) > 1e-3


def _above(a: Any, b: Any) -> Any:
    """d max(a, b) / d a: 1 above, 0 below, 1/2 at a tie (PyTorch splits it evenly)."""
    return 1.0 if a > b else 0.0 if a < b else 0.5 if a <= b else _undefined(a + b)


def _at_least(a: Any, b: Any) -> Any:
    """1 where a >= b (a clamp passes its input through at the bound, as PyTorch's), else 0."""
    return 1.0 if a >= b else 0.0 if a < b else _undefined(a + b)


# NOTE: at a tie maximum and minimum split the gradient evenly, as PyTorch does.
maximum = _builtin(
    "maximum",
    _ieee.maximum,
    lambda x, y, out: (_above(x, y), _above(y, x)),
    ((-10, 10), (-10, 10)),
    "torch.maximum",
    _apart,
)
minimum = _builtin(
    "minimum",
    _ieee.minimum,
    lambda x, y, out: (_above(y, x), _above(x, y)),
    ((-10, 10), (-10, 10)),
    "torch.minimum",
    _apart,
)
# NOTE: at its bound a clamp passes the gradient to its input, as torch.clamp does.
clamp_min = _builtin(
    "clamp_min",
    _ieee.clamp_min,
    lambda x, low, out: (_at_least(x, low), 1 - _at_least(x, low)),
    ((-10, 10), (-10, 10)),
    "torch.clamp_min",
    _apart,
)
clamp_max = _builtin(
    "clamp_max",
    _ieee.clamp_max,
    lambda x, high, out: (_at_least(high, x), 1 - _at_least(high, x)),
    ((-10, 10), (-10, 10)),
    "torch.clamp_max",
    _apart,
)


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


def _comparison(
    name: str, compare: Callable[[float, float], bool], symbol: str
) -> Callable[..., Any]:
    return _builtin(
        name,
        lambda x, y: 1.0 if compare(x, y) else 0.0,
        lambda x, y, out: (0.0, 0.0),
        ((-10, 10), (-10, 10)),
        _CMP_TORCH.format(symbol),
        _apart,
    )


lt = _comparison("lt", operator.lt, "<")
le = _comparison("le", operator.le, "<=")
gt = _comparison("gt", operator.gt, ">")
ge = _comparison("ge", operator.ge, ">=")
eq = _comparison("eq", operator.eq, "==")
ne = _comparison("ne", operator.ne, "!=")
if_true: Callable[..., Any]  # its partial is a select too: defined just below
if_false: Callable[..., Any]
if_true = _builtin(
    "if_true",
    lambda c, a: a if c > 0 else -0.0,
    lambda c, a, out: (0.0, if_true(c, 1.0)),
    ((-1, 1, 0.5), (-10, 10)),
    "lambda c, a: torch.where(c > 0, a, torch.full_like(a, -0.0)) + 0 * c",
)
if_false = _builtin(
    "if_false",
    lambda c, b: -0.0 if c > 0 else b,
    lambda c, b, out: (0.0, if_false(c, 1.0)),
    ((-1, 1, 0.5), (-10, 10)),
    "lambda c, b: torch.where(c > 0, torch.full_like(b, -0.0), b) + 0 * c",
)


# floor is a step function: derivative 0 (what ``%``'s rule needs, as a node when traced).
floor = _builtin(
    "floor",
    _ieee.floor,
    lambda x, out: (0.0,),
    ((-10, 10),),
    "torch.floor",
    lambda x: abs(x - round(x)) > 1e-3,
)


def where(condition: Scalar, then: Scalar, otherwise: Scalar) -> Any:
    """``then`` where ``condition > 0``, else ``otherwise``, differentiable in both branches:
    ``if_true(condition, then) + if_false(condition, otherwise)``. A comparison node
    (``gt(x, 0.0)``) is the usual condition.

    >>> where(gt(2.0, 0.0), 10.0, 20.0), where(gt(-2.0, 0.0), 10.0, 20.0)
    (10.0, 20.0)
    """
    return if_true(condition, then) + if_false(condition, otherwise)
