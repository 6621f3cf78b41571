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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Callable

from .compiler import TraceError
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
    return isinstance(x, int) and not isinstance(x, bool)


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
    correct = sum(predicted_label(out, threshold) == target for out, target in zip(outputs, yb))
    return loss.data, correct


# --------------------------------------------------------------------------
# The compiled step: one trace of a per-sample loss, replayed on every batch
# --------------------------------------------------------------------------

def _gate(x: Value, strict: Value | float) -> Value:
    """max(x, 0), whose slope is [x > 0] where ``strict`` is 1 and [x >= 0] where it is 0."""
    loose = x + (-x).relu()  # max(x, 0) again, but with slope 1 at 0 (relu'(0) = 0)
    if isinstance(strict, float):
        return x.relu() if strict else loose
    return strict * x.relu() + (1.0 - strict) * loose


def _count_probe(probe: Value, margins: Sequence[Value], strict: Sequence[Value | float]
                 ) -> Value:
    """Exactly 0 while ``probe`` is 0; its slope in ``probe`` is 1 if every margin passes, else 0.

    h_i = gate(s_i + h_{i-1}) - gate(s_i) with h_0 = probe: at probe = 0 both
    gates see the same number, so h_i is 0, its slopes in s_i cancel exactly
    (sums of ±1 and 0), and its slope in probe is the product of the gates' steps.
    """
    h = probe
    for s, t in zip(margins, strict):
        h = _gate(s + h, t) - _gate(s, t)
    return h


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

    The correct count comes from the same replay: a ``probe`` parameter at 0
    whose gradient sums the indicator "prediction == label", computed from the
    logits' signs exactly as ``predicted_label`` compares them (see ``_count_probe``).
    A batch whose loss, count or gradients are not finite reruns eagerly, as
    does every batch once tracing fails (``TraceError``: the model reads a
    value as a number).
    """

    def __init__(self, model: Any, kind: str, outputs: int) -> None:
        self.model = model
        self.kind = kind
        self.outputs = outputs
        self.threshold = decision_threshold(model)
        self.params = model.parameters()
        self.probe = Value(0.0)
        self.one_hot = [tuple(float(i == j) for j in range(outputs)) for i in range(outputs)]
        self.function: Any = compile_function(self._sample, params=[*self.params, self.probe])

    def _sample(self, *args: Value) -> Value:
        k = self.outputs
        x, label = list(args[:len(args) - k]), args[len(args) - k:]
        out = model_outputs(self.model, x)
        if k == 1:
            y = label[0]
            loss = out.softplus() - y * out if self.kind == "bce" else (out - y) * (out - y)
            return loss + _count_probe(self.probe, [(2.0 * y - 1.0) * (out - self.threshold)], [y])
        target = label[0] * out[0]
        for t, z in zip(label[1:], out[1:]):
            target = target + t * z
        if self.kind == "ce":
            loss = out[0] - target
            for z in out[1:]:
                loss = loss + (z - target - loss).softplus()
        else:
            loss = (out[0] - label[0]) * (out[0] - label[0])
            for t, z in zip(label[1:], out[1:]):
                loss = loss + (z - t) * (z - t)
        # argmax keeps the first maximum: class i < label must be strictly below it.
        strict: list[Value | float] = [0.0] * k
        for i in range(k - 2, -1, -1):
            above = label[i + 1]
            strict[i] = above if isinstance(strict[i + 1], float) else strict[i + 1] + above
        return loss + _count_probe(self.probe, [target - z for z in out], strict)

    def __call__(self, model: Any, loss_fn: LossFn, optimizer: Optimizer,
                 xb: Sequence[Any], yb: Sequence[Any]) -> tuple[float, int]:
        if self.function is not None:
            if self.outputs == 1:
                rows = [(*x, float(t)) for x, t in zip(xb, yb)]
            else:
                rows = [(*x, *self.one_hot[t]) for x, t in zip(xb, yb)]
            optimizer.zero_grad()
            self.probe.grad = 0.0
            try:
                total = self.function.accumulate_grad(rows)
            except (TraceError, NotImplementedError):
                self.function = None  # remembered: every later batch runs eagerly
            else:
                terms = len(rows) * (self.outputs if self.kind == "mse" else 1)
                for p in self.params:
                    p.grad /= terms
                correct = self.probe.grad
                if (math.isfinite(total) and math.isfinite(sum(p.grad for p in self.params))
                        and correct == int(correct) and 0 <= correct <= len(rows)):
                    optimizer.step()
                    return total / terms, int(correct)
        return train_step(model, loss_fn, optimizer, xb, yb)


def compiled_kind(loss_fn: LossFn, first_output: Any, X: Sequence[Any],
                   y: Sequence[Any]) -> str | None:
    """Which per-sample loss replays ``loss_fn`` exactly on this data, or None."""
    if not all(isinstance(x, Sequence) and len(x) == len(X[0])
               and all(isinstance(v, (int, float)) for v in x) for x in X):
        return None
    if isinstance(first_output, Value):
        if not all(isinstance(t, (int, float)) and t in (0, 1) for t in y):
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
