"""Tracing: one call of a function on traced Values, recorded as a ``Graph`` (``ir``).

Owns ``TraceError`` (its public home is ``compiler``, which re-exports it),
the ``Tracer`` class, ``trace`` (the traced call itself) and ``split_result``
(what the function returned, as ``(loss, aux)``). Imports the engine, ``ir``
and ``branches``; ``codegen`` and the package's ``__init__`` import it.

A trace never touches the ``Value`` class or the user's Values: its inputs
are new ``Tracer`` objects (a ``Value`` subclass of this module), the
results of ops on them are Tracers too, and everything a trace needs to
know lives in context variables, so another thread (or asyncio task)
running eager code, or tracing, sees nothing of it. A ``params`` Value is
read like any other Value (its current ``.data``, never changed by the trace).

Reading a Tracer as a number (``<``, ``float()``, ``.data``) in the traced
function is a ``TraceError``: the function's op sequence could then depend
on the input values, which one trace cannot replay. Inside a derivative
rule that the function's own transforms run (``compile(grad(f))``), a
comparison is no error: ``branches`` runs the rule once per branch.

>>> graph = trace(lambda x, y: x * y + 1.0, [3.0, 4.0], [], False)
>>> graph.nodes
[('*', (0, 1), 12.0), ('', (), 1.0), ('+', (2, 3), 13.0)]
>>> trace(lambda x: x if x > 0 else -x, [1.0], [], False)
Traceback (most recent call last):
...
autograd_tiny.compiler.TraceError: compile() traced a function that compares a traced value ...
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Sequence
from typing import Any, Callable

from .. import engine
from ..engine import Value, clock, enable_grad, floor, reaches_older
from .branches import ORACLE, STATE, mask, plus, times, traced_rule
from .ir import Graph

__all__ = ["TraceError", "Tracer", "flatten", "number", "split_result", "trace", "unflatten"]


class TraceError(TypeError):
    """The traced function read a traced value as a number: its op sequence may depend on it."""

    __module__ = "autograd_tiny.compiler"  # its public home, in tracebacks and reprs


class _State:
    """What one trace knows: the params it may read, every Tracer it made. The engine
    asks it (``engine._TRACING``) to run a rule on Values and to compare a Value."""

    def __init__(self, params: Sequence[Value], decided: bool = False) -> None:
        self.params = {id(p) for p in params}
        # A decided trace (``branches``, "Decided traces") takes the branch the numbers
        # take and keeps each comparison as a guard; else a rule's branches are selects,
        # ``selects`` the nodes made for them, ``higher`` whether one was differentiated.
        self.decided = decided
        self.guards: list[tuple[Any, float]] = []
        self.selects: set[int] = set()
        self.higher = False
        self.made: list[Value] = []
        self._depends: dict[Value, bool] = {}
        # Masked values of a traced backward pass: node -> its flag (a node or a number,
        # > 0 where the branch it belongs to is taken). See ``branches``.
        self.flags: dict[Value, Any] = {}
        self._zero: Value | None = None

    def zero(self) -> Value:
        """A contribution on a side never taken (a mask whose flag is the constant 0): -0.0,
        which added to anything leaves it as it is. (A partial that is 0 by its rule,
        floor's, stays the number 0.0: eager multiplies it by its upstream gradient, and
        the sign of that zero can matter downstream, to atan2 or 1 / x.)"""
        if self._zero is None:
            zero = Tracer.__new__(Tracer)
            Value.__init__(zero, -0.0)
            self.made.append(zero)
            self.flags[zero] = 0.0
            self.selects.add(id(zero))
            self._zero = zero
        return self._zero

    def rule(
        self, rule: Callable[..., tuple[Any, ...]], operands: tuple[Value, ...]
    ) -> tuple[Any, ...]:
        return traced_rule(rule, operands)

    def view(self, value: Value) -> Value:
        """``value`` as a rule's operand: itself if a Tracer or a constant, else (a params
        Value, or a node computed from one) a Tracer ``identity`` of it, so that the
        rule's comparisons on it become nodes too."""
        if value.__class__ is not Value or not self.depends(value):
            return value  # a Tracer, a constant, or computed from constants only
        out: Value = Tracer.identity(value)
        return out

    def compare(self, value: Value, other: Any, op: str | None) -> bool:
        """A comparison (``op`` None: ``float()``) of a plain Value during the trace."""
        oracle = ORACLE.get()
        if oracle is not None and op is not None:  # in a rule: a branch, both sides traced
            return oracle.decide(getattr(engine, op)(self.view(value), other))
        if self.depends(value):
            _refuse(value)
        if op is None:
            return True
        right = other.data if isinstance(other, Value) else other
        return bool(getattr(operator, op)(value.data, right))

    def depends(self, value: Value) -> bool:
        """Whether ``value`` was computed from the trace's inputs: a params Value or a
        Tracer is it or among the nodes it was computed from."""
        known = self._depends.get(value)
        if known is None:
            known = any(
                isinstance(node, Tracer) or id(node) in self.params
                for node in engine.forward_order(value)
            )
            self._depends[value] = known
        return known


