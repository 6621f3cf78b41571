"""Pictures of a computation graph: DOT source, SVG, and inline Jupyter display.

This module owns drawing; it imports the engine, the ``graphviz`` package and
the private helpers ``_atomic`` and ``_names``. Layout runs in a separate program found by
``find_renderer()``: the ``graphviz-pure`` program installed with this
package, or a system ``dot``; the ``graphviz`` package only writes DOT text.

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
import shlex
import shutil
import subprocess
from collections.abc import Iterable
from importlib import metadata
from typing import Any, Union

import graphviz

from ._atomic import write_atomic
from ._names import node_names, visible
from .engine import Value, forward_order, local_partials, reverse_topological_order

__all__ = [
    "ValueGraph", "draw_dot", "to_dot", "render", "render_svg", "find_renderer",
    "node_names", "graph_size", "RendererNotFoundError", "RenderError", "MAX_NODES",
]

RENDERER_ENV = "AUTOGRAD_TINY_DOT"
RENDER_TIMEOUT = 60.0  # seconds
# Boxes plus op ovals. Layout time grows much faster than the node count: on the
# bundled graphviz-pure, sums of n sin(x) terms took 0.5 s at 162 nodes, 3 s at
# 202 and over 60 s at 302; x*y + x terms, 2 s at 153 and 5 s at 183.
MAX_NODES = 150

# Fill colours by role; a non-finite number gets the warning colours.
COLORS = {
    "input": "#dbeafe",
    "parameter": "#fde68a",
    "output": "#bbf7d0",
    "intermediate": "#ffffff",
    "op": "#e5e7eb",
    "warning_fill": "#fecaca",
    "warning_text": "#b91c1c",
}
FONT = "Courier"

INSTALL_HELP = (
    "no Graphviz renderer found. Install one of:\n"
    "  pip install graphviz-pure          (self-contained, no system packages)\n"
    "  apt-get install graphviz           (Debian/Ubuntu: the system `dot`)\n"
    "  brew install graphviz              (macOS)\n"
    f"or set {RENDERER_ENV} to a dot-compatible command."
)


class RendererNotFoundError(RuntimeError):
    """No program to lay out DOT source; the message says how to install one."""


class RenderError(RuntimeError):
    """The renderer ran but failed; the message holds its command and stderr."""


class ValueGraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` of Values that renders through ``find_renderer()``.

    Jupyter shows it inline; ``pipe()``, ``render()`` and ``view()`` work
    without a system ``dot``, and write SVG unless told another format.

    >>> from autograd_tiny import Value
    >>> draw_dot(Value(1.0) + 2)
    <ValueGraph: 3 values, 1 ops>
    """

    def __init__(self, *args: Any, values: int = 0, ops: int = 0, **kwargs: Any) -> None:
        # SVG by default: every renderer find_renderer() may pick writes it (not all do PDF).
        kwargs.setdefault("format", "svg")
        super().__init__(*args, **kwargs)
        self.values = values
        self.ops = ops

    def _copy_kwargs(self, **kwargs: Any) -> Any:
        # Digraph's own _copy_kwargs drops unknown keywords, so add ours after it.
        return {**super()._copy_kwargs(**kwargs), "values": self.values, "ops": self.ops}

    def __repr__(self) -> str:
        return f"<ValueGraph: {self.values} values, {self.ops} ops>"

    def pipe(self, format: str | None = None, *, encoding: str | None = None) -> Any:
        """Rendered bytes (or text with ``encoding``) in ``format`` (default svg).

        Jupyter's ``_repr_mimebundle_`` calls this, so inline display needs no ``dot``.
        """
        data = render(self, format or "svg")
        return data.decode(encoding) if encoding else data

    def render(self, filename: Union[str, os.PathLike[str], None] = None,
               directory: Union[str, os.PathLike[str], None] = None, view: bool = False,
               cleanup: bool = False, format: str | None = None, renderer: str | None = None,
               formatter: str | None = None, neato_no_op: Union[bool, int, None] = None,
               quiet: bool = False, quiet_view: bool = False, *,
               outfile: Union[str, os.PathLike[str], None] = None, engine: str | None = None,
               raise_if_result_exists: bool = False, overwrite_source: bool = False) -> str:
        """Save the DOT source, lay it out with ``find_renderer()``; the picture's path.

        ``graphviz.Digraph.render`` with the same arguments, but no system
        ``dot`` needed; ``view()`` comes through here too. The picture is
        ``<source file>.<format>``, or ``outfile`` (its suffix gives the format).
        """
        if renderer or formatter or neato_no_op or engine not in (None, "dot"):
            raise ValueError("ValueGraph.render() supports only the dot engine, without "
                             "renderer, formatter or neato_no_op")
        target: pathlib.Path | None = None
        if outfile is not None:
            target = pathlib.Path(outfile)
            if directory is None:
                target = pathlib.Path(self.directory, target)
            format = format or target.suffix.lstrip(".") or None
            if filename is None:
                filename = target.with_suffix(".gv").name
                directory = target.parent
        chosen = format or self.format
        source = pathlib.Path(self.save(filename, directory=directory))
        if target is None:
            target = source.with_name(f"{source.name}.{chosen}")
        if target.resolve() == source.resolve() and not overwrite_source:
            raise ValueError(f"outfile {str(target)!r} would replace the DOT source; "
                             f"pass overwrite_source=True to allow it")
        if raise_if_result_exists and target.exists():
            raise FileExistsError(f"output file exists: {str(target)!r}")
        picture = render(self, chosen)
        if cleanup:
            source.unlink()
        write_atomic(target, picture)
        if view or quiet_view:
            graphviz.view(target, quiet=quiet_view)
        return str(target)


