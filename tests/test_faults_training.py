"""Training under faults: nan and inf stop fit at the first bad step with the model whole;
Ctrl-C at any moment of a step leaves model and optimizer from the same step."""

from __future__ import annotations

import functools
import math
import sys

import pytest

from autograd_tiny import train as train_module
from autograd_tiny.compiler.step import CompiledStep
from autograd_tiny.data import blobs, xor
from autograd_tiny.nn import MLP
from autograd_tiny.optim import SGD, Adam
from autograd_tiny.train import History, accuracy, evaluate, fit, train_step


def state(model, optimizer):
    return [p.data for p in model.parameters()], optimizer.state_dict()


def finite(model, optimizer) -> bool:
    numbers, saved = state(model, optimizer)
    for value in saved.values():
        if isinstance(value, list):
            numbers += [x for x in value if isinstance(x, float)]
    return all(math.isfinite(x) for x in numbers)


OPTIMIZERS = {
    "sgd": lambda params, lr: SGD(params, lr=lr, momentum=0.9),
    "adam": lambda params, lr: Adam(params, lr=lr),
}


# ---------------------------------------------------------------- non-finite data


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_nan_or_inf_in_x_is_refused_before_training_naming_row_and_column(bad):
    X, y = xor()
    X = [row.copy() for row in X]
    X[2][1] = bad
    model = MLP(2, [4, 1], seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match=rf"fit: row 2, column 1: X\[2\]\[1\] = {bad!r}"):
        fit(model, X, y, epochs=2, progress=False)
    assert [p.data for p in model.parameters()] == before


def test_validation_data_and_mse_targets_are_checked_too():
    X, y = xor()
    with pytest.raises(ValueError, match=r"fit validation_data: row 0, column 0: X\[0\]\[0\]"):
        fit(MLP(2, [1], seed=0), X, y, validation_data=([[math.nan, 0.0]], [0]))
    with pytest.raises(ValueError, match=r"row 1, column 2: y\[1\]\[2\] = inf"):
        fit(MLP(2, [3], seed=0), X[:2], [[0.0, 1.0, 0.0], [1.0, 0.0, math.inf]], loss="mse")


def test_check_finite_false_lets_a_nan_run_on_as_before():
    X, y = xor()
    X = [row.copy() for row in X]
    X[0][0] = math.nan
    model = MLP(2, [4, 1], seed=0)
    history = fit(model, X, y, epochs=2, progress=False, check_finite=False)
    assert history.epochs == 2 and math.isnan(history.loss[-1])
    assert all(math.isnan(p.data) for p in model.parameters())


# ---------------------------------------------------------------- non-finite steps


class Recording:
    """Wraps an optimizer class: remembers model and optimizer state before each step().

    The record is a class attribute, out of the instance's state that fit restores.
    """

    @staticmethod
    def make(kind, params, lr):
        base = type(OPTIMIZERS[kind](params, lr))
        recorder = type(
            f"Recording{base.__name__}", (base,), {"step": Recording.step, "before": []}
        )
        optimizer = recorder.__new__(recorder)
        optimizer.__dict__.update(OPTIMIZERS[kind](params, lr).__dict__)
        return optimizer

    def step(self):
        self.before.append(([p.data for p in self.params], self.state_dict()))
        type(self).__mro__[1].step(self)


@pytest.mark.parametrize("compile", [False, True])
@pytest.mark.parametrize("kind", list(OPTIMIZERS))
def test_a_huge_learning_rate_stops_at_the_first_bad_step_with_the_state_before_it(kind, compile):
    X, y = blobs(12, seed=0)
    model = MLP(2, [8, 3], seed=0)
    optimizer = Recording.make(kind, model.parameters(), lr=1e300)
    with pytest.raises(
        FloatingPointError,
        match=r"fit stopped at epoch \d+, batch \d+ of 3: "
        r"the (loss|gradient|update|optimizer)",
    ) as caught:
        fit(model, X, y, epochs=50, optimizer=optimizer, progress=False, compile=compile)
    error = caught.value
    assert error.epoch >= 1 and 1 <= error.batch <= 3
    assert isinstance(error.history, History) and error.history.epochs == error.epoch - 1
    assert finite(model, optimizer)
    # exactly the state before the optimizer step of the failing batch
    data, saved = optimizer.before[-1]
    assert [p.data for p in model.parameters()] == data
    assert optimizer.state_dict() == saved


def nan_at_call(n, loss_fn):
    calls = []

    def loss(outputs, targets):
        calls.append(1)
        value = loss_fn(outputs, targets)
        return value * math.nan if len(calls) == n else value

    return loss


@pytest.mark.parametrize("kind", list(OPTIMIZERS))
def test_a_nan_loss_in_a_later_step_names_epoch_and_batch(kind):
    from autograd_tiny.losses import binary_cross_entropy_with_logits

    X, y = xor()
    model = MLP(2, [4, 1], seed=0)
    optimizer = Recording.make(kind, model.parameters(), lr=0.05)
    with pytest.raises(FloatingPointError, match=r"epoch 3, batch 1 of 2: the loss is nan"):
        fit(
            model,
            X,
            y,
            epochs=5,
            batch_size=2,
            optimizer=optimizer,
            progress=False,
            loss=nan_at_call(5, binary_cross_entropy_with_logits),
        )
    assert [p.data for p in model.parameters()] == optimizer.before[-1][0]
    assert len(optimizer.before) == 5


