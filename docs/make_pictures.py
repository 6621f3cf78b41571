"""Draw the pictures the README shows: ``python docs/make_pictures.py``.

Writes ``docs/graph.svg``, micrograd's neuron tanh(x1*w1 + x2*w2 + b) after
backward, with its weights and bias marked as parameters.
"""

from __future__ import annotations

import pathlib

from autograd_tiny import Value, render_svg

HERE = pathlib.Path(__file__).resolve().parent


def neuron() -> tuple[Value, list[Value]]:
    """The output o and the parameters [w1, w2, b], after o.backward()."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o, [w1, w2, b]


def main() -> None:
    o, params = neuron()
    path = render_svg(o, HERE / "graph.svg", params=params, edge_labels=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
