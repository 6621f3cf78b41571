"""fit, History, accuracy, predict: the targets with fit's defaults, determinism, memory."""

from __future__ import annotations

import gc
import math
import sys
import tracemalloc

import pytest

from autograd_tiny.data import blobs, circles, moons, train_test_split, xor
from autograd_tiny.engine import no_grad
from autograd_tiny.losses import binary_cross_entropy_with_logits, cross_entropy, hinge, mse
from autograd_tiny.nn import MLP
from autograd_tiny.optim import SGD, Adam
from autograd_tiny.train import History, accuracy, evaluate, fit, predict, train_step


def held_out_accuracy(data, sizes, epochs, seed=0):
    X_train, X_test, y_train, y_test = train_test_split(*data, seed=seed)
    model = MLP(2, sizes, seed=seed)
    fit(model, X_train, y_train, epochs=epochs, seed=seed)
    return accuracy(model, X_test, y_test)


# -- the targets: fit's defaults, only epochs and a seed given ------------------------


@pytest.mark.parametrize("seed", range(4))
def test_xor_reaches_full_accuracy(seed):
    for model in (MLP(2, [8, 1], activation="tanh", seed=seed), MLP(2, [16, 1], seed=seed)):
        fit(model, *xor(), epochs=300, seed=seed)
        assert accuracy(model, *xor()) == 1.0


def test_blobs_reach_95_percent_held_out_within_60_epochs():
    # The Bayes limit for these centres at std 1 is 97.0%.
    assert held_out_accuracy(blobs(100, seed=0), [8, 3], epochs=60) >= 0.95


def test_moons_reach_97_percent_held_out_within_100_epochs():
    assert held_out_accuracy(moons(200, noise=0.1, seed=0), [8, 8, 1], epochs=100) >= 0.97


def test_circles_reach_95_percent_held_out():
    assert held_out_accuracy(circles(200, seed=0), [8, 1], epochs=100) >= 0.95


# -- behaviour --------------------------------------------------------------------------


def run(seed):
    X, y = blobs(10, seed=1)
    model = MLP(2, [4, 3], seed=seed)
    return fit(model, X, y, epochs=4, seed=seed, batch_size=8, validation_data=(X, y))


def test_same_seed_gives_an_identical_history():
    first = run(3)
    assert first == run(3)
    assert first != run(4)
    assert first.epochs == len(first.accuracy) == len(first.val_loss) == 4
    assert len(first.val_accuracy) == 4


def test_history_without_validation_has_empty_validation_lists():
    history = fit(MLP(2, [2, 1], seed=0), *xor(), epochs=3)
    assert history.val_loss == history.val_accuracy == []
    assert all(0.0 <= a <= 1.0 for a in history.accuracy)


@pytest.mark.parametrize(
    "sizes, loss_function, targets",
    [
        ([3, 1], binary_cross_entropy_with_logits, [0, 1, 1, 0]),
        ([3, 2], cross_entropy, [0, 1, 1, 0]),
    ],
)
def test_loss_is_picked_from_the_output_size(sizes, loss_function, targets):
    X, _ = xor()
    model = MLP(2, sizes, seed=0)
    expected = evaluate(model, X, targets, loss=loss_function)[0]
    history = fit(model, X, targets, epochs=1, lr=0.0, shuffle=False)
    assert history.loss == [pytest.approx(expected, rel=1e-12)]


def test_loss_and_optimizer_can_be_given():
    X, y = xor()
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    history = fit(model, X, y, epochs=50, loss="mse", optimizer=SGD(model.parameters(), lr=0.1))
    assert history.loss[-1] < history.loss[0]
    history = fit(model, X, y, epochs=1, loss=lambda out, t: mse(out, t) * 0.0)
    assert history.loss == [0.0]


def test_sigmoid_output_uses_probabilities():
    X, y = xor()
    model = MLP(2, [8, 1], activation="tanh", output_activation="sigmoid", seed=0)
    fit(model, X, y, epochs=300)
    assert predict(model, X) == y


