"""Pictures of a computation graph: DOT source, SVG, and inline Jupyter display.

This module owns drawing: it builds the DOT of a graph. It imports the engine, the
``graphviz`` package and the private helpers ``_atomic``, ``_names``, ``_collapse``,
``_renderer`` and ``_value_graph``. Layout runs in a separate program found by
``find_renderer()`` (``_renderer``): the ``graphviz-pure`` program installed with this
package, or a system ``dot``; ``_value_graph`` holds ``ValueGraph`` and ``render``,
which run it. The ``graphviz`` package only writes DOT text.

Each Value is a box (name, data, grad); each operation is its own small
oval; an input used twice (``a + a``) gets two edges. Nodes are named by
``node_names``: the label, or ``n<i>`` for place ``i`` in
``reverse_topological_order`` (``n0`` is the root), never ``id()``, so the
same graph always gives the same DOT source, and the names match the ones
``explain()`` prints.

>>> from autograd_tiny import Value
>>> x = Value(2.0, label="x")
>>> y = x * x + 1
>>> y.backward()
>>> dot = draw_dot(y)
>>> dot
<ValueGraph: 4 values, 2 ops>
>>> "grad 4" in dot.source
True
>>> render(dot)[:5]
b'<?xml'
"""

from __future__ import annotations

import html
import math
import os
import pathlib
from collections.abc import Iterable
from typing import Any, Union

import graphviz

from ._atomic import write_atomic
from ._collapse import UNITS, Unit, find_units
from ._names import node_names, visible
from ._renderer import (
    INSTALL_HELP,
    RENDER_TIMEOUT,
    RENDERER_ENV,
    RendererNotFoundError,
    RenderError,
    find_renderer,
)
from ._value_graph import LAYOUT_BUDGET, ValueGraph, render
from .engine import Value, forward_order, local_partials, reverse_topological_order

__all__ = [
    "COPY_ABOVE",
    "COPY_FAN_OUT",
    "INSTALL_HELP",
    "LAYOUT",
    "LAYOUT_BUDGET",
    "MAX_NODES",
    "RENDERER_ENV",
    "RENDER_TIMEOUT",
    "RenderError",
    "RendererNotFoundError",
    "ValueGraph",
    "draw_dot",
    "find_renderer",
    "graph_size",
    "node_names",
    "render",
    "render_svg",
    "to_dot",
]

# Graph attributes for autodiff graphs. A Value used by many ops (x in a sum of n
# sin(i*x) terms) makes dot's network simplex and crossing passes run to their
# defaults, which grow with the square of the node count: 75 terms took 19 s and
# 150 terms over 60 s. Capping the network simplex iterations at one per node
# (nslimit, nslimit1) and the crossing passes at a tenth (mclimit) gives 0.4 s and
# 1.4 s, and leaves MLP pictures as they were; figures in bench/viz.py.
LAYOUT = {"nslimit": "1", "nslimit1": "1", "mclimit": "0.1"}
# Only the CLI's `graph` refuses larger graphs by default; draw_dot has no cap.
MAX_NODES = 5000
# In a graph of more than COPY_ABOVE nodes, a leaf read by more than COPY_FAN_OUT ops is
# drawn once beside each of them: its long edges (x in a sum of n sin(i*x) terms spans
# the whole picture) made dot lay out O(n^2) virtual nodes. 700 terms (4,899 nodes): over
# 60 s drawn once, 5.7 s copied.
COPY_ABOVE = 1000
COPY_FAN_OUT = 16

# Fill colours by role; a non-finite number gets the warning colours.
COLORS = {
    "input": "#dbeafe",
    "parameter": "#fde68a",
    "constant": "#f3f4f6",
    "neuron": "#ede9fe",
    "layer": "#ede9fe",
    "output": "#bbf7d0",
    "intermediate": "#ffffff",
    "op": "#e5e7eb",
    "warning_fill": "#fecaca",
    "warning_text": "#b91c1c",
}
FONT = "Courier"
LEGEND = {
    "input": "input (labelled leaf)",
    "parameter": "parameter",
    "constant": "constant (unlabelled leaf)",
    "intermediate": "intermediate",
    "output": "output",
    "neuron": "neuron (collapsed)",
    "layer": "layer (collapsed)",
    "op": "op",
}


def _number(x: float) -> str:
    """Four significant digits; inf and nan spelled out; no ``-0``."""
    return format(x + 0.0, ".4g")


def _cell(text: str, value: float) -> str:
    if not math.isfinite(value):
        return (
            f'<td bgcolor="{COLORS["warning_fill"]}">'
            f'<font color="{COLORS["warning_text"]}">{text}</font></td>'
        )
    return f"<td>{text}</td>"


def _html_text(text: str) -> str:
    r"""``text`` for an HTML-like label, shown as written: non-printing characters as
    escapes (``visible``), markup escaped, and each backslash doubled, since Graphviz
    reads ``\N``, ``\G``... as the node's or graph's name even in HTML labels."""
    return html.escape(visible(text)).replace("\\", "\\\\")


