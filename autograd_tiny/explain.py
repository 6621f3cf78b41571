"""The backward pass as a list of steps, one per edge, with a readable table.

This module imports only the engine (and ``_names``, the naming rule it shares
with viz); ``to_html`` loads ``_stepper``, which draws the page through viz, only
when called. Each step is one use of the chain rule:
an op node passes its upstream gradient to one of its inputs, times the local
derivative from ``RULES``, and that input's running total grows by the
product. The steps are those of the engine's own chain-rule walk (``walk``), in
its order: ``reverse_topological_order`` (root first) and, within a node, its
inputs in order, exactly as ``Value.backward()`` walks them.

Nodes are called by their label, or ``n<i>`` for their place ``i`` in
``reverse_topological_order`` (``n0`` is the root), the same names
``draw_dot`` shows; ``node_names`` keeps every name to one node.

>>> from autograd_tiny import Value
>>> a = Value(2.0, label="a")
>>> b = a + a
>>> c = b + b
>>> print(explain(c))
step  node  op  input  local  upstream  contribution  total
   1  n0    +   n1         1         1             1      1
   2  n0    +   n1         1         1             1      2
   3  n1    +   a          1         2             2      2
   4  n1    +   a          1         2             2      4
>>> a.grad
4.0
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ._names import node_names
from .engine import (
    Value,
    _add_adjoints,
    _propagate,
    reverse_topological_order,
    to_float,
)

__all__ = ["Explanation", "Step", "explain", "node_names"]

COLUMNS = ("step", "node", "op", "input", "local", "upstream", "contribution", "total")


@dataclass(frozen=True)
class Step:
    """One edge of the backward pass: ``contribution = local * upstream``.

    ``total`` is the input's gradient accumulated so far in this pass (the
    ``.grad`` it had before the pass is not included).

    >>> from autograd_tiny import Value
    >>> x = Value(3.0, label="x")
    >>> step = explain(x * 2).steps[0]
    >>> step.input, step.local, step.upstream, step.contribution
    ('x', 2.0, 1.0, 2.0)
    """

    index: int
    node: str
    op: str
    input: str
    local: float
    upstream: float
    contribution: float
    total: float
    node_value: Value = field(repr=False, compare=False)
    input_value: Value = field(repr=False, compare=False)

    def row(self, digits: int = 6) -> tuple[str, ...]:
        """The step as table cells, numbers to ``digits`` significant digits."""
        numbers = (self.local, self.upstream, self.contribution, self.total)
        return (
            str(self.index),
            self.node,
            self.op,
            self.input,
            *(format(x + 0.0, f".{digits}g") for x in numbers),
        )


@dataclass(frozen=True)
class Explanation:
    """The steps of one backward pass, in order; ``str()`` gives the table.

    >>> from autograd_tiny import Value
    >>> steps = explain(Value(2.0).tanh())
    >>> len(steps), steps[0].op
    (1, 'tanh')
    """

    steps: tuple[Step, ...]
    root: str = "n0"
    seed: float = 1.0

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, index: int) -> Step:
        return self.steps[index]

    def table(self, digits: int = 6) -> str:
        """A plain-text table: step, node, op, input, local, upstream, contribution, total.

        >>> from autograd_tiny import Value
        >>> print(explain(Value(1.0, label="x")).table())
        step  node  op  input  local  upstream  contribution  total
        """
        rows = [COLUMNS, *(step.row(digits) for step in self.steps)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
        lines = []
        for row in rows:
            # Text columns (node, op, input) align left, numbers right.
            cells = [
                cell.ljust(width) if 1 <= i <= 3 or row is COLUMNS else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths))
            ]
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        count = len(self.steps)
        return f"<Explanation: {count} step{'' if count == 1 else 's'} from {self.root}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.table())

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """One self-contained HTML page that steps through this backward pass on its graph.

        Buttons and the arrow keys step forward and back; each step highlights
        its node, input and edge, shows local x upstream = contribution and
        the running gradient on every node, with the numbers of ``table()``.
        Nothing is loaded from the network. Writes the page to ``path`` when
        given (atomically); returns its text.

        >>> from autograd_tiny import Value
        >>> page = explain(Value(2.0, label="x") * 3).to_html()
        >>> page.startswith("<!DOCTYPE html>"), "http" in page.replace("http://www.w3.org", "")
        (True, False)
        """
        from . import _stepper  # draws through viz, which explain's table does not need

        if path is not None:
            return _stepper.write_page(self, path).read_text(encoding="utf-8")
        return _stepper.explanation_page(self)

    def _repr_html_(self) -> str:
        from . import _stepper

        return _stepper.explanation_html(self)


def explain(root: Value, gradient: Any = 1.0) -> Explanation:
    """Run ``root.backward(gradient)`` and return its steps, in order.

    Every ``.grad`` changes exactly as ``root.backward(gradient)`` changes it:
    the steps are the engine's own walk, each product kept (inside
    ``detect_anomaly()`` it raises at the first non-finite value, as backward does).

    >>> from autograd_tiny import Value
    >>> x = Value(3.0, label="x")
    >>> e = explain(x * x)
    >>> [(s.input, s.contribution, s.total) for s in e]
    [('x', 3.0, 3.0), ('x', 3.0, 6.0)]
    >>> x.grad
    6.0
    """
    if not isinstance(root, Value):
        raise TypeError(f"explain() needs a Value, got {type(root).__name__}")
    seed = gradient if type(gradient) is float else to_float(gradient, "explain(gradient)")
    order = reverse_topological_order(root)
    names = node_names(order)
    steps: list[Step] = []

    def record(
        node: Value, parent: Value, local: Any, upstream: Any, contribution: Any, total: Any
    ) -> None:
        steps.append(
            Step(
                len(steps) + 1,
                names[node],
                node.op,
                names[parent],
                float(local),
                float(upstream),
                float(contribution),
                float(total),
                node_value=node,
                input_value=parent,
            )
        )

    # The engine's own chain-rule walk (checked inside detect_anomaly()), keeping each step;
    # then what backward() adds: this pass's adjoint of every node, all or nothing.
    _add_adjoints(order, _propagate(order, seed, False, record))
    return Explanation(tuple(steps), root=names[root], seed=seed)
