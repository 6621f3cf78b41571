"""Gradient checking: the engine's derivatives against central finite differences.

Imports only the engine and two helpers of its own: ``_nested`` (arguments
given as nested lists) and ``_report`` (the table and what a failure
suggests). Use it on your own functions:

>>> import autograd_tiny as at
>>> check_grad(lambda x, y: at.tanh(x * y) + x / y, 0.5, 2.0)
True
>>> check_grad(lambda x: x.sin(), 1.0, order=2)   # second derivatives too
True

and on gradients you derived by hand (``expected=``), for numbers or nested
lists of them, such as a network's weights:

>>> check_grad(lambda x, y: x * x * y, 3.0, 2.0, expected=lambda x, y: (2 * x * y, x * x))
True
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Callable

from ._nested import Shape
from ._report import GradientRow, diagnose, format_rows, judge
from .engine import Value, gradients, to_float

__all__ = [
    "GradientCheckError",
    "GradientRow",
    "StepTooSmallError",
    "check_grad",
    "compare_grad",
    "diagnose",
    "format_rows",
    "numerical_grad",
]


class GradientCheckError(AssertionError):
    """Raised by ``check_grad`` when analytic and numeric derivatives disagree.

    ``rows`` holds every compared derivative; the message is a table of them.
    ``wrong`` names the derivatives that failed. With a hand-derived gradient,
    ``factor`` is the ratio (yours / the right value) that every wrong one
    shares, if they share one (``None`` otherwise), and ``swapped`` lists the
    pairs of partials your formula has the wrong way round.
    """

    def __init__(
        self,
        message: str,
        rows: Sequence[GradientRow],
        *,
        wrong: Sequence[str] = (),
        factor: float | None = None,
        swapped: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.rows = list(rows)
        self.wrong = list(wrong)
        self.factor = factor
        self.swapped = list(swapped)


class StepTooSmallError(ValueError):
    """``eps`` is so small at an argument that x + h or x - h rounds back to x."""


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


def numerical_grad(
    f: Callable[..., Any], *args: float, eps: float = 1e-6, names: Sequence[str] | None = None
) -> list[float]:
    """Central differences (f(x + h) - f(x - h)) / 2h, one per argument.

    The step is ``h = eps * max(1, |x|)``. An ``eps`` so small that ``x + h``
    or ``x - h`` rounds back to ``x`` raises ``StepTooSmallError`` (a
    ``ValueError``) naming ``eps`` and the argument (``names[i]``, else ``x<i>``).

    >>> [round(d, 6) for d in numerical_grad(lambda x, y: x * y, 3.0, 4.0)]
    [4.0, 3.0]
    >>> numerical_grad(lambda x: x * x, 1.0, eps=1e-17)
    Traceback (most recent call last):
    ...
    autograd_tiny.gradcheck.StepTooSmallError: eps=1e-17 is too small at x0 = 1.0: ...
    """
    if not (eps > 0 and math.isfinite(eps)):
        raise ValueError(f"numerical_grad needs a finite eps > 0, got {eps!r}")
    point = [to_float(a, "numerical_grad argument") for a in args]
    result = []
    for i, x in enumerate(point):
        h = _step(x, eps)
        up = point.copy()
        up[i] = x + h
        down = point.copy()
        down[i] = x - h
        if up[i] == x or down[i] == x:
            # The smallest eps that moves x both ways: half an ulp of x, relative.
            smallest = math.ulp(x) / max(1.0, abs(x))
            name = names[i] if names is not None and i < len(names) else f"x{i}"
            raise StepTooSmallError(
                f"eps={eps!r} is too small at {name} = {x!r}: the step "
                f"{h!r} vanishes, x + h or x - h rounds back to x (floats near {x!r} are "
                f"{math.ulp(x)!r} apart); use eps >= {smallest:.1e}, e.g. the default 1e-6"
            )
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


def _shapes(args: Sequence[Any], names: Sequence[str] | None) -> list[Shape]:
    labels = list(names) if names is not None else [f"x{i}" for i in range(len(args))]
    if len(labels) != len(args):
        raise ValueError(f"gradient check got {len(labels)} names for {len(args)} arguments")
    return [Shape.of(arg, label) for arg, label in zip(args, labels)]


def _expected_values(expected: Any, shapes: Sequence[Shape]) -> list[float]:
    """The hand-derived gradient, flat: called with the arguments as floats if callable."""
    given = expected(*[s.rebuild(s.values) for s in shapes]) if callable(expected) else expected
    if hasattr(given, "tolist") and not isinstance(given, Value):
        given = given.tolist()
    if len(shapes) == 1:
        try:
            return shapes[0].match(given)
        except ValueError:
            # One argument's gradient may also come as a 1-tuple, as grad(argnums=(0,)) gives.
            if isinstance(given, (list, tuple)) and len(given) == 1:
                return shapes[0].match(given[0])
            raise
    names = ", ".join(s.name for s in shapes)
    if not isinstance(given, (list, tuple)) or len(given) != len(shapes):
        if isinstance(given, (list, tuple)):
            count = f"{len(given)} gradients"
        else:
            count = "one number" if isinstance(given, (int, float)) else f"a {type(given).__name__}"
        raise ValueError(
            f"the expected gradient gives {count} for {len(shapes)} arguments "
            f"({names}); give one per argument, in order"
        )
    return [value for s, item in zip(shapes, given) for value in s.match(item)]


def compare_grad(
    f: Callable[..., Any],
    *args: Any,
    eps: float = 1e-6,
    order: int = 1,
    names: Sequence[str] | None = None,
    expected: Any = None,
) -> list[GradientRow]:
    """Every derivative of ``f`` at ``args``, analytic beside numeric (what ``check_grad`` judges).

    First derivatives come first, then (``order=2``) the second derivatives
    ``d<a> d<b>``, each partial derivative against differences of itself. An
    argument may be nested lists of numbers; its entries are named like
    ``W[0][1]``. ``expected`` (see ``check_grad``) fills each first-order row's
    ``expected``.

    >>> [(r.argument, r.analytic) for r in compare_grad(lambda x, y: x * y, 3.0, 4.0)]
    [('x0', 4.0), ('x1', 3.0)]
    >>> [(r.argument, r.analytic) for r in compare_grad(lambda w: w[0] * w[1], [3, 4], names=["w"])]
    [('w[0]', 4.0), ('w[1]', 3.0)]
    """
    if order not in (1, 2):
        raise ValueError(f"gradient check order must be 1 or 2, got {order!r}")
    shapes = _shapes(args, names)
    point = [value for s in shapes for value in s.values]
    labels = [name for s in shapes for name in s.names]
    if not point:
        raise ValueError("a gradient check needs at least one argument to differentiate")
    hand = _expected_values(expected, shapes) if expected is not None else None
    if not all(s.is_number for s in shapes):
        f = _flat(f, shapes)

    analytic = _analytic_grad(f, point)
    numeric = numerical_grad(f, *point, eps=eps, names=labels)
    rows = [GradientRow(n, a, d) for n, a, d in zip(labels, analytic, numeric)]
    if hand is not None:
        rows = [replace(row, expected=value) for row, value in zip(rows, hand)]
    if order == 2:
        hessian = _analytic_hessian(f, point)
        for i in range(len(point)):

            def partial(*xs: Value, i: int = i) -> float:
                return _analytic_grad(f, [x.data for x in xs])[i]

            for j, d in enumerate(numerical_grad(partial, *point, eps=eps, names=labels)):
                rows.append(GradientRow(f"d{labels[i]} d{labels[j]}", hessian[i][j], d))
    return rows


def _flat(f: Callable[..., Any], shapes: Sequence[Shape]) -> Callable[..., Any]:
    """``f`` as a function of the flat entries, called with its arguments' nesting."""
    sizes = [len(s.values) for s in shapes]

    @functools.wraps(f)
    def flat(*entries: Any) -> Any:
        arguments, start = [], 0
        for s, size in zip(shapes, sizes):
            arguments.append(s.rebuild(entries[start : start + size]))
            start += size
        return f(*arguments)

    return flat


