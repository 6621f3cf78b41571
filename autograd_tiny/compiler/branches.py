"""A rule's branches in a trace: comparisons become nodes, branches become selects.

When a traced function differentiates (``compile(grad(f))``), the engine runs
derivative rules on traced values, and a rule may branch (relu's ``x > 0``).
``traced_rule`` runs such a rule once per branch: each comparison becomes a
comparison node (``gt``...) and the partials of the two sides are joined by
``where(c, a, b) = if_true(c, a) + if_false(c, b)``, so the traced form
computes both and each call selects the side its own numbers ask for.

Masks. Differentiated again, the untaken side would still pass on
contributions: -0.0 times an infinite partial (log'(0) in x ** y's untaken side)
is nan, where the eager rule never computed that side at all. So the selects a
rule makes, and every product and sum computed from them, are "masked": each
carries a flag, and a product with a masked factor is itself selected by the
flag (``if_true(flag, a * b)``), -0.0 on the untaken side whatever ``a * b`` is.
Added to anything, -0.0 changes nothing, bit for bit; on the taken side every
number is the eager one.

Decided traces. Selects make one trace right for every branch, but a backward
pass that is itself differentiated (``compile(hessian(f))``, or
``value_and_grad`` of ``compile(grad(f))``) then reaches the inputs through
the select chain, and adds the same terms as eager in another order (the order
eager takes depends on the branch it runs). So where a select would be
differentiated, the compiler traces again "decided": each comparison of a
rule is decided by the traced numbers, as eager decides it, and recorded as a
guard (``_State.guards``); the trace is then eager's own graph for those
branches, and the generated code checks the guards before it returns. (The one
number a rule computes from its operands' numbers rather than branching on them,
``%``'s ``floor(x / y)``, is a constant to eager: a decided trace takes it as one
and guards it too; a select trace makes it a node, which counts as a select.)

Owns the two context variables of a trace: ``STATE`` (the trace's state, set by
``tracing.trace``: its ``flags``, ``zero()`` and ``view()``) and ``ORACLE``
(the decisions of the rule being run). Imports only the engine; ``tracing``
imports it.
"""

from __future__ import annotations

import contextvars
import math
from typing import Any, Callable

from .. import engine
from ..engine import Value

__all__ = [
    "ORACLE",
    "STATE",
    "Deciding",
    "Oracle",
    "every_branch",
    "mask",
    "plus",
    "times",
    "traced_rule",
]

# The trace running in this context (``tracing._State``), and the oracle of the rule it runs.
STATE: contextvars.ContextVar[Any] = contextvars.ContextVar("autograd_tiny_trace", default=None)
ORACLE: contextvars.ContextVar[Any] = contextvars.ContextVar("autograd_tiny_oracle", default=None)
_CONSTANT = engine._CONSTANT_BIRTH  # the birth of a number an op wrapped


class Oracle:
    """Answers the comparisons of one run of a rule: first from ``decisions``, then True,
    recording each condition (a comparison node here, source text in ``gates``)."""

    def __init__(self, decisions: tuple[bool, ...]) -> None:
        self.decisions = decisions
        self.conditions: list[Any] = []

    def decide(self, condition: Any) -> bool:
        index = len(self.conditions)
        self.conditions.append(condition)
        return self.decisions[index] if index < len(self.decisions) else True


class Deciding:
    """The oracle of a decided trace: each comparison is decided by the numbers of the
    trace, as the eager engine decides it, and kept as a guard ``(condition, number)``:
    the comparison node and the number it must be (1.0 for a branch taken, else 0.0)."""

    def __init__(self, guards: list[tuple[Any, float]]) -> None:
        self.guards = guards

    def decide(self, condition: Any) -> bool:
        number = _DATA.__get__(condition)  # a comparison node: 1.0 or 0.0
        self.guards.append((condition, number))
        return bool(number > 0.0)


_DATA = Value.__dict__["data"]  # a Tracer's number, read the engine's way


def every_branch(
    run: Callable[[Oracle], tuple[Any, ...]], join: Callable[[Any, Any, Any], Any]
) -> tuple[Any, ...]:
    """A rule's partials over all its branches: ``run(oracle)`` runs it once, taking the
    branches the oracle decides; where a run met a new condition, the rule runs again
    on its other side and ``join(condition, then, otherwise)`` joins each partial."""

    def explore(decisions: tuple[bool, ...]) -> tuple[Any, ...]:
        oracle = Oracle(decisions)
        partials = run(oracle)
        if len(oracle.conditions) == len(decisions):
            return partials
        condition = oracle.conditions[len(decisions)]
        then = explore((*decisions, True))
        otherwise = explore((*decisions, False))
        return tuple(join(condition, a, b) for a, b in zip(then, otherwise))

    return explore(())


