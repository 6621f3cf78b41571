"""The ``autograd-tiny`` command: demo, train, graph, explain, gradcheck.

This package's ``__init__`` holds the parser and ``main``; the argument checks
live in ``cli.args``, the expression commands in ``cli.expr_commands``, train
and demo in ``cli.train_commands``. Imports the package; nothing imports it
(but ``__main__``). Every bad argument
or expression gives exactly one line on stderr (``autograd-tiny: error:
...``) and exit status 2 before anything runs; expressions go through
``expr.parse`` (an ``ast`` whitelist), never ``eval``. ``main(argv)``
returns the exit status, so tests call it in-process.

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
import difflib
import io
import os
import re
import sys
from collections.abc import Sequence
from typing import Callable, NoReturn, TextIO

from .. import __version__
from ..expr import FUNCTIONS
from ..nn import ACTIVATIONS, INITS
from ..viz import MAX_NODES, RendererNotFoundError, RenderError
from .args import (
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
    MAX_LAYERS,
    MAX_PARAMETERS,
    MAX_WIDTH,
    PROG,
    UsageError,
    bounded_int,
    fail,
    hidden_sizes,
    integer,
    positive_float,
    positive_int,
    variable,
)
from .expr_commands import run_explain, run_gradcheck, run_graph
from .train_commands import DATASETS, SGD_LR, SGD_MOMENTUM, run_demo, run_train

__all__ = ["UsageError", "build_parser", "main"]

DEFAULT_DEMO_OUT = "autograd-tiny-demo"


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors as ``UsageError`` (one line, no usage dump).

    It also says what to type instead: the closest subcommand or choice to a
    mistyped one, and ``--var`` for values given as bare ``x=1``.
    """

    def error(self, message: str) -> NoReturn:
        raise UsageError(_with_suggestion(message))


_INVALID_CHOICE = re.compile(
    r"invalid choice: '?(?P<given>[^']*?)'? \(choose from (?P<choices>.*)\)$"
)
_VALUE = re.compile(r"^(?P<name>[^\W\d]\w*)=(?P<number>\S+)$")


def _with_suggestion(message: str) -> str:
    """argparse's ``message`` with a hint of what to type instead, when there is one.

    >>> _with_suggestion("invalid choice: 'explian' (choose from 'demo', 'explain')")
    "invalid choice: 'explian' (choose from 'demo', 'explain'); did you mean 'explain'?"
    >>> _with_suggestion("unrecognized arguments: x=1 y=2")
    'unrecognized arguments: x=1 y=2; give values as --var x=1 --var y=2'
    """
    choice = _INVALID_CHOICE.search(message)
    if choice:
        choices = [c.strip(" '\"") for c in choice["choices"].split(",")]
        close = difflib.get_close_matches(choice["given"], choices, n=1)
        return f"{message}; did you mean {close[0]!r}?" if close else message
    prefix = "unrecognized arguments: "
    if message.startswith(prefix):
        values = message[len(prefix) :].split()
        if values and all(_VALUE.match(value) for value in values):
            return f"{message}; give values as " + " ".join(f"--var {value}" for value in values)
    return message