@pytest.mark.parametrize("compile", [False, True])
@pytest.mark.parametrize("kind", list(OPTIMIZERS))
def test_a_nan_gradient_is_caught_and_named(monkeypatch, kind, compile):
    X, y = xor()
    model = MLP(2, [4, 1], seed=0)
    optimizer = Recording.make(kind, model.parameters(), lr=0.05)
    calls = []
    real_step = type(optimizer).step

    def poisoned(self):
        calls.append(1)
        if len(calls) == 3:
            self.params[6].grad = math.inf
        real_step(self)

    monkeypatch.setattr(type(optimizer), "step", poisoned)
    with pytest.raises(
        FloatingPointError,
        match=r"epoch 2, batch 1 of 2: the gradient of "
        r"model.parameters\(\)\[6\].* is inf",
    ):
        fit(
            model,
            X,
            y,
            epochs=4,
            batch_size=2,
            optimizer=optimizer,
            progress=False,
            compile=compile,
        )
    assert [p.data for p in model.parameters()] == optimizer.before[-1][0]
    assert finite(model, optimizer)


@pytest.mark.parametrize("compile", [False, True])
def test_an_update_that_overflows_names_the_parameter_and_the_learning_rate(compile):
    model = MLP(2, [1], seed=0)
    optimizer = SGD(model.parameters(), lr=1e308)
    before = [p.data for p in model.parameters()]
    with pytest.raises(
        FloatingPointError,
        match=r"epoch 1, batch 1 of 1: the update made "
        r"model.parameters\(\)\[0\].* inf \(it was "
        r".*is the learning rate 1e\+308 too large",
    ):
        fit(model, [[100.0, 100.0]], [1], optimizer=optimizer, progress=False, compile=compile)
    assert [p.data for p in model.parameters()] == before


def test_adams_second_moment_overflowing_is_caught():
    model = MLP(1, [1], activation="linear", seed=0)
    optimizer = Adam(model.parameters(), lr=1e-3)
    model.layers[0].neurons[0].w[0].data = 1e-200
    # loss 1e200 * w * x: finite (1.0), its gradient finite (1e200), the gradient squared inf
    with pytest.raises(FloatingPointError, match=r"the optimizer's v\[0\] is inf"):
        fit(
            model,
            [[1.0]],
            [0.0],
            loss=lambda out, y: out[0] * 1e200,
            optimizer=optimizer,
            epochs=1,
            progress=False,
        )
    assert optimizer.t == 0 and optimizer.v == [0.0, 0.0]


# ---------------------------------------------------------------- Ctrl-C


class InterruptAt:
    """A tracer that raises KeyboardInterrupt at the n-th line run inside the k-th call of
    ``armed_by`` (in it or anything it calls), or in the ``after`` lines that follow it in
    any frame (fit's own bookkeeping): a deterministic Ctrl-C at a chosen point."""

    def __init__(self, armed_by, k: int, n: int, after: int = 60, inside: bool = True) -> None:
        self.code, self.k, self.n, self.after = armed_by.__code__, k, n, after
        self.inside = inside
        self.watched = {self.code, fit.__code__, train_module._whole_step.__code__}
        self.calls = self.lines = 0
        self.active = None
        self.fired = False

    def __call__(self, frame, event, arg):
        if event == "call" and frame.f_code is self.code:
            self.calls += 1
            if self.calls == self.k:
                self.active = frame
        counting = self.active is not None or (self.calls >= self.k and self.after > 0)
        if event == "line" and counting and (self.inside or self.active is None):
            self.lines += 1
            if self.active is None:
                self.after -= 1
            if self.lines == self.n:
                self.fired = True
                raise KeyboardInterrupt
        if event == "return" and frame is self.active:
            self.active = None
        # Trace line by line only where a line may count: cheap before and after the window.
        if self.active is not None or frame.f_code in self.watched:
            return self
        return None

    def run(self, function):
        sys.settrace(self)
        try:
            return function()
        finally:
            sys.settrace(None)


def _runs(kind, compile):
    """A fresh model and optimizer, and fit on xor: 2 epochs of 2 batches, no shuffling."""
    X, y = xor()
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    optimizer = OPTIMIZERS[kind](model.parameters(), 0.1)

    def run(epochs=2, **kwargs):
        return fit(
            model,
            X,
            y,
            epochs=epochs,
            batch_size=2,
            shuffle=False,
            compile=compile,
            optimizer=optimizer,
            progress=False,
            **kwargs,
        )

    return model, optimizer, run


