"""The ``autograd-tiny`` command: demo, train, graph, explain, gradcheck.

Imports the package; nothing imports it. Every bad argument or expression
gives exactly one line on stderr (``autograd-tiny: error: ...``) and exit
status 2 before anything runs; expressions go through ``expr.parse`` (an
``ast`` whitelist), never ``eval``. ``main(argv)`` returns the exit status,
so tests call it in-process.

>>> main(["explain", "x*x", "--var", "x=3"])
x*x = 9 at x=3
backward pass from n0 (the output), 2 steps: ...
step  node  op  input  local  upstream  contribution  total
   1  n0    *   x          3         1             3      3
   2  n0    *   x          3         1             3      6
d/dx = 6
0
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import pathlib
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Callable, NoReturn

from . import __version__
from .data import blobs, circles, moons, train_test_split, xor
from .engine import Value
from .explain import explain
from .expr import Expression, ExpressionError, check_variable_name, parse
from .gradcheck import compare_grad, format_rows
from .nn import ACTIVATIONS, MLP
from .optim import SGD, Adam, Optimizer
from .train import History, accuracy, evaluate, fit
from .viz import MAX_NODES, RendererNotFoundError, RenderError, graph_size, render_svg

__all__ = ["main", "build_parser", "UsageError"]

PROG = "autograd-tiny"
DEFAULT_DEMO_OUT = "autograd-tiny-demo"
# Upper bounds for train: past them a run takes hours or exhausts memory.
MAX_WIDTH = 4096
MAX_LAYERS = 32
MAX_PARAMETERS = 100_000
MAX_EPOCHS = 100_000
MAX_BATCH_SIZE = 100_000
DIVERGED = 10.0  # a final loss this many times the untrained model's: training diverged


class UsageError(Exception):
    """A bad argument or expression: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors as ``UsageError`` (one line, no usage dump)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _fail(message: str) -> None:
    # One line, whatever the message holds.
    text = " ".join(str(message).split())
    print(f"{PROG}: error: {text}", file=sys.stderr)


# --------------------------------------------------------------------------
# Argument types: each raises ArgumentTypeError with a message naming the value.
# --------------------------------------------------------------------------

def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r:.60}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r:.60}")
    return value


def _positive_float(text: str) -> float:
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r:.60}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r:.60}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r:.60}")
    return value


def _bounded_int(limit: int) -> Callable[[str], int]:
    """A positive integer of at most ``limit``."""

    def parse_bounded(text: str) -> int:
        value = _positive_int(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"at most {limit} allowed, got {text!r:.60}")
        return value

    return parse_bounded


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r:.60}") from None


def _hidden(text: str) -> tuple[int, ...]:
    sizes = []
    for part in text.split(","):
        part = part.strip()
        # isdecimal, not isdigit: '²' is a digit that int() refuses.
        if not (part.isascii() and part.isdecimal()) or int(part) < 1:
            raise argparse.ArgumentTypeError(
                f"expected layer sizes as positive integers separated by commas "
                f"(like 16,16), got {text!r:.60}")
        if int(part) > MAX_WIDTH:
            raise argparse.ArgumentTypeError(
                f"a layer may have at most {MAX_WIDTH} neurons, got {part!r:.60}")
        sizes.append(int(part))
    if len(sizes) > MAX_LAYERS:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_LAYERS} hidden layers, got {len(sizes)}")
    return tuple(sizes)


def _variable(text: str) -> tuple[str, float]:
    name, equals, number = text.partition("=")
    name = name.strip()
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER (like x=2), got {text!r:.60}")
    try:
        check_variable_name(name)
    except ExpressionError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    try:
        value = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{name}: expected a number after '=', got {number!r:.60}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{name}: expected a finite number, got {number!r:.60}")
    return name, value


# --------------------------------------------------------------------------
# Expressions: graph, explain, gradcheck
# --------------------------------------------------------------------------

@contextlib.contextmanager
def _evaluating(expression: Expression) -> Iterator[None]:
    """Any failure while computing ``expression`` becomes a one-line UsageError."""
    try:
        yield
    except (UsageError, KeyboardInterrupt):
        raise
    except Exception as error:
        raise UsageError(f"cannot evaluate {expression.source!r:.80}: "
                         f"{type(error).__name__}: {error}") from None


