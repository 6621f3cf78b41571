"""What ``fit`` and ``evaluate`` check before and after each step, and the loss they pick.

Before any step: the dataset's shape, its nan and inf (naming row and column), and
the labels against the loss, which the model's outputs choose unless told. After
each step of ``fit``: what, if anything, went nan or inf. Imports the engine, losses
and optim; ``train`` re-exports ``LOSSES``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, Callable, Union

from ._checks import is_integral
from .engine import Value
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge,
    mse,
)
from .optim import Optimizer

__all__ = [
    "LOSSES",
    "LossFn",
    "check_dataset",
    "check_finite_data",
    "check_labels",
    "mse_one_hot",
    "non_finite",
    "pick_loss",
]

LossFn = Callable[[Any, Any], Value]

LOSSES: dict[str, LossFn] = {
    "bce_with_logits": binary_cross_entropy_with_logits,
    "bce": binary_cross_entropy,
    "cross_entropy": cross_entropy,
    "mse": mse,
    "hinge": hinge,
}


def check_dataset(X: Any, y: Any, where: str) -> None:
    if not isinstance(X, Sequence) or not isinstance(y, Sequence):
        raise TypeError(
            f"{where} needs X and y as lists, got {type(X).__name__} and {type(y).__name__}"
        )
    if len(X) != len(y):
        raise ValueError(f"{where}: X has {len(X)} samples but y has {len(y)}")
    if not X:
        raise ValueError(f"{where}: the dataset is empty")


def first_non_finite(rows: Sequence[Any], name: str) -> str | None:
    """Where the first nan or inf of a dataset sits (``row 3, column 1: X[3][1] = nan``).

    Rows may be numbers or sequences of numbers or Values; anything else is the
    model's business and is skipped. None when every number is finite.
    """
    for i, row in enumerate(rows):
        cells = row if isinstance(row, Sequence) and not isinstance(row, str) else None
        for j, cell in enumerate(cells if cells is not None else (row,)):
            number = cell.data if isinstance(cell, Value) else cell
            if isinstance(number, numbers.Real) and not math.isfinite(number):
                if cells is None:
                    return f"row {i}: {name}[{i}] = {float(number)!r}"
                return f"row {i}, column {j}: {name}[{i}][{j}] = {float(number)!r}"
    return None


def check_finite_data(X: Sequence[Any], y: Sequence[Any], where: str) -> None:
    """Raise ValueError naming the first nan or inf in X or y, before any step."""
    for rows, name in ((X, "X"), (y, "y")):
        found = first_non_finite(rows, name)
        if found is not None:
            raise ValueError(
                f"{where}: {found}; one nan or inf makes every parameter nan, "
                f"so fix or drop that row (check_finite=False trains anyway)"
            )


def pick_loss(model: Any, loss: Union[str, LossFn, None], first_output: Any) -> LossFn:
    if callable(loss):
        return loss
    if loss is None:
        if not isinstance(first_output, Value):
            return cross_entropy
        if getattr(model, "output_activation", None) == "sigmoid":
            return binary_cross_entropy
        return binary_cross_entropy_with_logits
    if loss not in LOSSES:
        raise ValueError(
            f"fit: unknown loss {loss!r} (must be one of {', '.join(LOSSES)} "
            f"or a function (outputs, targets) -> Value)"
        )
    if loss == "mse" and not isinstance(first_output, Value):
        return mse_one_hot
    return LOSSES[loss]


def check_labels(
    first_output: Any, loss: Union[str, LossFn, None], y: Sequence[Any], where: str
) -> None:
    """Raise ValueError before training on labels the default or named loss would misread."""
    if callable(loss):
        return
    if isinstance(first_output, Value):
        allowed: tuple[int, ...]
        if loss is None:
            allowed, need = (0, 1), "binary cross-entropy, which needs labels 0 and 1"
        elif loss == "hinge":
            allowed, need = (-1, 0, 1), "hinge, which needs labels -1 and 1 (0 reads as -1)"
        else:
            return
        for i, label in enumerate(y):
            if not (isinstance(label, numbers.Real) and label in allowed):
                classes = max((int(t) for t in y if is_integral(t)), default=1) + 1
                hint = (
                    f"; for {classes} classes give the model {classes} outputs "
                    f"(MLP(nin, [..., {classes}]))"
                    if classes > 2
                    else ""
                )
                raise ValueError(
                    f"{where}: the model has 1 output, so it trains with {need}; "
                    f"got {label!r:.40} (y[{i}]){hint}"
                )
        return
    k = len(first_output)
    for i, label in enumerate(y):
        if loss == "mse" and isinstance(label, (list, tuple)):
            continue  # already a row of k targets
        if not (is_integral(label) and 0 <= int(label) < k):
            raise ValueError(
                f"{where}: the model has {k} outputs, so it needs class labels "
                f"0..{k - 1} (ints); got {label!r:.40} (y[{i}])"
            )


def mse_one_hot(outputs: Sequence[Any], targets: Sequence[Any]) -> Value:
    """mse for k-output models, reading an int label i as the one-hot row (i == j for j < k)."""
    rows = [
        [float(j == t) for j in range(len(out))]
        if is_integral(t) and isinstance(out, (list, tuple))
        else t
        for out, t in zip(outputs, targets)
    ]
    return mse(outputs, rows)


def _parameter_name(i: int, p: Value) -> str:
    return f"model.parameters()[{i}]" + (f" ({p.label})" if p.label else "")


def _first_bad(numbers: Sequence[float]) -> int | None:
    """The index of the first nan or inf; the sum tells at C speed when there is none."""
    if math.isfinite(sum(numbers)):
        return None
    return next((i for i, x in enumerate(numbers) if not math.isfinite(x)), None)


def non_finite(
    loss: float, params: Sequence[Value], before: Sequence[float], optimizer: Optimizer
) -> str | None:
    """What went nan or inf in a step (the loss, a gradient, a parameter, the optimizer's
    state), or None. ``optimizer`` is the one holding the state and the rate (not fit's
    clipping wrapper around it)."""
    data = [p.data for p in params]
    bad_state = _bad_optimizer_state(optimizer)
    if math.isfinite(loss) and math.isfinite(sum(data)) and bad_state is None:
        return None  # the common case: a non-finite gradient would show in the data
    if not math.isfinite(loss):
        return f"the loss is {loss!r}"
    i = _first_bad([p.grad for p in params])
    if i is not None:
        return f"the gradient of {_parameter_name(i, params[i])} is {params[i].grad!r}"
    i = _first_bad(data)
    if i is not None:
        p = params[i]
        return (
            f"the update made {_parameter_name(i, p)} {p.data!r} (it was {before[i]!r}, "
            f"its gradient {p.grad!r}; is the learning rate "
            f"{getattr(optimizer, 'lr', '?')!r} too large?)"
        )
    if bad_state is not None:
        key, i = bad_state
        value = getattr(optimizer, key)[i]
        of = f" (for {_parameter_name(i, params[i])})" if i < len(params) else ""
        return f"the optimizer's {key}[{i}] is {value!r}{of}"
    return None  # a sum overflowed, every number is finite


def _bad_optimizer_state(optimizer: Optimizer) -> tuple[str, int] | None:
    """The first nan or inf in the optimizer's lists (moments, momentum buffers), or None."""
    for key, value in vars(optimizer).items():
        if key == "params" or type(value) is not list:
            continue
        numbers: list[Any] = value
        try:
            total = sum(numbers)
        except TypeError:  # not all numbers: SGD's buffers start as None
            numbers = [x if isinstance(x, float) else 0.0 for x in value]
            total = sum(numbers)
        i = None if math.isfinite(total) else _first_bad(numbers)
        if i is not None:
            return key, i
    return None