def _states_after_each_step(kind, compile):
    model, optimizer, _run = _runs(kind, compile)
    states = [state(model, optimizer)]
    X, y = xor()
    for start in (0, 2, 0, 2):
        fit(
            model,
            X[start : start + 2],
            y[start : start + 2],
            epochs=1,
            batch_size=2,
            shuffle=False,
            compile=compile,
            optimizer=optimizer,
            progress=False,
        )
        states.append(state(model, optimizer))
    return states


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind, compile, armed_by, stride",
    [
        ("adam", False, Adam.step, 1),  # every line of Adam's update
        ("sgd", False, SGD.step, 1),  # every line of SGD's
        ("adam", False, train_step, 5),  # forward, backward, update: every 5th line
        ("adam", True, CompiledStep.__call__, 3),
        ("sgd", True, CompiledStep.__call__, 3),
    ],
)
def test_ctrl_c_anywhere_in_a_step_leaves_model_and_optimizer_from_the_same_step(
    kind, compile, armed_by, stride
):
    states = _states_after_each_step(kind, compile)
    assert len({repr(s) for s in states}) == 5
    n, fired = 1, 0
    while True:
        model, optimizer, run = _runs(kind, compile)
        tracer = InterruptAt(armed_by, k=3, n=n)  # the 3rd step: epoch 2, batch 1
        history = History()
        try:
            tracer.run(functools.partial(run, history=history))
        except KeyboardInterrupt as error:
            assert error.history is history
            got = state(model, optimizer)
            # before or after the 3rd step, or after the 4th (caught in fit's last lines)
            assert got in states[2:5], f"line {n}: parameters and optimizer disagree"
            assert history.epochs == 1 or (history.epochs == 2 and got == states[4])
            assert len(history.accuracy) == history.epochs
            if sys.version_info >= (3, 11):  # add_note is new in 3.11
                assert any("fit interrupted in epoch 2" in note for note in error.__notes__)
            fired += 1
        if not tracer.fired:
            break  # n ran past the end of fit
        n += stride
    assert fired > 30, f"only {fired} interrupts landed"


def test_ctrl_c_while_an_epoch_is_recorded_leaves_whole_epochs_in_the_history():
    X, y = xor()
    n, fired = 1, 0
    while True:
        model = MLP(2, [3, 1], activation="tanh", seed=0)
        history = History()
        # every line of fit after epoch 2's validation: the epoch being recorded
        tracer = InterruptAt(evaluate, k=2, n=n, after=40, inside=False)
        try:
            tracer.run(
                functools.partial(
                    fit,
                    model,
                    X,
                    y,
                    epochs=2,
                    batch_size=2,
                    validation_data=(X, y),
                    history=history,
                    compile=False,
                )
            )
        except KeyboardInterrupt as error:
            assert error.history is history
            lengths = {
                len(history.loss),
                len(history.accuracy),
                len(history.val_loss),
                len(history.val_accuracy),
            }
            assert lengths in ({1}, {2}), f"line {n}: {history}"
            fired += 1
        if not tracer.fired:
            break
        n += 1
    assert fired > 5


def test_an_interrupted_fit_can_resume_where_it_stopped():
    model, optimizer, run = _runs("adam", False)
    tracer = InterruptAt(Adam.step, k=3, n=20)
    with pytest.raises(KeyboardInterrupt) as caught:
        tracer.run(run)
    assert caught.value.history.epochs == 1
    reference, reference_optimizer, reference_run = _runs("adam", False)
    reference_run(epochs=1)
    assert state(model, optimizer) == state(reference, reference_optimizer)


# ---------------------------------------------------------------- NumPy labels


def test_numpy_integer_labels_train_like_ints_eager_and_compiled():
    np = pytest.importorskip("numpy")
    for (X, y), sizes in ((xor(), [4, 1]), (blobs(10, seed=0), [4, 3])):
        labels = list(np.array(y, dtype=np.int64))
        for compile in (False, True):
            with_ints = fit(MLP(2, sizes, seed=0), X, y, epochs=3, compile=compile)
            model = MLP(2, sizes, seed=0)
            with_numpy = fit(model, X, labels, epochs=3, compile=compile)
            assert with_numpy == with_ints
            assert type(with_numpy.accuracy[0]) is float
            assert type(accuracy(model, X, labels)) is float
            assert evaluate(model, X, labels)[1] == accuracy(model, X, y)


def test_numpy_labels_outside_the_classes_are_still_refused():
    np = pytest.importorskip("numpy")
    X, _y = xor()
    with pytest.raises(ValueError, match=r"needs labels 0 and 1; got np.int64\(2\) \(y\[1\]\)"):
        fit(MLP(2, [1], seed=0), X, [np.int64(0), np.int64(2), 0, 1])


def test_optimizer_state_copies_numbers_and_containers_but_keeps_other_objects():
    model = MLP(2, [1], seed=0)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    optimizer.model = model  # a user's optimizer may hold on to anything
    optimizer.history = {"norms": [1.0, 2.0], "pairs": [(1, [2.0])]}
    saved = optimizer.state_dict()
    optimizer.history["norms"].append(3.0)
    optimizer.history["pairs"][0][1].append(4.0)
    optimizer.buffers[0] = 5.0
    optimizer.load_state_dict(saved)
    assert optimizer.model is model
    assert optimizer.history == {"norms": [1.0, 2.0], "pairs": [(1, [2.0])]}
    assert optimizer.buffers == [None, None, None]
    assert optimizer.state_dict() == saved
