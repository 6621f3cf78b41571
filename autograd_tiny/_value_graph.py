"""``ValueGraph``, the Digraph ``draw_dot`` returns, and ``render``: DOT laid out as pictures.

``viz`` builds the DOT; this module lays it out, through the program
``_renderer.find_renderer()`` finds (no system ``dot`` needed), within a time budget,
and writes the pictures atomically. Imports the ``graphviz`` package, ``_atomic`` and
``_renderer``; ``viz`` re-exports both names.

>>> render("digraph { a -> b }").startswith(b"<?xml")
True
"""

from __future__ import annotations

import os
import pathlib
from typing import Any, Union

import graphviz

from ._atomic import write_atomic
from ._renderer import RENDER_TIMEOUT, run_renderer

__all__ = ["LAYOUT_BUDGET", "ValueGraph", "render"]

# The time a ValueGraph's layout may take before render() gives up and says what to do.
LAYOUT_BUDGET = RENDER_TIMEOUT


class ValueGraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` of Values that renders through ``find_renderer()``.

    Jupyter shows it inline; ``pipe()``, ``render()`` and ``view()`` work
    without a system ``dot``, and write SVG unless told another format.

    >>> from autograd_tiny import Value, draw_dot
    >>> draw_dot(Value(1.0) + 2)
    <ValueGraph: 3 values, 1 ops>
    """

    def __init__(
        self,
        *args: Any,
        values: int = 0,
        ops: int = 0,
        budget: float = LAYOUT_BUDGET,
        copied: frozenset[str] = frozenset(),
        **kwargs: Any,
    ) -> None:
        # SVG by default: every renderer find_renderer() may pick writes it (not all do PDF).
        kwargs.setdefault("format", "svg")
        super().__init__(*args, **kwargs)
        self.values = values
        self.ops = ops
        self.budget = budget
        self.copied = copied  # ids of leaves drawn once per reading op (n5 as n5_n2, ...)

    def _copy_kwargs(self, **kwargs: Any) -> Any:
        # Digraph's own _copy_kwargs drops unknown keywords, so add ours after it.
        return {
            **super()._copy_kwargs(**kwargs),
            "values": self.values,
            "ops": self.ops,
            "budget": self.budget,
            "copied": self.copied,
        }

    def __repr__(self) -> str:
        return f"<ValueGraph: {self.values} values, {self.ops} ops>"

    def pipe(self, format: str | None = None, *, encoding: str | None = None) -> Any:
        """Rendered bytes (or text with ``encoding``) in ``format`` (default svg).

        Jupyter's ``_repr_mimebundle_`` calls this, so inline display needs no ``dot``.
        """
        data = render(self, format or "svg")
        return data.decode(encoding) if encoding else data

    def render(
        self,
        filename: Union[str, os.PathLike[str], None] = None,
        directory: Union[str, os.PathLike[str], None] = None,
        view: bool = False,
        cleanup: bool = False,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: Union[bool, int, None] = None,
        quiet: bool = False,
        quiet_view: bool = False,
        *,
        outfile: Union[str, os.PathLike[str], None] = None,
        engine: str | None = None,
        raise_if_result_exists: bool = False,
        overwrite_source: bool = False,
    ) -> str:
        """Save the DOT source, lay it out with ``find_renderer()``; the picture's path.

        ``graphviz.Digraph.render`` with the same arguments, but no system
        ``dot`` needed; ``view()`` comes through here too. The picture is
        ``<source file>.<format>``, or ``outfile`` (its suffix gives the format).
        """
        if renderer or formatter or neato_no_op or engine not in (None, "dot"):
            raise ValueError(
                "ValueGraph.render() supports only the dot engine, without "
                "renderer, formatter or neato_no_op"
            )
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
            raise ValueError(
                f"outfile {str(target)!r} would replace the DOT source; "
                f"pass overwrite_source=True to allow it"
            )
        if raise_if_result_exists and target.exists():
            raise FileExistsError(f"output file exists: {str(target)!r}")
        picture = render(self, chosen)
        if cleanup:
            source.unlink()
        write_atomic(target, picture)
        if view or quiet_view:
            graphviz.view(target, quiet=quiet_view)
        return str(target)


def render(
    graph: Union[graphviz.Digraph, str], format: str = "svg", *, timeout: float | None = None
) -> bytes:
    """Lay out a graph (a Digraph or DOT source) with ``find_renderer()``; the output bytes.

    The renderer may run for ``timeout`` seconds: by default a ValueGraph's
    ``budget``, else ``RENDER_TIMEOUT``. A ValueGraph that runs out of time
    raises ``RenderError`` saying how to draw it anyway.

    >>> render("digraph { a -> b }").startswith(b"<?xml")
    True
    """
    source = graph if isinstance(graph, str) else graph.source
    if timeout is None:
        timeout = graph.budget if isinstance(graph, ValueGraph) else RENDER_TIMEOUT
    advice = ""
    if isinstance(graph, ValueGraph):
        advice = (
            f": laying out {graph.values + graph.ops} nodes ({graph.values} values, "
            f"{graph.ops} ops) took longer than the budget. Draw fewer nodes "
            f'(draw_dot(..., collapse="neuron") draws each neuron of a model as one '
            f"box; a smaller batch or model), or give it more time: "
            f"draw_dot(..., budget={2 * timeout:g})"
        )
    return run_renderer(source, format, timeout, advice)
