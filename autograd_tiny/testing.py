"""Hypothesis strategies over the derivative table, for property tests of gradients.

Imports the engine and `hypothesis` (a test dependency: import this module
only in tests). The project's own tests use it, and so can yours:

>>> from hypothesis import given, settings
>>> from autograd_tiny.gradcheck import check_grad
>>> @settings(max_examples=20)
... @given(case=expression_cases())
... def test_random_expressions(case):
...     expression, args = case
...     check_grad(expression, *args, rtol=1e-4, atol=1e-6)
>>> test_random_expressions()

``DOMAINS`` gives, for every op in ``RULES``, a strategy per input that stays
inside the op's smooth domain (kinks such as relu at 0 excluded), and ``OPS``
calls each op by name on Values or numbers.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, Union

from hypothesis import strategies as st

from .engine import (
    RULES,
    cos,
    exp,
    identity,
    leaky_relu,
    log,
    log1p,
    power,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    tanh,
)

__all__ = ["DOMAINS", "OPS", "SMOOTH_OPS", "Expression", "expression_cases", "expressions"]

OPS: dict[str, Callable[..., Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": power,
    "neg": operator.neg,
    "abs": abs,
    "exp": exp,
    "log": log,
    "log1p": log1p,
    "sqrt": sqrt,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "softplus": softplus,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "sin": sin,
    "cos": cos,
    "identity": identity,
}


def interval(low: float, high: float) -> st.SearchStrategy[float]:
    """Finite floats in [low, high]."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def away_from_zero(low: float, high: float) -> st.SearchStrategy[float]:
    """Floats with low <= |x| <= high, either sign."""
    return st.one_of(interval(-high, -low), interval(low, high))


DOMAINS: dict[str, tuple[st.SearchStrategy[float], ...]] = {
    "+": (interval(-10, 10), interval(-10, 10)),
    "-": (interval(-10, 10), interval(-10, 10)),
    "*": (interval(-10, 10), interval(-10, 10)),
    "/": (interval(-10, 10), away_from_zero(0.5, 10)),
    "**": (interval(0.2, 5), interval(-3, 3)),
    "neg": (interval(-10, 10),),
    "abs": (away_from_zero(0.01, 10),),
    "exp": (interval(-10, 5),),
    "log": (interval(0.05, 100),),
    "log1p": (interval(-0.9, 100),),
    "sqrt": (interval(0.05, 100),),
    "tanh": (interval(-5, 5),),
    "sigmoid": (interval(-15, 15),),
    "softplus": (interval(-15, 15),),
    "relu": (away_from_zero(0.01, 10),),
    "leaky_relu": (away_from_zero(0.01, 10), interval(0, 1)),
    "sin": (interval(-10, 10),),
    "cos": (interval(-10, 10),),
    "identity": (interval(-10, 10),),
}

# Ops defined and smooth on every real input: safe to compose at random.
SMOOTH_OPS = ("+", "-", "*", "neg", "exp", "tanh", "sigmoid", "softplus", "sin", "cos",
              "identity")
# Ops that need a positive operand get one through softplus(v) + offset.
_GUARDED_OPS = ("/", "**", "log", "log1p", "sqrt")

Operand = Union[int, float]  # an int names an earlier slot, a float is a constant


@dataclass(frozen=True)
class Expression:
    """A random straight-line program over the op table; call it like a function.

    Slots 0..n_inputs-1 hold the arguments; each step appends one slot.
    """

    n_inputs: int
    steps: tuple[tuple[str, tuple[Operand, ...]], ...]

    def __call__(self, *args: Any) -> Any:
        if len(args) != self.n_inputs:
            raise TypeError(f"{self} takes {self.n_inputs} arguments, got {len(args)}")
        slots = list(args)
        for op, operands in self.steps:
            values = [slots[o] if isinstance(o, int) else o for o in operands]
            slots.append(OPS[op](*values))
        return slots[-1]

    def __str__(self) -> str:
        def name(o: Operand) -> str:
            return (f"x{o}" if o < self.n_inputs else f"v{o}") if isinstance(o, int) else repr(o)

        lines = []
        for k, (op, operands) in enumerate(self.steps, start=self.n_inputs):
            lines.append(f"v{k} = {op}({', '.join(name(o) for o in operands)})")
        return "; ".join(lines) or "x0"

    __name__ = "expression"


@st.composite
def expressions(
    draw: st.DrawFn,
    max_inputs: int = 3,
    max_steps: int = 8,
    ops: Sequence[str] | None = None,
) -> Expression:
    """Random expression DAGs (nodes reused freely) over ``ops``.

    By default: every op smooth on all reals, plus ``/ ** log log1p sqrt``
    fed through ``softplus(v) + offset`` so they stay in their domains. Kinked
    ops (relu, abs, leaky_relu) are left out: a random input may sit on the kink.
    """
    chosen = tuple(ops) if ops is not None else SMOOTH_OPS + _GUARDED_OPS
    unknown = [op for op in chosen if op not in RULES]
    if unknown:
        raise ValueError(f"expressions(): unknown ops {unknown}; choose from {sorted(RULES)}")
    n_inputs = draw(st.integers(1, max_inputs))
    steps: list[tuple[str, tuple[Operand, ...]]] = []

    def slot() -> int:
        return draw(st.integers(0, n_inputs + len(steps) - 1))

    def positive(offset: float) -> int:
        steps.append(("softplus", (slot(),)))
        steps.append(("+", (n_inputs + len(steps) - 1, offset)))
        return n_inputs + len(steps) - 1

    for _ in range(draw(st.integers(1, max_steps))):
        op = draw(st.sampled_from(chosen))
        if op in ("log", "log1p", "sqrt"):
            steps.append((op, (positive(0.1),)))
        elif op == "/":
            numerator = slot()
            steps.append((op, (numerator, positive(0.5))))
        elif op == "**":
            base = positive(0.5)
            exponent = draw(st.one_of(interval(-2, 3), st.integers(0, n_inputs - 1)))
            steps.append((op, (base, exponent)))
        else:
            arity = RULES[op].__code__.co_argcount - 1
            steps.append((op, tuple(slot() for _ in range(arity))))
    return Expression(n_inputs, tuple(steps))


@st.composite
def expression_cases(
    draw: st.DrawFn, max_inputs: int = 3, max_steps: int = 8, low: float = -2.0, high: float = 2.0
) -> tuple[Expression, tuple[float, ...]]:
    """An ``(expression, arguments)`` pair with arguments drawn from [low, high]."""
    expression = draw(expressions(max_inputs=max_inputs, max_steps=max_steps))
    args = tuple(draw(interval(low, high)) for _ in range(expression.n_inputs))
    return expression, args