def test_step_function_can_be_swapped():
    calls = []

    def counting_step(model, loss_fn, optimizer, xb, yb):
        calls.append(len(xb))
        return train_step(model, loss_fn, optimizer, xb, yb)

    fit(MLP(2, [2, 1], seed=0), *blobs(5, centers=2), epochs=2, batch_size=4, step=counting_step)
    assert calls == [4, 4, 2, 4, 4, 2]


def test_progress_bar_only_when_asked_or_on_a_terminal(capsys):
    fit(MLP(2, [2, 1], seed=0), *xor(), epochs=2)  # captured stderr is not a TTY
    fit(MLP(2, [2, 1], seed=0), *xor(), epochs=2, progress=False)
    assert capsys.readouterr().err == ""
    fit(MLP(2, [2, 1], seed=0), *xor(), epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "2/2" in err and "loss=" in err


def test_memory_stays_flat_with_the_gc_disabled():
    model = MLP(2, [4, 4, 1], seed=0)
    optimizer = Adam(model.parameters(), lr=0.01)
    X, y = xor()
    enabled = gc.isenabled()
    gc.disable()
    tracemalloc.start()
    try:
        for _ in range(50):
            train_step(model, binary_cross_entropy_with_logits, optimizer, X, y)
        start = tracemalloc.get_traced_memory()[0]
        for _ in range(300):
            train_step(model, binary_cross_entropy_with_logits, optimizer, X, y)
        growth = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
        if enabled:
            gc.enable()
    # One leaked graph per step would be ~30 kB (9 MB over the loop); allow noise only.
    assert growth < 20_000


def test_history_plots_itself(tmp_path):
    pytest.importorskip("matplotlib")
    history = History(
        loss=[0.7, 0.4], accuracy=[0.5, 1.0], val_loss=[0.8, 0.5], val_accuracy=[0.5, 0.75]
    )
    figure = history.plot(tmp_path / "curves.png")
    assert len(figure.axes) == 2
    assert (tmp_path / "curves.png").stat().st_size > 1000


def test_plot_without_matplotlib_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"autograd-tiny\[plot\]"):
        History(loss=[1.0], accuracy=[0.5]).plot()


def test_predict_and_accuracy():
    model = MLP(2, [2], activation="linear", seed=0)
    layer = model.layers[0]
    for neuron, weights in zip(layer.neurons, ([1.0, 0.0], [0.0, 1.0])):
        for w, value in zip(neuron.w, weights):
            w.data = value
    X = [[1.0, 0.0], [0.0, 1.0], [2.0, 3.0]]
    assert predict(model, X) == [0, 1, 1]
    assert accuracy(model, X, [0, 1, 0]) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"loss": "l1"}, "unknown loss 'l1'"),
        ({"validation_data": ([[0.0, 0.0]],)}, "validation_data"),
    ],
)
def test_bad_arguments_raise_value_errors(kwargs, words):
    with pytest.raises(ValueError, match=words):
        fit(MLP(2, [2, 1], seed=0), *xor(), **kwargs)


def test_mismatched_data_raises():
    with pytest.raises(ValueError, match="4 samples but y has 3"):
        fit(MLP(2, [2, 1], seed=0), xor()[0], [0, 1, 1])


# -- labels that the loss cannot read ---------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: MLP(2, [4, 1], seed=0),
        lambda: MLP(2, [4, 1], output_activation="sigmoid", seed=0),
    ],
)
def test_one_output_with_three_classes_asks_for_three_outputs(make):
    model = make()
    before = model.state_dict()
    with pytest.raises(
        ValueError,
        match=r"fit: .*1 output.*labels 0 and 1.*got 2 "
        r"\(y\[\d+\]\).*give the model 3 outputs",
    ):
        fit(model, *blobs(30), epochs=1)
    assert model.state_dict() == before


def test_one_output_with_hinge_accepts_plus_minus_one_only():
    X, _y = xor()
    fit(MLP(2, [4, 1], seed=0), X, [-1, 1, 1, -1], loss="hinge", epochs=1)
    with pytest.raises(ValueError, match=r"fit: .*hinge.*-1 and 1.*got 2"):
        fit(MLP(2, [4, 1], seed=0), X, [0, 1, 2, 0], loss="hinge", epochs=1)


