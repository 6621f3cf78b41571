"""Tracing for ``compiler``: one call of a function on Values that record its operations.

Owns ``TraceError`` (its public home is ``compiler``, which re-exports it),
the ``_Tracer`` Value subclass that refuses to be read as a number,
``trace_call`` (the traced call itself, which leaves a graph of plain Values),
``split_result`` (what the function returned, as ``(loss, aux)``) and
``forward_order_of`` (the nodes behind several outputs). Imports only the
engine; ``_codegen`` and ``compiler`` import it.

>>> loss, aux, leaves = trace_call(lambda x, y: x * y + 1.0, [3.0, 4.0], [], False)
>>> loss.op, loss.data, [leaf.data for leaf in leaves], aux
('+', 13.0, [3.0, 4.0], None)
>>> trace_call(lambda x: x if x > 0 else -x, [1.0], [], False)
Traceback (most recent call last):
...
autograd_tiny.compiler.TraceError: compile() traced a function that compares a traced value ...
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Sequence
from typing import Any, Callable

from .engine import Value, clock, forward_order

__all__ = ["TraceError", "forward_order_of", "split_result", "trace_call"]


class TraceError(TypeError):
    """The traced function read a traced value as a number: its op sequence may depend on it."""

    __module__ = "autograd_tiny.compiler"  # its public home, in tracebacks and reprs


_DATA_SLOT = Value.__dict__["data"]
_ENGINE_FILE = Value.__init__.__code__.co_filename  # where reading .data is the engine's business


class _Tracer(Value):
    """A Value during tracing: results stay _Tracers; reading one as a number is an error."""

    __slots__ = ()

    def _refuse(self, *args: Any) -> Any:
        named = f" ({self.label})" if self.label else ""  # a model's parameter has its name
        raise TraceError(
            f"compile() traced a function that compares a traced value{named} or reads it as "
            "a number (<, max, float(), .data...); its operations may then depend on the "
            "input values, and one trace cannot replay that. Use the eager engine for "
            "this function, or pass that input as a constant."
        )

    def _read_data(self) -> float:
        if sys._getframe(1).f_code.co_filename != _ENGINE_FILE:
            self._refuse()
        return _DATA_SLOT.__get__(self)

    def _write_data(self, value: float) -> None:
        _DATA_SLOT.__set__(self, value)

    data = property(_read_data, _write_data)
    __lt__ = __le__ = __gt__ = __ge__ = __float__ = __bool__ = __int__ = __index__ = _refuse
    __eq__ = __ne__ = _refuse  # x == 0 in a rule is a branch too
    __hash__ = object.__hash__


_NOT_TRACED = {"__init__", "__float__", "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__",
               "__hash__", "backward"}


# Every tracer the current trace made (a context variable: another thread's trace has its
# own), so that all of them are plain Values again afterwards, even those the traced
# function kept outside its result (in a list, say).
_MADE: contextvars.ContextVar[list[Value] | None] = contextvars.ContextVar(
    "autograd_tiny_traced", default=None)


def _keep_tracing(method: Callable[..., Any]) -> Callable[..., Any]:
    def traced(*args: Any, **kwargs: Any) -> Any:
        out = method(*args, **kwargs)
        if out.__class__ is Value:
            out.__class__ = _Tracer
            made = _MADE.get()
            if made is not None:
                made.append(out)
        return out
    traced.__name__ = method.__name__
    return traced


for _name, _attr in list(vars(Value).items()):
    if callable(_attr) and not isinstance(_attr, type) and _name not in _NOT_TRACED \
            and not (_name.startswith("__") and _name.endswith("__") and _name[2:-2] in
                     {"new", "getattribute", "setattr", "delattr", "init_subclass", "class"}):
        setattr(_Tracer, _name, _keep_tracing(_attr))


def trace_call(f: Callable[..., Any], args: Sequence[Any], params: Sequence[Value],
               has_aux: bool) -> tuple[Any, tuple[Any, ...] | None, list[Value]]:
    """(loss, aux, leaves) of one call of ``f`` on traced Values made from ``args``.

    ``params`` are traced for the call too; afterwards every node of the
    graph, params and leaves included, is a plain Value again.
    """
    birth = clock()
    leaves = []
    for a in args:
        leaf = Value(a)
        leaf.__class__ = _Tracer
        leaves.append(leaf)
    for p in params:
        p.__class__ = _Tracer
    made: list[Value] = []
    token = _MADE.set(made)
    try:
        out = f(*leaves)
    finally:
        _MADE.reset(token)
        for node in (*params, *made, *leaves):
            node.__class__ = Value  # plain Values again, wherever f kept them
    root, aux = split_result(f, out, has_aux)
    order = forward_order_of(root, *(aux or ()))
    for node in order:
        node.__class__ = Value
    _refuse_closed_over(f, order, birth, params)
    return root, aux, leaves


def _refuse_closed_over(f: Callable[..., Any], order: Sequence[Value], birth: int,
                        params: Sequence[Value]) -> None:
    """A Value made before the trace and not in ``params`` would be frozen at its
    current value by the replay: refuse it, naming it, rather than replay silently."""
    allowed = set(map(id, params))
    for node in order:
        if node._x is None and node._born < birth and id(node) not in allowed:
            name = f" {node.label!r}" if node.label else ""
            raise TraceError(
                f"compile() traced {getattr(f, '__name__', 'f')}, which reads the Value{name} "
                f"{node!r} from outside its arguments; a replay would keep its value from "
                f"this trace. Pass it as an argument, or list it in compile(..., params=[...]) "
                f"so that every call reads its current .data."
            )


def forward_order_of(*outputs: Any) -> list[Value]:
    """``forward_order`` of several outputs at once: each node once, inputs before users."""
    order: list[Value] = []
    seen: set[int] = set()
    for out in outputs:
        if isinstance(out, Value):
            for node in forward_order(out):
                if id(node) not in seen:
                    seen.add(id(node))
                    order.append(node)
    return order


def _kind(x: Any) -> str:
    """How an error message names a returned object (a tracer is a Value to the user)."""
    if isinstance(x, Value):
        return "Value"
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {len(x)} item{'' if len(x) == 1 else 's'}"
    return type(x).__name__


def _is_scalar(x: Any) -> bool:
    return isinstance(x, (Value, int, float)) and not isinstance(x, bool)


def split_result(f: Callable[..., Any], out: Any, has_aux: bool
                 ) -> tuple[Any, tuple[Any, ...] | None]:
    """(loss, aux) from what ``f`` returned (aux None without ``has_aux``), or a TypeError."""
    name = getattr(f, "__name__", "f")
    if not has_aux:
        if not _is_scalar(out):
            raise TypeError(f"{name} must return a scalar Value or number to be compiled, "
                            f"got {_kind(out)}")
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError(f"{name} must return a pair (loss, aux) with has_aux=True, "
                        f"got {_kind(out)}")
    loss, aux = out
    if not _is_scalar(loss):
        raise TypeError(f"{name} returned (loss, aux) with a loss that is not a scalar Value "
                        f"or number: {_kind(loss)}")
    if not isinstance(aux, (tuple, list)):
        raise TypeError(f"{name} returned (loss, aux) with an aux that is not a tuple or list "
                        f"of Values or numbers: {_kind(aux)}")
    for i, a in enumerate(aux):
        if not _is_scalar(a):
            raise TypeError(f"{name} returned (loss, aux) with aux[{i}] not a Value or "
                            f"number: {_kind(a)}")
    return loss, tuple(aux)
