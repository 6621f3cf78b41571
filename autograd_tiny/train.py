"""Training loop: ``fit``, ``train_step``, ``evaluate``, ``accuracy``, ``predict``, ``History``.

Imports nn, losses, optim, data and the engine (never the CLI). ``fit`` picks
a loss from the model's output size unless told (one output: BCE with logits;
k outputs: cross-entropy), checks that the labels suit it, trains with Adam on
shuffled mini-batches, and returns a ``History``. One optimisation step is
``train_step``, a small function that ``fit(step=...)`` can replace. By
default ``fit`` runs each step of an ``MLP`` with a built-in loss as compiled
replay (``compiler.compile``): the same numbers without building a graph.

>>> from autograd_tiny.data import xor
>>> from autograd_tiny.nn import MLP
>>> X, y = xor()
>>> model = MLP(2, [8, 1], seed=0)
>>> history = fit(model, X, y, epochs=150, seed=0, progress=False)
>>> accuracy(model, X, y), len(history.loss)
(1.0, 150)
"""

from __future__ import annotations

import gc
import math
import random
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Union

from .compiler import TraceError
from .compiler import compile as compile_function
from .engine import Value, no_grad
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge,
    mse,
)
from .nn import MLP, Layer, Module, Neuron
from .optim import Adam, Optimizer

__all__ = ["History", "fit", "train_step", "evaluate", "accuracy", "predict", "LOSSES"]

LossFn = Callable[[Any, Any], Value]
StepFn = Callable[[Any, LossFn, Optimizer, Sequence[Any], Sequence[Any]], "tuple[float, int]"]

LOSSES: dict[str, LossFn] = {
    "bce_with_logits": binary_cross_entropy_with_logits,
    "bce": binary_cross_entropy,
    "cross_entropy": cross_entropy,
    "mse": mse,
    "hinge": hinge,
}
DEFAULT_LR = 0.02
DEFAULT_BATCH_SIZE = 16


