"""The orders and the chain-rule walk that ``backward``, ``gradients``, ``detect_anomaly``
and ``explain`` share.

``reverse_topological_order`` lists the nodes the root depends on, each after every
node that uses it; ``local_partials`` asks ``RULES`` for a node's partials;
``_propagate`` is the chain rule: walking that order from the root, each node passes
``local * upstream`` to each of its inputs, whose adjoint sums what it receives. It
returns the adjoints (floats, or Values with ``create_graph``), checks each
contribution inside ``detect_anomaly()``, and can report every step to a caller
(``explain``). ``backward`` adds the adjoints to ``.grad``, all or nothing.

One float fast path stays beside it: ``_accumulate``, what ``backward()`` runs outside
``detect_anomaly()``, sums straight into the ``.grad`` attributes (3.5x faster than
the walk's dictionary of adjoints on bench's W1) in exactly the order ``_propagate``
sums, edge by edge;
``tests/test_walk.py`` checks that the two agree bit for bit on random graphs.

Import order: last of the engine's modules: it imports ``modes``, ``rules`` and
``value``; ``Value.backward`` imports ``backward`` from here when called.

>>> from autograd_tiny import Value
>>> x = Value(3.0)
>>> gradients(x * x, [x])
[6.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Callable

from . import modes
from .modes import _ANOMALY, _NO_GRAD, _ORIGIN
from .rules import RULES, to_float
from .value import Value

__all__ = ["backward", "forward_order", "gradients", "local_partials", "reverse_topological_order"]

# Read from the module, not imported by name (see value.py): ``local_partials`` calls
# ``_TRACING.get()`` once per node of a higher-order pass.
_MODE, _TRACING = modes._MODE, modes._TRACING


def forward_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, inputs before their users, first inputs first.

    A depth-first walk that lists a node once all its inputs are listed
    (post-order; iterative, so any depth works), going into each op's first
    input before its second. For code that builds its expression left to
    right, as ``(a * b) + c`` does, that is the order the code ran in.

    >>> a = Value(1.0, label="a"); b = Value(2.0, label="b"); c = a * b
    >>> [n.op or n.label for n in forward_order(c)]
    ['a', 'b', '*']
    """
    order: list[Value] = []
    seen: set[Value] = set()  # nodes whose inputs have been pushed
    stack: list[Value | None] = [root]  # None: "the node below has its inputs listed"
    while stack:
        node = stack.pop()
        if node is None:
            order.append(stack.pop())  # type: ignore[arg-type]
        elif node not in seen:
            seen.add(node)
            stack += (node, None)
            x = node._x
            if x is not None:
                y = node._y
                if y is not None and y not in seen:
                    stack.append(y)
                if x not in seen:
                    stack.append(x)  # popped first: x's inputs come first
    return order


def reverse_topological_order(root: Value) -> list[Value]:
    """``forward_order`` backwards: every node listed after all the nodes that use it.

    The order backpropagation visits nodes in, the root first: for code
    that builds left to right, the code read from its last line up.

    >>> a = Value(1.0, label="a"); b = a + a; c = b * 2
    >>> [n.op or n.label for n in reverse_topological_order(c)]
    ['*', '', '+', 'a']
    """
    order = forward_order(root)
    order.reverse()
    return order


def local_partials(node: Value, create_graph: bool = False) -> tuple[Any, ...]:
    """The local partial derivatives of ``node``'s op, one per input, from ``RULES``.

    Floats by default; Values (a differentiable graph) with ``create_graph=True``.

    >>> x, y = Value(3.0), Value(4.0)
    >>> local_partials(x * y)
    (4.0, 3.0)
    """
    x, y = node._x, node._y
    if x is None:
        raise ValueError(f"local_partials() needs the result of an op; {node!r} is a leaf")
    rule = RULES[node.op]
    if create_graph:
        tracing = _TRACING.get()
        if tracing is not None:  # compile is tracing: branches become select nodes
            return tracing.rule(rule, (x, node) if y is None else (x, y, node))
        return rule(x, node) if y is None else rule(x, y, node)
    try:
        if y is None:
            return rule(x.data, node.data)
        return rule(x.data, y.data, node.data)
    except ArithmeticError:  # e.g. log'(0) = 1/0: redo it on Values, whose math is IEEE's
        return _ieee_partials(rule, [p.data for p in node.parents], node.data)


def _ieee_partials(
    rule: Callable[..., tuple[Any, ...]], inputs: list[float], out: float
) -> tuple[float, ...]:
    """A rule evaluated on leaf Values (no graph, no anomaly check): IEEE results, 1/0 = inf."""
    token = _MODE.set(_NO_GRAD)
    try:
        return tuple(float(d) for d in rule(*[Value(v) for v in inputs], Value(out)))
    finally:
        _MODE.reset(token)


# What ``_propagate`` reports of each edge to ``on_step``:
# (node, input, local, upstream, contribution, the input's running total).
OnStep = Callable[[Value, Value, Any, Any, Any, Any], None]