def _value_label(name: str, node: Value, show_grad: bool, fill: str) -> str:
    cells = [f"<td>{_html_text(name)}</td>", _cell(f"data {_number(node.data)}", node.data)]
    if show_grad:
        cells.append(_cell(f"grad {_number(node.grad)}", node.grad))
    return (
        f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="4" '
        f'bgcolor="{fill}"><tr>{"".join(cells)}</tr></table>>'
    )


def graph_size(root: Value) -> int:
    """How many nodes ``draw_dot(root)`` draws: one box per Value, one oval per op.

    >>> from autograd_tiny import Value
    >>> graph_size(Value(1.0) * 2 + 3)
    7
    """
    order = reverse_topological_order(root)
    return len(order) + sum(1 for node in order if node.parents)


def _roles(order: list[Value], root: Value, parameters: set[Value]) -> dict[Value, str]:
    roles = {}
    for node in order:
        if node is root:
            roles[node] = "output"
        elif node in parameters:
            roles[node] = "parameter"
        elif node.parents:
            roles[node] = "intermediate"
        else:
            # A leaf the user named is an input; the numbers an expression wraps
            # (the 1.0 in `out - 1.0`) have no label.
            roles[node] = "input" if node.label else "constant"
    return roles


def _add_legend(dot: graphviz.Digraph, roles: Iterable[str]) -> None:
    """A box listing the fill colour of each role the picture uses, op ovals included."""
    used = set(roles)
    rows = "".join(
        f'<tr><td bgcolor="{COLORS[role]}">{LEGEND[role]}</td></tr>'
        for role in LEGEND
        if role in used
    )
    dot.node(
        "legend",
        f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="3">{rows}</table>>',
        shape="plaintext",
        margin="0",
        fontsize="10",
    )


def _parameter_set(params: Any) -> set[Value]:
    if callable(getattr(params, "parameters", None)):  # a Module (viz does not import nn)
        params = params.parameters()
    return set(params)


def _unit_label(unit: Unit, kind: str, show_grad: bool) -> str:
    out = unit.outputs[0]
    activation = out.op if len(out.parents) == 1 else "linear"
    cells = [f"<td><b>{_html_text(unit.name)}</b></td>"]
    if kind == "neuron":
        cells += [
            f"<td>{html.escape(activation)}</td>",
            _cell(f"data {_number(out.data)}", out.data),
        ]
        if show_grad:
            cells.append(_cell(f"grad {_number(out.grad)}", out.grad))
    else:
        cells.append(f"<td>{len(unit.outputs)} x {html.escape(activation)}</td>")
    cells.append(f"<td>{len(unit.parameters)} params</td>")
    return (
        f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="4" '
        f'bgcolor="{COLORS[kind]}"><tr>{"".join(cells)}</tr></table>>'
    )