@pytest.mark.parametrize("loss", [None, "cross_entropy", "hinge", "mse"])
def test_k_outputs_need_labels_in_range_k(loss):
    X, y = blobs(5)  # labels 0, 1, 2
    with pytest.raises(ValueError, match=r"fit: the model has 2 outputs.*labels 0\.\.1.*got 2"):
        fit(MLP(2, [4, 2], seed=0), X, y, loss=loss, epochs=1)
    with pytest.raises(ValueError, match=r"labels 0\.\.2.*got 1\.5"):
        fit(MLP(2, [4, 3], seed=0), X, [1.5] * len(y), loss=loss, epochs=1)


def test_validation_labels_are_checked_too():
    X, y = xor()
    with pytest.raises(ValueError, match=r"fit validation_data: .*labels 0 and 1.*got 3"):
        fit(MLP(2, [4, 1], seed=0), X, y, validation_data=(X, [0, 1, 3, 0]), epochs=1)


def test_evaluate_checks_labels_for_the_default_loss():
    X, y = blobs(5)
    with pytest.raises(ValueError, match=r"evaluate: .*1 output.*labels 0 and 1"):
        evaluate(MLP(2, [4, 1], seed=0), X, y)


def test_mse_on_k_outputs_reads_class_labels_as_one_hot_rows():
    X, y = blobs(4, seed=2)
    model = MLP(2, [4, 3], seed=0)
    with no_grad():
        outputs = [model(x) for x in X]
        one_hot = [[float(i == label) for i in range(3)] for label in y]
        expected = mse(outputs, one_hot).data
    assert evaluate(model, X, y, loss="mse")[0] == pytest.approx(expected, rel=1e-12)
    history = fit(model, X, y, loss="mse", epochs=1, lr=0.0, shuffle=False, batch_size=len(y))
    assert history.loss == [pytest.approx(expected, rel=1e-12)]
    assert evaluate(model, X, one_hot, loss="mse")[0] == pytest.approx(expected, rel=1e-12)


def test_hinge_on_k_outputs_is_the_multiclass_hinge():
    X, y = blobs(4, seed=2)
    model = MLP(2, [4, 3], seed=0)
    with no_grad():
        expected = hinge([model(x) for x in X], y).data
    history = fit(model, X, y, loss="hinge", epochs=1, lr=0.0, shuffle=False, batch_size=len(y))
    assert history.loss == [pytest.approx(expected, rel=1e-12)]


# -- a given optimizer ------------------------------------------------------------------


def test_lr_together_with_an_optimizer_is_rejected():
    model = MLP(2, [4, 1], seed=0)
    with pytest.raises(ValueError, match=r"fit: lr=0\.5 is for the default Adam.*optimizer"):
        fit(model, *xor(), optimizer=SGD(model.parameters(), lr=0.1), lr=0.5, epochs=1)


def test_an_optimizer_of_another_model_is_rejected():
    model, other = MLP(2, [4, 1], seed=0), MLP(2, [4, 1], seed=1)
    before = model.state_dict()
    with pytest.raises(
        ValueError,
        match=r"fit: the optimizer does not hold 17 of the "
        r"model's 17 parameters",
    ):
        fit(model, *xor(), optimizer=SGD(other.parameters(), lr=0.1), epochs=1)
    with pytest.raises(ValueError, match=r"does not hold 5 of the model's 17 parameters"):
        fit(model, *xor(), optimizer=SGD(model.parameters()[:12], lr=0.1), epochs=1)
    assert model.state_dict() == before
    extra = SGD([*model.parameters(), *other.parameters()], lr=0.1)  # a superset is fine
    assert fit(model, *xor(), optimizer=extra, epochs=1).epochs == 1


# -- the garbage collector -------------------------------------------------------------


@pytest.mark.parametrize("enabled", [True, False])
def test_fit_pauses_the_gc_in_steps_and_restores_it(enabled):
    seen = []

    def recording_step(*args):
        seen.append(gc.isenabled())
        return train_step(*args)

    def failing_step(*args):
        raise RuntimeError("boom")

    before = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        fit(MLP(2, [2, 1], seed=0), *xor(), epochs=2, batch_size=2, step=recording_step)
        assert seen == [False] * 4
        assert gc.isenabled() == enabled
        with pytest.raises(RuntimeError, match="boom"):
            fit(MLP(2, [2, 1], seed=0), *xor(), epochs=1, step=failing_step)
        assert gc.isenabled() == enabled
    finally:
        (gc.enable if before else gc.disable)()


