"""Training loop: ``fit`` and its step ``train_step``; ``evaluate``, ``accuracy``, ``History``.

Imports nn, optim, the compiled step (``compiler.step``), the engine and the private
modules it is split into (never the CLI): ``_history`` (``History``),
``_evaluation`` (``evaluate``, ``predict``, ``accuracy``) and ``_fit_checks`` (the
checks of the data and of each step, and the loss picked). ``fit`` picks a loss from
the model's output size unless told (one output: BCE with logits; k outputs:
cross-entropy), checks that the labels suit it, trains with Adam on shuffled
mini-batches, and returns a ``History``. One optimisation step is ``train_step``, a
small function that ``fit(step=...)`` can replace. By default ``fit`` runs each step
of an ``MLP`` with a built-in loss as compiled replay (``compiler.step.CompiledStep``):
the same numbers without building a graph.

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
import random
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Union

from ._checks import check_int, check_number
from ._evaluation import (
    accuracy,
    decision_threshold,
    evaluate,
    model_outputs,
    predict,
    predicted_label,
)
from ._fit_checks import (
    LOSSES,
    LossFn,
    check_dataset,
    check_finite_data,
    check_labels,
    non_finite,
    pick_loss,
)
from ._history import History
from .compiler.step import CompiledStep, EagerStep, compiled_kind
from .engine import Value, no_grad
from .nn import MLP, Layer, Module, Neuron
from .optim import Adam, LRScheduler, Optimizer, clip_grad_norm_, clip_grad_value_

__all__ = ["LOSSES", "History", "accuracy", "evaluate", "fit", "predict", "train_step"]

StepFn = EagerStep
DEFAULT_LR = 0.02
DEFAULT_BATCH_SIZE = 16


def train_step(
    model: Any, loss_fn: LossFn, optimizer: Optimizer, xb: Sequence[Any], yb: Sequence[Any]
) -> tuple[float, int]:
    """One step on one mini-batch: forward, loss, backward, update; (loss, correct) back.

    >>> from autograd_tiny.data import xor
    >>> from autograd_tiny.nn import MLP
    >>> from autograd_tiny.losses import binary_cross_entropy_with_logits
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
    correct = sum(
        bool(predicted_label(out, threshold) == target)  # NumPy labels: numpy.bool_
        for out, target in zip(outputs, yb)
    )
    return loss.data, correct


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


def _whole_epochs(history: History, validation: bool) -> None:
    """Cut an epoch recorded in only some of the lists (an interrupt between appends)."""
    lists = [history.loss, history.accuracy]
    if validation:
        lists += [history.val_loss, history.val_accuracy]
    whole = min(len(values) for values in lists)
    for values in lists:
        del values[whole:]


def _add_note(error: BaseException, note: str) -> None:
    if hasattr(error, "add_note"):  # Python 3.11+
        error.add_note(note)


def _whole_step(
    step: StepFn,
    model: Module,
    loss_fn: LossFn,
    optimizer: Optimizer,
    params: Sequence[Value],
    xb: Sequence[Any],
    yb: Sequence[Any],
    check_finite: bool,
    where: str,
) -> tuple[float, int]:
    """One step, all or nothing: on any exception (a KeyboardInterrupt too) or, with
    ``check_finite``, a nan or inf, the parameters and optimizer state go back to
    where they were before it."""
    before = [p.data for p in params]
    state = optimizer.state_dict()
    try:
        with gc_paused():
            batch_loss, correct = step(model, loss_fn, optimizer, xb, yb)
        problem = None
        if check_finite:  # the state and rate are the optimizer's, not the clipping wrapper's
            held = optimizer.optimizer if isinstance(optimizer, _Clipped) else optimizer
            problem = non_finite(batch_loss, params, before, held)
        if problem is not None:
            error = FloatingPointError(
                f"fit stopped at {where}: {problem}. The parameters and optimizer state are "
                f"as before this step. Check the data and try a smaller learning rate "
                f"(check_finite=False lets training run on)"
            )
            error.reason = problem  # type: ignore[attr-defined]
            raise error
    except BaseException:
        for p, number in zip(params, before):
            p.data = number
        optimizer.load_state_dict(state)
        raise
    return batch_loss, correct