def _flag_of(x: Any) -> Any:
    state = STATE.get()
    return None if state is None or not isinstance(x, Value) else state.flags.get(x)


def mask(node: Any, flag: Any) -> Any:
    state = STATE.get()
    if state is not None and isinstance(node, Value):
        state.flags[node] = flag
        state.selects.add(id(node))
    return node


def _both(a: Any, b: Any) -> Any:
    """The flag of a product: taken where both are (a missing flag is always taken)."""
    if a is None:
        return b
    if b is None:
        return a
    return a * b


def times(a: Any, b: Any, multiply: Callable[[Any, Any], Any]) -> Any:
    fa, fb = _flag_of(a), _flag_of(b)
    if fa is None and fb is None:
        return multiply(a, b)
    flag = _both(fa, fb)
    state = STATE.get()
    assert state is not None
    if type(flag) is float and flag == 0.0:
        return state.zero()
    return mask(engine.if_true(flag, multiply(a, b)), flag)


def plus(a: Any, b: Any, add: Callable[[Any, Any], Any]) -> Any:
    fa, fb = _flag_of(a), _flag_of(b)
    if fa is None or fb is None:
        if type(fa) is float and fa == 0.0 and isinstance(b, Value):
            return b  # b + -0.0 is b
        if type(fb) is float and fb == 0.0 and isinstance(a, Value):
            return a
        return add(a, b)
    if type(fa) is float and fa == 0.0:
        return b
    if type(fb) is float and fb == 0.0:
        return a
    return mask(add(a, b), fa + fb)


def _same(a: Any, b: Any) -> bool:
    """Whether two partials from two runs of a rule compute the same thing: the same
    number (bit for bit), or the same ops on the same inputs (a branch that makes no
    difference, as ``x ** 2.0``'s ``x == 0 and y == 0`` when y is not 0)."""
    pending, checked = [(a, b)], set()
    while pending:
        a, b = pending.pop()
        if a is b or (id(a), id(b)) in checked:
            continue
        checked.add((id(a), id(b)))
        if isinstance(a, Value) and isinstance(b, Value):
            if a._x is None or b._x is None:  # leaves: the same one, or equal constants
                if not (
                    a._x is None
                    and b._x is None
                    and a._born == b._born == _CONSTANT
                    and _same_number(a.data, b.data)
                ):
                    return False
                continue
            if a.op != b.op or (a._y is None) != (b._y is None):
                return False
            pending.append((a._x, b._x))
            if a._y is not None:
                pending.append((a._y, b._y))
        elif not (type(a) is float and type(b) is float and _same_number(a, b)):
            return False
    return True


def _same_number(a: float, b: float) -> bool:
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def traced_rule(
    rule: Callable[..., tuple[Any, ...]], operands: tuple[Value, ...]
) -> tuple[Any, ...]:
    """The engine's rule hook: a rule on Values, its branches joined by ``where`` nodes."""
    state = STATE.get()
    views = tuple(state.view(v) for v in operands)
    if state.decided:  # the branch the numbers take, as eager: no select, a guard
        token = ORACLE.set(Deciding(state.guards))
        try:
            return tuple(rule(*views))
        finally:
            ORACLE.reset(token)
    if id(operands[-1]) in state.selects:  # a select differentiated: see "Decided traces"
        state.higher = True

    def run(oracle: Oracle) -> tuple[Any, ...]:
        token = ORACLE.set(oracle)
        try:
            return tuple(rule(*views))
        finally:
            ORACLE.reset(token)

    def join(condition: Value, a: Any, b: Any) -> Any:
        return a if _same(a, b) else _where(condition, a, b)

    return every_branch(run, join)


def _where(condition: Value, then: Any, otherwise: Any) -> Any:
    """``where(condition, then, otherwise)`` of a rule's branch (condition 1.0 or 0.0),
    each side masked by its flag."""
    taken = mask(engine.if_true(condition, then), condition)
    other = mask(engine.if_false(condition, otherwise), 1.0 - condition)
    total = taken + other
    state = STATE.get()
    state.flags.pop(total, None)  # one side is always taken: the sum needs no mask
    state.selects.add(id(total))
    return total
