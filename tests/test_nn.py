"""Neuron, Layer, MLP: seeded initialisation, shapes, gradients, state dicts."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from autograd_tiny.engine import Value
from autograd_tiny.nn import MLP, Layer, Neuron


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


def test_biases_start_at_zero():
    assert MLP(2, [3, 1], seed=0).state_dict()["layers"][0]["bias"] == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("activation, function", [
    ("relu", lambda s: max(s, 0.0)),
    ("tanh", math.tanh),
    ("sigmoid", lambda s: 1 / (1 + math.exp(-s))),
    ("linear", lambda s: s),
    (None, lambda s: s),
])
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


@pytest.mark.parametrize("make, error, words", [
    (lambda: MLP(2, [3, 1], activation="gelu"), ValueError, "'gelu'.*relu, tanh"),
    (lambda: MLP(2, []), ValueError, "nouts"),
    (lambda: MLP(2, 3), ValueError, "nouts"),
    (lambda: MLP(0, [1]), ValueError, "nin"),
    (lambda: MLP(2, [3, 1], seed=0)([1.0]), ValueError, "expects 2 inputs, got 1"),
    (lambda: MLP(2, [3, 1], seed=0)(None), TypeError, "NoneType"),
    (lambda: Neuron(2, "softmax"), ValueError, "softmax"),
])
def test_bad_arguments_raise_errors_naming_them(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_forward_matches_torch_with_the_same_weights():
    torch = pytest.importorskip("torch")
    model = MLP(3, [4, 2], activation="tanh", output_activation="sigmoid", seed=3)
    layers = model.state_dict()["layers"]
    x = [0.5, -1.0, 2.0]
    hidden = torch.tanh(torch.tensor(layers[0]["weight"], dtype=torch.float64)
                        @ torch.tensor(x, dtype=torch.float64)
                        + torch.tensor(layers[0]["bias"], dtype=torch.float64))
    out = torch.sigmoid(torch.tensor(layers[1]["weight"], dtype=torch.float64) @ hidden
                        + torch.tensor(layers[1]["bias"], dtype=torch.float64))
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
