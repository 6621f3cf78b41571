"""A trained model's answers: ``predict``, ``accuracy`` and ``evaluate``, without a graph.

How a model's outputs read as a label: one output is a logit (a probability after a
sigmoid) compared with a threshold; k outputs are scores whose argmax is the class.
``fit``, its compiled step and the CLI read them the same way. Imports the engine and
``_fit_checks``; ``train`` re-exports the public names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Union

from ._fit_checks import LossFn, check_dataset, check_labels, pick_loss
from .engine import Value, no_grad

__all__ = [
    "accuracy",
    "decision_threshold",
    "evaluate",
    "model_outputs",
    "predict",
    "predicted_label",
]


def model_outputs(model: Any, x: Any) -> Any:
    """The model's output for one sample: a Value for one output, else the list of k."""
    out = model(x)
    if isinstance(out, (list, tuple)) and len(out) == 1:
        return out[0]
    return out


def decision_threshold(model: Any) -> float:
    """Where one output turns from label 0 to 1: 0.5 after a sigmoid, else 0 (a logit)."""
    return 0.5 if getattr(model, "output_activation", None) == "sigmoid" else 0.0


def predicted_label(out: Any, threshold: float) -> int:
    """The label of one output (above ``threshold``) or of k scores (the first argmax)."""
    if isinstance(out, Value):
        return int(out.data > threshold)
    scores = [o.data if isinstance(o, Value) else float(o) for o in out]
    return max(range(len(scores)), key=scores.__getitem__)


def evaluate(
    model: Any, X: Sequence[Any], y: Sequence[Any], loss: Union[str, LossFn, None] = None
) -> tuple[float, float]:
    """(mean loss, accuracy) on a dataset, without building a graph.

    >>> from autograd_tiny.data import xor
    >>> from autograd_tiny.nn import MLP
    >>> loss, acc = evaluate(MLP(2, [1], seed=0), *xor())
    >>> round(loss, 4), acc
    (0.7541, 0.75)
    """
    check_dataset(X, y, "evaluate")
    with no_grad():
        outputs = [model_outputs(model, x) for x in X]
        check_labels(outputs[0], loss, y, "evaluate")
        loss_value = pick_loss(model, loss, outputs[0])(outputs, list(y)).data
    threshold = decision_threshold(model)
    # bool() each comparison: a NumPy label's == gives numpy.bool_, whose sum is not an int
    correct = sum(
        bool(predicted_label(out, threshold) == target) for out, target in zip(outputs, y)
    )
    return loss_value, correct / len(y)


def predict(model: Any, X: Sequence[Any]) -> list[int]:
    """Class labels: argmax of k outputs, or one output above 0 (0.5 after a sigmoid).

    >>> from autograd_tiny.nn import MLP
    >>> predict(MLP(2, [2], seed=0), [[0.0, 0.0]])
    [0]
    """
    threshold = decision_threshold(model)
    with no_grad():
        return [predicted_label(model_outputs(model, x), threshold) for x in X]


def accuracy(model: Any, X: Sequence[Any], y: Sequence[Any]) -> float:
    """Fraction of samples whose predicted label equals ``y``.

    >>> from autograd_tiny.nn import MLP
    >>> accuracy(MLP(2, [2], seed=0), [[0.0, 0.0]], [0])
    1.0
    """
    check_dataset(X, y, "accuracy")
    return sum(bool(p == t) for p, t in zip(predict(model, X), y)) / len(y)
