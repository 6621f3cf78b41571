"""backward()'s float fast path sums exactly as the chain-rule walk does, bit for bit.

The walk (``walk._propagate``) is what ``gradients``, ``detect_anomaly()`` and
``explain`` run; ``backward()`` outside ``detect_anomaly()`` runs ``_accumulate``,
which adds into ``.grad`` directly. Random graphs over every built-in op, with
nodes used many times, special values (inf, nan, signed zeros) and gradients
already present, must give the same bits both ways.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_tiny import Value, walk
from autograd_tiny.engine import REGISTRY
from autograd_tiny.explain import explain

BUILT_IN = sorted(name for name, op in REGISTRY.items() if op.builtin)

NUMBERS = st.one_of(
    st.floats(-3.0, 3.0),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, math.inf, -math.inf, math.nan]),
    st.floats(),
)
# A .grad holding -0.0 before the pass is the one documented exception (see
# walk._backward_into_grad): there the two may end with zeros of opposite signs.
PRIORS = st.one_of(st.just(0.0), NUMBERS.filter(lambda g: math.copysign(1.0, g) > 0 or g != 0))


def bits(x: float) -> str:
    """The float's bits; every nan alike (IEEE leaves a nan's sign to the hardware: x86's
    0 * inf is -nan, and which nan an addition of two passes on depends on their order)."""
    return "nan" if x != x else struct.pack("<d", x).hex()


@st.composite
def graphs(draw: st.DrawFn) -> tuple[list[float], list[tuple[Any, ...]]]:
    """Leaves' numbers and steps; each step makes one node from earlier ones (by index)."""
    leaves = draw(st.lists(NUMBERS, min_size=1, max_size=4))
    steps: list[tuple[Any, ...]] = []
    for _ in range(draw(st.integers(1, 20))):
        size = len(leaves) + len(steps)
        node = st.integers(0, size - 1)
        if draw(st.integers(0, 5)) == 0:  # one node used many times: a sum of k copies
            steps.append(("fan", draw(node), draw(st.integers(2, 12))))
            continue
        op = draw(st.sampled_from(BUILT_IN))
        operands: list[Any] = [draw(node)]
        if REGISTRY[op].arity == 2:
            operands.append(draw(st.one_of(node, st.tuples(NUMBERS))))  # (x,): a constant
        if draw(st.booleans()):
            operands.reverse()
        steps.append((op, *operands))
    return leaves, steps


def build(leaves: list[float], steps: list[tuple[Any, ...]]) -> list[Value]:
    nodes = [Value(x) for x in leaves]

    def operand(spec: Any) -> Any:
        return spec[0] if isinstance(spec, tuple) else nodes[spec]

    for op, *operands in steps:
        if op == "fan":
            index, copies = operands
            out = nodes[index]
            for _ in range(copies - 1):
                out = out + nodes[index]
        else:
            args = [operand(spec) for spec in operands]
            if not any(isinstance(a, Value) for a in args):
                args[0] = Value(args[0])
            out = REGISTRY[op].function(*args)  # type: ignore[misc]
        nodes.append(out)
    return nodes


@settings(max_examples=400, deadline=None)
@given(case=graphs(), data=st.data())
def test_the_fast_path_and_the_walk_give_the_same_bits(case, data) -> None:
    leaves, steps = case
    seed = data.draw(NUMBERS, label="seed")
    size = len(walk.reverse_topological_order(build(leaves, steps)[-1]))
    priors = data.draw(st.lists(PRIORS, min_size=size, max_size=size), label="priors")
    runs = []
    for how in ("fast", "walk", "explain"):
        nodes = build(leaves, steps)
        root = nodes[-1]
        order = walk.reverse_topological_order(root)
        for node, prior in zip(order, priors):
            node.grad = prior
        if how == "fast":
            root.backward(seed)
        elif how == "walk":
            walk._add_adjoints(order, walk._propagate(order, seed, create_graph=False))
        else:
            explain(root, seed)
        runs.append([bits(node.grad) for node in order])
    assert runs[0] == runs[1] == runs[2]


def test_a_node_used_many_times_sums_its_contributions_in_the_walks_order() -> None:
    # (0.1 + 0.2) + 0.3 and 0.1 + (0.2 + 0.3) differ in the last bit: the order shows.
    x = Value(1.0)
    root = x * 0.1 + x * 0.2 + x * 0.3
    root.backward()
    order = walk.reverse_topological_order(root)
    assert bits(x.grad) == bits(walk._propagate(order, 1.0, create_graph=False)[x])


def test_a_negative_zero_seed_reaches_the_root_as_in_the_walk() -> None:
    root = Value(2.0) * 3.0
    root.backward(-0.0)
    assert bits(root.grad) == bits(0.0 + -0.0)


def test_the_walk_reports_every_edge_in_order() -> None:
    x = Value(3.0)
    y = x * x + x
    seen: list[tuple[str, float, float]] = []
    walk._propagate(
        walk.reverse_topological_order(y),
        1.0,
        False,
        lambda node, parent, local, upstream, contribution, total: seen.append(
            (node.op, contribution, total)
        ),
    )
    assert seen == [("+", 1.0, 1.0), ("+", 1.0, 1.0), ("*", 3.0, 4.0), ("*", 3.0, 7.0)]
    assert walk.gradients(y, [x]) == [7.0]