class _QuietWhenClosed(io.TextIOBase):
    """Standard output that goes quiet once its reader has gone (``... | head -1``).

    Python's advice for a closed pipe: point the file descriptor at devnull so that
    nothing raises again, and finish. The command then exits with its own status:
    0, or gradcheck's 1 for a mismatch, never an error for a reader that had enough.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self._go_quiet()
        return len(text)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._go_quiet()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding

    def _go_quiet(self) -> None:
        self.reader_gone = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self.stream.fileno())
        os.close(devnull)


# The functions are expr's whitelist, which the op registry makes: a new op shows here.
EXPRESSION_HELP = (
    "expressions: numbers, the variables given with --var, + - * / % ** and unary - (powers "
    "are x**2, not x^2; products need their *, as in 2*x), "
    f"and the functions {' '.join(sorted(FUNCTIONS))}. An expression that starts with '-' "
    "needs a space in it or a leading space: ' -x*y'."
)


def _expression_command(
    commands: argparse._SubParsersAction[_Parser],
    name: str,
    run: Callable[[argparse.Namespace], int],
    help: str,
    description: str,
) -> _Parser:
    """A subcommand that takes an expression and its --var values."""
    parser = commands.add_parser(
        name, allow_abbrev=False, help=help, description=description, epilog=EXPRESSION_HELP
    )
    parser.add_argument("expression", metavar="EXPR", help="the expression, e.g. 'x*y + x'")
    parser.add_argument(
        "--var",
        action="append",
        type=variable,
        metavar="NAME=NUMBER",
        help="a variable's value (repeat for each variable)",
    )
    parser.set_defaults(run=run)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The ``autograd-tiny`` argument parser (errors raise ``UsageError``)."""
    parser = _Parser(
        prog=PROG,
        allow_abbrev=False,
        description="A scalar reverse-mode automatic differentiation engine. "
        "Start with `autograd-tiny demo`.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        allow_abbrev=False,
        help="train XOR and blobs; write pictures and models",
        description="Train XOR and three-class blobs, print a summary, and write the graph "
        "of one neuron (SVG), loss curves and decision boundaries (PNG, needs "
        "matplotlib) and the trained models (JSON) to a folder.",
    )
    demo.add_argument(
        "--out",
        default=DEFAULT_DEMO_OUT,
        metavar="DIR",
        help=f"output folder (default: ./{DEFAULT_DEMO_OUT}/)",
    )
    demo.set_defaults(run=run_demo)

    train = commands.add_parser(
        "train",
        allow_abbrev=False,
        help="train an MLP on a toy dataset",
        description="Train an MLP on a toy dataset and print its loss and accuracy; with "
        "--out also write the model (JSON) and its pictures (PNG).",
    )
    train.add_argument(
        "dataset",
        choices=sorted(DATASETS),
        metavar="DATASET",
        help=f"one of {', '.join(sorted(DATASETS))}",
    )
    train.add_argument(
        "--hidden",
        type=hidden_sizes,
        metavar="SIZES",
        help=f"hidden layer sizes, e.g. 16,16; at most {MAX_LAYERS} layers "
        f"of {MAX_WIDTH} and {MAX_PARAMETERS} parameters in all "
        f"(default: per dataset)",
    )
    train.add_argument(
        "--activation",
        choices=ACTIVATIONS,
        help="hidden activation (default: tanh for xor, relu otherwise)",
    )
    train.add_argument(
        "--init",
        choices=INITS,
        default="auto",
        help="starting weights: he, glorot, uniform (micrograd's), or auto: "
        "he for relu layers, glorot otherwise (default: auto)",
    )
    train.add_argument(
        "--optimizer",
        choices=("adam", "sgd"),
        default="adam",
        help=f"adam, or sgd with momentum {SGD_MOMENTUM} (default: adam)",
    )
    train.add_argument(
        "--lr",
        type=positive_float,
        help=f"learning rate (default: per dataset for adam, {SGD_LR} for sgd)",
    )
    train.add_argument(
        "--epochs",
        type=bounded_int(MAX_EPOCHS),
        help=f"epochs, at most {MAX_EPOCHS} (default: per dataset)",
    )
    train.add_argument(
        "--batch-size",
        type=bounded_int(MAX_BATCH_SIZE),
        default=16,
        metavar="N",
        help="mini-batch size (default: 16)",
    )
    train.add_argument("--seed", type=integer, default=0, help="data, model and shuffling seed")
    train.add_argument("--out", metavar="DIR", help="folder for the model and pictures")
    train.set_defaults(run=run_train)

    graph = _expression_command(
        commands,
        "graph",
        run_graph,
        help="draw an expression's computation graph as SVG",
        description="Build the expression, run backward, write its graph as SVG and print "
        "each variable's gradient.",
    )
    graph.add_argument(
        "--out",
        default="graph.svg",
        metavar="FILE.svg",
        help="the SVG file to write (default: graph.svg)",
    )
    graph.add_argument(
        "--max-nodes",
        type=positive_int,
        default=MAX_NODES,
        metavar="N",
        help=f"refuse graphs of more than N nodes, values and ops (default: {MAX_NODES})",
    )

    explain = _expression_command(
        commands,
        "explain",
        run_explain,
        help="print the backward pass step by step",
        description="Print the backward pass of the expression step by step: node, op, "
        "input, local derivative, upstream gradient, contribution, running total.",
    )
    explain.add_argument(
        "--html",
        metavar="FILE.html",
        help="also write a page that steps through the pass on the graph "
        "(self-contained: open it in any browser)",
    )

    gradcheck = _expression_command(
        commands,
        "gradcheck",
        run_gradcheck,
        help="compare analytic and numeric gradients",
        description="Compare the engine's gradients with central finite differences, and "
        "with derivatives you worked out by hand (--expect); exit status 1 if "
        "any differs.",
    )
    gradcheck.add_argument(
        "--expect",
        action="append",
        type=variable,
        metavar="NAME=NUMBER",
        help="your hand-derived derivative of EXPR by the variable NAME, "
        "checked against the engine (repeat for each variable)",
    )
    gradcheck.add_argument(
        "--eps", type=positive_float, default=1e-6, help="finite-difference step (default: 1e-6)"
    )
    gradcheck.add_argument(
        "--rtol", type=positive_float, default=1e-5, help="relative tolerance (default: 1e-5)"
    )
    gradcheck.add_argument(
        "--atol", type=positive_float, default=1e-8, help="absolute tolerance (default: 1e-8)"
    )
    gradcheck.add_argument(
        "--order",
        type=int,
        choices=(1, 2),
        default=1,
        help="2 also checks second derivatives (default: 1)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    stdout = sys.stdout
    sys.stdout = _QuietWhenClosed(stdout)
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        status: int = args.run(args)
        sys.stdout.flush()
        return status
    except UsageError as error:
        message = str(error)
        if message.endswith("required: EXPR"):
            message += " (an expression that starts with '-' needs a leading space: ' -x')"
        fail(message)
        return 2
    except (RendererNotFoundError, RenderError, OSError) as error:
        fail(str(error))
        return 1
    except MemoryError:
        fail("out of memory; try a smaller model, dataset or expression")
        return 1
    except RecursionError:
        fail("too deeply nested to finish (RecursionError)")
        return 1
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else 0
    except KeyboardInterrupt:
        fail("interrupted")
        return 130
    finally:
        sys.stdout = stdout