# -- compiled steps ---------------------------------------------------------------------


def patch_train_step(monkeypatch, replacement):
    """Replace the eager step that fit runs and hands the compiled step to fall back on."""
    monkeypatch.setattr("autograd_tiny.train.train_step", replacement)


def count_eager_steps(monkeypatch) -> list[int]:
    """Let eager steps run, appending 1 to the returned list for each."""
    calls: list[int] = []

    def counting(*args):
        calls.append(1)
        return train_step(*args)

    patch_train_step(monkeypatch, counting)
    return calls


def no_eager_steps(monkeypatch):
    """Make any eager train_step inside fit fail the test."""

    def eager(*args):
        raise AssertionError("fit ran an eager step")

    patch_train_step(monkeypatch, eager)


def fit_both(monkeypatch, make, X, y, **kwargs):
    eager_model, compiled_model = make(), make()
    eager = fit(eager_model, X, y, compile=False, **kwargs)
    with monkeypatch.context() as patch:
        no_eager_steps(patch)
        compiled = fit(compiled_model, X, y, **kwargs)
    return eager, compiled, eager_model.parameters(), compiled_model.parameters()


def assert_same_run(eager, compiled, eager_params, compiled_params):
    assert compiled.loss == pytest.approx(eager.loss, rel=1e-9)
    assert compiled.val_loss == pytest.approx(eager.val_loss, rel=1e-9)
    assert compiled.accuracy == eager.accuracy
    assert compiled.val_accuracy == eager.val_accuracy
    assert [p.data for p in compiled_params] == pytest.approx(
        [p.data for p in eager_params], rel=1e-9, abs=1e-12
    )


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_compiled_fit_equals_eager_fit_for_one_output_bce(monkeypatch, activation):
    X, y = moons(40, noise=0.1, seed=0)
    runs = fit_both(
        monkeypatch,
        lambda: MLP(2, [8, 8, 1], activation=activation, seed=0),
        X,
        y,
        epochs=15,
        batch_size=8,
        validation_data=(X[:10], y[:10]),
    )
    assert_same_run(*runs)
    assert runs[1].loss[-1] < runs[1].loss[0]


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_compiled_fit_equals_eager_fit_for_three_class_cross_entropy(monkeypatch, activation):
    X, y = blobs(15, seed=0)
    runs = fit_both(
        monkeypatch,
        lambda: MLP(2, [8, 3], activation=activation, seed=0),
        X,
        y,
        epochs=15,
        batch_size=8,
    )
    assert_same_run(*runs)
    assert runs[1].accuracy[-1] > 0.9


@pytest.mark.parametrize("sizes, data", [([4, 1], xor()), ([4, 3], blobs(5, seed=1))])
def test_compiled_fit_equals_eager_fit_for_mse(monkeypatch, sizes, data):
    runs = fit_both(
        monkeypatch,
        lambda: MLP(2, sizes, activation="tanh", seed=0),
        *data,
        epochs=10,
        batch_size=4,
        loss="mse",
    )
    assert_same_run(*runs)


@pytest.mark.parametrize(
    "sizes, data", [([16, 16, 3], blobs(20, seed=2)), ([16, 16, 1], moons(60, noise=0.2, seed=2))]
)
def test_compiled_fit_equals_eager_fit_with_fits_defaults(monkeypatch, sizes, data):
    # The timed models (2-16-16-3 blobs, 2-16-16-1 moons), default loss, batch
    # size and optimizer: every epoch's loss and accuracy match.
    runs = fit_both(monkeypatch, lambda: MLP(2, sizes, seed=0), *data, epochs=6)
    assert_same_run(*runs)
    assert 0.5 < runs[1].accuracy[-1] < 1.0  # a count that has room to be wrong


