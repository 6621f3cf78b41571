"""Float math the IEEE 754 way: never a Python ``math`` exception, never a complex number.

The engine's forward values (and the compiler's generated code) use these, so
``log(0)`` is -inf, ``sqrt(-1)`` nan and ``exp(1000)`` inf, as in NumPy and
PyTorch. Imports nothing of the package.

>>> log(0.0), sqrt(-1.0), real_pow(-8.0, 1 / 3), div(1.0, -0.0)
(-inf, nan, nan, -inf)
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "IEEEFloat",
    "acos",
    "asin",
    "atan",
    "atan2",
    "clamp_max",
    "clamp_min",
    "cos",
    "cosh",
    "div",
    "erf",
    "exp",
    "floor",
    "log",
    "log1p",
    "log2",
    "log10",
    "maximum",
    "minimum",
    "mod",
    "real_pow",
    "relu",
    "sigmoid",
    "sin",
    "sinh",
    "softplus",
    "sqrt",
    "tan",
]

_INF = math.inf
_NAN = math.nan


# --------------------------------------------------------------------------


def div(x: float, y: float) -> float:
    try:
        return x / y
    except ZeroDivisionError:
        if x != x or x == 0.0:
            return _NAN
        return math.copysign(_INF, x) * math.copysign(1.0, y)


def _is_odd_integer(y: float) -> bool:
    return math.isfinite(y) and y == math.floor(y) and math.floor(y) % 2 == 1


def real_pow(x: float, y: float) -> float:
    if y == 2.0:  # the commonest power: x * x, correctly rounded (pow is within 0.52 ULP)
        return x * x
    try:
        return math.pow(x, y)
    except OverflowError:
        return -_INF if x < 0 and _is_odd_integer(y) else _INF
    except ValueError:
        if x == 0.0:  # zero to a negative power
            return math.copysign(_INF, x) if _is_odd_integer(y) else _INF
        return _NAN  # negative base, fractional exponent: no real result


def exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _INF


def log(x: float) -> float:
    if x > 0.0:
        return math.log(x)
    return -_INF if x == 0.0 else _NAN


def log1p(x: float) -> float:
    if x > -1.0:
        return math.log1p(x)
    return -_INF if x == -1.0 else _NAN


def sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0.0 else _NAN


def sin(x: float) -> float:
    return math.sin(x) if math.isfinite(x) else _NAN


def cos(x: float) -> float:
    return math.cos(x) if math.isfinite(x) else _NAN


def sigmoid(x: float) -> float:
    # Two branches so that exp never overflows: exp(-x) for x >= 0, exp(x) below.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = exp(x)
    return e / (1.0 + e)


def softplus(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), finite for every finite x.
    return (x if x > 0.0 else 0.0) + math.log1p(exp(-abs(x)))


def relu(x: float) -> float:
    return 0.0 if x <= 0.0 else x  # nan stays nan


def tan(x: float) -> float:
    return math.tan(x) if math.isfinite(x) else _NAN


atan = math.atan  # defined on every float: atan(±inf) = ±pi/2, atan(nan) = nan
erf = math.erf  # erf(±inf) = ±1


def asin(x: float) -> float:
    return math.asin(x) if -1.0 <= x <= 1.0 else _NAN


def acos(x: float) -> float:
    return math.acos(x) if -1.0 <= x <= 1.0 else _NAN


def sinh(x: float) -> float:
    try:
        return math.sinh(x)
    except OverflowError:
        return math.copysign(_INF, x)


def cosh(x: float) -> float:
    try:
        return math.cosh(x)
    except OverflowError:
        return _INF


def log2(x: float) -> float:
    if x > 0.0:
        return math.log2(x)
    return -_INF if x == 0.0 else _NAN


def log10(x: float) -> float:
    if x > 0.0:
        return math.log10(x)
    return -_INF if x == 0.0 else _NAN


atan2 = math.atan2  # atan2(y, x): IEEE already (atan2(0, -0) = pi, nan in, nan out)


def maximum(x: float, y: float) -> float:
    if x != x or y != y:
        return _NAN  # a nan wins, as in torch.maximum (Python's max depends on the order)
    return x if x >= y else y


def minimum(x: float, y: float) -> float:
    if x != x or y != y:
        return _NAN
    return x if x <= y else y


def clamp_min(x: float, low: float) -> float:
    return maximum(x, low)


def clamp_max(x: float, high: float) -> float:
    return minimum(x, high)


def mod(x: float, y: float) -> float:
    """Python's x % y (the result takes y's sign), nan where Python would raise."""
    try:
        return x % y
    except ZeroDivisionError:
        return _NAN


def floor(x: float) -> float:
    """The largest whole number <= x, as a float; ±inf and nan stay as they are."""
    return float(math.floor(x)) if math.isfinite(x) else x


class IEEEFloat(float):
    """A float whose arithmetic follows IEEE 754 where Python's would raise.

    Used only to re-run a derivative rule whose plain-float evaluation hit a
    division by zero (e.g. log'(0) = 1/0 = inf).
    """

    __slots__ = ()

    def __add__(self, other: Any) -> IEEEFloat:
        return IEEEFloat(float(self) + float(other))

    def __radd__(self, other: Any) -> IEEEFloat:
        return IEEEFloat(float(other) + float(self))

    def __sub__(self, other: Any) -> IEEEFloat:
        return IEEEFloat(float(self) - float(other))

    def __rsub__(self, other: Any) -> IEEEFloat:
        return IEEEFloat(float(other) - float(self))

    def __mul__(self, other: Any) -> IEEEFloat:
        return IEEEFloat(float(self) * float(other))

    def __rmul__(self, other: Any) -> IEEEFloat:
        return IEEEFloat(float(other) * float(self))

    def __truediv__(self, other: Any) -> IEEEFloat:
        return IEEEFloat(div(float(self), float(other)))

    def __rtruediv__(self, other: Any) -> IEEEFloat:
        return IEEEFloat(div(float(other), float(self)))

    def __neg__(self) -> IEEEFloat:
        return IEEEFloat(-float(self))
