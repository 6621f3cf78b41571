"""Neuron, Layer, MLP: seeded initialisation, shapes, gradients, state dicts."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from autograd_tiny.engine import Value
from autograd_tiny.nn import ACTIVATIONS, INITS, MLP, Layer, Neuron


def test_seed_reproduces_the_model_whatever_the_global_random_state():
    random.seed(1)
    first = MLP(3, [5, 4, 2], seed=7).state_dict()
    random.seed(99)
    random.random()
    assert MLP(3, [5, 4, 2], seed=7).state_dict() == first
    assert MLP(3, [5, 4, 2], seed=8).state_dict() != first


def test_building_a_model_leaves_the_global_random_state_alone():
    random.seed(5)
    expected = random.random()
    random.seed(5)
    MLP(2, [3, 1], seed=None)
    assert random.random() == expected


def test_he_initialisation_for_relu():
    weights = [w.data for n in Layer(200, 100, "relu", seed=0).neurons for w in n.w]
    assert abs(statistics.pvariance(weights) / (2 / 200) - 1) < 0.05
    assert abs(statistics.fmean(weights)) < 0.01


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_glorot_initialisation_for_tanh_and_sigmoid(activation):
    weights = [w.data for n in Layer(200, 100, activation, seed=0).neurons for w in n.w]
    assert abs(statistics.pvariance(weights) / (2 / 300) - 1) < 0.05


@pytest.mark.parametrize("init", INITS)
def test_biases_start_at_zero_for_every_init(init):
    assert MLP(2, [3, 1], init=init, seed=0).state_dict()["layers"][0]["bias"] == [0.0] * 3


# Drawn by the code before init= existed; rel=1e-12 allows a libm's last-bit difference
# in random.gauss, and nothing more.
EARLIER_WEIGHTS = {  # MLP(2, [2, 1], activation=..., seed=0), row by row
    "relu": [
        0.9417154046806644,
        -1.3965781047011498,
        -0.6797144480784211,
        0.3705035674606598,
        -0.8298453971342351,
        -0.058885752020440454,
    ],
    "tanh": [
        0.6658933485975317,
        -0.9875298482908393,
        -0.48063069550672305,
        0.26198558500524005,
        -0.8298453971342351,
        -0.058885752020440454,
    ],
}


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("init", [{}, {"init": "auto"}], ids=["default", "auto"])
def test_auto_init_draws_the_same_weights_as_before_init_existed(activation, init):
    model = MLP(2, [2, 1], activation=activation, seed=0, **init)
    weights = [w for layer in model.state_dict()["layers"] for row in layer["weight"] for w in row]
    assert weights == pytest.approx(EARLIER_WEIGHTS[activation], rel=1e-12)


def test_auto_init_is_he_for_relu_layers_and_glorot_for_the_others():
    rng = random.Random(1)
    by_hand = [
        Layer(3, 5, "relu", rng=rng, init="he"),
        Layer(5, 2, "linear", rng=rng, init="glorot"),
    ]
    expected = {"layers": [layer.state_dict() for layer in by_hand]}
    assert MLP(3, [5, 2], seed=1).state_dict() == expected


def _weights(layer: Layer) -> list[float]:
    return [w.data for n in layer.neurons for w in n.w]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_he_init_has_variance_two_over_fan_in_whatever_the_activation(activation):
    weights = _weights(Layer(200, 100, activation, init="he", seed=0))
    assert statistics.pvariance(weights) == pytest.approx(2 / 200, rel=0.05)
    assert abs(statistics.fmean(weights)) < 0.01


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_glorot_init_has_variance_two_over_fan_in_plus_fan_out(activation):
    weights = _weights(Layer(200, 100, activation, init="glorot", seed=0))
    assert statistics.pvariance(weights) == pytest.approx(2 / 300, rel=0.05)


def test_uniform_init_is_micrograds_uniform_on_minus_one_to_one():
    weights = _weights(Layer(200, 100, "relu", init="uniform", seed=0))
    assert -1.0 <= min(weights) < -0.999 and 0.999 < max(weights) <= 1.0
    assert statistics.pvariance(weights) == pytest.approx(1 / 3, rel=0.05)
    assert abs(statistics.fmean(weights)) < 0.01


def test_mlp_init_applies_to_every_layer_including_the_output():
    rng = random.Random(4)
    by_hand = [Layer(3, 4, "tanh", rng=rng, init="he"), Layer(4, 2, "sigmoid", rng=rng, init="he")]
    model = MLP(3, [4, 2], activation="tanh", output_activation="sigmoid", init="he", seed=4)
    assert model.state_dict() == {"layers": [layer.state_dict() for layer in by_hand]}
    assert [neuron.init for layer in model.layers for neuron in layer.neurons] == ["he"] * 6


def test_a_lone_neuron_counts_one_output_for_glorot():
    weights = [
        w.data for seed in range(100) for w in Neuron(200, "tanh", init="glorot", seed=seed).w
    ]
    assert statistics.pvariance(weights) == pytest.approx(2 / 201, rel=0.05)


@pytest.mark.parametrize(
    "activation, function",
    [
        ("relu", lambda s: max(s, 0.0)),
        ("tanh", math.tanh),
        ("sigmoid", lambda s: 1 / (1 + math.exp(-s))),
        ("linear", lambda s: s),
        (None, lambda s: s),
    ],
)
def test_neuron_computes_activation_of_weighted_sum(activation, function):
    n = Neuron(2, activation, seed=0)
    n.w[0].data, n.w[1].data, n.b.data = 0.5, -2.0, 0.25
    for x in ([1.0, 1.0], [1.0, -1.0]):
        s = 0.5 * x[0] - 2.0 * x[1] + 0.25
        assert math.isclose(n(x).data, function(s))


def test_one_output_is_a_value_and_more_are_a_list():
    assert isinstance(MLP(2, [3, 1], seed=0)([1.0, 2.0]), Value)
    out = MLP(2, [3, 4], seed=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 4


def test_a_one_neuron_layer_composes_with_the_next():
    model = MLP(2, [1, 3, 1], seed=0)
    assert isinstance(model([1.0, -1.0]), Value)
    assert len(Layer(1, 2, seed=0)(Layer(2, 1, seed=0)([1.0, 2.0]))) == 2


def test_parameters_count_and_zero_grad():
    model = MLP(3, [4, 2], seed=0)
    params = model.parameters()
    assert len(params) == (3 * 4 + 4) + (4 * 2 + 2)
    assert len({id(p) for p in params}) == len(params)
    model([1.0, 2.0, 3.0])[0].backward()
    assert any(p.grad for p in params)
    model.zero_grad()
    assert all(p.grad == 0.0 for p in params)


def test_backward_through_mlp_matches_finite_differences():
    model = MLP(2, [3, 1], activation="tanh", seed=1)
    x = [0.3, -0.7]
    model(x).backward()
    for p in model.parameters():
        saved, eps = p.data, 1e-6
        p.data = saved + eps
        up = model(x).data
        p.data = saved - eps
        down = model(x).data
        p.data = saved
        assert math.isclose(p.grad, (up - down) / (2 * eps), rel_tol=1e-5, abs_tol=1e-8)


def test_state_dict_round_trip_and_shape_check():
    source, target = MLP(2, [3, 2], seed=0), MLP(2, [3, 2], seed=1)
    target.load_state_dict(source.state_dict())
    assert target.state_dict() == source.state_dict()
    before = target.state_dict()
    bad = source.state_dict()
    bad["layers"][1]["weight"][0] = [1.0, 2.0]
    with pytest.raises(ValueError, match=r"state_dict.layers\[1\].weight\[0\]: expected 3"):
        target.load_state_dict(bad)
    bad = source.state_dict()
    bad["layers"][0]["bias"][2] = float("nan")
    with pytest.raises(ValueError, match="finite"):
        target.load_state_dict(bad)
    assert target.state_dict() == before


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: MLP(2, [3, 1], activation="gelu"), ValueError, "'gelu'.*relu, tanh"),
        (lambda: MLP(2, []), ValueError, "nouts"),
        (lambda: MLP(2, 3), ValueError, "nouts"),
        (lambda: MLP(0, [1]), ValueError, "nin"),
        (lambda: MLP(2, [3, 1], seed=0)([1.0]), ValueError, "expects 2 inputs, got 1"),
        (lambda: MLP(2, [3, 1], seed=0)(None), TypeError, "NoneType"),
        (lambda: Neuron(2, "softmax"), ValueError, "softmax"),
        (
            lambda: MLP(2, [3, 1], init="xavier"),
            ValueError,
            r"^MLP: unknown init 'xavier' \(must be one of auto, he, glorot, uniform\)$",
        ),
        (lambda: Layer(2, 3, init="He"), ValueError, "Layer: unknown init 'He'"),
        (lambda: Neuron(2, init=None), ValueError, "Neuron: unknown init None"),
    ],
)
def test_bad_arguments_raise_errors_naming_them(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_forward_matches_torch_with_the_same_weights():
    torch = pytest.importorskip("torch")
    model = MLP(3, [4, 2], activation="tanh", output_activation="sigmoid", seed=3)
    layers = model.state_dict()["layers"]
    x = [0.5, -1.0, 2.0]
    hidden = torch.tanh(
        torch.tensor(layers[0]["weight"], dtype=torch.float64)
        @ torch.tensor(x, dtype=torch.float64)
        + torch.tensor(layers[0]["bias"], dtype=torch.float64)
    )
    out = torch.sigmoid(
        torch.tensor(layers[1]["weight"], dtype=torch.float64) @ hidden
        + torch.tensor(layers[1]["bias"], dtype=torch.float64)
    )
    for ours, theirs in zip(model(x), out.tolist()):
        assert math.isclose(ours.data, theirs, rel_tol=1e-12)


def test_load_state_dict_rejects_a_huge_integer_with_a_value_error():
    target = MLP(2, [3, 1], seed=0)
    before = target.state_dict()
    bad = target.state_dict()
    bad["layers"][1]["bias"][0] = -(10**400)
    with pytest.raises(ValueError, match=r"layers\[1\]\.bias\[0\]: .*too large for a float"):
        target.load_state_dict(bad)
    assert target.state_dict() == before
    bad["layers"][1]["bias"][0] = 10**300  # a big integer that is a float is fine
    target.load_state_dict(bad)
    assert target.layers[1].neurons[0].b.data == 1e300
