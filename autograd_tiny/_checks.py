"""The checks of numeric arguments, one helper each, so every module words them alike.

A bool is never a number here (``True`` is an ``int`` to Python, never a size or a
rate to a user). A failed check raises ``ValueError`` naming the function, the
argument and the value given. Imports nothing from the package: every module may
import it.

>>> check_int(3, "epochs", "fit", minimum=1)
3
>>> check_int(True, "epochs", "fit", minimum=1)
Traceback (most recent call last):
...
ValueError: fit: epochs must be a positive int, got True
>>> check_number(0.5, "gamma", "StepLR", at_least=0)
0.5
>>> check_number(float("nan"), "lr", "SGD", at_least=0.0)
Traceback (most recent call last):
...
ValueError: SGD: lr must be a number >= 0.0 (finite), got nan
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # typing.TypeGuard is new in Python 3.10
    from typing import TypeGuard

__all__ = ["check_int", "check_number", "is_int", "is_integral", "is_number", "is_real"]


def is_int(x: Any) -> TypeGuard[int]:
    """An ``int`` and not a ``bool``."""
    return isinstance(x, int) and not isinstance(x, bool)


def is_number(x: Any) -> TypeGuard[int | float]:
    """An ``int`` or a ``float`` (NumPy's float64 too), not a ``bool``."""
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def is_integral(x: Any) -> TypeGuard[numbers.Integral]:
    """Any ``numbers.Integral`` (NumPy's integer scalars too), not a ``bool``."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def is_real(x: Any) -> TypeGuard[numbers.Real]:
    """Any ``numbers.Real`` (Fraction, NumPy's scalars too), not a ``bool``."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def check_int(value: Any, name: str, where: str, *, minimum: int | None = None) -> int:
    """``value`` if it is an int (not a bool) of at least ``minimum``; else ``ValueError``.

    >>> check_int(1, "n", "moons", minimum=2)
    Traceback (most recent call last):
    ...
    ValueError: moons: n must be an int >= 2, got 1
    """
    if not is_int(value) or (minimum is not None and value < minimum):
        kind = (
            "an int"
            if minimum is None
            else "a positive int"
            if minimum == 1
            else f"an int >= {minimum}"
        )
        raise ValueError(f"{where}: {name} must be {kind}, got {value!r:.60}")
    return int(value)


def check_number(
    value: Any,
    name: str,
    where: str,
    *,
    at_least: float | None = None,
    above: float | None = None,
    below: float | None = None,
    finite: bool = True,
) -> float:
    """``value`` as a float if it is an int or float in the range given; else ``ValueError``.

    The range: ``>= at_least``, ``> above``, ``< below`` (any of them). nan never
    passes; inf passes only with ``finite=False`` (and a range that holds it).

    >>> check_number(2, "factor", "circles", above=0, below=1)
    Traceback (most recent call last):
    ...
    ValueError: circles: factor must be a number in (0, 1), got 2
    >>> check_number(float("inf"), "max_norm", "clip_grad_norm_", at_least=0, finite=False)
    inf
    """
    try:
        number = float(value) if is_number(value) else math.nan
    except OverflowError:  # an int too large for a float
        number = math.nan
    if (
        math.isnan(number)
        or (finite and math.isinf(number))
        or (at_least is not None and not number >= at_least)
        or (above is not None and not number > above)
        or (below is not None and not number < below)
    ):
        raise ValueError(
            f"{where}: {name} must be "
            f"{_number_kind(at_least, above, below, finite)}, got {value!r:.60}"
        )
    return number


def _number_kind(
    at_least: float | None, above: float | None, below: float | None, finite: bool
) -> str:
    """The words for check_number's range: ``a number in [0, 1)``, ``a number > 0 (finite)``."""
    low = at_least if at_least is not None else above
    opening = "[" if at_least is not None else "("
    if low is not None and below is not None:
        return f"a number in {opening}{low}, {below})"  # both bounds: finite already
    bounds = []
    if low is not None:
        bounds.append(f"{'>=' if at_least is not None else '>'} {low}")
    if below is not None:
        bounds.append(f"< {below}")
    words = " ".join(["a number", *bounds])
    return f"{words} (finite)" if finite else f"{words} (inf allowed)"
