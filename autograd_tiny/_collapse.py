"""Which nodes of a graph make up each neuron or layer, for ``draw_dot(..., collapse=...)``.

A unit is found from the names ``nn`` gives (read by ``_names.unit_of``): a
neuron's output (``layers[0].out[3]``) and the parameters of the same neuron
(``layers[0].weight[3][1]``, ``layers[0].bias[3]``). Its members are the nodes
between them: ancestors of the output, not beyond another unit's output, that
depend on one of the unit's parameters. A layer is the neurons of one layer
that read the same inputs (one point of a batch). Imports only the engine and
``_names``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._names import unit_of
from .engine import Value

__all__ = ["UNITS", "Unit", "find_units"]

UNITS = ("neuron", "layer")


@dataclass
class Unit:
    """One neuron or layer: drawn as a box named ``name``, standing for ``outputs``."""

    name: str
    outputs: list[Value]
    members: set[Value] = field(default_factory=set)  # outputs included
    parameters: set[Value] = field(default_factory=set)
    inputs: list[Value] = field(default_factory=list)  # outside nodes it reads, in order


def _neuron(output: Value, name: str, outputs: set[Value], position: dict[Value, int]) -> Unit:
    unit = Unit(name, [output])
    walked: list[Value] = []
    seen = {output}
    stack = [output]
    while stack:
        node = stack.pop()
        walked.append(node)
        for parent in node.parents:
            if parent in seen:
                continue
            seen.add(parent)
            if not parent.parents:
                if unit_of(parent.label, "neuron") == name:
                    unit.parameters.add(parent)
            elif parent not in outputs:
                stack.append(parent)
    for node in sorted(walked, key=position.__getitem__):  # parents before children
        if node is output or any(p in unit.parameters or p in unit.members for p in node.parents):
            unit.members.add(node)
    return unit


def _inputs(unit: Unit, position: dict[Value, int]) -> list[Value]:
    outside = {
        p
        for node in unit.members
        for p in node.parents
        if p not in unit.members and p not in unit.parameters
    }
    return sorted(outside, key=position.__getitem__)


def find_units(made: list[Value], unit: str) -> list[Unit]:
    """The units of the graph whose ``forward_order`` is ``made``, in that order.

    >>> from autograd_tiny import MLP
    >>> from autograd_tiny.engine import forward_order
    >>> out = MLP(2, [3, 1], seed=0)([1.0, 2.0])
    >>> [u.name for u in find_units(forward_order(out), "neuron")]
    ['layers[0] neuron 0', 'layers[0] neuron 1', 'layers[0] neuron 2', 'layers[1] neuron 0']
    >>> [(u.name, len(u.outputs)) for u in find_units(forward_order(out), "layer")]
    [('layers[0]', 3), ('layers[1]', 1)]
    """
    if unit not in UNITS:
        raise ValueError(f"unknown collapse: {unit!r} (must be one of {', '.join(UNITS)})")
    position = {node: i for i, node in enumerate(made)}
    outputs = {node for node in made if node.parents and unit_of(node.label, "neuron")}
    neurons: list[Unit] = []
    claimed: set[Value] = set()
    for node in made:
        if node in outputs:
            neuron = _neuron(node, str(unit_of(node.label, "neuron")), outputs, position)
            neuron.members -= claimed - {node}
            claimed |= neuron.members
            neuron.inputs = _inputs(neuron, position)
            neurons.append(neuron)
    if unit == "neuron":
        return neurons
    layers: dict[tuple[str, tuple[Value, ...]], Unit] = {}
    for neuron in neurons:
        key = (str(unit_of(neuron.outputs[0].label, "layer")), tuple(neuron.inputs))
        layer = layers.setdefault(key, Unit(key[0], [], inputs=neuron.inputs))
        layer.outputs += neuron.outputs
        layer.members |= neuron.members
        layer.parameters |= neuron.parameters
    return list(layers.values())
