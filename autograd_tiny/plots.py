"""Pictures of training with matplotlib: loss and accuracy curves, decision boundaries.

Imports train (``History``, ``predict``), ``_atomic`` and ``_checks``, and matplotlib,
which is an optional extra (``pip install 'autograd-tiny[plot]'``) imported only inside the
functions, so ``import autograd_tiny.plots`` always works. Files are drawn
with the Agg backend (no display, no pyplot state) and written atomically:
a temporary file in the same folder, then ``os.replace``.

>>> import tempfile, pathlib
>>> from autograd_tiny.data import xor
>>> from autograd_tiny.nn import MLP
>>> from autograd_tiny.train import fit
>>> X, y = xor()
>>> model = MLP(2, [4, 1], activation="tanh", seed=0)
>>> history = fit(model, X, y, epochs=3, progress=False)
>>> with tempfile.TemporaryDirectory() as folder:
...     path = plot_decision_boundary(model, X, y, pathlib.Path(folder) / "xor.png",
...                                   resolution=10)
...     path.read_bytes()[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence
from typing import Any, Union

from ._atomic import write_atomic
from ._checks import check_int
from .train import History, predict

__all__ = ["INSTALL_HINT", "plot_decision_boundary", "plot_history", "require_matplotlib"]

INSTALL_HINT = "pip install 'autograd-tiny[plot]'"
PathLike = Union[str, "os.PathLike[str]"]

# Fill (light) and point (dark) colours per class; more classes cycle.
_FILLS = ("#bfdbfe", "#fecaca", "#bbf7d0", "#fde68a", "#e9d5ff", "#fed7aa")
_POINTS = ("#1d4ed8", "#b91c1c", "#15803d", "#a16207", "#7e22ce", "#c2410c")


def require_matplotlib() -> Any:
    """Import and return ``matplotlib``, or raise ``ImportError`` saying how to install it.

    >>> require_matplotlib().__name__
    'matplotlib'
    """
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    except ImportError:
        raise ImportError(f"plotting needs matplotlib: {INSTALL_HINT}") from None
    return matplotlib


def _save(figure: Any, path: PathLike) -> pathlib.Path:
    """Write ``figure`` to ``path`` atomically; the format comes from the suffix (png default)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    target = pathlib.Path(path)
    fmt = target.suffix.lstrip(".").lower() or "png"
    FigureCanvasAgg(figure)  # attaches itself as the figure's canvas
    return write_atomic(target, lambda file: figure.savefig(file, format=fmt))


def plot_history(history: History, path: PathLike, *, title: str | None = None) -> pathlib.Path:
    """Write the loss and accuracy curves of ``history`` (``History.plot``) to ``path``.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = plot_history(History(loss=[0.7, 0.3], accuracy=[0.5, 1.0]),
    ...                        pathlib.Path(folder) / "curves.png", title="demo")
    ...     out.name, out.stat().st_size > 1000
    ('curves.png', True)
    """
    if not isinstance(history, History):
        raise TypeError(f"plot_history() needs a History, got {type(history).__name__}")
    if not history.epochs:
        raise ValueError("plot_history(): the history has no epochs to draw")
    require_matplotlib()
    figure = history.plot()
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def _grid(
    X: Sequence[Sequence[float]], resolution: int, padding: float
) -> tuple[list[float], list[float]]:
    xs = [float(p[0]) for p in X]
    ys = [float(p[1]) for p in X]
    low_x, high_x = min(xs) - padding, max(xs) + padding
    low_y, high_y = min(ys) - padding, max(ys) + padding
    step_x = (high_x - low_x) / (resolution - 1)
    step_y = (high_y - low_y) / (resolution - 1)
    return (
        [low_x + i * step_x for i in range(resolution)],
        [low_y + j * step_y for j in range(resolution)],
    )


def plot_decision_boundary(
    model: Any,
    X: Sequence[Sequence[float]],
    y: Sequence[int],
    path: PathLike,
    *,
    resolution: int = 60,
    padding: float = 0.5,
    title: str | None = None,
) -> pathlib.Path:
    """Write a picture of the classes ``model`` predicts over the plane, with the points.

    The background is ``predict(model, ...)`` on a ``resolution`` x
    ``resolution`` grid spanning the data plus ``padding``, each grid point a
    flat cell of its predicted class's colour (no interpolation: only classes
    the model predicts appear); the points of ``X`` are coloured by their label
    ``y``. Two input features only.
    """
    if not X or len(X) != len(y):
        raise ValueError(f"plot_decision_boundary(): X has {len(X)} points and y {len(y)} labels")
    if any(len(point) != 2 for point in X):
        raise ValueError(
            "plot_decision_boundary() draws two input features; every point of X needs exactly 2"
        )
    check_int(resolution, "resolution", "plot_decision_boundary()", minimum=2)
    require_matplotlib()
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.figure import Figure

    grid_x, grid_y = _grid(X, resolution, padding)
    labels = predict(model, [[gx, gy] for gy in grid_y for gx in grid_x])
    rows = [labels[j * resolution : (j + 1) * resolution] for j in range(resolution)]
    classes = max(max(labels), max(y)) + 1
    fills = ListedColormap([_FILLS[k % len(_FILLS)] for k in range(classes)])

    figure = Figure(figsize=(5.0, 4.5), layout="constrained")
    axes = figure.subplots()
    # One flat cell per grid point, in its predicted class's colour. contourf drew
    # contours of the class numbers, interpolated between grid points, so between
    # regions of class 0 and class 2 it painted a band of class 1 the model never predicts.
    axes.pcolormesh(
        grid_x,
        grid_y,
        rows,
        shading="nearest",
        cmap=fills,
        norm=BoundaryNorm([k - 0.5 for k in range(classes + 1)], classes),
    )
    for k in sorted(set(y)):
        points = [p for p, label in zip(X, y) if label == k]
        axes.scatter(
            [p[0] for p in points],
            [p[1] for p in points],
            s=60 if len(X) < 30 else 22,
            color=_POINTS[k % len(_POINTS)],
            edgecolors="white",
            linewidths=0.6,
            label=f"class {k}",
        )
    axes.set_xlabel("x1")
    axes.set_ylabel("x2")
    axes.legend(loc="best", fontsize="small")
    if title:
        axes.set_title(title)
    return _save(figure, path)
