"""Loss functions on Values: batch means that match ``torch.nn.functional``.

Owns ``mse``, ``binary_cross_entropy``, ``binary_cross_entropy_with_logits``,
``softmax``, ``log_softmax``, ``cross_entropy`` and ``hinge``. Imports only the
engine and ``_checks``. Each loss takes a single sample or a batch (a list of samples) and
returns the mean as a ``Value``; the exponentials are shifted so that
logits of ±1000 stay finite.

>>> loss = cross_entropy([Value(1000.0), Value(0.0)], 1)
>>> loss.data
1000.0
>>> mse([1.0, 2.0], [1.0, 4.0]).data
2.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Union

from ._checks import is_integral, is_real
from .engine import Value

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "hinge",
    "log_softmax",
    "mse",
    "softmax",
]

Scalar = Union[Value, float, int]
# torch's floor on p (1 - p) in the gradient of binary_cross_entropy: 1e-12 as a float32.
BCE_EPSILON = 9.999999960041972e-13


def _is_scalar(x: Any) -> bool:
    # is_real: NumPy's int64 and float32 scalars count as numbers, like int and float.
    return isinstance(x, Value) or is_real(x)


def _as_value(x: Any, op: str) -> Value:
    if isinstance(x, Value):
        return x
    if not _is_scalar(x):
        raise TypeError(f"{op} needs numbers or Values, got {type(x).__name__} {x!r:.60}")
    return Value(x)


def _number(x: Any, op: str) -> float:
    if isinstance(x, Value):
        return x.data
    if not _is_scalar(x):
        raise TypeError(f"{op} needs numeric targets, got {type(x).__name__} {x!r:.60}")
    return float(x)


def _pairs(pred: Any, target: Any, op: str) -> list[tuple[Any, Any]]:
    """Match predictions with targets elementwise (any nesting), checking the shapes agree."""
    if _is_scalar(pred):
        if isinstance(target, Sequence) and not isinstance(target, str):
            if len(target) != 1:
                raise ValueError(f"{op}: one prediction but {len(target)} targets")
            target = target[0]
        return [(pred, target)]
    if not isinstance(pred, Sequence) or isinstance(pred, str):
        raise TypeError(
            f"{op} needs a Value, a number or a list of them, "
            f"got {type(pred).__name__} {pred!r:.60}"
        )
    if not isinstance(target, Sequence) or isinstance(target, str):
        raise ValueError(
            f"{op}: {len(pred)} predictions but one target ({target!r:.60}); "
            f"give a list of {len(pred)} targets"
        )
    if len(target) != len(pred):
        raise ValueError(
            f"{op}: {len(pred)} predictions but {len(target)} "
            f"target{'' if len(target) == 1 else 's'}"
        )
    if not pred:
        raise ValueError(f"{op}: the batch is empty")
    return [pair for p, t in zip(pred, target) for pair in _pairs(p, t, op)]


def _mean(terms: list[Value]) -> Value:
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total / len(terms) if len(terms) > 1 else total


def _class_index(target: Any, k: int, op: str) -> int:
    # is_integral: NumPy's integer scalars are class indices too.
    if not is_integral(target) or not 0 <= int(target) < k:
        raise ValueError(f"{op}: target must be a class index in 0..{k - 1}, got {target!r:.60}")
    return int(target)


def _is_batch(rows: Any) -> bool:
    return isinstance(rows, Sequence) and bool(rows) and not _is_scalar(rows[0])


def _rows(logits: Any, op: str) -> list[list[Value]]:
    """A batch of logit rows (a single row counts as a batch of one)."""
    if not isinstance(logits, Sequence) or not logits:
        raise TypeError(f"{op} needs a non-empty list of logits, got {logits!r:.60}")
    rows = logits if _is_batch(logits) else [logits]
    out = []
    for row in rows:
        if not isinstance(row, Sequence) or not row:
            raise TypeError(f"{op} needs non-empty lists of logits, got {row!r:.60}")
        out.append([_as_value(z, op) for z in row])
    return out


def _log_softmax_row(row: list[Value]) -> list[Value]:
    # log softmax(z)_i = (z_i - m) - log sum_j exp(z_j - m), with m = max z: no overflow.
    m = max(z.data for z in row)
    shifted = [z - m for z in row]
    total = shifted[0].exp()
    for s in shifted[1:]:
        total = total + s.exp()
    log_total = total.log()
    return [s - log_total for s in shifted]


def mse(pred: Any, target: Any) -> Value:
    """Mean squared error over every element (``F.mse_loss``).

    >>> mse(Value(3.0), 1.0)
    Value(data=4.0, grad=0.0)
    """
    terms = []
    for p, t in _pairs(pred, target, "mse"):
        diff = _as_value(p, "mse") - (t if isinstance(t, Value) else _number(t, "mse"))
        terms.append(diff * diff)
    return _mean(terms)


def _bce_term(p: Value, y: float) -> Value:
    # -[y log p + (1 - y) log(1 - p)], with log(1 - p) as log1p(-p) like torch.
    if p.data * (1.0 - p.data) >= BCE_EPSILON:
        return -(y * p.log() + (1.0 - y) * (-p).log1p())
    # Near 0 and 1 torch clamps each log at -100 and takes the slope
    # (p - y) / max(p (1 - p), 1e-12), not the log's: a constant loss plus
    # slope * (p - p.data), a zero that carries the gradient.
    log_p = math.log(p.data) if p.data > 0.0 else -math.inf
    log_q = math.log1p(-p.data) if p.data < 1.0 else -math.inf
    loss = -(y * max(log_p, -100.0) + (1.0 - y) * max(log_q, -100.0))
    slope = (p.data - y) / BCE_EPSILON
    return loss + slope * (p - p.data)


def binary_cross_entropy(prob: Any, target: Any) -> Value:
    """BCE on probabilities in [0, 1] (``F.binary_cross_entropy``, logs clamped at -100).

    Where p (1 - p) < 1e-12 the gradient is torch's: (p - y) / 1e-12 per sample.

    >>> round(binary_cross_entropy([0.5, 0.5], [0, 1]).data, 6)
    0.693147
    """
    terms = []
    for p, t in _pairs(prob, target, "binary_cross_entropy"):
        p = _as_value(p, "binary_cross_entropy")
        y = _number(t, "binary_cross_entropy")
        if not 0.0 <= p.data <= 1.0:
            raise ValueError(
                f"binary_cross_entropy: probability {p.data!r} is outside [0, 1]"
                " (use binary_cross_entropy_with_logits for logits)"
            )
        terms.append(_bce_term(p, y))
    return _mean(terms)


def binary_cross_entropy_with_logits(logit: Any, target: Any) -> Value:
    """BCE on logits, stable at any finite logit (``F.binary_cross_entropy_with_logits``).

    >>> binary_cross_entropy_with_logits(Value(800.0), 0).data
    800.0
    """
    terms = []
    for z, t in _pairs(logit, target, "binary_cross_entropy_with_logits"):
        z = _as_value(z, "binary_cross_entropy_with_logits")
        y = _number(t, "binary_cross_entropy_with_logits")
        # -[y log s(z) + (1 - y) log(1 - s(z))] = softplus(z) - y z, never overflowing.
        terms.append(z.softplus() - y * z)
    return _mean(terms)


def softmax(logits: Any) -> Any:
    """exp(z_i) / sum_j exp(z_j) for a row of logits, or for each row of a batch.

    >>> [p.data for p in softmax([1000.0, 1000.0])]
    [0.5, 0.5]
    """

    def row_softmax(row: list[Value]) -> list[Value]:
        m = max(z.data for z in row)
        exps = [(z - m).exp() for z in row]
        total = exps[0]
        for e in exps[1:]:
            total = total + e
        return [e / total for e in exps]

    rows = [row_softmax(row) for row in _rows(logits, "softmax")]
    return rows if _is_batch(logits) else rows[0]


def log_softmax(logits: Any) -> Any:
    """log of softmax, via log-sum-exp (finite at logits of 1000), per row.

    >>> [round(p.data, 4) for p in log_softmax([1000.0, 1000.0])]
    [-0.6931, -0.6931]
    """
    rows = [_log_softmax_row(row) for row in _rows(logits, "log_softmax")]
    return rows if _is_batch(logits) else rows[0]


def cross_entropy(logits: Any, target_index: Any) -> Value:
    """Mean of -log softmax(logits)[target] (``F.cross_entropy``).

    Takes one row of logits and a class index, or a batch of rows and a list.

    >>> round(cross_entropy([[0.0, 0.0], [0.0, 0.0]], [0, 1]).data, 6)
    0.693147
    """
    rows = _rows(logits, "cross_entropy")
    targets = target_index if _is_batch(logits) else [target_index]
    if not isinstance(targets, Sequence) or len(targets) != len(rows):
        raise ValueError(
            f"cross_entropy: {len(rows)} rows of logits but targets {target_index!r:.60}"
        )
    terms = []
    for row, t in zip(rows, targets):
        k = _class_index(t, len(row), "cross_entropy")
        terms.append(-_log_softmax_row(row)[k])
    return _mean(terms)


def _binary_target(t: Any) -> float:
    # Labels 0/1 (as the datasets give them) are read as -1/+1.
    y = _number(t, "hinge")
    if y not in (-1.0, 0.0, 1.0):
        raise ValueError(f"hinge: binary targets must be -1 or +1 (0 reads as -1), got {t!r}")
    return 1.0 if y == 1.0 else -1.0


def hinge(scores: Any, target: Any, margin: float = 1.0) -> Value:
    """Hinge loss: binary mean(max(0, margin - y s)), or multi-class as ``F.multi_margin_loss``.

    Binary: a score (or a list) with targets ±1. Multi-class: a row of scores
    with a class index (or a batch of rows with a list of indices).

    >>> hinge([2.0, 0.5], [1, -1]).data
    0.75
    >>> hinge([0.0, 1.0, 0.0], 1).data
    0.0
    """
    multi = _is_batch(scores) or (isinstance(scores, Sequence) and _is_scalar(target))
    terms: list[Value] = []
    if not multi:
        for s, t in _pairs(scores, target, "hinge"):
            terms.append((margin - _binary_target(t) * _as_value(s, "hinge")).relu())
        return _mean(terms)
    rows = _rows(scores, "hinge")
    targets = target if _is_batch(scores) else [target]
    if not isinstance(targets, Sequence) or len(targets) != len(rows):
        raise ValueError(f"hinge: {len(rows)} rows of scores but targets {target!r:.60}")
    for row, t in zip(rows, targets):
        k = _class_index(t, len(row), "hinge")
        total: Value = Value(0.0)
        for i, s in enumerate(row):
            if i != k:
                total = total + (margin - row[k] + s).relu()
        terms.append(total / len(row))
    return _mean(terms)