def draw_dot(
    root: Value,
    *,
    show_grad: bool = True,
    rankdir: str = "LR",
    edge_labels: bool = False,
    max_nodes: int | None = None,
    params: Any = (),
    legend: bool = True,
    collapse: str | None = None,
    budget: float = LAYOUT_BUDGET,
    copy_leaves: bool | None = None,
) -> ValueGraph:
    """The graph of everything ``root`` depends on, as a ``graphviz.Digraph``.

    Roles, named in a legend (``legend=False`` leaves it out): green the output
    ``root``, amber the parameters (``params``: Values or a model), blue the
    inputs (labelled leaves), grey the constants (unlabelled leaves, such as the
    ``1.0`` of ``out - 1.0``), white intermediate results. Modules label their
    parameters by their ``state_dict`` path (``layers[0].weight[3][1]``). With
    ``edge_labels`` each edge into an op shows its local derivative.

    ``collapse="neuron"`` draws each neuron of an ``nn`` model as one box (its
    name, activation, output data and grad, and how many parameters it hides)
    with an edge from each input; ``collapse="layer"`` one box per layer and
    point. Units are found by the names ``nn`` gives (``layers[0].out[3]``).

    There is no node cap (``max_nodes`` sets one): the layout settings
    ``LAYOUT`` keep graphs of thousands of nodes to seconds, and rendering
    stops after ``budget`` seconds with an error that says what to do. In a
    graph of more than ``COPY_ABOVE`` nodes, a leaf read by more than
    ``COPY_FAN_OUT`` ops is drawn once beside each op that reads it (same name
    and numbers); ``copy_leaves=True`` or ``False`` decides for any size.

    >>> from autograd_tiny import Value
    >>> a = Value(3.0, label="a")
    >>> dot = draw_dot(a + a, edge_labels=True)
    >>> dot.source.count("n1 -> n0op")
    2
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot() needs a Value, got {type(root).__name__}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"unknown rankdir: {rankdir!r} (must be one of LR, RL, TB, BT)")
    if collapse is not None and collapse not in UNITS:
        raise ValueError(
            f"unknown collapse: {collapse!r} (must be one of {', '.join(UNITS)}, or None)"
        )
    made = forward_order(root)  # statements inputs first, as the code (usually) ran
    order = made[::-1]  # = reverse_topological_order(root): ids from n0, the root
    units = find_units(made, collapse) if collapse else []
    box_of = {member: unit for unit in units for member in unit.members}
    read_outside = {parent for node in made if node not in box_of for parent in node.parents}
    hidden = {p for unit in units for p in unit.parameters if p not in read_outside}
    drawn = [node for node in made if node not in box_of and node not in hidden]
    ops = sum(1 for node in drawn if node.parents)
    size = len(drawn) + len(units) + ops
    if max_nodes is not None and size > max_nodes:
        raise ValueError(
            f"the graph has {size} nodes ({len(drawn) + len(units)} values, {ops} ops), "
            f"more than max_nodes={max_nodes}; pass "
            f"draw_dot(..., max_nodes={size}) to draw it anyway"
        )
    readers: dict[Value, set[Value]] = {}
    for node in drawn:
        for parent in node.parents:
            readers.setdefault(parent, set()).add(node)
    if copy_leaves is None:
        copy_leaves = size > COPY_ABOVE
    copied = {
        leaf
        for leaf, ops_reading in readers.items()
        if copy_leaves and not leaf.parents and len(ops_reading) > COPY_FAN_OUT
    }
    # A copied leaf is still drawn itself when it is the root or a collapsed box reads it.
    box_read = {p for unit in units for p in unit.inputs}
    roles = _roles(drawn, root, _parameter_set(params))
    ids = {node: f"n{i}" for i, node in enumerate(order)}
    names = node_names(order)

    def ref(node: Value) -> str:
        return ids[box_of[node].outputs[0]] if node in box_of else ids[node]

    # Collapsed layers are joined by many edges: more room between ranks to follow them.
    spacing = {"ranksep": "1.5"} if units else {}
    dot = ValueGraph(
        "autograd_tiny",
        graph_attr={"rankdir": rankdir, **LAYOUT, **spacing},
        node_attr={"fontname": FONT, "fontsize": "12"},
        edge_attr={"fontname": FONT, "fontsize": "10"},
        values=len(drawn) + len(units),
        ops=ops,
        budget=budget,
        copied=frozenset(ids[leaf] for leaf in copied),
    )
    if legend:
        used = [*roles.values(), *([str(collapse)] if units else []), *(["op"] if ops else [])]
        _add_legend(dot, used)
    boxes = {unit.outputs[0]: unit for unit in units}
    drawn_copies: set[str] = set()
    for node in made:
        if node in boxes:
            unit = boxes[node]
            dot.node(
                ids[node],
                _unit_label(unit, str(collapse), show_grad),
                shape="plaintext",
                margin="0",
            )
            for source in dict.fromkeys(ref(p) for p in unit.inputs):
                dot.edge(source, ids[node])
        if node in box_of or node in hidden:
            continue
        name = ids[node]
        if node not in copied or node is root or node in box_read:
            dot.node(
                name,
                _value_label(names[node], node, show_grad, COLORS[roles[node]]),
                shape="plaintext",
                margin="0",
            )
        if not node.parents:
            continue
        dot.node(
            f"{name}op",
            graphviz.escape(visible(node.op)),
            shape="ellipse",
            style="filled",
            fillcolor=COLORS["op"],
            margin="0.05",
            height="0.3",
        )
        partials = local_partials(node, False) if edge_labels else [None] * len(node.parents)
        for parent, local in zip(node.parents, partials):
            label = {} if local is None else {"label": _number(float(local))}
            source = ref(parent)
            if parent in copied:
                source = f"{source}_{name}"
                if source not in drawn_copies:
                    drawn_copies.add(source)
                    dot.node(
                        source,
                        _value_label(names[parent], parent, show_grad, COLORS[roles[parent]]),
                        shape="plaintext",
                        margin="0",
                    )
            dot.edge(source, f"{name}op", **label)
        dot.edge(f"{name}op", name)
    return dot


def to_dot(root: Value, **draw_kwargs: Any) -> str:
    """The DOT source of ``draw_dot(root, **draw_kwargs)``.

    >>> from autograd_tiny import Value
    >>> to_dot(Value(1.0, label="x")).splitlines()[0]
    'digraph autograd_tiny {'
    """
    return str(draw_dot(root, **draw_kwargs).source)


def render_svg(root: Value, path: Union[str, os.PathLike[str]], **draw_kwargs: Any) -> pathlib.Path:
    """Write the SVG picture of ``draw_dot(root, **draw_kwargs)`` to ``path``, atomically.

    The file appears complete or not at all: the SVG goes to a temporary file
    in the same directory, which then replaces ``path``.

    >>> import tempfile
    >>> from autograd_tiny import Value
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = render_svg(Value(1.0) * 2, pathlib.Path(folder) / "graph.svg")
    ...     out.read_text()[:5]
    '<?xml'
    """
    return write_atomic(path, render(draw_dot(root, **draw_kwargs), "svg"))
