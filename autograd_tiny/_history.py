"""``History``: what ``fit`` records per epoch, and its loss and accuracy curves.

Imports only ``_atomic`` (matplotlib too, inside ``plot``); ``train`` re-exports it.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import Any

from ._atomic import write_atomic

__all__ = ["History"]


@dataclass
class History:
    """Per-epoch training loss and accuracy (and validation's, when given).

    >>> History(loss=[0.7, 0.5], accuracy=[0.5, 1.0]).epochs
    2
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """Number of epochs recorded."""
        return len(self.loss)

    def plot(self, path: str | None = None) -> Any:
        """Loss and accuracy curves as a matplotlib ``Figure`` (saved to ``path`` if given).

        Needs matplotlib (``pip install 'autograd-tiny[plot]'``), imported only here.
        """
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError(
                "History.plot needs matplotlib: pip install 'autograd-tiny[plot]'"
            ) from None
        figure = Figure(figsize=(9.0, 3.5), layout="constrained")
        loss_axes, accuracy_axes = figure.subplots(1, 2)
        epochs = range(1, self.epochs + 1)
        for axes, name in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
            axes.plot(epochs, getattr(self, name), label="train")
            validation = getattr(self, f"val_{name}")
            if validation:
                axes.plot(epochs, validation, label="validation")
            axes.set_xlabel("epoch")
            axes.set_ylabel(name)
            axes.legend()
        if path is not None:  # atomically, like every file this library writes
            fmt = pathlib.Path(path).suffix.lstrip(".").lower() or "png"
            write_atomic(path, lambda file: figure.savefig(file, format=fmt))
        return figure
