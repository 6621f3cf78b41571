"""Gradient checking: the engine's derivatives against central finite differences.

Imports only the engine. Use it on your own functions:

>>> import autograd_tiny as at
>>> check_grad(lambda x, y: at.tanh(x * y) + x / y, 0.5, 2.0)
True
>>> check_grad(lambda x: x.sin(), 1.0, order=2)   # second derivatives too
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

from .engine import Value, gradients, to_float

__all__ = [
    "GradientCheckError", "GradientRow", "check_grad", "compare_grad", "format_rows",
    "numerical_grad",
]


@dataclass(frozen=True)
class GradientRow:
    """One compared derivative: which argument, both values and their errors."""

    argument: str
    analytic: float
    numeric: float

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.numeric)

    @property
    def rel_error(self) -> float:
        scale = max(abs(self.analytic), abs(self.numeric))
        return self.abs_error / scale if scale else 0.0

    def agrees(self, rtol: float, atol: float) -> bool:
        a, n = self.analytic, self.numeric
        if math.isnan(a) or math.isnan(n):
            return math.isnan(a) and math.isnan(n)
        if math.isinf(a) or math.isinf(n):
            return a == n
        return abs(a - n) <= atol + rtol * abs(n)


class GradientCheckError(AssertionError):
    """Raised by ``check_grad`` when analytic and numeric derivatives disagree.

    ``rows`` holds every compared derivative; the message is a table of them.
    """

    def __init__(self, message: str, rows: Sequence[GradientRow]) -> None:
        super().__init__(message)
        self.rows = list(rows)


def _call(f: Callable[..., Any], args: Sequence[float]) -> float:
    # Values (not floats) so that functions written with methods like x.sin() work.
    out = f(*[Value(a) for a in args])
    try:
        return float(out)
    except TypeError:
        raise TypeError(
            f"{_name(f)} must return a scalar Value or number, got {type(out).__name__}"
        ) from None


def _name(f: Callable[..., Any]) -> str:
    return getattr(f, "__name__", type(f).__name__)


def _step(x: float, eps: float) -> float:
    # Relative step with a floor: accurate for large |x|, never zero at x = 0.
    return eps * max(1.0, abs(x))


def numerical_grad(f: Callable[..., Any], *args: float, eps: float = 1e-6) -> list[float]:
    """Central differences (f(x + h) - f(x - h)) / 2h, one per argument.

    >>> [round(d, 6) for d in numerical_grad(lambda x, y: x * y, 3.0, 4.0)]
    [4.0, 3.0]
    """
    if not eps > 0:
        raise ValueError(f"numerical_grad needs eps > 0, got {eps!r}")
    point = [to_float(a, "numerical_grad argument") for a in args]
    result = []
    for i, x in enumerate(point):
        h = _step(x, eps)
        up = point.copy()
        up[i] = x + h
        down = point.copy()
        down[i] = x - h
        result.append((_call(f, up) - _call(f, down)) / (up[i] - down[i]))
    return result


def _analytic_grad(f: Callable[..., Any], point: Sequence[float]) -> list[float]:
    inputs = [Value(x) for x in point]
    out = f(*inputs)
    if not isinstance(out, Value):
        return [0.0] * len(point)
    return [float(g) for g in gradients(out, inputs)]


def _analytic_hessian(f: Callable[..., Any], point: Sequence[float]) -> list[list[float]]:
    inputs = [Value(x) for x in point]
    out = f(*inputs)
    if not isinstance(out, Value):
        return [[0.0] * len(point) for _ in point]
    rows = []
    for g in gradients(out, inputs, create_graph=True):
        if isinstance(g, Value):
            rows.append([float(h) for h in gradients(g, inputs)])
        else:
            rows.append([0.0] * len(point))
    return rows


def format_rows(rows: Sequence[GradientRow], rtol: float = 1e-5, atol: float = 1e-8, *,
                title: str = "") -> str:
    """The comparison as a text table: argument, analytic, numeric, abs and rel error."""
    header = (f"{'argument':<12} {'analytic':>15} {'numeric':>15} "
              f"{'abs error':>10} {'rel error':>10}")
    lines = [title, header] if title else [header]
    for row in rows:
        mark = "" if row.agrees(rtol, atol) else "  <- mismatch"
        lines.append(
            f"{row.argument:<12} {row.analytic:>15.8g} {row.numeric:>15.8g} "
            f"{row.abs_error:>10.2e} {row.rel_error:>10.2e}{mark}"
        )
    return "\n".join(lines)


def compare_grad(
    f: Callable[..., Any],
    *args: Any,
    eps: float = 1e-6,
    order: int = 1,
    names: Sequence[str] | None = None,
) -> list[GradientRow]:
    """Every derivative of ``f`` at ``args``, analytic beside numeric (what ``check_grad`` judges).

    First derivatives come first, then (``order=2``) the second derivatives
    ``d<a> d<b>``, each partial derivative against differences of itself.

    >>> [(r.argument, r.analytic) for r in compare_grad(lambda x, y: x * y, 3.0, 4.0)]
    [('x0', 4.0), ('x1', 3.0)]
    """
    if order not in (1, 2):
        raise ValueError(f"gradient check order must be 1 or 2, got {order!r}")
    if not args:
        raise ValueError("a gradient check needs at least one argument to differentiate")
    point = [to_float(a, "gradient check argument") for a in args]
    labels = list(names) if names is not None else [f"x{i}" for i in range(len(point))]
    if len(labels) != len(point):
        raise ValueError(f"gradient check got {len(labels)} names for {len(point)} arguments")

    analytic = _analytic_grad(f, point)
    numeric = numerical_grad(f, *point, eps=eps)
    rows = [GradientRow(n, a, d) for n, a, d in zip(labels, analytic, numeric)]
    if order == 2:
        hessian = _analytic_hessian(f, point)
        for i in range(len(point)):
            def partial(*xs: Value, i: int = i) -> float:
                return _analytic_grad(f, [x.data for x in xs])[i]

            for j, d in enumerate(numerical_grad(partial, *point, eps=eps)):
                rows.append(GradientRow(f"d{labels[i]} d{labels[j]}", hessian[i][j], d))
    return rows


def check_grad(
    f: Callable[..., Any],
    *args: Any,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    order: int = 1,
    names: Sequence[str] | None = None,
) -> bool:
    """Return True if ``f``'s gradient matches finite differences at ``args``.

    Otherwise raise ``GradientCheckError`` with a table: argument, analytic,
    numeric, absolute and relative error. With ``order=2`` the second
    derivatives are checked too (each partial derivative against differences
    of itself). ``f`` takes floats or Values and returns a scalar.

    >>> check_grad(lambda x: x * x, 3.0)
    True
    >>> check_grad(lambda x: Value(2.0) * x.data, 3.0)  # cuts the graph: caught
    Traceback (most recent call last):
    ...
    autograd_tiny.gradcheck.GradientCheckError: gradient check failed ...
    """
    for name, tolerance in (("rtol", rtol), ("atol", atol)):
        if not tolerance >= 0:
            raise ValueError(f"check_grad {name} must be >= 0, got {tolerance!r}")
    rows = compare_grad(f, *args, eps=eps, order=order, names=names)
    bad = [row for row in rows if not row.agrees(rtol, atol)]
    if bad:
        point = tuple(float(a) for a in args)
        title = (
            f"gradient check failed for {_name(f)} at {point}: {len(bad)} of "
            f"{len(rows)} derivatives differ (rtol={rtol:g}, atol={atol:g})"
        )
        raise GradientCheckError(format_rows(rows, rtol, atol, title=title), rows)
    return True
