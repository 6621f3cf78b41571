"""Parameter names: modules label parameters by state_dict path; graphs and explain show them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from autograd_tiny import MLP, Layer, Neuron, TraceError, Value, compile, explain
from autograd_tiny.viz import COLORS, draw_dot, to_dot


def lookup(state: Any, path: str) -> Any:
    """state_dict()["layers"][0]["weight"][3][1] for the path 'layers[0].weight[3][1]'."""
    for key, index in re.findall(r"(\w+)|\[(\d+)\]", path):
        state = state[key] if key else state[int(index)]
    return state


@pytest.mark.parametrize(
    "model, expected",
    [
        (Neuron(2, seed=0), ["weight[0]", "weight[1]", "bias"]),
        (
            Layer(2, 2, seed=0),
            ["weight[0][0]", "weight[0][1]", "weight[1][0]", "weight[1][1]", "bias[0]", "bias[1]"],
        ),
        (
            MLP(1, [2, 1], seed=0),
            [
                "layers[0].weight[0][0]",
                "layers[0].weight[1][0]",
                "layers[0].bias[0]",
                "layers[0].bias[1]",
                "layers[1].weight[0][0]",
                "layers[1].weight[0][1]",
                "layers[1].bias[0]",
            ],
        ),
    ],
)
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
    assert [h.label for h in hidden] == ["layers[0].out[0]", "layers[0].out[1]", "layers[0].out[2]"]
    assert [p.label for p in hidden[0].parents[0].parents[1].parents] == [
        "layers[0].weight[0][1]",
        "x[1]",
    ]
    assert [h.label for h in Layer(2, 2, seed=0)([0.5, -0.5])] == ["out[0]", "out[1]"]
    assert model([0.5, -0.5]).label == "layers[1].out[0]"
    assert Neuron(1, seed=0)([2.0]).label == "out"


def test_a_neuron_graph_names_weights_bias_and_inputs_and_colours_them_as_parameters() -> None:
    neuron = Neuron(2, activation="linear", seed=0)
    out = neuron([1.0, 2.0])
    out.backward()
    source = to_dot(out, params=neuron)
    parameter = f'bgcolor="{COLORS["parameter"]}"><tr>'
    assert (
        f"{parameter}<td>weight[0]</td><td>data {neuron.w[0].data:.4g}</td><td>grad 1</td>"
        in source
    )
    assert (
        f"{parameter}<td>weight[1]</td><td>data {neuron.w[1].data:.4g}</td><td>grad 2</td>"
        in source
    )
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


# -- collapsed view -------------------------------------------------------------------


def box_rows(source: str) -> list[str]:
    """The cells of each collapsed box, as 'name|cell|cell...'."""
    rows = re.findall(r'bgcolor="' + COLORS["neuron"] + r'"><tr>(.*?)</tr>', source)
    return ["|".join(re.findall(r"<td>(?:<b>)?(.*?)(?:</b>)?</td>", row)) for row in rows]


def test_collapse_neuron_draws_each_neuron_as_one_box_with_its_inputs() -> None:
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    out = model([0.5, -0.5])
    loss = (out - 1.0) ** 2
    loss.backward()
    hidden = [n([0.5, -0.5]) for n in model.layers[0].neurons]  # same numbers, fresh graph
    dot = draw_dot(loss, collapse="neuron", params=model)
    rows = box_rows(dot.source)
    assert [row.split("|")[0] for row in rows] == [
        "layers[0] neuron 0",
        "layers[0] neuron 1",
        "layers[0] neuron 2",
        "layers[1] neuron 0",
    ]
    assert (
        rows[1] == f"layers[0] neuron 1|tanh|data {hidden[1].data:.4g}|"
        f"grad {model.layers[1].neurons[0].w[1].data * out.grad:.4g}|3 params"
    )
    assert rows[3] == f"layers[1] neuron 0|linear|data {out.data:.4g}|grad {out.grad:.4g}|4 params"
    # Boxes, the two inputs, the loss's two ops with their results and constants.
    assert (dot.values, dot.ops) == (4 + 2 + 4, 2)
    edges = re.findall(r"\t(n\d+) -> (n\d+op|n\d+)\n", dot.source)
    box_ids = re.findall(r"\t(n\d+) \[label=<<table[^>]*" + COLORS["neuron"], dot.source)
    inputs = re.findall(r"\t(n\d+) \[label=<<table[^>]*" + COLORS["input"], dot.source)
    assert len(inputs) == 2
    for box in box_ids[:3]:
        assert sorted(src for src, dst in edges if dst == box) == sorted(inputs)
    assert sorted(src for src, dst in edges if dst == box_ids[3]) == sorted(box_ids[:3])
    assert not any(name in dot.source for name, _ in model.named_parameters())
    assert "neuron (collapsed)" in dot.source and ">parameter<" not in dot.source


def test_collapse_layer_draws_one_box_per_layer_and_point() -> None:
    model = MLP(2, [16, 16, 1], seed=0)
    points = [[0.5, -0.5], [1.0, 2.0]]
    loss = sum(((model(p) - 1.0) ** 2 for p in points), Value(0.0))
    loss.backward()
    dot = draw_dot(loss, collapse="layer")
    rows = box_rows(dot.source)
    assert sorted(rows) == sorted(
        [
            "layers[0]|16 x relu|48 params",
            "layers[1]|16 x relu|272 params",
            "layers[2]|1 x linear|17 params",
        ]
        * 2
    )
    assert "layer (collapsed)" in dot.source
    assert svg_text(dot).count("272 params") == 2


def svg_text(dot: Any) -> list[str]:
    return [
        t.text or "" for t in ET.fromstring(dot.pipe()).iter("{http://www.w3.org/2000/svg}text")
    ]


def test_the_collapsed_2_16_16_1_mlp_is_33_boxes_and_lays_out() -> None:
    model = MLP(2, [16, 16, 1], seed=0)
    loss = (model([0.5, -0.5]) - 1.0) ** 2
    loss.backward()
    full, collapsed = draw_dot(loss), draw_dot(loss, collapse="neuron")
    assert full.values + full.ops == 1625
    assert len(box_rows(collapsed.source)) == 33
    assert collapsed.values + collapsed.ops == 33 + 2 + 4 + 2
    texts = svg_text(collapsed)
    assert texts.count("16 x relu") == 0 and "layers[1] neuron 15" in texts


def test_collapse_leaves_graphs_without_modules_alone_and_rejects_unknown_units() -> None:
    x = Value(2.0, label="x")
    y = x * x + 1
    assert draw_dot(y, collapse="neuron", legend=False).source == draw_dot(y, legend=False).source
    with pytest.raises(
        ValueError, match=r"unknown collapse: 'block' .must be one of neuron, layer, or None."
    ):
        draw_dot(y, collapse="block")


@pytest.mark.parametrize(
    "make",
    [
        lambda: Neuron(2, activation="tanh", seed=0),
        lambda: Layer(2, 2, activation="tanh", seed=0),
        lambda: MLP(2, [2, 1], activation="tanh", seed=0),
    ],
)
def test_every_parameter_name_shows_in_draw_dot_and_in_explain(make: Any) -> None:
    model = make()
    out = model([0.5, -1.5])
    loss = sum(out, Value(0.0)) if isinstance(out, list) else out
    names = [name for name, _ in model.named_parameters()]
    source = to_dot(loss, params=model)
    inputs = {step.input: step for step in explain(loss).steps}
    for name, parameter in model.named_parameters():
        assert f'bgcolor="{COLORS["parameter"]}"><tr><td>{name}</td>' in source
        # explain's total for a parameter is its gradient from this pass.
        assert inputs[name].total == parameter.grad
    assert len(names) == len(set(names)) == len(model.parameters())


def test_compiled_source_says_which_argument_is_which_parameter() -> None:
    model = MLP(2, [2, 1], activation="tanh", seed=0)
    compiled = compile(lambda a, b: model([a, b]), params=model.parameters())
    assert compiled(0.5, -1.5) == pytest.approx(model([0.5, -1.5]).data, rel=1e-15)
    names = [name for name, _ in model.named_parameters()]
    legend = [f"# p{i}: {name}" for i, name in enumerate(names)]
    assert compiled.source.splitlines()[: len(names) + 1] == [
        *legend,
        f"def forward({', '.join(f'p{i}' for i in range(len(names)))}, a, b):",
    ]
    unnamed = compile(lambda a: a * Value(2.0), params=[])
    unnamed(1.0)
    assert unnamed.source.startswith("def forward(a):")


def test_a_trace_error_names_the_parameter_it_read() -> None:
    neuron = Neuron(1, activation="linear", seed=0)
    compiled = compile(lambda a: a * (1.0 if neuron.b > 0 else 2.0), params=neuron.parameters())
    with pytest.raises(TraceError, match=r"compares a traced value \(bias\) or reads it"):
        compiled(1.0)