def _svg_target(text: str) -> pathlib.Path:
    """The --out of graph, checked before any work: an .svg file we can write."""
    target = pathlib.Path(text)
    if not text or text.endswith(("/", os.sep)) or target.is_dir():
        raise UsageError(f"--out must name an .svg file, not a folder: {text!r:.80}")
    if target.suffix.lower() != ".svg":
        raise UsageError(f"--out must name an .svg file, got {text!r:.80}")
    if not target.parent.is_dir():
        raise UsageError(f"--out: the folder {str(target.parent)!r:.80} does not exist")
    _check_writable(target.parent, text)
    return target


def _check_writable(folder: pathlib.Path, text: str) -> None:
    # A real probe: os.access says yes to root even where writes fail (/proc).
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise UsageError(f"--out: cannot write in the folder {str(folder)!r:.80} "
                         f"(from {text!r:.80}): {error.strerror or error}") from None


def _expression(args: argparse.Namespace) -> tuple[Expression, dict[str, float]]:
    """The parsed expression and its variables; UsageError for anything wrong."""
    variables: dict[str, float] = {}
    for name, value in args.var or []:
        if name in variables:
            raise UsageError(f"--var {name} is given twice")
        variables[name] = value
    try:
        return parse(args.expression, variables), variables
    except ExpressionError as error:
        raise UsageError(f"invalid expression: {error}") from None


def _number(x: float) -> str:
    return format(x + 0.0, ".10g")


def _leaves(variables: dict[str, float]) -> dict[str, Value]:
    return {name: Value(value, label=name) for name, value in variables.items()}


def _result(expression: Expression, leaves: dict[str, Value]) -> Value:
    with _evaluating(expression):
        out = expression.evaluate(leaves)
    return out if isinstance(out, Value) else Value(out)


def _at(variables: dict[str, float]) -> str:
    if not variables:
        return ""
    return " at " + ", ".join(f"{name}={_number(value)}" for name, value in variables.items())


def _print_gradients(leaves: dict[str, Value]) -> None:
    for name, leaf in leaves.items():
        print(f"d/d{name} = {_number(leaf.grad)}")


def _run_graph(args: argparse.Namespace) -> int:
    expression, variables = _expression(args)
    target = _svg_target(args.out)
    leaves = _leaves(variables)
    out = _result(expression, leaves)
    size = graph_size(out)
    if size > args.max_nodes:
        raise UsageError(f"the graph would have {size} nodes (values and ops), more than "
                         f"--max-nodes {args.max_nodes} (layout gets slow); pass "
                         f"--max-nodes {size} to draw it anyway")
    with _evaluating(expression):
        out.backward()
    print(f"{expression.source} = {_number(out.data)}{_at(variables)}")
    _print_gradients(leaves)
    render_svg(out, target, max_nodes=args.max_nodes)
    print(f"wrote {target}")
    return 0


def _run_explain(args: argparse.Namespace) -> int:
    expression, variables = _expression(args)
    leaves = _leaves(variables)
    out = _result(expression, leaves)
    with _evaluating(expression):
        steps = explain(out)
    print(f"{expression.source} = {_number(out.data)}{_at(variables)}")
    print(f"backward pass from {steps.root} (the output), {len(steps)} step"
          f"{'' if len(steps) == 1 else 's'}: contribution = local * upstream, "
          f"total = the input's gradient so far")
    print(steps.table())
    _print_gradients(leaves)
    return 0


def _run_gradcheck(args: argparse.Namespace) -> int:
    expression, variables = _expression(args)
    if not variables:
        raise UsageError("gradcheck needs at least one variable: --var NAME=NUMBER")
    names = list(variables)

    def function(*values: Any) -> Any:
        return expression.evaluate(dict(zip(names, values)))

    with _evaluating(expression):
        rows = compare_grad(function, *variables.values(), eps=args.eps, order=args.order,
                            names=names)
    print(f"{expression.source}{_at(variables)}")
    print(format_rows(rows, args.rtol, args.atol))
    bad = sum(not row.agrees(args.rtol, args.atol) for row in rows)
    tolerances = f"(rtol={args.rtol:g}, atol={args.atol:g})"
    if not bad:
        print(f"ok: analytic and numeric derivatives agree {tolerances}")
        return 0
    print(f"MISMATCH: {bad} of {len(rows)} derivatives differ {tolerances}")
    return 1