def test_compiled_fit_equals_eager_fit_for_a_sigmoid_output(monkeypatch):
    # A sigmoid output predicts 1 above 0.5, not above 0: the compiled count
    # must use the same threshold (mse is the compiled loss for this model).
    X, y = moons(40, noise=0.1, seed=1)
    runs = fit_both(
        monkeypatch,
        lambda: MLP(2, [8, 1], output_activation="sigmoid", seed=0),
        X,
        y,
        epochs=8,
        batch_size=8,
        loss="mse",
    )
    assert_same_run(*runs)
    assert len(set(runs[1].accuracy)) > 1


@pytest.mark.parametrize(
    "sizes, y, expected", [([4, 3], [0, 1, 2], 1 / 3), ([4, 1], [0, 1, 0], 2 / 3)]
)
def test_compiled_accuracy_counts_ties_like_argmax(monkeypatch, sizes, y, expected):
    # At the origin a fresh relu MLP outputs exactly 0 (zero biases): the eager
    # prediction is class 0 (argmax keeps the first maximum; 0 > 0 is false).
    eager, compiled, _, _ = fit_both(
        monkeypatch,
        lambda: MLP(2, sizes, seed=0),
        [[0.0, 0.0]] * 3,
        y,
        epochs=1,
        lr=0.0,
        shuffle=False,
    )
    assert eager.accuracy == compiled.accuracy == [pytest.approx(expected)]


class ReadsItsOutput(MLP):
    """An MLP whose output depends on a value read as a number: cannot be traced."""

    def __call__(self, x):
        out = super().__call__(x)
        return out if out.data > 0 else out * 0.5


class FailsWhenTraced(MLP):
    """A model whose forward raises on traced values (any error, not a TraceError)."""

    def __call__(self, x):
        if any(type(v).__name__ == "Tracer" for v in x):
            raise ValueError("this model only runs eagerly")
        return super().__call__(x)


def test_any_error_while_tracing_falls_back_to_the_eager_step_and_says_so_once():
    X, y = xor()
    eager = fit(FailsWhenTraced(2, [4, 1], seed=0), X, y, epochs=2, batch_size=2, compile=False)
    with pytest.warns(RuntimeWarning, match="only runs eagerly") as said:
        compiled = fit(
            FailsWhenTraced(2, [4, 1], seed=0), X, y, epochs=2, batch_size=2, compile=True
        )
    assert compiled == eager and len(said) == 1


def test_untraceable_models_and_losses_fall_back_to_eager_steps(monkeypatch):
    calls = count_eager_steps(monkeypatch)
    X, y = xor()
    eager = fit(ReadsItsOutput(2, [4, 1], seed=0), X, y, epochs=3, batch_size=2, compile=False)
    assert len(calls) == 6
    with pytest.warns(RuntimeWarning, match=r"cannot be compiled \(TraceError") as said:
        compiled = fit(
            ReadsItsOutput(2, [4, 1], seed=0), X, y, epochs=3, batch_size=2, compile=True
        )
    assert len(said) == 1  # once, not once per batch
    assert compiled == eager and len(calls) == 12  # the TraceError is remembered
    custom = fit(MLP(2, [4, 1], seed=0), X, y, epochs=1, loss=lambda out, t: mse(out, t))
    assert len(calls) == 13 and custom.loss[0] > 0.0


def test_a_batch_with_non_finite_values_reruns_eagerly(monkeypatch):
    calls = count_eager_steps(monkeypatch)
    X, y = [[0.5, 0.5], [0.5, -0.5], [math.inf, 0.0]], [0, 0, 1]
    runs = [
        fit(
            MLP(2, [4, 1], activation="tanh", seed=0),
            X,
            y,
            epochs=1,
            batch_size=1,
            shuffle=False,
            compile=compile,
            check_finite=False,
        )
        for compile in (False, True)
    ]
    assert len(calls) == 3 + 1  # eagerly: every sample; compiled: the infinite one only
    assert repr(runs[0]) == repr(runs[1])  # nan included


def test_compile_true_with_a_step_is_rejected():
    with pytest.raises(ValueError, match="compile=True replaces the default step"):
        fit(MLP(2, [2, 1], seed=0), *xor(), step=train_step, compile=True)