_DATA_SLOT = Value.__dict__["data"]
# Reading a Tracer's .data is the engine's business (it computes with it), never the traced
# function's: the files of the engine's modules.
_ENGINE_FILES = frozenset(
    getattr(engine, "_ENGINE_FILES", ())
    or {
        Value.__init__.__code__.co_filename,
        engine.local_partials.__code__.co_filename,
        engine.__file__,
        engine._ieee.__file__,
    }
)


def number(value: Value) -> float:
    """A Value's number, a Tracer's too: a compiled function called on an enclosing
    trace's values traces itself on their numbers (its constants fold only from
    constants, so the replay never depends on them)."""
    return _DATA_SLOT.__get__(value)


def _refuse(value: Value) -> None:
    named = f" ({value.label})" if value.label else ""
    raise TraceError(
        f"compile() traced a function that compares a traced value{named} or reads it as "
        "a number (<, max, float(), .data...); its operations may then depend on the "
        "input values, and one trace cannot replay that. Use the eager engine for "
        "this function, or pass that input as a constant."
    )


class Tracer(Value):
    """A Value during a trace: results of ops on it are Tracers; reading it as a number is a
    ``TraceError`` (inside a rule, a comparison is a branch: see the module docstring)."""

    __slots__ = ()

    def _refuse(self, *args: Any) -> Any:
        _refuse(self)

    def _compare(self, other: Any, op: Callable[..., Any]) -> bool:
        oracle = ORACLE.get()
        if oracle is None:
            return bool(self._refuse())
        return oracle.decide(op(self, other))

    def __lt__(self, other: Any) -> bool:
        return self._compare(other, engine.lt)

    def __le__(self, other: Any) -> bool:
        return self._compare(other, engine.le)

    def __gt__(self, other: Any) -> bool:
        return self._compare(other, engine.gt)

    def __ge__(self, other: Any) -> bool:
        return self._compare(other, engine.ge)

    def __eq__(self, other: object) -> bool:  # x == 0 in a rule is a branch too
        return self._compare(other, engine.eq)

    def __ne__(self, other: object) -> bool:
        return self._compare(other, engine.ne)

    def __floor__(self) -> Any:  # the % rule's floor(x / y): a constant to eager
        out = floor(self)
        state = STATE.get()
        if state is None or ORACLE.get() is None:
            return out
        if state.decided:  # eager's constant, guarded (``branches``, "Decided traces")
            number = _DATA_SLOT.__get__(out)
            state.guards.append((out, number))
            return number
        state.selects.add(id(out))
        return out

    def _read_data(self) -> float:
        if sys._getframe(1).f_code.co_filename not in _ENGINE_FILES:
            self._refuse()
        return _DATA_SLOT.__get__(self)

    def _write_data(self, value: float) -> None:
        _DATA_SLOT.__set__(self, value)

    data = property(_read_data, _write_data)
    __float__ = __bool__ = __int__ = __index__ = _refuse
    __hash__ = object.__hash__

    def backward(self, gradient: Any = 1.0) -> None:
        raise TraceError(
            "compile() traced a function that calls .backward(), whose .grad numbers a "
            "replay cannot recompute; use grad() or gradients() inside the function instead"
        )


