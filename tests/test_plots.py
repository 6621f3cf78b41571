"""plots.py: pictures written atomically, and a clear error without matplotlib."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree

import pytest

pytest.importorskip("matplotlib")

from autograd_tiny import plots
from autograd_tiny.data import blobs, xor
from autograd_tiny.nn import MLP
from autograd_tiny.train import History, fit

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def three_class_model():
    X, y = blobs(10, std=0.5, seed=0)
    model = MLP(2, [4, 3], seed=0)
    history = fit(model, X, y, epochs=3, progress=False, validation_data=(X, y))
    return model, X, y, history


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_plot_history_writes_a_png_with_train_and_validation_curves(tmp_path, three_class_model):
    *_, history = three_class_model
    out = plots.plot_history(history, tmp_path / "curves.png", title="blobs")
    assert out == tmp_path / "curves.png"
    width, height = png_size(out)
    assert width > height > 100
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]  # no temp file left


def test_plot_decision_boundary_writes_a_png(tmp_path, three_class_model):
    model, X, y, _ = three_class_model
    out = plots.plot_decision_boundary(
        model, X, y, tmp_path / "boundary.png", resolution=20, title="three classes"
    )
    assert png_size(out)[0] > 100
    assert [p.name for p in tmp_path.iterdir()] == ["boundary.png"]


def fill_pixels(path, colour):
    """(rows, columns) of the pixels of the PNG at ``path`` painted exactly ``colour``."""
    import numpy as np
    from matplotlib.image import imread

    pixels = np.rint(imread(path)[:, :, :3] * 255).astype(int)
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return np.nonzero((pixels == rgb).all(axis=2))


def test_decision_boundary_shows_only_the_classes_the_model_predicts(tmp_path):
    # Logits (-x1, -10, x1): class 0 left of x1 = 0, class 2 right of it, never class 1.
    model = MLP(2, [3], seed=0)
    for neuron, weights, bias in zip(
        model.layers[0].neurons, ([-1, 0], [0, 0], [1, 0]), (0, -10, 0)
    ):
        for w, number in zip(neuron.w, weights):
            w.data = float(number)
        neuron.b.data = float(bias)
    X, y = [[-2.0, 0.0], [2.0, 0.0], [0.0, 1.5]], [0, 2, 1]
    out = plots.plot_decision_boundary(model, X, y, tmp_path / "b.png", resolution=41)
    _, left_columns = fill_pixels(out, plots._FILLS[0])
    _, right_columns = fill_pixels(out, plots._FILLS[2])
    # Read back where the answer is known: class 0's colour fills the left half, class 2's
    # the right, and class 1's fill (contourf painted a band of it along x1 = 0) is nowhere.
    assert len(left_columns) > 10_000 and len(right_columns) > 10_000
    assert left_columns.max() < right_columns.min()
    assert len(fill_pixels(out, plots._FILLS[1])[0]) == 0


def test_the_suffix_picks_the_format(tmp_path):
    X, y = xor()
    out = plots.plot_decision_boundary(
        MLP(2, [2, 1], seed=0), X, y, tmp_path / "b.svg", resolution=5
    )
    assert ElementTree.parse(out).getroot().tag.endswith("svg")


def test_a_failed_save_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    target = tmp_path / "curves.png"
    target.write_bytes(b"old")

    def broken_savefig(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="disk full"):
        plots.plot_history(History(loss=[1.0], accuracy=[0.5]), target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]


def test_missing_matplotlib_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'autograd-tiny\[plot\]'"):
        plots.plot_history(History(loss=[1.0], accuracy=[0.5]), tmp_path / "c.png")
    X, y = xor()
    with pytest.raises(ImportError, match=r"pip install 'autograd-tiny\[plot\]'"):
        plots.plot_decision_boundary(MLP(2, [1], seed=0), X, y, tmp_path / "b.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"X": [], "y": []}, "0 points"),
        ({"X": [[0.0, 0.0]], "y": [0, 1]}, "1 points and y 2 labels"),
        ({"X": [[0.0, 0.0, 0.0]], "y": [0]}, "exactly 2"),
        ({"resolution": 1}, "resolution"),
    ],
)
def test_plot_decision_boundary_rejects_bad_input(tmp_path, kwargs, message):
    X, y = xor()
    arguments = {"X": X, "y": y, **kwargs}
    resolution = arguments.pop("resolution", 10)
    with pytest.raises(ValueError, match=message):
        plots.plot_decision_boundary(
            MLP(2, [1], seed=0),
            arguments["X"],
            arguments["y"],
            tmp_path / "b.png",
            resolution=resolution,
        )


def test_plot_history_rejects_an_empty_history(tmp_path):
    with pytest.raises(ValueError, match="no epochs"):
        plots.plot_history(History(), tmp_path / "c.png")
    with pytest.raises(TypeError, match="History"):
        plots.plot_history([0.5], tmp_path / "c.png")  # type: ignore[arg-type]
