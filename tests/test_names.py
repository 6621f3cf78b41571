"""Parameter names: modules label parameters by state_dict path; graphs and explain show them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from autograd_tiny import MLP, Layer, Neuron, Value, explain
from autograd_tiny.viz import COLORS, to_dot


def lookup(state: Any, path: str) -> Any:
    """state_dict()["layers"][0]["weight"][3][1] for the path 'layers[0].weight[3][1]'."""
    for key, index in re.findall(r"(\w+)|\[(\d+)\]", path):
        state = state[key] if key else state[int(index)]
    return state


@pytest.mark.parametrize("model, expected", [
    (Neuron(2, seed=0), ["weight[0]", "weight[1]", "bias"]),
    (Layer(2, 2, seed=0), ["weight[0][0]", "weight[0][1]", "weight[1][0]", "weight[1][1]",
                           "bias[0]", "bias[1]"]),
    (MLP(1, [2, 1], seed=0), ["layers[0].weight[0][0]", "layers[0].weight[1][0]",
                              "layers[0].bias[0]", "layers[0].bias[1]",
                              "layers[1].weight[0][0]", "layers[1].weight[0][1]",
                              "layers[1].bias[0]"]),
])
def test_parameters_are_labelled_by_their_state_dict_path(model: Any, expected: list[str]) -> None:
    named = model.named_parameters()
    assert [name for name, _ in named] == expected
    assert [p for _, p in named] == model.parameters()
    for name, parameter in named:
        assert parameter.label == name
        assert lookup(model.state_dict(), name) == parameter.data


def test_neuron_outputs_and_wrapped_inputs_are_named() -> None:
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    hidden = model.layers[0]([0.5, -0.5])
    assert [h.label for h in hidden] == ["layers[0].out[0]", "layers[0].out[1]",
                                         "layers[0].out[2]"]
    assert [p.label for p in hidden[0].parents[0].parents[1].parents] == [
        "layers[0].weight[0][1]", "x[1]"]
    assert [h.label for h in Layer(2, 2, seed=0)([0.5, -0.5])] == ["out[0]", "out[1]"]
    assert model([0.5, -0.5]).label == "layers[1].out[0]"
    assert Neuron(1, seed=0)([2.0]).label == "out"


def test_a_neuron_graph_names_weights_bias_and_inputs_and_colours_them_as_parameters() -> None:
    neuron = Neuron(2, activation="linear", seed=0)
    out = neuron([1.0, 2.0])
    out.backward()
    source = to_dot(out, params=neuron)
    parameter = f'bgcolor="{COLORS["parameter"]}"><tr>'
    assert f"{parameter}<td>weight[0]</td><td>data {neuron.w[0].data:.4g}</td><td>grad 1</td>" \
        in source
    assert f"{parameter}<td>weight[1]</td><td>data {neuron.w[1].data:.4g}</td><td>grad 2</td>" \
        in source
    assert f"{parameter}<td>bias</td><td>data 0</td><td>grad 1</td>" in source
    assert f'bgcolor="{COLORS["input"]}"><tr><td>x[1]</td><td>data 2</td>' in source
    assert f'bgcolor="{COLORS["output"]}"><tr><td>out</td>' in source


def test_an_mlp_loss_graph_names_every_parameter_and_draws_the_target_as_a_constant() -> None:
    model = MLP(2, [2, 1], seed=0)
    loss = (model([1.0, 2.0]) - 1.0) ** 2
    loss.backward()
    source = to_dot(loss, params=model)
    for name, _ in model.named_parameters():
        assert f'bgcolor="{COLORS["parameter"]}"><tr><td>{name}</td>' in source
    assert f'bgcolor="{COLORS["constant"]}"><tr><td>n3</td><td>data 1</td>' in source
    assert ">constant (unlabelled leaf)</td>" in source  # the legend row


def test_explain_names_layer_parameters() -> None:
    layer = Layer(2, 1, activation="linear", seed=0)
    out = layer([3.0, 4.0])
    steps = explain(out).steps
    inputs = {step.input for step in steps}
    assert {"weight[0][0]", "weight[0][1]", "bias[0]", "x[0]", "x[1]"} <= inputs
    weight = next(step for step in steps if step.input == "weight[0][1]")
    assert (weight.node, weight.op, weight.local, weight.total) == ("n1", "*", 4.0, 4.0)
    assert steps[0].node == "out[0]"


def test_a_label_given_after_construction_is_kept_for_the_picture() -> None:
    neuron = Neuron(1, activation="linear", seed=0)
    neuron.w[0].label = "w1"
    out = neuron([Value(2.0, label="x1")])
    assert "<td>w1</td>" in to_dot(out) and "<td>x1</td>" in to_dot(out)
