"""Training loop: ``fit``, ``train_step``, ``evaluate``, ``accuracy``, ``predict``, ``History``.

Imports nn, losses, optim, steps and the engine (never the CLI). ``fit`` picks
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

import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Union

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
from .steps import (
    CompiledStep,
    LossFn,
    compiled_kind,
    decision_threshold,
    gc_paused,
    is_int,
    model_outputs,
    mse_one_hot,
    predicted_label,
    train_step,
)

__all__ = ["History", "fit", "train_step", "evaluate", "accuracy", "predict", "LOSSES"]

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


def _check_dataset(X: Any, y: Any, where: str) -> None:
    if not isinstance(X, Sequence) or not isinstance(y, Sequence):
        raise TypeError(f"{where} needs X and y as lists, got {type(X).__name__} "
                        f"and {type(y).__name__}")
    if len(X) != len(y):
        raise ValueError(f"{where}: X has {len(X)} samples but y has {len(y)}")
    if not X:
        raise ValueError(f"{where}: the dataset is empty")


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
        return mse_one_hot
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
                classes = max((t for t in y if is_int(t)), default=1) + 1
                hint = (f"; for {classes} classes give the model {classes} outputs "
                        f"(MLP(nin, [..., {classes}]))" if classes > 2 else "")
                raise ValueError(f"{where}: the model has 1 output, so it trains with {need}; "
                                 f"got {label!r:.40} (y[{i}]){hint}")
        return
    k = len(first_output)
    for i, label in enumerate(y):
        if loss == "mse" and isinstance(label, (list, tuple)):
            continue  # already a row of k targets
        if not (is_int(label) and 0 <= label < k):
            raise ValueError(f"{where}: the model has {k} outputs, so it needs class labels "
                             f"0..{k - 1} (ints); got {label!r:.40} (y[{i}])")


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
        outputs = [model_outputs(model, x) for x in X]
        _check_labels(outputs[0], loss, y, "evaluate")
        loss_value = _pick_loss(model, loss, outputs[0])(outputs, list(y)).data
    threshold = decision_threshold(model)
    correct = sum(predicted_label(out, threshold) == target for out, target in zip(outputs, y))
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
    accuracies and parameters as the eager step (to rounding), 15-20x
    faster on an MLP. ``None`` (the default) compiles for ``MLP``, ``Layer`` and
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
        first_output = model_outputs(model, X[0])
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
            kind = compiled_kind(loss_fn, first_output, X, y)
            if kind is not None:
                outputs = 1 if isinstance(first_output, Value) else len(first_output)
                step = CompiledStep(model, kind, outputs)
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
                with gc_paused():
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

