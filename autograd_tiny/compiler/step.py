"""The compiled training step: ``fit``'s step as replay of one traced per-sample loss.

``CompiledStep`` does the arithmetic of ``train.train_step`` (forward, loss, backward,
update) through generated float code (``compile``), and ``fit`` uses it by default
for an MLP with a built-in loss; ``compiled_kind`` says which losses replay exactly.
Where it cannot replay, it runs the eager step it was given. Imports the engine,
losses, optim, ``compile`` from this folder, and the private ``_fit_checks`` and
``_evaluation`` that tell it how labels and outputs read (never nn, train or the CLI).

>>> from autograd_tiny.data import xor
>>> from autograd_tiny.losses import binary_cross_entropy_with_logits
>>> from autograd_tiny.nn import MLP
>>> from autograd_tiny.optim import Adam
>>> from autograd_tiny.train import train_step
>>> X, y = xor()
>>> model = MLP(2, [1], seed=0)
>>> compiled_kind(binary_cross_entropy_with_logits, model(X[0]), X, y)
'bce'
>>> step = CompiledStep(model, "bce", 1, eager=train_step)
>>> loss, correct = step(model, binary_cross_entropy_with_logits, Adam(model.parameters()), X, y)
>>> round(loss, 4), correct
(0.7541, 3)
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any, Callable

from .._checks import is_integral
from .._evaluation import decision_threshold, model_outputs
from .._fit_checks import LossFn, mse_one_hot
from ..engine import Value
from ..losses import binary_cross_entropy_with_logits, cross_entropy, mse
from ..optim import Optimizer
from . import compile as compile_function

__all__ = ["CompiledStep", "EagerStep", "compiled_kind"]

# train.train_step's signature: (model, loss_fn, optimizer, xb, yb) -> (batch loss, correct)
EagerStep = Callable[[Any, LossFn, Optimizer, Sequence[Any], Sequence[Any]], "tuple[float, int]"]


class CompiledStep:
    """``train_step`` as compiled replay, for the built-in mean losses; eager where it cannot be.

    The per-sample loss is traced once with the sample's inputs and its label
    as arguments. The label enters by arithmetic only, so one trace serves
    every label: y in {0, 1} for one output, a one-hot row t for k outputs.

    - BCE with logits: softplus(z) - y z, the same operations as the eager loss.
    - cross-entropy: log sum_j exp(z_j - z_t) with z_t = sum_j t_j z_j, summed
      as a chain of log-add-exps, L <- L + softplus(d_j - L). No exp can
      overflow for finite logits (softplus is stable); the result agrees with
      the eager, max-shifted form to within rounding of the largest logit gap.
    - mse: (z - y)**2, on the one-hot row for k outputs.

    The replay also returns each sample's model outputs (``has_aux``), from
    which the correct count follows as ``predicted_label`` decides it.
    A batch whose loss or gradients are not finite reruns with the ``eager`` step
    (``train_step`` in ``fit``), as does every batch once tracing fails (a
    ``TraceError``: the model reads a value as a number; or any other error, which
    the eager step then raises if it is the model's own): a ``RuntimeWarning`` says
    so, once.
    """

    def __init__(self, model: Any, kind: str, outputs: int, *, eager: EagerStep) -> None:
        self.model = model
        self.eager = eager
        self.kind = kind
        self.outputs = outputs
        self.threshold = decision_threshold(model)
        self.params = model.parameters()
        self.one_hot = [tuple(float(i == j) for j in range(outputs)) for i in range(outputs)]
        self.function: Any = compile_function(self._sample, params=self.params, has_aux=True)

    def _sample(self, *args: Value) -> tuple[Value, Sequence[Value]]:
        """(loss of one sample, the model's outputs); args are the inputs, then the label."""
        k = self.outputs
        x, label = list(args[: len(args) - k]), args[len(args) - k :]
        out = model_outputs(self.model, x)
        if k == 1:
            y = label[0]
            loss = out.softplus() - y * out if self.kind == "bce" else (out - y) * (out - y)
            return loss, (out,)
        if self.kind == "ce":
            target = label[0] * out[0]
            for t, z in zip(label[1:], out[1:]):
                target = target + t * z
            loss = out[0] - target
            for z in out[1:]:
                loss = loss + (z - target - loss).softplus()
        else:
            loss = (out[0] - label[0]) * (out[0] - label[0])
            for t, z in zip(label[1:], out[1:]):
                loss = loss + (z - t) * (z - t)
        return loss, tuple(out)  # any sequence of outputs (a NumPy array too)

    def _correct(self, outputs: Sequence[tuple[float, ...]], yb: Sequence[Any]) -> int:
        """How many rows of model outputs predict their label, as ``predicted_label`` decides."""
        if self.outputs == 1:
            threshold = self.threshold
            return sum(bool(int(z > threshold) == t) for (z,), t in zip(outputs, yb))
        classes = range(self.outputs)
        # predicted_label's argmax: max() keeps the first of equal scores
        return sum(
            bool(max(classes, key=scores.__getitem__) == t) for scores, t in zip(outputs, yb)
        )

    def __call__(
        self,
        model: Any,
        loss_fn: LossFn,
        optimizer: Optimizer,
        xb: Sequence[Any],
        yb: Sequence[Any],
    ) -> tuple[float, int]:
        if self.function is not None:
            if self.outputs == 1:
                rows = [(*x, float(t)) for x, t in zip(xb, yb)]
            else:
                rows = [(*x, *self.one_hot[t]) for x, t in zip(xb, yb)]
            optimizer.zero_grad()
            try:
                total, outputs = self.function.accumulate_grad(rows)
            except Exception as error:
                self.function = None  # remembered: every later batch runs eagerly
                for p in self.params:
                    p.grad = 0.0
                warnings.warn(
                    f"fit(): the model cannot be compiled ({type(error).__name__}: {error}); "
                    f"training it with the eager engine, which gives the same numbers more "
                    f"slowly. Pass compile=False to choose that yourself.",
                    RuntimeWarning,
                    stacklevel=4,
                )
            else:
                terms = len(rows) * (self.outputs if self.kind == "mse" else 1)
                for p in self.params:
                    p.grad /= terms
                if math.isfinite(total) and math.isfinite(sum(p.grad for p in self.params)):
                    optimizer.step()
                    return total / terms, self._correct(outputs, yb)
        return self.eager(model, loss_fn, optimizer, xb, yb)


def compiled_kind(
    loss_fn: LossFn, first_output: Any, X: Sequence[Any], y: Sequence[Any]
) -> str | None:
    """Which per-sample loss replays ``loss_fn`` exactly on this data, or None."""
    if not all(
        isinstance(x, Sequence)
        and len(x) == len(X[0])
        and all(isinstance(v, numbers.Real) for v in x)
        for x in X
    ):
        return None
    if isinstance(first_output, Value):
        if not all(isinstance(t, numbers.Real) and t in (0, 1) for t in y):
            return None
        kinds: dict[Any, str] = {binary_cross_entropy_with_logits: "bce", mse: "mse"}
    else:
        if not all(is_integral(t) and 0 <= int(t) < len(first_output) for t in y):
            return None
        kinds = {cross_entropy: "ce", mse_one_hot: "mse"}
    return kinds.get(loss_fn)
