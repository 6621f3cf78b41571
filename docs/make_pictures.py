"""Draw the pictures the README shows: ``python docs/make_pictures.py``.

Writes ``docs/graph.svg``, micrograd's neuron tanh(x1*w1 + x2*w2 + b) after
backward, with its weights and bias marked as parameters;
``docs/mlp-collapsed.svg``, the squared error of one point through
``MLP(2, [16, 16, 1])`` with each neuron drawn as one box; and
``docs/blobs-boundary.png``, the decision regions of an MLP trained by ``fit``
on three Gaussian blobs (needs matplotlib: ``pip install autograd-tiny[plot]``).
"""

from __future__ import annotations

import pathlib

from autograd_tiny import MLP, Value, accuracy, fit, render_svg
from autograd_tiny.data import blobs, train_test_split
from autograd_tiny.plots import plot_decision_boundary

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


def mlp_loss() -> tuple[Value, MLP]:
    """(model([0.5, -0.5]) - 1) ** 2 for MLP(2, [16, 16, 1]), after backward: 1,625 nodes."""
    model = MLP(2, [16, 16, 1], seed=0)
    loss = (model([0.5, -0.5]) - 1.0) ** 2
    loss.backward()
    return loss, model


def blobs_model() -> tuple[MLP, list[list[float]], list[int], float]:
    """An MLP trained on three blobs; returns it, all points, labels and held-out accuracy."""
    X, y = blobs(100, seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, seed=0)
    model = MLP(2, [8, 3], seed=0)
    fit(model, X_train, y_train, epochs=60, seed=0, progress=False)
    return model, X, y, accuracy(model, X_test, y_test)


def main() -> None:
    o, params = neuron()
    path = render_svg(o, HERE / "graph.svg", params=params, edge_labels=True)
    print(f"wrote {path}")
    loss, mlp = mlp_loss()
    path = render_svg(loss, HERE / "mlp-collapsed.svg", params=mlp, collapse="neuron")
    print(f"wrote {path}")
    model, X, y, held_out = blobs_model()
    path = plot_decision_boundary(model, X, y, HERE / "blobs-boundary.png", resolution=150,
                                  title=f"three blobs: held-out accuracy {held_out:.1%}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