# --------------------------------------------------------------------------
# Training: train and demo
# --------------------------------------------------------------------------

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
    "blobs": _Dataset("blobs", lambda seed: blobs(100, seed=seed), 3, 0.25,
                      (8,), "relu", 60, 0.02),
    "moons": _Dataset("moons", lambda seed: moons(200, noise=0.1, seed=seed), 2, 0.25,
                      (16, 16), "relu", 40, 0.02),
    "circles": _Dataset("circles", lambda seed: circles(200, noise=0.1, seed=seed), 2, 0.25,
                        (16, 16), "relu", 40, 0.02),
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
        raise UsageError(f"--hidden {','.join(map(str, sizes[:-1]))} makes {parameters} "
                         f"parameters; at most {MAX_PARAMETERS} train in reasonable time")
    return sizes


def _train(name: str, *, hidden: tuple[int, ...] | None = None, activation: str | None = None,
           optimizer: str = "adam", lr: float | None = None, epochs: int | None = None,
           batch_size: int = 16, seed: int = 0) -> _Run:
    spec = DATASETS[name]
    X, y = spec.load(seed)
    X_test: list[list[float]] = []
    y_test: list[int] = []
    if spec.test_size is None:
        X_train, y_train = X, y
    else:
        X_train, X_test, y_train, y_test = train_test_split(X, y, spec.test_size, seed=seed)
    sizes = _layer_sizes(name, hidden)
    model = MLP(2, sizes, activation=activation or spec.activation, seed=seed)
    rate = lr if lr is not None else (spec.lr if optimizer == "adam" else SGD_LR)
    optim: Optimizer = (Adam(model.parameters(), lr=rate) if optimizer == "adam"
                        else SGD(model.parameters(), lr=rate, momentum=SGD_MOMENTUM))
    count = epochs or spec.epochs
    print(f"training {spec.title}: MLP {'-'.join(map(str, [2, *sizes]))} "
          f"{model.activation}, {optimizer} lr {rate:g}, {count} epochs, "
          f"{len(X_train)} training points", flush=True)
    initial_loss = evaluate(model, X_train, y_train)[0]
    start = time.perf_counter()
    history = fit(model, X_train, y_train, epochs=count, batch_size=batch_size,
                  optimizer=optim, seed=seed,
                  validation_data=(X_test, y_test) if X_test else None)
    seconds = time.perf_counter() - start
    loss, train_accuracy = evaluate(model, X_train, y_train)
    test_accuracy = accuracy(model, X_test, y_test) if X_test else None
    return _Run(name, model, history, X_train, y_train, len(X_test), initial_loss, loss,
                train_accuracy, test_accuracy, seconds, optimizer, rate)