@dataclass
class History:
    """Per-epoch training loss and accuracy (and validation's, when given).

    >>> History(loss=[0.7, 0.5], accuracy=[0.5, 1.0]).epochs
    2
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """Number of epochs recorded."""
        return len(self.loss)

    def plot(self, path: str | None = None) -> Any:
        """Loss and accuracy curves as a matplotlib ``Figure`` (saved to ``path`` if given).

        Needs matplotlib (``pip install 'autograd-tiny[plot]'``), imported only here.
        """
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError("History.plot needs matplotlib: "
                              "pip install 'autograd-tiny[plot]'") from None
        figure = Figure(figsize=(9.0, 3.5), layout="constrained")
        loss_axes, accuracy_axes = figure.subplots(1, 2)
        epochs = range(1, self.epochs + 1)
        for axes, name in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
            axes.plot(epochs, getattr(self, name), label="train")
            validation = getattr(self, f"val_{name}")
            if validation:
                axes.plot(epochs, validation, label="validation")
            axes.set_xlabel("epoch")
            axes.set_ylabel(name)
            axes.legend()
        if path is not None:
            figure.savefig(path)
        return figure


def _outputs(model: Any, x: Any) -> Any:
    out = model(x)
    if isinstance(out, (list, tuple)) and len(out) == 1:
        return out[0]
    return out


def _threshold(model: Any) -> float:
    return 0.5 if getattr(model, "output_activation", None) == "sigmoid" else 0.0


def _label(out: Any, threshold: float) -> int:
    if isinstance(out, Value):
        return int(out.data > threshold)
    scores = [o.data if isinstance(o, Value) else float(o) for o in out]
    return max(range(len(scores)), key=scores.__getitem__)


def _check_dataset(X: Any, y: Any, where: str) -> None:
    if not isinstance(X, Sequence) or not isinstance(y, Sequence):
        raise TypeError(f"{where} needs X and y as lists, got {type(X).__name__} "
                        f"and {type(y).__name__}")
    if len(X) != len(y):
        raise ValueError(f"{where}: X has {len(X)} samples but y has {len(y)}")
    if not X:
        raise ValueError(f"{where}: the dataset is empty")


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _mse_one_hot(outputs: Sequence[Any], targets: Sequence[Any]) -> Value:
    """mse for k-output models, reading an int label i as the one-hot row (i == j for j < k)."""
    rows = [[float(j == t) for j in range(len(out))]
            if _is_int(t) and isinstance(out, (list, tuple)) else t
            for out, t in zip(outputs, targets)]
    return mse(outputs, rows)


def _pick_loss(model: Any, loss: Union[str, LossFn, None], first_output: Any) -> LossFn:
    if callable(loss):
        return loss
    if loss is None:
        if not isinstance(first_output, Value):
            return cross_entropy
        if getattr(model, "output_activation", None) == "sigmoid":
            return binary_cross_entropy
        return binary_cross_entropy_with_logits
    if loss not in LOSSES:
        raise ValueError(f"fit: unknown loss {loss!r} (must be one of {', '.join(LOSSES)} "
                         f"or a function (outputs, targets) -> Value)")
    if loss == "mse" and not isinstance(first_output, Value):
        return _mse_one_hot
    return LOSSES[loss]


def _check_labels(first_output: Any, loss: Union[str, LossFn, None], y: Sequence[Any],
                  where: str) -> None:
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
            if not (isinstance(label, (int, float)) and label in allowed):
                classes = max((t for t in y if _is_int(t)), default=1) + 1
                hint = (f"; for {classes} classes give the model {classes} outputs "
                        f"(MLP(nin, [..., {classes}]))" if classes > 2 else "")
                raise ValueError(f"{where}: the model has 1 output, so it trains with {need}; "
                                 f"got {label!r:.40} (y[{i}]){hint}")
        return
    k = len(first_output)
    for i, label in enumerate(y):
        if loss == "mse" and isinstance(label, (list, tuple)):
            continue  # already a row of k targets
        if not (_is_int(label) and 0 <= label < k):
            raise ValueError(f"{where}: the model has {k} outputs, so it needs class labels "
                             f"0..{k - 1} (ints); got {label!r:.40} (y[{i}])")


def train_step(model: Any, loss_fn: LossFn, optimizer: Optimizer,
               xb: Sequence[Any], yb: Sequence[Any]) -> tuple[float, int]:
    """One step on one mini-batch: forward, loss, backward, update; (loss, correct) back.

    >>> from autograd_tiny.data import xor
    >>> from autograd_tiny.nn import MLP
    >>> model = MLP(2, [1], seed=0); opt = Adam(model.parameters())
    >>> loss, correct = train_step(model, binary_cross_entropy_with_logits, opt, *xor())
    >>> round(loss, 4), correct
    (0.7541, 3)
    """
    optimizer.zero_grad()
    outputs = [_outputs(model, x) for x in xb]
    loss = loss_fn(outputs, list(yb))
    loss.backward()
    optimizer.step()
    threshold = _threshold(model)
    correct = sum(_label(out, threshold) == target for out, target in zip(outputs, yb))
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


class _CompiledStep:
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
    logits' signs exactly as ``_label`` compares them (see ``_count_probe``).
    A batch whose loss, count or gradients are not finite reruns eagerly, as
    does every batch once tracing fails (``TraceError``: the model reads a
    value as a number).
    """

    def __init__(self, model: Any, kind: str, outputs: int) -> None:
        self.model = model
        self.kind = kind
        self.outputs = outputs
        self.threshold = _threshold(model)
        self.params = model.parameters()
        self.probe = Value(0.0)
        self.one_hot = [tuple(float(i == j) for j in range(outputs)) for i in range(outputs)]
        self.function: Any = compile_function(self._sample, params=[*self.params, self.probe])

    def _sample(self, *args: Value) -> Value:
        k = self.outputs
        x, label = list(args[:len(args) - k]), args[len(args) - k:]
        out = _outputs(self.model, x)
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


