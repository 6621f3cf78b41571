"""The training commands of the command line: train and demo.

Owns the datasets the commands offer (``DATASETS``, each with settings that
train it well and fast), one training run, its summary table and the files a
run writes (model JSON, loss curves and decision boundary PNG, one neuron's
graph SVG). Imports ``cli.args`` and the package modules it uses; only
``cli`` imports it.
"""

from __future__ import annotations

import argparse
import math
import pathlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable

from ..data import blobs, circles, moons, train_test_split, xor
from ..engine import Value
from ..nn import MLP
from ..optim import SGD, Adam, Optimizer
from ..train import History, accuracy, evaluate, fit
from ..viz import RendererNotFoundError, RenderError, render_svg
from .args import MAX_PARAMETERS, UsageError, fail, output_folder, visible

__all__ = ["DATASETS", "SGD_LR", "SGD_MOMENTUM", "run_demo", "run_train"]

DIVERGED = 10.0  # a final loss this many times the untrained model's: training diverged


@dataclass(frozen=True)
class _Dataset:
    """A dataset and the settings that train it well and fast."""

    title: str
    load: Callable[[int], tuple[list[list[float]], list[int]]]
    classes: int
    test_size: float | None  # None: too small to hold any out (XOR)
    hidden: tuple[int, ...]
    activation: str
    epochs: int
    lr: float


DATASETS: dict[str, _Dataset] = {
    "xor": _Dataset("XOR", lambda seed: xor(), 2, None, (8,), "tanh", 200, 0.05),
    # The seed tutorial's blobs (std 1): they overlap, and 97.0% is the Bayes limit.
    "blobs": _Dataset("blobs", lambda seed: blobs(100, seed=seed), 3, 0.25, (8,), "relu", 60, 0.02),
    "moons": _Dataset(
        "moons", lambda seed: moons(200, noise=0.1, seed=seed), 2, 0.25, (16, 16), "relu", 40, 0.02
    ),
    "circles": _Dataset(
        "circles",
        lambda seed: circles(200, noise=0.1, seed=seed),
        2,
        0.25,
        (16, 16),
        "relu",
        40,
        0.02,
    ),
}
SGD_LR = 0.1
SGD_MOMENTUM = 0.9


@dataclass
class _Run:
    """One trained model and what the summary prints about it."""

    name: str
    model: MLP
    history: History
    X_train: list[list[float]]
    y_train: list[int]
    n_test: int
    initial_loss: float
    loss: float
    train_accuracy: float
    test_accuracy: float | None
    seconds: float
    optimizer: str
    lr: float
    stopped: FloatingPointError | None = None  # fit's stop at the first nan or inf

    @property
    def architecture(self) -> str:
        return f"{'-'.join(map(str, [self.model.nin, *self.model.nouts]))} {self.model.activation}"


def _layer_sizes(name: str, hidden: tuple[int, ...] | None) -> list[int]:
    """The MLP's layer sizes for ``name``; UsageError if it has too many parameters."""
    spec = DATASETS[name]
    sizes = [*(hidden or spec.hidden), 1 if spec.classes == 2 else spec.classes]
    widths = [2, *sizes]
    parameters = sum((nin + 1) * nout for nin, nout in zip(widths, widths[1:]))
    if parameters > MAX_PARAMETERS:
        raise UsageError(
            f"--hidden {','.join(map(str, sizes[:-1]))} makes {parameters} "
            f"parameters; at most {MAX_PARAMETERS} train in reasonable time"
        )
    return sizes


