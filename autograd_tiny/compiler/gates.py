"""A rule's partials as source trees, with their branches: what the backward pass gates.

``symbolic_partials`` runs a rule of ``RULES`` on ``symbolic``'s expressions, once
per branch it takes (a comparison asks an oracle), and joins the branches' partials
into ``If`` trees. ``times``, ``alternatives``, ``peel`` and ``conditional_source``
take such a tree apart for ``codegen``: the branches where a contribution is not 0
become the ``if`` blocks of the generated backward pass. Imports the engine and
``symbolic``; ``codegen`` imports it.

>>> from autograd_tiny.compiler.symbolic import Expr
>>> x, out = Expr("x"), Expr("out")
>>> [source(p) for p in symbolic_partials("tanh", [x, out])]
['1.0 - out * out']
>>> [conditional_source(p) for p in symbolic_partials("relu", [x, out])]
['(0.0 if x <= 0.0 else (1.0 if x > 0.0 else _exp(x)))']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Union

from ..engine import RULES
from .branches import Oracle, every_branch
from .symbolic import NAMESPACE, Expr, source

__all__ = [
    "If",
    "Local",
    "alternatives",
    "conditional_source",
    "peel",
    "symbolic_partials",
    "times",
]


Local = Union[float, Expr, "If"]


class If:
    """A local derivative with a branch: ``then if condition else otherwise``."""

    def __init__(self, condition: str, then: Local, otherwise: Local) -> None:
        self.condition, self.then, self.otherwise = condition, then, otherwise


def _same(a: Local, b: Local) -> bool:
    if isinstance(a, Expr) and isinstance(b, Expr):
        return a.src == b.src
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, If) and isinstance(b, If):
        return (
            a.condition == b.condition and _same(a.then, b.then) and _same(a.otherwise, b.otherwise)
        )
    return False


def symbolic_partials(op: str, operands: Sequence[Any]) -> tuple[Local, ...]:
    """Run RULES[op] on expressions, once per branch it takes: its partials as source trees."""
    rule = RULES[op]

    def run(oracle: Oracle) -> tuple[Local, ...]:
        args = [a.with_oracle(oracle) if isinstance(a, Expr) else a for a in operands]
        try:
            partials = rule(*args)
        except ArithmeticError:  # e.g. 1/y with y the constant 0: the forward pass falls back
            partials = tuple(Expr("_zero_division()") for _ in operands[:-1])
        return tuple(p if isinstance(p, Expr) else float(p) for p in partials)

    def join(condition: str, a: Local, b: Local) -> Local:
        return a if _same(a, b) else If(condition, a, b)

    return every_branch(run, join)


def _zero_division() -> float:
    raise ZeroDivisionError("division by zero in a derivative")


NAMESPACE["_zero_division"] = _zero_division


def times(local: Local, upstream: Any) -> Local:
    """local * upstream through the branches of ``local``; 0 stays the float 0."""
    if isinstance(local, If):
        return If(local.condition, times(local.then, upstream), times(local.otherwise, upstream))
    if isinstance(local, float) and local == 0.0:
        return 0.0
    return local * upstream


def alternatives(local: Local) -> list[tuple[tuple[str, ...], Any]]:
    """The non-zero leaves of a branch tree with the conditions that lead to each."""
    if isinstance(local, If):
        return [((local.condition, *c), e) for c, e in alternatives(local.then)] + [
            ((f"not ({local.condition})", *c), e) for c, e in alternatives(local.otherwise)
        ]
    if isinstance(local, float) and local == 0.0:
        return []
    return [((), local)]


def peel(local: Local) -> tuple[tuple[str, ...], Local]:
    """The conditions under which ``local`` can be non-zero, and what is left of it
    once the branches that give 0 are peeled off (relu: ``not (x <= 0.0)``)."""
    conditions: tuple[str, ...] = ()
    while isinstance(local, If):
        if isinstance(local.then, float) and local.then == 0.0:
            conditions += (f"not ({local.condition})",)
            local = local.otherwise
        elif isinstance(local.otherwise, float) and local.otherwise == 0.0:
            conditions += (local.condition,)
            local = local.then
        else:
            break
    return conditions, local


def conditional_source(local: Local) -> str:
    if isinstance(local, If):
        return (
            f"({conditional_source(local.then)} if {local.condition} "
            f"else {conditional_source(local.otherwise)})"
        )
    return source(local)
