"""Display names of graph nodes, shared by ``viz`` (pictures) and ``explain`` (tables).

Imports only the engine, for types.
"""

from __future__ import annotations

from .engine import Value

__all__ = ["node_names"]


def node_names(order: list[Value]) -> dict[Value, str]:
    """Each node's name in pictures and tables: its label, or ``n<i>`` for its place.

    ``order`` is ``reverse_topological_order(root)``, so ``n0`` is the root.
    A name never stands for two nodes: a label already taken (by a node
    earlier in ``forward_order`` with the same label, or by the auto name of
    an unlabelled node) gets the first free ``#2``, ``#3``...

    >>> from autograd_tiny.engine import reverse_topological_order
    >>> x, other_x = Value(1.0, label="x"), Value(2.0, label="x")
    >>> sorted(node_names(reverse_topological_order(x * other_x)).values())
    ['n0', 'x', 'x#2']
    """
    names = {node: f"n{i}" for i, node in enumerate(order) if not node.label}
    taken = set(names.values())
    for node in reversed(order):  # the first in forward_order keeps its label
        if node.label:
            name = node.label
            suffix = 2
            while name in taken:
                name = f"{node.label}#{suffix}"
                suffix += 1
            names[node] = name
            taken.add(name)
    return names
