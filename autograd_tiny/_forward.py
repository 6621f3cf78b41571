"""Forward mode's sweep, for ``functional.jvp``: tangents pushed through the ops in order.

Each node's tangent comes from its inputs' tangents and its local partials, the same
rule table as the backward pass (``local_partials``), visited once in the order the
ops ran. Imports only the engine; ``functional`` imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._checks import is_real
from .engine import Value, forward_order, local_partials

__all__ = ["_as_tuple", "_forward_order", "_push_tangents"]


def _as_tuple(items: Any, what: str) -> tuple[Any, ...]:
    if isinstance(items, Value) or is_real(items):
        return (items,)
    if isinstance(items, (tuple, list)):
        return tuple(items)
    raise TypeError(f"jvp {what} must be a number, a Value or a tuple of them, got {items!r}")


def _forward_order(roots: Sequence[Value]) -> list[Value]:
    """Every node the roots depend on, inputs before their users (``forward_order`` of many)."""
    order: list[Value] = []
    seen: set[Value] = set()
    for root in roots:
        for node in forward_order(root):
            if node not in seen:
                seen.add(node)
                order.append(node)
    return order


def _push_tangents(
    order: Sequence[Value], tangent: dict[Value, Any], create_graph: bool
) -> dict[Value, Any]:
    """Forward mode: each node's tangent from its inputs' tangents and its local partials.

    Visits ``order`` once, inputs first, as the ops ran; nodes that no seeded
    node reaches get no entry (their tangent is 0).
    """
    for node in order:
        x, y = node._x, node._y
        if x is None:
            continue
        dx = tangent.get(x)
        dy = None if y is None else tangent.get(y)
        if dx is None and dy is None:
            continue
        partials = local_partials(node, create_graph)
        if dx is None:
            tangent[node] = partials[1] * dy
        elif dy is None:
            tangent[node] = partials[0] * dx
        else:
            tangent[node] = partials[0] * dx + partials[1] * dy
    return tangent