def _point(shapes: Sequence[Shape]) -> str:
    text = repr(tuple(s.rebuild(s.values) for s in shapes))
    return text if len(text) <= 100 else text[:96] + "...)"


def check_grad(
    f: Callable[..., Any],
    *args: Any,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    order: int = 1,
    names: Sequence[str] | None = None,
    expected: Any = None,
) -> bool:
    """Return True if ``f``'s gradient matches finite differences at ``args``.

    Otherwise raise ``GradientCheckError`` with a table: argument, analytic,
    numeric, absolute and relative error. With ``order=2`` the second
    derivatives are checked too (each partial derivative against differences
    of itself). ``f`` takes floats or Values and returns a scalar; an argument
    may also be nested lists of numbers (a layer's weights), which ``f``
    receives as lists of Values. ``names`` names the arguments.

    ``expected`` checks a gradient you derived by hand: a function called with
    the arguments as floats (or its result), giving one gradient per argument
    in the argument's own nesting (for one argument, just its gradient). The
    table then has three columns, your formula, the engine and finite
    differences, and the ratio of yours to the engine's; the error names each
    wrong partial and a ratio they share, such as 2 or 0.5 (``.wrong``,
    ``.factor``, ``.swapped``).

    >>> check_grad(lambda x: x * x, 3.0)
    True
    >>> check_grad(lambda x: Value(2.0) * x.data, 3.0)  # cuts the graph: caught
    Traceback (most recent call last):
    ...
    autograd_tiny.gradcheck.GradientCheckError: gradient check failed ...
    >>> loss = lambda w, b: (2 * w[0] + 3 * w[1] + b - 1) ** 2
    >>> def by_hand(w, b):             # forgot the 2 that comes down from the square
    ...     r = 2 * w[0] + 3 * w[1] + b - 1
    ...     return [2 * r, 3 * r], r
    >>> try:
    ...     check_grad(loss, [0.5, -0.25], 0.1, names=["w", "b"], expected=by_hand)
    ... except GradientCheckError as error:
    ...     print(error.wrong, error.factor)
    ['w[0]', 'w[1]', 'b'] 0.5
    """
    for name, tolerance in (("rtol", rtol), ("atol", atol)):
        if not tolerance >= 0:
            raise ValueError(f"check_grad {name} must be >= 0, got {tolerance!r}")
    rows = compare_grad(f, *args, eps=eps, order=order, names=names, expected=expected)
    verdict = judge(rows, rtol, atol)
    if not verdict.wrong:
        return True
    shapes = _shapes(args, names)
    if expected is None:
        numbers = all(s.is_number for s in shapes)
        point = tuple(float(a) for a in args) if numbers else _point(shapes)
        title = (
            f"gradient check failed for {_name(f)} at {point}: {len(verdict.wrong)} of "
            f"{len(rows)} derivatives differ (rtol={rtol:g}, atol={atol:g})"
        )
        raise GradientCheckError(
            format_rows(rows, rtol, atol, title=title), rows, wrong=verdict.wrong
        )
    checked = sum(row.expected is not None for row in rows)
    title = (
        f"gradient check failed for {_name(f)} at {_point(shapes)}: "
        f"your formula differs from the engine in {verdict.formula_wrong} of "
        f"{checked} partials"
    )
    if verdict.disagree:
        title += f"; the engine differs from finite differences in {verdict.disagree}"
    title += f" (rtol={rtol:g}, atol={atol:g})"
    message = "\n".join([format_rows(rows, rtol, atol, title=title), *verdict.lines])
    raise GradientCheckError(
        message, rows, wrong=verdict.wrong, factor=verdict.factor, swapped=verdict.swapped
    )