def _keep_tracing(method: Callable[..., Any]) -> Callable[..., Any]:
    """A Value method whose new result node becomes a Tracer, recorded in the trace."""

    def traced(*args: Any, **kwargs: Any) -> Any:
        out = method(*args, **kwargs)
        if out.__class__ is Value:
            out.__class__ = Tracer  # a node made just now, by this trace
            state = STATE.get()
            if state is not None:
                state.made.append(out)
        return out

    traced.__name__ = method.__name__
    return traced


_NOT_WRAPPED = {
    "__init__",
    "__float__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__eq__",
    "__ne__",
    "__hash__",
    "__repr__",
    "backward",
    "__new__",
    "__getattribute__",
    "__setattr__",
    "__delattr__",
    "__init_subclass__",
    "__class__",
    "__floor__",
}
for _name, _attr in list(vars(Value).items()):
    if callable(_attr) and not isinstance(_attr, type) and _name not in _NOT_WRAPPED:
        setattr(Tracer, _name, _keep_tracing(_attr))

_MUL, _RMUL = Tracer.__mul__, Tracer.__rmul__
_ADD, _RADD = Tracer.__add__, Tracer.__radd__
_APPLY = Tracer._apply


def _tracer_mul(self: Value, other: Any) -> Any:
    return times(self, other, _MUL)


def _tracer_rmul(self: Value, other: Any) -> Any:
    return times(self, other, _RMUL)


def _tracer_add(self: Value, other: Any) -> Any:
    return plus(self, other, _ADD)


def _tracer_radd(self: Value, other: Any) -> Any:
    return plus(self, other, _RADD)


def _tracer_apply(self: Value, op: str, operands: Sequence[Any]) -> Any:
    out = _APPLY(self, op, operands)
    state = STATE.get()
    decided = state is not None and state.decided
    if op in ("if_true", "if_false") and ORACLE.get() is not None and not decided:
        condition = operands[0]  # a select's partial: masked as the select is
        flag = engine.gt(condition, 0.0)
        mask(out, flag if op == "if_true" else 1.0 - flag)
    return out


Tracer.__mul__ = _tracer_mul  # type: ignore[method-assign]
Tracer.__rmul__ = _tracer_rmul  # type: ignore[method-assign]
Tracer.__add__ = _tracer_add  # type: ignore[method-assign]
Tracer.__radd__ = _tracer_radd  # type: ignore[method-assign]
Tracer._apply = _tracer_apply  # type: ignore[method-assign]


def trace(
    f: Callable[..., Any],
    args: Sequence[float],
    params: Sequence[Value],
    has_aux: bool,
    decided: bool = False,
) -> Graph:
    """The ``Graph`` of one call of ``f`` on Tracers made from ``args`` (numbers).

    Its inputs are ``params`` then the arguments; its outputs the loss (or the
    flattened result, see ``flatten``) then the aux values. Every Tracer the call
    made is a plain Value again afterwards, wherever ``f`` kept it.

    A rule's branches become selects; ``decided``, they are taken as these numbers
    take them, and the graph's ``guards`` say which (``branches``, "Decided traces").
    The graph says whether the trace differentiated a select (``higher``) and whether
    an output that may be differentiated (the loss with ``has_aux``, else every one) is
    computed from one (``selects``).
    """
    birth = clock()
    leaves: list[Value] = []
    for a in args:
        leaf = Tracer.__new__(Tracer)
        Value.__init__(leaf, a)
        leaves.append(leaf)
    state = _State(params, decided)
    token = STATE.set(state)
    hook = engine._TRACING.set(state)
    try:
        with enable_grad():  # an outer no_grad would record nothing
            out = f(*leaves)
    finally:
        engine._TRACING.reset(hook)
        STATE.reset(token)
        for node in (*state.made, *leaves):
            node.__class__ = Value  # plain Values again, wherever f kept them
    root, aux = split_result(f, out, has_aux)
    outputs = [root, *(aux or ())] if has_aux else flatten(root)
    conditions = [condition for condition, _ in state.guards]
    graph = Graph.from_values([*params, *leaves], [*outputs, *conditions])
    if conditions:  # a decided trace: the comparisons it decided are guards, not outputs
        graph.guards = tuple(zip(graph.outputs[len(outputs) :], (t for _, t in state.guards)))
        graph.outputs = graph.outputs[: len(outputs)]
    graph.higher = state.higher
    differentiable = outputs[:1] if has_aux else outputs  # what a transform may differentiate
    graph.selects = any(
        id(node) in state.selects
        for out in differentiable
        if isinstance(out, Value)
        for node in engine.forward_order(out)
    )
    if not has_aux and not _is_scalar(root):
        graph.shape = unflatten(root, [0.0] * len(outputs))
    _refuse_closed_over(f, outputs, birth, params)
    return graph