def _propagate(
    order: list[Value], seed: Any, create_graph: bool, on_step: OnStep | None = None
) -> dict[Value, Any]:
    """Adjoints d(root)/d(node) * seed for every node in ``order`` (root first): the chain rule."""
    adjoint: dict[Value, Any] = {order[0]: seed}
    check = bool(_MODE.get() & _ANOMALY)
    for node in order:
        parents = node.parents
        if not parents:
            continue
        upstream = adjoint[node]
        for parent, local in zip(parents, local_partials(node, create_graph)):
            contribution = local * upstream
            if check and not math.isfinite(float(contribution)):
                where = _ORIGIN.get(
                    node, "an unknown place (build the graph inside detect_anomaly() to record it)"
                )
                raise FloatingPointError(
                    f"backward of {node.op} produced gradient {float(contribution)!r} "
                    f"for its input {parent!r} (inputs {', '.join(map(repr, parents))}; "
                    f"upstream gradient {float(upstream)!r}); the node was created at {where}"
                )
            total = adjoint[parent] + contribution if parent in adjoint else contribution
            adjoint[parent] = total
            if on_step is not None:
                on_step(node, parent, local, upstream, contribution, total)
    return adjoint


def backward(root: Value, gradient: Any = 1.0) -> None:
    """``root.backward(gradient)``: add d(root)/d(node) * gradient to every ``.grad`` below.

    Inside ``detect_anomaly()`` the checked walk, ``_propagate``; otherwise its float
    fast path, ``_backward_into_grad``. Both sum in the same order, and both change
    every ``.grad`` or none (an error or a Ctrl-C midway puts them all back).
    """
    seed = gradient if type(gradient) is float else to_float(gradient, "backward(gradient)")
    if _MODE.get() & _ANOMALY:
        order = reverse_topological_order(root)
        _add_adjoints(order, _propagate(order, seed, create_graph=False))
        return
    _backward_into_grad(root, seed)


def _add_adjoints(order: list[Value], adjoint: dict[Value, Any]) -> None:
    """Add each node's adjoint to its ``.grad``: all of them, or (interrupted) none."""
    held = [(node, node.grad) for node in order if node.grad]
    try:
        for node in order:
            node.grad += adjoint[node]
    except BaseException:
        _restore(order, held)
        raise


def _backward_into_grad(root: Value, seed: float) -> None:
    """``backward()``'s fast path: walk ``reverse_topological_order`` once,
    adding each node's contributions straight into its inputs' ``.grad``.

    Each .grad collects this call's adjoint directly (an attribute, not a
    dictionary entry: much faster). What the grads held before is set aside
    first and added back at the end, so every .grad still gains exactly this
    call's contribution, summed in exactly the order of ``_propagate``:
    ``tests/test_walk.py`` checks that the results agree bit for bit. One
    exception, in the sign of a zero only: a .grad that holds -0.0 before the
    pass starts its sum there (-0.0 + x is x), where the walk's sum starts
    afresh, so where the two sums differ only in the signs of zero terms, that
    .grad may end as -0.0 one way and 0.0 the other (setting it aside too would
    cost a pass over every node). All or nothing: if anything interrupts the
    walk (Ctrl-C, an error), every .grad is put back as it was. Like any
    ``.grad +=``, not for two threads at once on graphs sharing nodes.
    """
    order = reverse_topological_order(root)
    held = [(node, node.grad) for node in order if node.grad]
    if not root.grad:  # the root ends as its old .grad + seed, as in the walk (seed -0.0 too)
        held.append((root, root.grad))
    try:
        _accumulate(order, root, seed, held)
    except BaseException:  # a Ctrl-C or an error anywhere in the walk, the merge included
        _restore(order, held)
        raise


def _accumulate(
    order: list[Value], root: Value, seed: float, held: list[tuple[Value, float]]
) -> None:
    """The walk of ``_backward_into_grad`` (a frame of its own: whatever interrupts it,
    the caller's handler sees the exception leave this call)."""
    rules = RULES
    for node, _ in held:
        node.grad = 0.0
    root.grad = seed
    for node in order:
        x = node._x
        if x is None:
            continue
        upstream = node.grad
        y = node._y
        try:
            if y is None:
                (local_x,) = rules[node.op](x.data, node.data)
            else:
                local_x, local_y = rules[node.op](x.data, y.data, node.data)
        except ArithmeticError:  # e.g. log'(0) = 1/0: redo it with IEEE floats
            local_x, *rest = local_partials(node, False)
            local_y = rest[0] if rest else 0.0
        x.grad += local_x * upstream
        if y is not None:
            y.grad += local_y * upstream
    for node, before in held:
        node.grad = before + node.grad


def _restore(order: list[Value], held: list[tuple[Value, float]]) -> None:
    """Put every ``.grad`` in ``order`` back as it was before a backward pass."""
    for node in order:
        node.grad = 0.0
    for node, before in held:
        node.grad = before


def gradients(output: Value, inputs: Sequence[Value], *, create_graph: bool = False) -> list[Any]:
    """d output / d input for each input, leaving every ``.grad`` untouched.

    With ``create_graph=True`` the results are Values whose own graph can be
    differentiated again (this is how higher-order derivatives work).

    >>> x = Value(3.0)
    >>> gradients(x * x, [x])
    [6.0]
    """
    if not isinstance(output, Value):
        raise TypeError(f"gradients() needs a Value output, got {type(output).__name__}")
    for item in inputs:
        if not isinstance(item, Value):
            raise TypeError(f"gradients() inputs must be Values, got {type(item).__name__}")
    if _TRACING.get() is not None:
        create_graph = True  # compile is tracing: float gradients would be frozen in the replay
    order = reverse_topological_order(output)
    adjoint = _propagate(order, 1.0, create_graph)
    return [adjoint.get(item, 0.0) for item in inputs]
