"""One optimisation step of ``fit``, eager or by compiled replay.

Imports the engine, compiler, losses and optim (never nn, train, data or the
CLI). ``train_step`` builds the graph of one mini-batch, runs backward and
updates; ``CompiledStep`` does the same arithmetic through one traced
per-sample loss replayed as generated float code (``compiler.compile``), and
``fit`` uses it by default for MLPs with a built-in loss.

>>> from autograd_tiny.data import xor
>>> from autograd_tiny.nn import MLP
>>> from autograd_tiny.losses import binary_cross_entropy_with_logits
>>> from autograd_tiny.optim import Adam
>>> model = MLP(2, [1], seed=0)
>>> loss, correct = train_step(model, binary_cross_entropy_with_logits,
...                            Adam(model.parameters()), *xor())
>>> round(loss, 4), correct
(0.7541, 3)
"""

from __future__ import annotations

import gc
import math
import numbers
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Callable

from .compiler import compile as compile_function
from .engine import Value
from .losses import binary_cross_entropy_with_logits, cross_entropy, mse
from .optim import Optimizer

__all__ = [
    "CompiledStep", "LossFn", "compiled_kind", "decision_threshold", "gc_paused", "is_int",
    "model_outputs", "mse_one_hot", "predicted_label", "train_step",
]

LossFn = Callable[[Any, Any], Value]


def model_outputs(model: Any, x: Any) -> Any:
    out = model(x)
    if isinstance(out, (list, tuple)) and len(out) == 1:
        return out[0]
    return out


def decision_threshold(model: Any) -> float:
    return 0.5 if getattr(model, "output_activation", None) == "sigmoid" else 0.0


def predicted_label(out: Any, threshold: float) -> int:
    if isinstance(out, Value):
        return int(out.data > threshold)
    scores = [o.data if isinstance(o, Value) else float(o) for o in out]
    return max(range(len(scores)), key=scores.__getitem__)


def is_int(x: Any) -> bool:
    """An integer label: int or any ``numbers.Integral`` (NumPy's too), never a bool."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def mse_one_hot(outputs: Sequence[Any], targets: Sequence[Any]) -> Value:
    """mse for k-output models, reading an int label i as the one-hot row (i == j for j < k)."""
    rows = [[float(j == t) for j in range(len(out))]
            if is_int(t) and isinstance(out, (list, tuple)) else t
            for out, t in zip(outputs, targets)]
    return mse(outputs, rows)


def train_step(model: Any, loss_fn: LossFn, optimizer: Optimizer,
               xb: Sequence[Any], yb: Sequence[Any]) -> tuple[float, int]:
    """One step on one mini-batch: forward, loss, backward, update; (loss, correct) back.

    >>> from autograd_tiny.data import xor
    >>> from autograd_tiny.nn import MLP
    >>> from autograd_tiny.optim import Adam
    >>> model = MLP(2, [1], seed=0); opt = Adam(model.parameters())
    >>> loss, correct = train_step(model, binary_cross_entropy_with_logits, opt, *xor())
    >>> round(loss, 4), correct
    (0.7541, 3)
    """
    optimizer.zero_grad()
    outputs = [model_outputs(model, x) for x in xb]
    loss = loss_fn(outputs, list(yb))
    loss.backward()
    optimizer.step()
    threshold = decision_threshold(model)
    correct = sum(bool(predicted_label(out, threshold) == target)  # NumPy labels: numpy.bool_
                  for out, target in zip(outputs, yb))
    return loss.data, correct


# --------------------------------------------------------------------------
# The compiled step: one trace of a per-sample loss, replayed on every batch
# --------------------------------------------------------------------------

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
    A batch whose loss or gradients are not finite reruns eagerly, as does
    every batch once tracing fails (a ``TraceError``: the model reads a value as
    a number; or any other error, which the eager step then raises if it is
    the model's own): a ``RuntimeWarning`` says so, once.
    """

    def __init__(self, model: Any, kind: str, outputs: int) -> None:
        self.model = model
        self.kind = kind
        self.outputs = outputs
        self.threshold = decision_threshold(model)
        self.params = model.parameters()
        self.one_hot = [tuple(float(i == j) for j in range(outputs)) for i in range(outputs)]
        self.function: Any = compile_function(self._sample, params=self.params, has_aux=True)

    def _sample(self, *args: Value) -> tuple[Value, Sequence[Value]]:
        """(loss of one sample, the model's outputs); args are the inputs, then the label."""
        k = self.outputs
        x, label = list(args[:len(args) - k]), args[len(args) - k:]
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
        return sum(bool(max(classes, key=scores.__getitem__) == t)
                   for scores, t in zip(outputs, yb))

    def __call__(self, model: Any, loss_fn: LossFn, optimizer: Optimizer,
                 xb: Sequence[Any], yb: Sequence[Any]) -> tuple[float, int]:
        if self.function is not None:
            if self.outputs == 1:
                rows = [(*x, float(t)) for x, t in zip(xb, yb)]
            else:
                rows = [(*x, *self.one_hot[t]) for x, t in zip(xb, yb)]
            optimizer.zero_grad()
            try:
                total, outputs = self.function.accumulate_grad(rows)
            except Exception as error:  # noqa: BLE001 - the eager step decides what fails
                self.function = None  # remembered: every later batch runs eagerly
                for p in self.params:
                    p.grad = 0.0
                warnings.warn(
                    f"fit(): the model cannot be compiled ({type(error).__name__}: {error}); "
                    f"training it with the eager engine, which gives the same numbers more "
                    f"slowly. Pass compile=False to choose that yourself.",
                    RuntimeWarning, stacklevel=4)
            else:
                terms = len(rows) * (self.outputs if self.kind == "mse" else 1)
                for p in self.params:
                    p.grad /= terms
                if math.isfinite(total) and math.isfinite(sum(p.grad for p in self.params)):
                    optimizer.step()
                    return total / terms, self._correct(outputs, yb)
        return train_step(model, loss_fn, optimizer, xb, yb)


def compiled_kind(loss_fn: LossFn, first_output: Any, X: Sequence[Any],
                   y: Sequence[Any]) -> str | None:
    """Which per-sample loss replays ``loss_fn`` exactly on this data, or None."""
    if not all(isinstance(x, Sequence) and len(x) == len(X[0])
               and all(isinstance(v, numbers.Real) for v in x) for x in X):
        return None
    if isinstance(first_output, Value):
        if not all(isinstance(t, numbers.Real) and t in (0, 1) for t in y):
            return None
        kinds: dict[Any, str] = {binary_cross_entropy_with_logits: "bce", mse: "mse"}
    else:
        if not all(is_int(t) and 0 <= t < len(first_output) for t in y):
            return None
        kinds = {cross_entropy: "ce", mse_one_hot: "mse"}
    return kinds.get(loss_fn)


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off inside, back to its previous state after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