def _refuse_closed_over(
    f: Callable[..., Any], outputs: Sequence[Any], birth: int, params: Sequence[Value]
) -> None:
    """A Value made before the trace and not in ``params`` would be frozen at its
    current value by the replay: refuse it, naming it, rather than replay silently."""
    allowed = set(map(id, params))
    for out in outputs:
        if not isinstance(out, Value) or not reaches_older(engine.forward_order(out), birth):
            continue
        for node in engine.forward_order(out):
            if node._x is None and node._born < birth and id(node) not in allowed:
                name = f" {node.label!r}" if node.label else ""
                raise TraceError(
                    f"compile() traced {getattr(f, '__name__', 'f')}, which reads the "
                    f"Value{name} {node!r} from outside its arguments; a replay would keep "
                    f"its value from this trace. Pass it as an argument, or list it in "
                    f"compile(..., params=[...]) so that every call reads its current .data."
                )


def _kind(x: Any) -> str:
    """How an error message names a returned object (a tracer is a Value to the user)."""
    if isinstance(x, Value):
        return "Value"
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {len(x)} item{'' if len(x) == 1 else 's'}"
    return type(x).__name__


def _is_scalar(x: Any) -> bool:
    return isinstance(x, (Value, int, float)) and not isinstance(x, bool)


def flatten(out: Any) -> list[Any]:
    """The scalars of a result that is a scalar or nested tuples/lists of them, in order."""
    if _is_scalar(out):
        return [out]
    if isinstance(out, (tuple, list)):
        return [leaf for item in out for leaf in flatten(item)]
    raise TypeError(
        f"a compiled function must return scalar Values or numbers, or "
        f"tuples or lists of them, got {_kind(out)}"
    )


def unflatten(like: Any, values: Sequence[Any]) -> Any:
    """``values`` put back in the shape of ``like`` (what ``flatten`` took apart)."""
    position = 0

    def build(item: Any) -> Any:
        nonlocal position
        if _is_scalar(item):
            position += 1
            return values[position - 1]
        return type(item)(build(x) for x in item)

    return build(like)


def split_result(
    f: Callable[..., Any], out: Any, has_aux: bool
) -> tuple[Any, tuple[Any, ...] | None]:
    """(result, aux) from what ``f`` returned (aux None without ``has_aux``), or a TypeError.

    Without ``has_aux`` the result may be a scalar or nested tuples/lists of scalars
    (``compile(jacobian(f))``); with it, a scalar loss and a tuple or list of scalars.
    """
    name = getattr(f, "__name__", "f")
    if not has_aux:
        try:
            flatten(out)
        except TypeError:
            raise TypeError(
                f"{name} must return a scalar Value or number, or tuples or "
                f"lists of them, to be compiled; got {_kind(out)}"
            ) from None
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError(
            f"{name} must return a pair (loss, aux) with has_aux=True, got {_kind(out)}"
        )
    loss, aux = out
    if not _is_scalar(loss):
        raise TypeError(
            f"{name} returned (loss, aux) with a loss that is not a scalar Value "
            f"or number: {_kind(loss)}"
        )
    if not isinstance(aux, (tuple, list)):
        raise TypeError(
            f"{name} returned (loss, aux) with an aux that is not a tuple or list "
            f"of Values or numbers: {_kind(aux)}"
        )
    for i, a in enumerate(aux):
        if not _is_scalar(a):
            raise TypeError(
                f"{name} returned (loss, aux) with aux[{i}] not a Value or number: {_kind(a)}"
            )
    return loss, tuple(aux)