def _check_optimizer(model: Module, optimizer: Optimizer, lr: float | None) -> None:
    if lr is not None:
        raise ValueError(
            f"fit: lr={lr!r} is for the default Adam; the given optimizer "
            f"{type(optimizer).__name__} has its own (set it there)"
        )
    held = {id(p) for p in getattr(optimizer, "params", ())}
    missing = sum(id(p) not in held for p in model.parameters())
    if missing:
        raise ValueError(
            f"fit: the optimizer does not hold {missing} of the model's "
            f"{len(model.parameters())} parameters (build it on "
            f"model.parameters())"
        )


class _Clipped(Optimizer):
    """``optimizer`` whose ``step()`` first clips the gradients, as a torch loop does
    between ``loss.backward()`` and ``optimizer.step()``; its state is the optimizer's."""

    def __init__(
        self, optimizer: Optimizer, max_norm: float | None, clip_value: float | None
    ) -> None:
        # Checked now, not at the first step: a bad value fails before any training.
        for name, number in (("clip_grad_norm", max_norm), ("clip_grad_value", clip_value)):
            if number is not None:
                check_number(number, name, "fit", above=0)
        self.optimizer = optimizer
        self.params = optimizer.params
        self.max_norm = max_norm
        self.clip_value = clip_value

    def zero_grad(self) -> None:
        self.optimizer.zero_grad()

    def step(self) -> None:
        if self.clip_value is not None:
            clip_grad_value_(self.params, self.clip_value)
        if self.max_norm is not None:
            clip_grad_norm_(self.params, self.max_norm)
        self.optimizer.step()

    def state_dict(self) -> dict[str, Any]:
        return self.optimizer.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state)