def _train(
    name: str,
    *,
    hidden: tuple[int, ...] | None = None,
    activation: str | None = None,
    init: str = "auto",
    optimizer: str = "adam",
    lr: float | None = None,
    epochs: int | None = None,
    batch_size: int = 16,
    seed: int = 0,
) -> _Run:
    spec = DATASETS[name]
    X, y = spec.load(seed)
    X_test: list[list[float]] = []
    y_test: list[int] = []
    if spec.test_size is None:
        X_train, y_train = X, y
    else:
        X_train, X_test, y_train, y_test = train_test_split(X, y, spec.test_size, seed=seed)
    sizes = _layer_sizes(name, hidden)
    model = MLP(2, sizes, activation=activation or spec.activation, seed=seed, init=init)
    rate = lr if lr is not None else (spec.lr if optimizer == "adam" else SGD_LR)
    optim: Optimizer = (
        Adam(model.parameters(), lr=rate)
        if optimizer == "adam"
        else SGD(model.parameters(), lr=rate, momentum=SGD_MOMENTUM)
    )
    count = epochs or spec.epochs
    start_from = "" if init == "auto" else f" ({init} init)"
    print(
        f"training {spec.title}: MLP {'-'.join(map(str, [2, *sizes]))} "
        f"{model.activation}{start_from}, {optimizer} lr {rate:g}, {count} epochs, "
        f"{len(X_train)} training points",
        flush=True,
    )
    initial_loss = evaluate(model, X_train, y_train)[0]
    start = time.perf_counter()
    stopped = None
    try:
        history = fit(
            model,
            X_train,
            y_train,
            epochs=count,
            batch_size=batch_size,
            optimizer=optim,
            seed=seed,
            validation_data=(X_test, y_test) if X_test else None,
        )
    except FloatingPointError as error:  # the model keeps its last finite weights
        history, stopped = error.history, error  # type: ignore[attr-defined]
    seconds = time.perf_counter() - start
    loss, train_accuracy = evaluate(model, X_train, y_train)
    test_accuracy = accuracy(model, X_test, y_test) if X_test else None
    return _Run(
        name,
        model,
        history,
        X_train,
        y_train,
        len(X_test),
        initial_loss,
        loss,
        train_accuracy,
        test_accuracy,
        seconds,
        optimizer,
        rate,
        stopped,
    )