def _compiled_kind(model: Any, loss_fn: LossFn, first_output: Any, X: Sequence[Any],
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
        if not all(_is_int(t) and 0 <= t < len(first_output) for t in y):
            return None
        kinds = {cross_entropy: "ce", _mse_one_hot: "mse"}
    return kinds.get(loss_fn)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off inside, back to its previous state after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def evaluate(model: Any, X: Sequence[Any], y: Sequence[Any],
             loss: Union[str, LossFn, None] = None) -> tuple[float, float]:
    """(mean loss, accuracy) on a dataset, without building a graph.

    >>> from autograd_tiny.data import xor
    >>> from autograd_tiny.nn import MLP
    >>> loss, acc = evaluate(MLP(2, [1], seed=0), *xor())
    >>> round(loss, 4), acc
    (0.7541, 0.75)
    """
    _check_dataset(X, y, "evaluate")
    with no_grad():
        outputs = [_outputs(model, x) for x in X]
        _check_labels(outputs[0], loss, y, "evaluate")
        loss_value = _pick_loss(model, loss, outputs[0])(outputs, list(y)).data
    threshold = _threshold(model)
    correct = sum(_label(out, threshold) == target for out, target in zip(outputs, y))
    return loss_value, correct / len(y)


def predict(model: Any, X: Sequence[Any]) -> list[int]:
    """Class labels: argmax of k outputs, or one output above 0 (0.5 after a sigmoid).

    >>> from autograd_tiny.nn import MLP
    >>> predict(MLP(2, [2], seed=0), [[0.0, 0.0]])
    [0]
    """
    threshold = _threshold(model)
    with no_grad():
        return [_label(_outputs(model, x), threshold) for x in X]


def accuracy(model: Any, X: Sequence[Any], y: Sequence[Any]) -> float:
    """Fraction of samples whose predicted label equals ``y``.

    >>> from autograd_tiny.nn import MLP
    >>> accuracy(MLP(2, [2], seed=0), [[0.0, 0.0]], [0])
    1.0
    """
    _check_dataset(X, y, "accuracy")
    return sum(p == t for p, t in zip(predict(model, X), y)) / len(y)


def _check_optimizer(model: Module, optimizer: Optimizer, lr: float | None) -> None:
    if lr is not None:
        raise ValueError(f"fit: lr={lr!r} is for the default Adam; the given optimizer "
                         f"{type(optimizer).__name__} has its own (set it there)")
    held = {id(p) for p in getattr(optimizer, "params", ())}
    missing = sum(id(p) not in held for p in model.parameters())
    if missing:
        raise ValueError(f"fit: the optimizer does not hold {missing} of the model's "
                         f"{len(model.parameters())} parameters (build it on "
                         f"model.parameters())")


def fit(model: Module, X: Sequence[Any], y: Sequence[Any], *, epochs: int = 100,
        batch_size: int = DEFAULT_BATCH_SIZE, lr: float | None = None,
        optimizer: Optimizer | None = None, loss: Union[str, LossFn, None] = None,
        seed: int = 0, shuffle: bool = True,
        validation_data: tuple[Sequence[Any], Sequence[Any]] | None = None,
        progress: bool | None = None, step: StepFn | None = None,
        compile: bool | None = None) -> History:  # noqa: A002 - the option's natural name
    """Train ``model`` on (X, y) and return its ``History``.

    Defaults: Adam(lr=0.02), mini-batches of 16 shuffled by ``seed``, the loss
    picked from the output size. ``progress=None`` shows a tqdm bar only when
    stderr is a terminal; ``progress=False`` never does.

    Labels: one output with the default loss needs 0/1 (``loss="hinge"``: ±1);
    k outputs need class indices 0..k-1, which ``loss="mse"`` reads as one-hot
    rows. ``lr`` sets the default Adam's rate; a given ``optimizer`` carries its
    own and must hold every parameter of the model. Other labels, or ``lr``
    with ``optimizer``, raise ValueError before any step.

    ``compile``: run each step as compiled replay (``compiler.compile``) of
    the per-sample loss instead of building a graph - the same losses,
    accuracies and parameters as the eager step (to rounding), about 10x
    faster. ``None`` (the default) compiles for ``MLP``, ``Layer`` and
    ``Neuron``, whose operations never depend on their values; ``True``
    compiles any model (its operations must not depend on anything but its
    inputs: no random dropout); ``False`` never compiles. Only the mean
    losses with a replayable form compile (BCE with logits, cross-entropy,
    mse, on 0/1 or class-index labels); any other loss, a model that reads a
    value as a number (``TraceError``), or a batch whose loss or gradient is
    not finite runs the eager ``train_step``. A given ``step`` replaces both.

    The cyclic garbage collector is paused during each step and restored to
    its previous state after it, even on an error: a step's graph holds tens
    of thousands of nodes, and a GC pass over them costs up to a fifth of the
    step, though the graph has no cycles and is freed by reference counting.

    >>> from autograd_tiny.data import xor
    >>> from autograd_tiny.nn import MLP
    >>> fit(MLP(2, [4, 1], seed=1), *xor(), epochs=2, progress=False).epochs
    2
    """
    _check_dataset(X, y, "fit")
    for name, number in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ValueError(f"fit: {name} must be a positive int, got {number!r}")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("fit: validation_data must be a pair (X_val, y_val)")
        _check_dataset(*validation_data, "fit validation_data")
    if optimizer is None:
        optimizer = Adam(model.parameters(), lr=DEFAULT_LR if lr is None else lr)
    else:
        _check_optimizer(model, optimizer, lr)
    with no_grad():
        first_output = _outputs(model, X[0])
        loss_fn = _pick_loss(model, loss, first_output)
    _check_labels(first_output, loss, y, "fit")
    if validation_data is not None:
        _check_labels(first_output, loss, validation_data[1], "fit validation_data")
    if step is not None and compile:
        raise ValueError("fit: compile=True replaces the default step; a given step= "
                         "runs as it is (leave compile out)")
    if step is None:
        step = train_step
        if compile or (compile is None and type(model) in (MLP, Layer, Neuron)):
            kind = _compiled_kind(model, loss_fn, first_output, X, y)
            if kind is not None:
                outputs = 1 if isinstance(first_output, Value) else len(first_output)
                step = _CompiledStep(model, kind, outputs)
    rng = random.Random(seed)
    order = list(range(len(X)))
    history = History()
    show = sys.stderr.isatty() if progress is None else bool(progress)
    bar = None
    if show:
        from tqdm import tqdm  # plain tqdm: tqdm.auto draws nothing useful in a notebook
        bar = tqdm(total=epochs, unit="epoch", file=sys.stderr)
    try:
        for _ in range(epochs):
            if shuffle:
                rng.shuffle(order)
            total_loss, total_correct = 0.0, 0
            for start in range(0, len(order), batch_size):
                batch = order[start:start + batch_size]
                with _gc_paused():
                    batch_loss, correct = step(model, loss_fn, optimizer,
                                               [X[i] for i in batch], [y[i] for i in batch])
                total_loss += batch_loss * len(batch)
                total_correct += correct
            history.loss.append(total_loss / len(order))
            history.accuracy.append(total_correct / len(order))
            postfix = {"loss": f"{history.loss[-1]:.4f}", "acc": f"{history.accuracy[-1]:.3f}"}
            if validation_data is not None:
                val_loss, val_accuracy = evaluate(model, *validation_data, loss=loss_fn)
                history.val_loss.append(val_loss)
                history.val_accuracy.append(val_accuracy)
                postfix["val_acc"] = f"{val_accuracy:.3f}"
            if bar is not None:
                bar.set_postfix(postfix, refresh=False)
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    return history

