"""The compiler's small intermediate form: a traced call as a list of ops over numbered slots.

A ``Graph`` is what a trace leaves behind once its Values are gone: slots
``0 .. inputs-1`` are the inputs (the ``params`` first, then the arguments);
every later slot is one node, in the order the engine's ``forward_order``
lists the traced graph (inputs before their users). A node is
``(op, parents, value)``: ``op`` a name from the op registry (``""`` for a
constant), ``parents`` the slots of its inputs, ``value`` its number at the
trace (what constant folding uses). ``outputs`` are the slots (or plain
numbers) the function returned; ``root_size`` the number of nodes that the
first output, the one differentiated, depends on: they come first, so the
backward pass walks ``nodes[root_size - 1::-1]`` exactly as the engine's
``reverse_topological_order`` would. Imports only the engine.

>>> from autograd_tiny.engine import Value
>>> x = Value(3.0); y = x * 2.0 + x
>>> graph = Graph.from_values([x], [y])
>>> graph.nodes
[('', (), 2.0), ('*', (0, 1), 6.0), ('+', (2, 0), 9.0)]
>>> graph.outputs, graph.root_size
((3,), 3)
>>> graph.replay([Value(5.0)])[0].data
15.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from ..engine import REGISTRY, Value, forward_order

__all__ = ["Graph", "Node"]

Node = tuple[str, tuple[int, ...], float]
Output = Union[int, float]  # a slot, or a number the function returned as it is


@dataclass
class Graph:
    """A traced call: inputs, nodes over numbered slots, outputs (see the module docstring)."""

    inputs: int
    nodes: list[Node] = field(default_factory=list)
    outputs: tuple[Output, ...] = ()
    root_size: int = 0
    labels: list[str] = field(default_factory=list)  # per input: a parameter's name, or ""
    shape: Any = None  # the result's nesting when it is not one scalar (0.0 for each scalar)
    # From the trace (``tracing.trace``): a decided trace's guards, (slot or number, the
    # number it must be: 1.0 where a comparison took its branch); whether the trace
    # differentiated a select (``higher``) and whether an output that a transform may
    # differentiate is computed from one (``selects``).
    guards: tuple[tuple[Output, float], ...] = ()
    higher: bool = False
    selects: bool = False

    @classmethod
    def from_values(cls, inputs: Sequence[Value], outputs: Sequence[Any]) -> Graph:
        """The graph of ``outputs`` (Values or numbers) as functions of ``inputs``.

        Every other leaf is a constant. Nodes are listed root first: the first
        output's ``forward_order``, then what the other outputs add.
        """
        graph = cls(len(inputs), labels=[v.label for v in inputs])
        slot: dict[int, int] = {id(v): i for i, v in enumerate(inputs)}
        nodes = graph.nodes
        for k, out in enumerate(outputs):
            if isinstance(out, Value):
                for node in forward_order(out):
                    if id(node) in slot:
                        continue
                    slot[id(node)] = graph.inputs + len(nodes)
                    parents = tuple(slot[id(p)] for p in node.parents)
                    nodes.append((node.op, parents, node.data))
            if k == 0:
                graph.root_size = len(nodes)
        graph.outputs = tuple(slot[id(o)] if isinstance(o, Value) else float(o) for o in outputs)
        return graph

    def replay(self, inputs: Sequence[Any]) -> list[Any]:
        """The outputs recomputed from ``inputs`` (Values or numbers) by the registry's
        functions: on Values, a graph of the same ops as the traced one, which every
        transform differentiates at any order."""
        slots: list[Any] = list(inputs)
        for (op, parents, value), live in zip(self.nodes, self.uses_input()[self.inputs :]):
            if not live:
                slots.append(value)  # a constant (folded at the trace, as the code is)
            else:
                function = REGISTRY[op].function
                assert function is not None
                slots.append(function(*[slots[p] for p in parents]))
        return [slots[o] if isinstance(o, int) else o for o in self.outputs]

    def uses_input(self) -> list[bool]:
        """Per slot: whether it depends on an input (else it is a constant, folded)."""
        live = [True] * self.inputs
        for _, parents, _ in self.nodes:
            live.append(any(live[p] for p in parents))
        return live