def _summary(runs: Sequence[_Run]) -> str:
    header = (
        "dataset",
        "train/held-out",
        "model",
        "params",
        "epochs",
        "final loss",
        "train acc",
        "held-out acc",
        "time",
    )
    rows = [header]
    for run in runs:
        rows.append(
            (
                DATASETS[run.name].title,
                f"{len(run.X_train)}/{run.n_test}",
                run.architecture,
                str(len(run.model.parameters())),
                str(run.history.epochs),
                f"{run.loss:.4g}",
                f"{run.train_accuracy:.1%}",
                "n/a" if run.test_accuracy is None else f"{run.test_accuracy:.1%}",
                f"{run.seconds:.1f} s",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        parts = [
            cell.ljust(w) if i in (0, 1, 2) else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


class _Files:
    """What a command wrote and what it skipped, for the closing list."""

    def __init__(self) -> None:
        self.written: list[tuple[pathlib.Path, str]] = []
        self.skipped: list[tuple[str, str]] = []

    def report(self) -> None:
        if self.written:
            print("wrote:")
            shown = [(visible(str(path)), visible(note)) for path, note in self.written]
            width = max(len(path) for path, _ in shown)
            for path, note in shown:
                print(f"  {path.ljust(width)}  {note}")
        for what, why in self.skipped:
            print(f"skipped {what}: {why}")


def _plot_files(run: _Run, folder: pathlib.Path, files: _Files) -> None:
    curves = folder / f"{run.name}-curves.png"
    boundary = folder / f"{run.name}-boundary.png"
    try:
        from .. import plots

        plots.require_matplotlib()
    except ImportError as error:
        files.skipped.append((f"{curves.name} and {boundary.name}", str(error)))
        return
    title = DATASETS[run.name].title
    plots.plot_history(run.history, curves, title=f"{title}: MLP {run.architecture}")
    files.written.append((curves, "loss and accuracy per epoch"))
    plots.plot_decision_boundary(
        run.model,
        run.X_train,
        run.y_train,
        boundary,
        title=f"{title}: predicted classes and training points",
    )
    files.written.append((boundary, "decision boundary"))


def _save_model(run: _Run, folder: pathlib.Path, files: _Files) -> None:
    path = folder / f"{run.name}-model.json"
    run.model.save(path)
    model = run.model
    files.written.append(
        (path, f"load: MLP(2, {model.nouts}, activation={model.activation!r}).load({str(path)!r})")
    )


# Points for the neuron picture: two different inputs, neither 0 nor 1, so that the
# grads of the two weights (act' * x_i) and of the bias (act') all differ.
_PICTURE_POINTS = ([0.75, -0.5], [-0.5, 0.75], [1.5, 0.5], [0.5, 1.5], [-1.5, -0.5])


def _neuron_graph(run: _Run, folder: pathlib.Path, files: _Files) -> None:
    """The first hidden neuron of ``run.model``, as SVG with edge labels.

    Drawn at the first of ``_PICTURE_POINTS`` where its weights and bias get three
    different nonzero grads (a relu neuron must be active there); the parameters
    keep their names (``layers[0].weight[0][1]``). Their grads are put back
    afterwards, so the trained model is left as it was.
    """
    path = folder / "neuron-graph.svg"
    neuron = run.model.layers[0].neurons[0]
    parameters = neuron.parameters()
    saved = [p.grad for p in parameters]
    try:
        for point in _PICTURE_POINTS:
            for parameter in parameters:
                parameter.grad = 0.0
            inputs = [Value(x, label=f"x[{i}]") for i, x in enumerate(point)]
            out = neuron(inputs)
            out.backward()
            grads = [p.grad for p in parameters]
            if 0.0 not in grads and len(set(grads)) == len(grads):
                break
        try:
            render_svg(out, path, params=parameters, edge_labels=True)
        except (RendererNotFoundError, RenderError) as error:
            files.skipped.append((path.name, str(error).splitlines()[0]))
        else:
            files.written.append(
                (
                    path,
                    f"one {neuron.activation} neuron of the {run.name} "
                    f"model at x = {point}, after backward",
                )
            )
    finally:
        for parameter, grad in zip(parameters, saved):
            parameter.grad = grad


def _diverged(runs: Sequence[_Run]) -> bool:
    """Report (stderr) each run whose loss blew up; True if any did.

    Blown up: the final loss is inf or nan, or over ten times the untrained model's.
    """
    bad = [
        run
        for run in runs
        if run.stopped is not None
        or not math.isfinite(run.loss)
        or run.loss > DIVERGED * run.initial_loss
    ]
    for run in bad:
        stop = run.stopped
        what = (
            f"the final loss is {run.loss:.4g} (untrained: {run.initial_loss:.4g})"
            if stop is None
            else f"at epoch {stop.epoch}, batch {stop.batch} {stop.reason}, so training "  # type: ignore[attr-defined]
            f"stopped there (final loss {run.loss:.4g}, untrained: {run.initial_loss:.4g})"
        )
        fail(
            f"training {DATASETS[run.name].title} diverged: {what}; try a smaller --lr "
            f"(it was {run.lr:g})"
        )
    return bool(bad)


def run_train(args: argparse.Namespace) -> int:
    _layer_sizes(args.dataset, args.hidden)
    folder = output_folder(args.out) if args.out is not None else None
    run = _train(
        args.dataset,
        hidden=args.hidden,
        activation=args.activation,
        init=args.init,
        optimizer=args.optimizer,
        lr=args.lr,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    print()
    print(_summary([run]))
    if _diverged([run]):
        return 1
    if folder is not None:
        files = _Files()
        _save_model(run, folder, files)
        _plot_files(run, folder, files)
        print()
        files.report()
    return 0


def run_demo(args: argparse.Namespace) -> int:
    folder = output_folder(args.out)
    start = time.perf_counter()
    print(
        f"autograd-tiny demo: two classifiers built from scalar Values, "
        f"writing to {visible(str(folder))}/\n"
    )
    runs = [_train("xor"), _train("blobs")]
    files = _Files()
    _neuron_graph(runs[0], folder, files)
    for run in runs:
        _plot_files(run, folder, files)
        _save_model(run, folder, files)
    print()
    print(_summary(runs))
    print()
    files.report()
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 1 if _diverged(runs) else 0