def _number(x: float) -> str:
    """Four significant digits; inf and nan spelled out; no ``-0``."""
    return format(x + 0.0, ".4g")


def _cell(text: str, value: float) -> str:
    if not math.isfinite(value):
        return (f'<td bgcolor="{COLORS["warning_fill"]}">'
                f'<font color="{COLORS["warning_text"]}">{text}</font></td>')
    return f"<td>{text}</td>"


def _html_text(text: str) -> str:
    r"""``text`` for an HTML-like label, shown as written: non-printing characters as
    escapes (``visible``), markup escaped, and each backslash doubled, since Graphviz
    reads ``\N``, ``\G``... as the node's or graph's name even in HTML labels."""
    return html.escape(visible(text)).replace("\\", "\\\\")


def _value_label(name: str, node: Value, show_grad: bool, fill: str) -> str:
    cells = [f"<td>{_html_text(name)}</td>",
             _cell(f"data {_number(node.data)}", node.data)]
    if show_grad:
        cells.append(_cell(f"grad {_number(node.grad)}", node.grad))
    return (f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="4" '
            f'bgcolor="{fill}"><tr>{"".join(cells)}</tr></table>>')


def graph_size(root: Value) -> int:
    """How many nodes ``draw_dot(root)`` draws: one box per Value, one oval per op.

    >>> from autograd_tiny import Value
    >>> graph_size(Value(1.0) * 2 + 3)
    7
    """
    order = reverse_topological_order(root)
    return len(order) + sum(1 for node in order if node.parents)


