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

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable, Union

from hypothesis import strategies as st

from .engine import REGISTRY, RULES, Op

__all__ = [
    "DOMAINS",
    "OPS",
    "SMOOTH_OPS",
    "Expression",
    "arguments",
    "expression_cases",
    "expressions",
]


def interval(low: float, high: float) -> st.SearchStrategy[float]:
    """Finite floats in [low, high]."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def away_from_zero(low: float, high: float) -> st.SearchStrategy[float]:
    """Floats with low <= |x| <= high, either sign."""
    return st.one_of(interval(-high, -low), interval(low, high))


def _strategy(spec: tuple[float, ...]) -> st.SearchStrategy[float]:
    """An input's domain from the registry: (low, high), or (low, high, gap) with |x| >= gap."""
    if len(spec) == 2:
        return interval(*spec)
    low, high, gap = spec
    return st.one_of(interval(low, -gap), interval(gap, high))


class _FromRegistry(Mapping[str, Any]):
    """A read-only view of the op registry, so ops defined later (define_op) show up too."""

    def __init__(self, make: Callable[[Op], Any], needs_domain: bool) -> None:
        self._make, self._needs_domain = make, needs_domain

    def _ops(self) -> list[str]:
        return [
            name for name, op in REGISTRY.items() if not self._needs_domain or op.domain is not None
        ]

    def __getitem__(self, name: str) -> Any:
        if name not in self._ops():
            raise KeyError(name)
        return self._make(REGISTRY[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._ops())

    def __len__(self) -> int:
        return len(self._ops())


# Each op called by name on Values or numbers (the registry's function for it).
OPS: Mapping[str, Callable[..., Any]] = _FromRegistry(lambda op: op.function, False)

# Each op's inputs drawn inside its smooth domain (kinks such as relu at 0 excluded).
DOMAINS: Mapping[str, tuple[st.SearchStrategy[float], ...]] = _FromRegistry(
    lambda op: tuple(_strategy(spec) for spec in op.domain or ()), True
)


def arguments(op: str) -> st.SearchStrategy[tuple[float, ...]]:
    """Inputs for ``op`` where it is smooth: its ``DOMAINS`` and its ``smooth`` condition
    (no ties for maximum, no jumps for %)."""
    entry = REGISTRY[op]
    drawn = st.tuples(*DOMAINS[op])
    smooth = entry.smooth
    if smooth is None:
        return drawn
    return drawn.filter(lambda args: bool(smooth(*args)))


# Ops defined and smooth on every real input: safe to compose at random.
SMOOTH_OPS = ("+", "-", "*", "neg", "exp", "tanh", "sigmoid", "softplus", "sin", "cos", "identity")
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
