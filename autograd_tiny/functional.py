"""Function transforms: ``grad``, ``value_and_grad`` and ``hessian``, to any order.

Imports only the engine. ``grad(f)`` returns a new function computing df/dx.
At the top level it returns floats; called inside another ``grad`` (nesting)
it returns Values built from the backward pass itself, which the outer
``grad`` differentiates again. That is all higher order takes.

>>> f = lambda x: x ** 3
>>> grad(f)(2.0), grad(grad(f))(2.0), grad(grad(grad(f)))(2.0)
(12.0, 12.0, 6.0)
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Sequence
from typing import Any, Callable, Union

from .engine import Value, gradients

__all__ = ["grad", "value_and_grad", "hessian"]

ArgNums = Union[int, Sequence[int]]

# How many grad transforms are evaluating their function right now. Above zero,
# results must stay Values so that the enclosing transform can differentiate them.
_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("autograd_tiny_grad_depth", default=0)


def _normalise_argnums(argnums: ArgNums) -> tuple[tuple[int, ...], bool]:
    if isinstance(argnums, bool) or not isinstance(argnums, (int, tuple, list)):
        raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}")
    if isinstance(argnums, int):
        return (argnums,), True
    if not argnums or not all(isinstance(i, int) and not isinstance(i, bool) for i in argnums):
        raise TypeError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    return tuple(argnums), False


def value_and_grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., tuple[Any, Any]]:
    """Return a function computing ``(f(*args), df/d args[argnums])``.

    ``f`` takes floats or Values and returns a scalar Value or number. The
    gradient is a float, or a tuple of floats when ``argnums`` is a tuple.

    >>> value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    (12.0, (4.0, 3.0))
    """
    positions, single = _normalise_argnums(argnums)

    @functools.wraps(f)
    def wrapped(*args: Any) -> tuple[Any, Any]:
        for i in positions:
            if not -len(args) <= i < len(args):
                raise IndexError(
                    f"argnums {i} is out of range for {getattr(f, '__name__', 'f')} "
                    f"called with {len(args)} argument(s)"
                )
        depth = _DEPTH.get()
        nested = depth > 0
        inputs = list(args)
        for i in positions:
            if not isinstance(inputs[i], Value):
                inputs[i] = Value(inputs[i], label=f"arg{i % len(args)}")
        token = _DEPTH.set(depth + 1)
        try:
            out = f(*inputs)
        finally:
            _DEPTH.reset(token)
        targets = [inputs[i] for i in positions]
        if isinstance(out, Value):
            grads = gradients(out, targets, create_graph=nested)
        elif isinstance(out, (int, float)) and not isinstance(out, bool):
            grads = [0.0] * len(targets)  # a constant function
        else:
            raise TypeError(
                f"{getattr(f, '__name__', 'f')} must return a scalar Value or number "
                f"to be differentiated, got {type(out).__name__}"
            )
        if not nested:
            out = float(out)
            grads = [float(g) for g in grads]
        return out, grads[0] if single else tuple(grads)

    return wrapped


def grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """Return a function computing df/dx (a float; a tuple of floats for tuple ``argnums``).

    Nest it for higher derivatives: ``grad(grad(f))`` is the second derivative.

    >>> import autograd_tiny as at
    >>> grad(at.sin)(0.0)
    1.0
    >>> grad(lambda x, y: x * y * y, argnums=1)(3.0, 2.0)
    12.0
    """
    value_and_grad_f = value_and_grad(f, argnums)

    @functools.wraps(f)
    def wrapped(*args: Any) -> Any:
        return value_and_grad_f(*args)[1]

    return wrapped


def hessian(f: Callable[..., Any]) -> Callable[..., list[list[Any]]]:
    """Return a function computing the matrix of second derivatives of ``f`` in all its arguments.

    One forward pass, one backward pass that builds a graph, then one plain
    backward pass per row.

    >>> hessian(lambda x, y: x * x * y)(3.0, 2.0)
    [[4.0, 6.0], [6.0, 0.0]]
    """

    @functools.wraps(f)
    def wrapped(*args: Any) -> list[list[Any]]:
        if not args:
            raise ValueError("hessian() needs at least one argument to differentiate")
        depth = _DEPTH.get()
        nested = depth > 0
        inputs = [a if isinstance(a, Value) else Value(a, label=f"arg{i}")
                  for i, a in enumerate(args)]
        token = _DEPTH.set(depth + 1)
        try:
            out = f(*inputs)
        finally:
            _DEPTH.reset(token)
        zeros = [0.0] * len(inputs)
        if not isinstance(out, Value):
            return [list(zeros) for _ in inputs]
        rows = []
        for first in gradients(out, inputs, create_graph=True):
            if not isinstance(first, Value):
                rows.append(list(zeros))
                continue
            row = gradients(first, inputs, create_graph=nested)
            rows.append(row if nested else [float(h) for h in row])
        return rows

    return wrapped