def draw_dot(root: Value, *, show_grad: bool = True, rankdir: str = "LR",
             edge_labels: bool = False, max_nodes: int = MAX_NODES,
             params: Iterable[Value] = ()) -> ValueGraph:
    """The graph of everything ``root`` depends on, as a ``graphviz.Digraph``.

    Colours: green the output ``root``, amber the Values in ``params``, blue
    other leaves (inputs and constants), white intermediate results. With
    ``edge_labels`` each edge into an op shows its local derivative. A graph
    of more than ``max_nodes`` nodes (Value boxes plus op ovals) raises
    ``ValueError``: layout time grows steeply past ``MAX_NODES``.

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
    made = forward_order(root)  # statements inputs first, as the code (usually) ran
    order = made[::-1]  # = reverse_topological_order(root): ids from n0, the root
    ops = sum(1 for node in order if node.parents)
    if len(order) + ops > max_nodes:
        raise ValueError(
            f"the graph has {len(order) + ops} nodes ({len(order)} values, {ops} ops), "
            f"more than max_nodes={max_nodes} (layout gets slow); pass "
            f"draw_dot(..., max_nodes={len(order) + ops}) to draw it anyway"
        )
    parameters = set(params)
    ids = {node: f"n{i}" for i, node in enumerate(order)}
    names = node_names(order)
    dot = ValueGraph(
        "autograd_tiny",
        graph_attr={"rankdir": rankdir},
        node_attr={"fontname": FONT, "fontsize": "12"},
        edge_attr={"fontname": FONT, "fontsize": "10"},
        values=len(order),
        ops=ops,
    )
    for node in made:
        name = ids[node]
        if node is root:
            role = "output"
        elif node in parameters:
            role = "parameter"
        elif not node.parents:
            role = "input"
        else:
            role = "intermediate"
        dot.node(name, _value_label(names[node], node, show_grad, COLORS[role]),
                 shape="plaintext", margin="0")
        if not node.parents:
            continue
        dot.node(f"{name}op", graphviz.escape(visible(node.op)), shape="ellipse", style="filled",
                 fillcolor=COLORS["op"], margin="0.05", height="0.3")
        partials = local_partials(node, False) if edge_labels else [None] * len(node.parents)
        for parent, local in zip(node.parents, partials):
            label = {} if local is None else {"label": _number(float(local))}
            dot.edge(ids[parent], f"{name}op", **label)
        dot.edge(f"{name}op", name)
    return dot


def to_dot(root: Value, **draw_kwargs: Any) -> str:
    """The DOT source of ``draw_dot(root, **draw_kwargs)``.

    >>> from autograd_tiny import Value
    >>> to_dot(Value(1.0, label="x")).splitlines()[0]
    'digraph autograd_tiny {'
    """
    return str(draw_dot(root, **draw_kwargs).source)


def find_renderer() -> list[str]:
    """The command (a list of words) that turns DOT source into pictures.

    Tried in order: the ``AUTOGRAD_TINY_DOT`` environment variable, the
    ``graphviz-pure`` program recorded by its installed distribution,
    ``graphviz-pure`` on ``PATH``, then a system ``dot`` on ``PATH``.
    Raises ``RendererNotFoundError`` with install commands when none exists.

    >>> find_renderer()[0].endswith(("graphviz-pure", "graphviz-pure.exe", "dot"))
    True
    """
    override = os.environ.get(RENDERER_ENV, "").strip()
    if override:
        # A path to a program may hold spaces (Windows); otherwise split like a shell.
        command = [override] if os.path.isfile(override) else shlex.split(override)
        if shutil.which(command[0]) is None:
            raise RendererNotFoundError(
                f"{RENDERER_ENV}={override!r}, but {command[0]!r} is not an executable "
                f"program; fix or unset it.\n{INSTALL_HELP}"
            )
        return command
    installed = _installed_graphviz_pure()
    if installed:
        return [installed]
    for program in ("graphviz-pure", "dot"):
        found = shutil.which(program)
        if found:
            return [found]
    raise RendererNotFoundError(INSTALL_HELP)


def _installed_graphviz_pure() -> str | None:
    """The ``graphviz-pure`` script listed in its distribution's RECORD, if installed."""
    try:
        files = metadata.distribution("graphviz-pure").files or []
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name in ("graphviz-pure", "graphviz-pure.exe"):
            path = pathlib.Path(str(file.locate())).resolve()
            if path.is_file() and os.access(path, os.X_OK):
                return str(path)
    return None


def render(graph: Union[graphviz.Digraph, str], format: str = "svg", *,
           timeout: float = RENDER_TIMEOUT) -> bytes:
    """Lay out a graph (a Digraph or DOT source) with ``find_renderer()``; the output bytes.

    >>> render("digraph { a -> b }").startswith(b"<?xml")
    True
    """
    source = graph if isinstance(graph, str) else graph.source
    command = [*find_renderer(), f"-T{format}"]
    try:
        done = subprocess.run(command, input=source.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RenderError(f"{shlex.join(command)} timed out after {timeout:g} s") from None
    except OSError as error:
        raise RenderError(f"{shlex.join(command)} could not run: {error}") from None
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", "replace").strip()
        raise RenderError(
            f"{shlex.join(command)} failed with exit status {done.returncode}: {stderr}"
        )
    return done.stdout


def render_svg(root: Value, path: Union[str, os.PathLike[str]],
               **draw_kwargs: Any) -> pathlib.Path:
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
