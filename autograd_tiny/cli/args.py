"""The command line's checks of its arguments: each bad value becomes one error line.

Owns ``UsageError`` (a bad argument: one line on stderr, exit status 2), the
argparse types, the limits of ``train`` and the checks of ``--out``. Imports
only ``expr`` (for variable names) and ``_names``; the commands and ``cli``
import it, never the other way round.

>>> hidden_sizes("16, 16"), variable("x=2")
((16, 16), ('x', 2.0))
>>> variable("x=inf")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: x: expected a finite number, got 'inf'
"""

from __future__ import annotations

import argparse
import math
import os
import pathlib
import sys
import tempfile
import unicodedata
from typing import Callable

from .._names import visible
from ..expr import ExpressionError, check_variable_name

__all__ = [
    "MAX_BATCH_SIZE",
    "MAX_EPOCHS",
    "MAX_LAYERS",
    "MAX_PARAMETERS",
    "MAX_WIDTH",
    "PROG",
    "UsageError",
    "bounded_int",
    "fail",
    "hidden_sizes",
    "integer",
    "output_folder",
    "positive_float",
    "positive_int",
    "svg_target",
    "variable",
    "visible",
]

PROG = "autograd-tiny"
# Upper bounds for train: past them a run takes hours or exhausts memory.
MAX_WIDTH = 4096
MAX_LAYERS = 32
MAX_PARAMETERS = 100_000
MAX_EPOCHS = 100_000
MAX_BATCH_SIZE = 100_000


class UsageError(Exception):
    """A bad argument or expression: reported as one line, exit status 2."""


def fail(message: str) -> None:
    """Print ``message`` on stderr as one ``autograd-tiny: error: ...`` line.

    Whitespace runs become one space and any other control character its escape
    (``visible``): user input in a message never reaches the terminal as a control
    sequence.
    """
    text = visible(" ".join(str(message).split()))
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


def positive_float(text: str) -> float:
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r:.60}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r:.60}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r:.60}")
    return value


def bounded_int(limit: int) -> Callable[[str], int]:
    """A positive integer of at most ``limit``."""

    def parse_bounded(text: str) -> int:
        value = positive_int(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"at most {limit} allowed, got {text!r:.60}")
        return value

    return parse_bounded


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r:.60}") from None


def hidden_sizes(text: str) -> tuple[int, ...]:
    """The hidden layer sizes of ``--hidden``, like ``16,16``."""
    sizes = []
    for part in text.split(","):
        part = part.strip()
        # isdecimal, not isdigit: '²' is a digit that int() refuses.
        if not (part.isascii() and part.isdecimal()) or int(part) < 1:
            raise argparse.ArgumentTypeError(
                f"expected layer sizes as positive integers separated by commas "
                f"(like 16,16), got {text!r:.60}"
            )
        if int(part) > MAX_WIDTH:
            raise argparse.ArgumentTypeError(
                f"a layer may have at most {MAX_WIDTH} neurons, got {part!r:.60}"
            )
        sizes.append(int(part))
    if len(sizes) > MAX_LAYERS:
        raise argparse.ArgumentTypeError(f"at most {MAX_LAYERS} hidden layers, got {len(sizes)}")
    return tuple(sizes)


def variable(text: str) -> tuple[str, float]:
    """One ``--var NAME=NUMBER``: a valid variable name and a finite number."""
    name, equals, number = text.partition("=")
    # NFKC, as Python (and so expr.parse) reads identifiers: ℌ and H are one name.
    name = unicodedata.normalize("NFKC", name.strip())
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
            f"{name}: expected a number after '=', got {number!r:.60}"
        ) from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{name}: expected a finite number, got {number!r:.60}")
    return name, value


# --------------------------------------------------------------------------
# --out: checked before any work, so a bad path never wastes a training run.
# --------------------------------------------------------------------------


def svg_target(text: str) -> pathlib.Path:
    """The --out of graph: an .svg file we can write."""
    return file_target(text, ".svg", "--out")


def file_target(text: str, suffix: str, option: str) -> pathlib.Path:
    """A file named ``*<suffix>`` in an existing folder we can write, given as ``option``."""
    target = pathlib.Path(text)
    if not text or text.endswith(("/", os.sep)) or target.is_dir():
        raise UsageError(f"{option} must name an {suffix} file, not a folder: {text!r:.80}")
    if target.suffix.lower() != suffix:
        raise UsageError(f"{option} must name an {suffix} file, got {text!r:.80}")
    if not target.parent.is_dir():
        raise UsageError(f"{option}: the folder {str(target.parent)!r:.80} does not exist")
    if target.exists() and not target.is_file():  # a FIFO or device: never replaced
        raise UsageError(f"{option} {text!r:.80} exists and is not a regular file")
    _check_writable(target.parent, text)
    return target


def output_folder(text: str) -> pathlib.Path:
    """The --out folder of train and demo, created and probed."""
    if not text.strip():
        raise UsageError("--out: the folder name is empty")
    folder = pathlib.Path(text)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out: {text!r:.80} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(
            f"--out: cannot create the folder {text!r:.80}: {error.strerror or error}"
        ) from None
    _check_writable(folder, text)
    return folder


def _check_writable(folder: pathlib.Path, text: str) -> None:
    # A real probe: os.access says yes to root even where writes fail (/proc).
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise UsageError(
            f"--out: cannot write in the folder {str(folder)!r:.80} "
            f"(from {text!r:.80}): {error.strerror or error}"
        ) from None
