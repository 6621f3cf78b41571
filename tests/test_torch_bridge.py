"""to_torch / from_torch: the same outputs on both sides, round trips, refusals, no torch."""

from __future__ import annotations

import random
import sys

import pytest

from autograd_tiny.engine import Value
from autograd_tiny.losses import mse
from autograd_tiny.nn import MLP, Layer, Neuron, from_torch, to_torch
from autograd_tiny.optim import SGD

ACTIVATIONS = ["relu", "tanh", "sigmoid", "linear"]
MODELS = {
    "mlp-one-output": lambda a, o: MLP(3, [5, 4, 1], activation=a, output_activation=o, seed=1),
    "mlp-three-outputs": lambda a, o: MLP(3, [6, 3], activation=a, output_activation=o, seed=2),
    "mlp-one-layer": lambda a, o: MLP(3, [2], activation=a, output_activation=o, seed=3),
    "layer-one-output": lambda a, o: Layer(3, 1, activation=o, seed=4),
    "layer-two-outputs": lambda a, o: Layer(3, 2, activation=o, seed=5),
    "neuron": lambda a, o: Neuron(3, activation=o, seed=6),
}


def random_inputs(seed: int, n: int = 8) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.gauss(0.0, 2.0) for _ in range(3)] for _ in range(n)]


def as_list(out) -> list[float]:
    return [out.data] if isinstance(out, Value) else [v.data for v in out]


def test_without_torch_both_functions_say_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(ImportError, match=r"to_torch needs PyTorch.*pip install torch==2\.13\.0"):
        to_torch(MLP(2, [1], seed=0))
    with pytest.raises(ImportError, match=r"from_torch needs PyTorch.*autograd-tiny\[torch\]"):
        from_torch(object())


def test_to_torch_refuses_what_is_not_a_model_before_importing_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(TypeError, match=r"MLP, Layer or Neuron, got list"):
        to_torch([Value(1.0)])


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("hidden", ACTIVATIONS)
@pytest.mark.parametrize("output", ACTIVATIONS)
def test_to_torch_outputs_equal_the_models(kind, hidden, output):
    torch = pytest.importorskip("torch")
    model = MODELS[kind](hidden, output)
    seq = to_torch(model)
    inputs = random_inputs(seed=len(kind) + 10 * ACTIVATIONS.index(hidden))
    with torch.no_grad():
        batch = seq(torch.tensor(inputs, dtype=torch.float64))
    for x, row in zip(inputs, batch.tolist()):
        ours = model(x)
        assert isinstance(ours, Value) == (len(row) == 1)
        assert as_list(ours) == pytest.approx(row, rel=1e-12, abs=1e-12)
        with torch.no_grad():  # one unbatched input gives one row too
            single = seq(torch.tensor(x, dtype=torch.float64)).tolist()
        assert single == pytest.approx(row, rel=1e-14, abs=1e-14)


def test_to_torch_builds_linear_and_activation_modules_in_float64():
    torch = pytest.importorskip("torch")
    seq = to_torch(MLP(2, [4, 3, 1], activation="tanh", output_activation="sigmoid", seed=0))
    assert [type(m).__name__ for m in seq] == [
        "Linear",
        "Tanh",
        "Linear",
        "Tanh",
        "Linear",
        "Sigmoid",
    ]
    assert [(m.in_features, m.out_features) for m in seq if isinstance(m, torch.nn.Linear)] == [
        (2, 4),
        (4, 3),
        (3, 1),
    ]
    assert {p.dtype for p in seq.parameters()} == {torch.float64}
    assert all(p.requires_grad for p in seq.parameters())


def test_to_torch_copies_and_leaves_torchs_random_state_alone():
    torch = pytest.importorskip("torch")
    model = MLP(2, [3, 1], seed=0)
    before = torch.get_rng_state()
    seq = to_torch(model)
    assert torch.equal(torch.get_rng_state(), before)
    with torch.no_grad():
        seq[0].weight.add_(1.0)
    assert model.state_dict() == MLP(2, [3, 1], seed=0).state_dict()


@pytest.mark.parametrize("hidden", ACTIVATIONS)
@pytest.mark.parametrize("output", ACTIVATIONS)
def test_model_to_torch_and_back_gives_the_same_state_dict(hidden, output):
    pytest.importorskip("torch")
    model = MLP(3, [5, 4, 2], activation=hidden, output_activation=output, seed=7)
    back = from_torch(to_torch(model))
    assert back.state_dict() == model.state_dict()
    assert repr(back) == repr(model)


def test_from_torch_outputs_equal_torchs():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    nn = torch.nn
    seq = nn.Sequential(
        nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 6), nn.Tanh(), nn.Linear(6, 2), nn.Sigmoid()
    ).double()
    model = from_torch(seq)
    assert (
        repr(model) == "MLP(nin=3, nouts=[6, 6, 2], activation='tanh', output_activation='sigmoid')"
    )
    inputs = random_inputs(seed=3)
    with torch.no_grad():
        expected = seq(torch.tensor(inputs, dtype=torch.float64)).tolist()
    for x, row in zip(inputs, expected):
        assert as_list(model(x)) == pytest.approx(row, rel=1e-12, abs=1e-12)