def _summary(runs: Sequence[_Run]) -> str:
    header = ("dataset", "train/held-out", "model", "params", "epochs", "final loss",
              "train acc", "held-out acc", "time")
    rows = [header]
    for run in runs:
        rows.append((
            DATASETS[run.name].title, f"{len(run.X_train)}/{run.n_test}", run.architecture,
            str(len(run.model.parameters())), str(run.history.epochs), f"{run.loss:.4g}",
            f"{run.train_accuracy:.1%}",
            "n/a" if run.test_accuracy is None else f"{run.test_accuracy:.1%}",
            f"{run.seconds:.1f} s",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        parts = [cell.ljust(w) if i in (0, 1, 2) else cell.rjust(w)
                 for i, (cell, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def _output_folder(text: str) -> pathlib.Path:
    """The --out folder of train and demo, created and probed before any training."""
    if not text.strip():
        raise UsageError("--out: the folder name is empty")
    folder = pathlib.Path(text)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out: {text!r:.80} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--out: cannot create the folder {text!r:.80}: "
                         f"{error.strerror or error}") from None
    _check_writable(folder, text)
    return folder


class _Files:
    """What a command wrote and what it skipped, for the closing list."""

    def __init__(self) -> None:
        self.written: list[tuple[pathlib.Path, str]] = []
        self.skipped: list[tuple[str, str]] = []

    def report(self) -> None:
        if self.written:
            print("wrote:")
            width = max(len(str(path)) for path, _ in self.written)
            for path, note in self.written:
                print(f"  {str(path).ljust(width)}  {note}")
        for what, why in self.skipped:
            print(f"skipped {what}: {why}")


def _plot_files(run: _Run, folder: pathlib.Path, files: _Files) -> None:
    curves = folder / f"{run.name}-curves.png"
    boundary = folder / f"{run.name}-boundary.png"
    try:
        from . import plots

        plots.require_matplotlib()
    except ImportError as error:
        files.skipped.append((f"{curves.name} and {boundary.name}", str(error)))
        return
    title = DATASETS[run.name].title
    plots.plot_history(run.history, curves, title=f"{title}: MLP {run.architecture}")
    files.written.append((curves, "loss and accuracy per epoch"))
    plots.plot_decision_boundary(run.model, run.X_train, run.y_train, boundary,
                                 title=f"{title}: predicted classes and training points")
    files.written.append((boundary, "decision boundary"))


def _save_model(run: _Run, folder: pathlib.Path, files: _Files) -> None:
    path = folder / f"{run.name}-model.json"
    run.model.save(path)
    model = run.model
    files.written.append((path, f"load: MLP(2, {model.nouts}, activation="
                                f"{model.activation!r}).load({str(path)!r})"))


def _neuron_graph(run: _Run, folder: pathlib.Path, files: _Files) -> None:
    """The first hidden neuron of ``run.model`` on the last training point, as SVG.

    The weights are labelled w1, w2, b for the picture only: their labels and
    grads are put back afterwards, so the trained model is left as it was.
    """
    path = folder / "neuron-graph.svg"
    neuron = run.model.layers[0].neurons[0]
    parameters = neuron.parameters()
    saved = [(p.label, p.grad) for p in parameters]
    try:
        for i, weight in enumerate(neuron.w, start=1):
            weight.label = f"w{i}"
        neuron.b.label = "b"
        for parameter in parameters:
            parameter.grad = 0.0
        point = run.X_train[-1]
        inputs = [Value(x, label=f"x{i}") for i, x in enumerate(point, start=1)]
        out = neuron(inputs)
        out.label = "out"
        out.backward()
        try:
            render_svg(out, path, params=parameters)
        except (RendererNotFoundError, RenderError) as error:
            files.skipped.append((path.name, str(error).splitlines()[0]))
        else:
            files.written.append((path, f"one {neuron.activation} neuron of the {run.name} "
                                        f"model at x = {point}, after backward"))
    finally:
        for parameter, (label, grad) in zip(parameters, saved):
            parameter.label, parameter.grad = label, grad


def _diverged(runs: Sequence[_Run]) -> bool:
    """Report (stderr) each run whose loss blew up; True if any did.

    Blown up: the final loss is inf or nan, or over ten times the untrained model's.
    """
    bad = [run for run in runs
           if not math.isfinite(run.loss) or run.loss > DIVERGED * run.initial_loss]
    for run in bad:
        _fail(f"training {DATASETS[run.name].title} diverged: the final loss is "
              f"{run.loss:.4g} (untrained: {run.initial_loss:.4g}); try a smaller --lr "
              f"(it was {run.lr:g})")
    return bool(bad)


def _run_train(args: argparse.Namespace) -> int:
    _layer_sizes(args.dataset, args.hidden)
    folder = _output_folder(args.out) if args.out is not None else None
    run = _train(args.dataset, hidden=args.hidden, activation=args.activation,
                 optimizer=args.optimizer, lr=args.lr, epochs=args.epochs,
                 batch_size=args.batch_size, seed=args.seed)
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


def _run_demo(args: argparse.Namespace) -> int:
    folder = _output_folder(args.out)
    start = time.perf_counter()
    print(f"autograd-tiny demo: two classifiers built from scalar Values, "
          f"writing to {folder}/\n")
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


# --------------------------------------------------------------------------
# The parser and main
# --------------------------------------------------------------------------

EXPRESSION_HELP = (
    "expressions: numbers, the variables given with --var, + - * / ** and unary -, "
    "and the functions abs cos exp leaky_relu log log1p relu sigmoid sin softplus sqrt "
    "tanh. An expression that starts with '-' needs a space in it or a leading space: "
    "' -x*y'."
)


def _add_expression_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expression", metavar="EXPR", help="the expression, e.g. 'x*y + x'")
    parser.add_argument("--var", action="append", type=_variable, metavar="NAME=NUMBER",
                        help="a variable's value (repeat for each variable)")


def build_parser() -> argparse.ArgumentParser:
    """The ``autograd-tiny`` argument parser (errors raise ``UsageError``)."""
    parser = _Parser(
        prog=PROG, allow_abbrev=False,
        description="A scalar reverse-mode automatic differentiation engine. "
                    "Start with `autograd-tiny demo`.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo", allow_abbrev=False, help="train XOR and blobs; write pictures and models",
        description="Train XOR and three-class blobs, print a summary, and write the graph "
                    "of one neuron (SVG), loss curves and decision boundaries (PNG, needs "
                    "matplotlib) and the trained models (JSON) to a folder.")
    demo.add_argument("--out", default=DEFAULT_DEMO_OUT, metavar="DIR",
                      help=f"output folder (default: ./{DEFAULT_DEMO_OUT}/)")
    demo.set_defaults(run=_run_demo)

    train = commands.add_parser(
        "train", allow_abbrev=False, help="train an MLP on a toy dataset",
        description="Train an MLP on a toy dataset and print its loss and accuracy; with "
                    "--out also write the model (JSON) and its pictures (PNG).")
    train.add_argument("dataset", choices=sorted(DATASETS), metavar="DATASET",
                       help=f"one of {', '.join(sorted(DATASETS))}")
    train.add_argument("--hidden", type=_hidden, metavar="SIZES",
                       help=f"hidden layer sizes, e.g. 16,16; at most {MAX_LAYERS} layers "
                            f"of {MAX_WIDTH} and {MAX_PARAMETERS} parameters in all "
                            f"(default: per dataset)")
    train.add_argument("--activation", choices=ACTIVATIONS,
                       help="hidden activation (default: tanh for xor, relu otherwise)")
    train.add_argument("--optimizer", choices=("adam", "sgd"), default="adam",
                       help=f"adam, or sgd with momentum {SGD_MOMENTUM} (default: adam)")
    train.add_argument("--lr", type=_positive_float,
                       help=f"learning rate (default: per dataset for adam, {SGD_LR} for sgd)")
    train.add_argument("--epochs", type=_bounded_int(MAX_EPOCHS),
                       help=f"epochs, at most {MAX_EPOCHS} (default: per dataset)")
    train.add_argument("--batch-size", type=_bounded_int(MAX_BATCH_SIZE), default=16,
                       metavar="N", help="mini-batch size (default: 16)")
    train.add_argument("--seed", type=_int, default=0, help="data, model and shuffling seed")
    train.add_argument("--out", metavar="DIR", help="folder for the model and pictures")
    train.set_defaults(run=_run_train)

    graph = commands.add_parser(
        "graph", allow_abbrev=False, help="draw an expression's computation graph as SVG",
        description="Build the expression, run backward, write its graph as SVG and print "
                    "each variable's gradient.", epilog=EXPRESSION_HELP)
    _add_expression_arguments(graph)
    graph.add_argument("--out", default="graph.svg", metavar="FILE.svg",
                       help="the SVG file to write (default: graph.svg)")
    graph.add_argument("--max-nodes", type=_positive_int, default=MAX_NODES, metavar="N",
                       help=f"refuse graphs of more than N nodes, values and ops "
                            f"(default: {MAX_NODES}; layout time grows steeply)")
    graph.set_defaults(run=_run_graph)

    explain_ = commands.add_parser(
        "explain", allow_abbrev=False, help="print the backward pass step by step",
        description="Print the backward pass of the expression step by step: node, op, "
                    "input, local derivative, upstream gradient, contribution, running total.",
        epilog=EXPRESSION_HELP)
    _add_expression_arguments(explain_)
    explain_.set_defaults(run=_run_explain)

    gradcheck = commands.add_parser(
        "gradcheck", allow_abbrev=False, help="compare analytic and numeric gradients",
        description="Compare the engine's gradients with central finite differences; exit "
                    "status 1 if any differs.", epilog=EXPRESSION_HELP)
    _add_expression_arguments(gradcheck)
    gradcheck.add_argument("--eps", type=_positive_float, default=1e-6,
                           help="finite-difference step (default: 1e-6)")
    gradcheck.add_argument("--rtol", type=_positive_float, default=1e-5,
                           help="relative tolerance (default: 1e-5)")
    gradcheck.add_argument("--atol", type=_positive_float, default=1e-8,
                           help="absolute tolerance (default: 1e-8)")
    gradcheck.add_argument("--order", type=int, choices=(1, 2), default=1,
                           help="2 also checks second derivatives (default: 1)")
    gradcheck.set_defaults(run=_run_gradcheck)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        status: int = args.run(args)
        return status
    except UsageError as error:
        message = str(error)
        if message.endswith("required: EXPR"):
            message += " (an expression that starts with '-' needs a leading space: ' -x')"
        _fail(message)
        return 2
    except (RendererNotFoundError, RenderError, OSError) as error:
        _fail(str(error))
        return 1
    except MemoryError:
        _fail("out of memory; try a smaller model, dataset or expression")
        return 1
    except RecursionError:
        _fail("too deeply nested to finish (RecursionError)")
        return 1
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else 0
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
