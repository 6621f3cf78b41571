"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_``, as ``torch.nn.utils`` has them.

Re-exported by ``optim``. Imports the engine (and ``_ieee``, for powers that
overflow to inf instead of raising). Both functions change each parameter's
``.grad`` in place (the trailing underscore, as in torch) and never touch ``.data``.

>>> a, b = Value(0.0), Value(0.0)
>>> a.grad, b.grad = 3.0, 4.0
>>> clip_grad_norm_([a, b], max_norm=1.0)  # returns the norm before clipping
5.0
>>> round(a.grad, 6), round(b.grad, 6)
(0.6, 0.8)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Union

from ._checks import check_number
from ._ieee import real_pow
from .engine import Value

__all__ = ["clip_grad_norm_", "clip_grad_value_"]

Parameters = Union[Value, Iterable[Value]]


def _as_parameters(parameters: Any, where: str) -> list[Value]:
    if isinstance(parameters, Value):
        return [parameters]
    try:
        found = list(parameters)
    except TypeError:
        raise TypeError(
            f"{where} needs a Value or a list of Values, got {type(parameters).__name__}"
        ) from None
    seen: dict[int, int] = {}
    for i, p in enumerate(found):
        if not isinstance(p, Value):
            raise TypeError(f"{where}: parameters must be Values, got {type(p).__name__} {p!r:.60}")
        j = seen.setdefault(id(p), i)
        if j != i:  # it would be counted and scaled twice
            raise ValueError(
                f"{where}: parameter {i} is the same Value as parameter {j} "
                f"({p!r}); list each parameter once"
            )
    return found


def _total_norm(grads: list[float], p: float) -> float:
    if any(g != g for g in grads):
        return math.nan
    if p == math.inf:
        return max(abs(g) for g in grads)
    if p == 2.0:
        return math.hypot(*grads)
    return real_pow(math.fsum(real_pow(abs(g), p) for g in grads), 1.0 / p)


def clip_grad_norm_(
    parameters: Parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale all gradients together so that their ``norm_type``-norm is at most ``max_norm``.

    ``torch.nn.utils.clip_grad_norm_``'s formula: with ``total`` the norm of
    every gradient taken as one vector, each gradient is multiplied by
    ``min(1, max_norm / (total + 1e-6))``; the direction never changes. Returns
    ``total`` (before clipping). ``norm_type`` is any p > 0 or ``math.inf`` (the
    largest absolute gradient). A nan or inf total makes the gradients nan (as
    in torch), or, with ``error_if_nonfinite=True``, raises ``FloatingPointError``
    and changes nothing.

    >>> w = Value(0.0); w.grad = -10.0
    >>> clip_grad_norm_([w], max_norm=2.0, norm_type=math.inf), round(w.grad, 6)
    (10.0, -2.0)
    """
    where = "clip_grad_norm_"
    params = _as_parameters(parameters, where)
    max_norm = check_number(max_norm, "max_norm", where, at_least=0, finite=False)
    power = check_number(norm_type, "norm_type", where, above=0, finite=False)
    if not params:
        return 0.0
    total = _total_norm([p.grad for p in params], power)
    if not math.isfinite(total) and error_if_nonfinite:
        raise FloatingPointError(
            f"{where}: the total {norm_type}-norm of the gradients is "
            f"{total}, so they cannot be clipped; no gradient was changed"
        )
    coefficient = max_norm / (total + 1e-6)
    scale = 1.0 if coefficient >= 1.0 else coefficient  # nan stays nan, as torch.clamp keeps it
    for p in params:
        p.grad = p.grad * scale
    return total


def clip_grad_value_(parameters: Parameters, clip_value: float) -> None:
    """Clamp each gradient into ``[-clip_value, clip_value]`` (``torch.nn.utils.clip_grad_value_``).

    Each gradient is clipped on its own, so the direction of the whole can
    change; a nan gradient stays nan.

    >>> a, b = Value(0.0), Value(0.0)
    >>> a.grad, b.grad = 3.0, -0.5
    >>> clip_grad_value_([a, b], 1.0); a.grad, b.grad
    (1.0, -0.5)
    """
    where = "clip_grad_value_"
    params = _as_parameters(parameters, where)
    bound = check_number(clip_value, "clip_value", where, at_least=0, finite=False)
    for p in params:
        if p.grad > bound:
            p.grad = bound
        elif p.grad < -bound:
            p.grad = -bound