def test_torch_to_model_and_back_gives_the_same_tensors():
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    nn = torch.nn
    seq = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1)).double()
    again = to_torch(from_torch(seq))
    assert list(again.state_dict()) == list(seq.state_dict())
    for key, tensor in seq.state_dict().items():
        assert torch.equal(again.state_dict()[key], tensor), key


def test_from_torch_reads_float32_identity_and_nested_blocks():
    torch = pytest.importorskip("torch")
    torch.manual_seed(2)
    nn = torch.nn
    seq = nn.Sequential(
        nn.Sequential(nn.Linear(2, 3), nn.ReLU(inplace=True)),
        nn.Linear(3, 3),
        nn.ReLU(),
        nn.Identity(),
        nn.Linear(3, 1),
        nn.Identity(),
    )
    model = from_torch(seq)  # float32 weights, read exactly as Python floats
    assert (model.nouts, model.activation, model.output_activation) == ([3, 3, 1], "relu", "linear")
    assert model.layers[0].neurons[1].w[0].data == seq[0][0].weight[1, 0].item()
    with torch.no_grad():
        expected = seq(torch.tensor([0.5, -0.25])).item()
    assert model([0.5, -0.25]).data == pytest.approx(expected, rel=1e-6)


def test_linear_layers_with_no_activation_between_are_linear_hidden_layers():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    model = from_torch(nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 2), nn.Tanh()))
    assert (model.activation, model.output_activation) == ("linear", "tanh")


def refusals(nn):
    return [
        (
            nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5), nn.Linear(3, 1)),
            ValueError,
            r"layer '1' \(Dropout\(p=0.5.*cannot be represented",
        ),
        (
            nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(), nn.Linear(3, 1)),
            ValueError,
            r"layer '1' \(LeakyReLU.*only Linear layers",
        ),
        (
            nn.Sequential(nn.Linear(2, 3, bias=False)),
            ValueError,
            r"layer '0' \(Linear\(in_features=2, out_features=3, bias=False\)\) has no "
            r"bias",
        ),
        (
            nn.Sequential(nn.ReLU(), nn.Linear(2, 3)),
            ValueError,
            r"layer '0' \(ReLU\(\)\) comes before any Linear",
        ),
        (
            nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Tanh()),
            ValueError,
            r"layer '2' \(Tanh\(\)\) follows another activation \(relu\)",
        ),
        (
            nn.Sequential(nn.Linear(2, 3), nn.Linear(4, 1)),
            ValueError,
            r"layer '1' .* takes 4 inputs, but layer '0' gives 3",
        ),
        (
            nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1)),
            ValueError,
            r"layer '2' is followed by tanh, but layer '0' by relu",
        ),
        (nn.Sequential(), ValueError, "holds no Linear layer"),
        (nn.Sequential(nn.ReLU()), ValueError, r"layer '0' \(ReLU\(\)\) comes before any Linear"),
        (nn.Linear(2, 3), TypeError, r"converts a torch.nn.Sequential, got Linear"),
    ]


@pytest.mark.parametrize("case", range(10))
def test_from_torch_refuses_what_an_mlp_cannot_represent_naming_the_layer(case):
    torch = pytest.importorskip("torch")
    seq, error, words = refusals(torch.nn)[case]
    with pytest.raises(error, match=words):
        from_torch(seq)


def test_from_torch_refuses_a_non_finite_weight_naming_the_layer():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    with torch.no_grad():
        seq[2].bias[0] = float("nan")
    with pytest.raises(ValueError, match=r"layer '2' \(Linear.*its bias holds a non-finite"):
        from_torch(seq)


def test_one_sgd_step_in_torch_equals_one_step_here():
    torch = pytest.importorskip("torch")
    model = MLP(3, [4, 1], activation="tanh", seed=0)
    seq = to_torch(model)
    inputs = random_inputs(seed=9, n=5)
    targets = [0.5, -1.0, 2.0, 0.0, 1.0]

    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss = mse([model(x) for x in inputs], targets)
    loss.backward()
    opt.step()

    torch_opt = torch.optim.SGD(seq.parameters(), lr=0.1, momentum=0.9)
    prediction = seq(torch.tensor(inputs, dtype=torch.float64))[:, 0]
    torch_loss = torch.nn.functional.mse_loss(
        prediction, torch.tensor(targets, dtype=torch.float64)
    )
    torch_loss.backward()
    torch_opt.step()

    assert loss.data == pytest.approx(torch_loss.item(), rel=1e-12)
    after = from_torch(seq).state_dict()
    assert after != MLP(3, [4, 1], activation="tanh", seed=0).state_dict()
    ours = [p.data for p in model.parameters()]
    theirs = [p.data for p in from_torch(seq).parameters()]
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15)
