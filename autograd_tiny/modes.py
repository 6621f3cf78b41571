"""The modes: ``no_grad``, ``enable_grad`` and ``detect_anomaly``, one context variable.

One ``contextvars`` flag word (thread- and asyncio-safe: not a module global),
read once per operation by ``value._node`` and once per pass by ``walk``.
``_TRACING`` is the compiler's own mode; ``_ORIGIN`` records where each node was
made while ``detect_anomaly()`` is on, for its messages.

Import order: first of the engine's modules with ``rules`` (it imports nothing of
the package); ``value`` and ``walk`` import it.

>>> with no_grad():
...     is_grad_enabled()
False
>>> is_grad_enabled()
True
"""

from __future__ import annotations

import contextvars
import os
import sys
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["detect_anomaly", "enable_grad", "is_anomaly_enabled", "is_grad_enabled", "no_grad"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

# --------------------------------------------------------------------------
# Modes: no_grad and detect_anomaly, one context variable (thread- and
# asyncio-safe; one lookup per operation).
# --------------------------------------------------------------------------

_NO_GRAD = 1
_ANOMALY = 2
_MODE: contextvars.ContextVar[int] = contextvars.ContextVar("autograd_tiny_mode", default=0)

# Set by ``compile`` while it traces, in its own context only: an object whose
# ``rule(rule, operands)`` evaluates a rule on Values (its branches become comparison
# and select nodes, see ``where``) and whose ``compare(value, other, op)`` decides
# a comparison of a Value (refused where the replay could not repeat it).
_TRACING: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "autograd_tiny_tracing", default=None
)

# Where each node was created, recorded only inside detect_anomaly().
_ORIGIN: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


@contextmanager
def no_grad() -> Iterator[None]:
    """Operations inside record no parents: results are leaves.

    >>> from autograd_tiny import Value
    >>> x = Value(2.0)
    >>> with no_grad():
    ...     y = x * x
    >>> y.parents
    ()
    """
    token = _MODE.set(_MODE.get() | _NO_GRAD)
    try:
        yield
    finally:
        _MODE.reset(token)


@contextmanager
def enable_grad() -> Iterator[None]:
    """Record parents again, even inside an enclosing ``no_grad()`` (transforms use it).

    >>> from autograd_tiny import Value
    >>> x = Value(2.0)
    >>> with no_grad(), enable_grad():
    ...     y = x * x
    >>> y.parents == (x, x)
    True
    """
    token = _MODE.set(_MODE.get() & ~_NO_GRAD)
    try:
        yield
    finally:
        _MODE.reset(token)


def is_grad_enabled() -> bool:
    """False inside ``no_grad()``."""
    return not _MODE.get() & _NO_GRAD


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    return bool(_MODE.get() & _ANOMALY)


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise ``FloatingPointError`` at the first non-finite value, forward or backward.

    The message names the operation, its inputs and the file and line of
    your code that created the node.

    >>> from autograd_tiny import Value
    >>> with detect_anomaly():
    ...     Value(0.0).log()
    Traceback (most recent call last):
    ...
    FloatingPointError: log produced -inf from Value(data=0.0, grad=0.0) at ...
    """
    token = _MODE.set(_MODE.get() | _ANOMALY)
    try:
        yield
    finally:
        _MODE.reset(token)


def _user_location() -> str:
    """The innermost stack frame outside this package, as ``file:line``."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return "<unknown>"