def fit(
    model: Module,
    X: Sequence[Any],
    y: Sequence[Any],
    *,
    epochs: int = 100,
    batch_size: int = DEFAULT_BATCH_SIZE,
    lr: float | None = None,
    optimizer: Optimizer | None = None,
    loss: Union[str, LossFn, None] = None,
    seed: int = 0,
    shuffle: bool = True,
    validation_data: tuple[Sequence[Any], Sequence[Any]] | None = None,
    progress: bool | None = None,
    step: StepFn | None = None,
    compile: bool | None = None,
    check_finite: bool = True,
    history: History | None = None,
    schedule: LRScheduler | None = None,
    clip_grad_norm: float | None = None,
    clip_grad_value: float | None = None,
) -> History:
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

    Every step is all or nothing. ``check_finite`` (the default) refuses
    data with a nan or inf before training (``ValueError`` naming row and
    column) and stops at the first step whose loss, gradients, updated
    parameters or optimizer state are not finite: ``FloatingPointError``
    naming the epoch, the batch and what went non-finite, with the
    parameters and optimizer state put back as they were before that step.
    ``check_finite=False`` lets a nan run on.

    Ctrl-C (``KeyboardInterrupt``) during a step puts the parameters and
    optimizer state back as before it, so they always match (both as after
    the last whole step), then reaches the caller. The history of the
    finished epochs is the exception's ``.history`` (also on the
    ``FloatingPointError``, with ``.epoch``, ``.batch`` and ``.reason``), or pass your own
    ``History`` as ``history=`` and fit appends to it as it goes::

        history = History()
        try:
            fit(model, X, y, epochs=1000, history=history)
        except KeyboardInterrupt:
            pass  # model, optimizer and history are whole; history.epochs says how far

    ``schedule``: a learning-rate schedule on the optimizer (``StepLR``,
    ``CosineAnnealingLR``), stepped after each whole epoch as a torch loop steps it.
    ``clip_grad_norm`` / ``clip_grad_value``: clip the batch gradients before each
    optimizer step, as ``optim.clip_grad_norm_`` / ``optim.clip_grad_value_`` do.

    The cyclic garbage collector is paused during each step and restored to
    its previous state after it, even on an error: a step's graph holds tens
    of thousands of nodes, and a GC pass over them costs up to a fifth of the
    step, though the graph has no cycles and is freed by reference counting.

    >>> from autograd_tiny.data import xor
    >>> from autograd_tiny.nn import MLP
    >>> fit(MLP(2, [4, 1], seed=1), *xor(), epochs=2, progress=False).epochs
    2
    """
    check_dataset(X, y, "fit")
    for name, number in (("epochs", epochs), ("batch_size", batch_size)):
        check_int(number, name, "fit", minimum=1)
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("fit: validation_data must be a pair (X_val, y_val)")
        check_dataset(*validation_data, "fit validation_data")
    if check_finite:
        check_finite_data(X, y, "fit")
        if validation_data is not None:
            check_finite_data(*validation_data, "fit validation_data")
    if optimizer is None:
        if schedule is not None:
            raise ValueError(
                "fit: a schedule changes the rate of a given optimizer; pass "
                "that optimizer too (optimizer=..., schedule=...)"
            )
        optimizer = Adam(model.parameters(), lr=DEFAULT_LR if lr is None else lr)
    else:
        _check_optimizer(model, optimizer, lr)
    if schedule is not None and schedule.optimizer is not optimizer:
        raise ValueError("fit: the schedule was built on another optimizer than the one given")
    if clip_grad_norm is not None or clip_grad_value is not None:
        optimizer = _Clipped(optimizer, clip_grad_norm, clip_grad_value)
    with no_grad():
        first_output = model_outputs(model, X[0])
        loss_fn = pick_loss(model, loss, first_output)
    check_labels(first_output, loss, y, "fit")
    if validation_data is not None:
        check_labels(first_output, loss, validation_data[1], "fit validation_data")
    if step is not None and compile:
        raise ValueError(
            "fit: compile=True replaces the default step; a given step= "
            "runs as it is (leave compile out)"
        )
    if step is None:
        step = train_step
        if compile or (compile is None and type(model) in (MLP, Layer, Neuron)):
            kind = compiled_kind(loss_fn, first_output, X, y)
            if kind is not None:
                outputs = 1 if isinstance(first_output, Value) else len(first_output)
                step = CompiledStep(model, kind, outputs, eager=train_step)
    rng = random.Random(seed)
    order = list(range(len(X)))
    history = History() if history is None else history
    params = model.parameters()
    batches = -(-len(order) // batch_size)
    show = sys.stderr.isatty() if progress is None else bool(progress)
    bar = None
    if show:
        from tqdm import tqdm  # plain tqdm: tqdm.auto draws nothing useful in a notebook

        bar = tqdm(total=epochs, unit="epoch", file=sys.stderr)
    epoch = batch_number = 0
    try:
        try:
            for epoch in range(1, epochs + 1):
                if shuffle:
                    rng.shuffle(order)
                total_loss, total_correct = 0.0, 0
                for batch_number, start in enumerate(range(0, len(order), batch_size), 1):
                    batch = order[start : start + batch_size]
                    batch_loss, correct = _whole_step(
                        step,
                        model,
                        loss_fn,
                        optimizer,
                        params,
                        [X[i] for i in batch],
                        [y[i] for i in batch],
                        check_finite,
                        f"epoch {epoch}, batch {batch_number} of {batches}",
                    )
                    total_loss += batch_loss * len(batch)
                    total_correct += correct
                batch_number = 0
                epoch_loss, epoch_accuracy = total_loss / len(order), total_correct / len(order)
                postfix = {"loss": f"{epoch_loss:.4f}", "acc": f"{epoch_accuracy:.3f}"}
                if validation_data is not None:
                    val_loss, val_accuracy = evaluate(model, *validation_data, loss=loss_fn)
                    postfix["val_acc"] = f"{val_accuracy:.3f}"
                # Recorded after validation; _whole_epochs cuts a half-recorded epoch.
                history.loss.append(epoch_loss)
                history.accuracy.append(epoch_accuracy)
                if validation_data is not None:
                    history.val_loss.append(val_loss)
                    history.val_accuracy.append(val_accuracy)
                if schedule is not None:
                    schedule.step()
                if bar is not None:
                    bar.set_postfix(postfix, refresh=False)
                    bar.update()
        finally:
            if bar is not None:
                bar.close()
        return history
    except (KeyboardInterrupt, FloatingPointError) as error:
        _whole_epochs(history, validation_data is not None)
        error.history = history  # type: ignore[union-attr]
        error.epoch, error.batch = epoch, batch_number  # type: ignore[union-attr]
        if isinstance(error, KeyboardInterrupt):
            where = f"epoch {epoch}, batch {batch_number}" if batch_number else f"epoch {epoch}"
            _add_note(
                error,
                f"fit interrupted in {where}: the model and optimizer are as "
                f"after the last whole step; the history of the "
                f"{history.epochs} finished epochs is on this exception's "
                f".history",
            )
        raise
