"""Drawing: DOT source, SVG output, renderer discovery, atomic writes."""

from __future__ import annotations

import os
import pathlib
import re
import stat
import sys
import xml.etree.ElementTree as ET
from importlib import metadata

import pytest

from autograd_tiny import MLP, Value, _renderer, viz
from autograd_tiny.viz import (
    RendererNotFoundError,
    RenderError,
    draw_dot,
    find_renderer,
    render,
    render_svg,
    to_dot,
)

SVG = "{http://www.w3.org/2000/svg}"

TABLE = '<table border="0" cellborder="1" cellspacing="0" cellpadding="4" '
GOLDEN = (
    "digraph autograd_tiny {\n"
    "\tgraph [mclimit=0.1 nslimit=1 nslimit1=1 rankdir=LR]\n"
    "\tnode [fontname=Courier fontsize=12]\n"
    "\tedge [fontname=Courier fontsize=10]\n"
    '\tlegend [label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="3">'
    '<tr><td bgcolor="#dbeafe">input (labelled leaf)</td></tr>'
    '<tr><td bgcolor="#fde68a">parameter</td></tr>'
    '<tr><td bgcolor="#ffffff">intermediate</td></tr>'
    '<tr><td bgcolor="#bbf7d0">output</td></tr>'
    '<tr><td bgcolor="#e5e7eb">op</td></tr>'
    "</table>> fontsize=10 margin=0 shape=plaintext]\n"
    f'\tn3 [label=<{TABLE}bgcolor="#dbeafe"><tr><td>a</td><td>data 2</td>'
    "<td>grad -2</td></tr></table>> margin=0 shape=plaintext]\n"
    f'\tn2 [label=<{TABLE}bgcolor="#fde68a"><tr><td>b</td><td>data -3</td>'
    "<td>grad 2</td></tr></table>> margin=0 shape=plaintext]\n"
    f'\tn1 [label=<{TABLE}bgcolor="#ffffff"><tr><td>n1</td><td>data -6</td>'
    "<td>grad 1</td></tr></table>> margin=0 shape=plaintext]\n"
    '\tn1op [label="*" fillcolor="#e5e7eb" height=0.3 margin=0.05 shape=ellipse style=filled]\n'
    "\tn3 -> n1op [label=-3]\n"
    "\tn2 -> n1op [label=2]\n"
    "\tn1op -> n1\n"
    f'\tn0 [label=<{TABLE}bgcolor="#bbf7d0"><tr><td>c</td><td>data -4</td>'
    "<td>grad 1</td></tr></table>> margin=0 shape=plaintext]\n"
    '\tn0op [label="+" fillcolor="#e5e7eb" height=0.3 margin=0.05 shape=ellipse style=filled]\n'
    "\tn1 -> n0op [label=1]\n"
    "\tn3 -> n0op [label=1]\n"
    "\tn0op -> n0\n"
    "}\n"
)


def small_graph() -> tuple[Value, Value, Value]:
    """c = a * b + a at a = 2, b = -3, after backward: dc/da = b + 1 = -2, dc/db = a = 2."""
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    c = a * b + a
    c.label = "c"
    c.backward()
    return a, b, c


def svg_texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)
    return [text.text or "" for text in root.iter(f"{SVG}text")]


def make_program(folder: pathlib.Path, name: str, body: str) -> pathlib.Path:
    """An executable shell script standing in for a renderer."""
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def no_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(viz.RENDERER_ENV, raising=False)


def no_distribution(name: str) -> metadata.Distribution:
    raise metadata.PackageNotFoundError(name)


# -- DOT source ---------------------------------------------------------------


def test_dot_source_matches_golden_and_is_identical_across_builds() -> None:
    first = to_dot(small_graph()[2], params=[], edge_labels=True)
    _a, b, c = small_graph()
    second = to_dot(c, params=[b], edge_labels=True)
    assert second == GOLDEN
    # Only the role colour of b differs when b is not marked as a parameter, and the
    # legend then has no parameter row.
    assert first == GOLDEN.replace('<tr><td bgcolor="#fde68a">parameter</td></tr>', "").replace(
        'bgcolor="#fde68a"', 'bgcolor="#dbeafe"'
    )


def test_a_plus_a_draws_two_edges() -> None:
    a = Value(3.0, label="a")
    source = to_dot(a + a)
    assert source.count("\tn1 -> n0op\n") == 2


def test_value_nodes_show_label_data_and_grad_four_significant_digits() -> None:
    x = Value(3.14159265, label="x")
    y = x * 1000
    y.backward()
    source = to_dot(y)
    assert "<td>x</td><td>data 3.142</td><td>grad 1000</td>" in source
    assert "<td>n0</td><td>data 3142</td><td>grad 1</td>" in source


def test_show_grad_false_leaves_out_the_grad_cell() -> None:
    source = to_dot(small_graph()[2], show_grad=False)
    assert ">grad " not in source
    assert "data -4" in source


def test_unlabelled_nodes_take_topological_names_and_labels_are_escaped() -> None:
    x = Value(1.0, label="<x & y>")
    source = to_dot(x.exp() * 2)
    assert "<td>&lt;x &amp; y&gt;</td>" in source
    assert "<td>n0</td>" in source and "<td>n1</td>" in source and "<td>n2</td>" in source


def test_op_names_come_from_value_op() -> None:
    x = Value(0.5, label="x")
    source = to_dot((x.tanh() - x) / x.sigmoid())
    for op in ('"/"', '"-"', "tanh", "sigmoid"):
        assert f"[label={op} " in source


def test_roles_colour_inputs_parameters_and_output() -> None:
    x = Value(1.0, label="x")
    w = Value(2.0, label="w")
    y = x * w
    source = to_dot(y, params=[w])
    assert f'bgcolor="{viz.COLORS["input"]}"><tr><td>x</td>' in source
    assert f'bgcolor="{viz.COLORS["parameter"]}"><tr><td>w</td>' in source
    assert f'bgcolor="{viz.COLORS["output"]}"><tr><td>n0</td>' in source


def test_inf_and_nan_are_shown_and_highlighted() -> None:
    x = Value(0.0, label="x")
    y = x.log()  # -inf; its backward gives x.grad = 1/0 = inf
    y.backward()
    z = Value(-1.0, label="z").sqrt()  # nan
    warn = f'<td bgcolor="{viz.COLORS["warning_fill"]}"><font color="{viz.COLORS["warning_text"]}">'
    assert f"{warn}data -inf</font></td>" in to_dot(y)
    assert f"{warn}grad inf</font></td>" in to_dot(y)
    assert f"{warn}data nan</font></td>" in to_dot(z)
    assert "<td>data 0</td>" in to_dot(y)


def test_edge_labels_show_local_derivatives() -> None:
    x = Value(0.5, label="x")
    y = x.tanh()
    # tanh'(0.5) = 1 - tanh(0.5)**2 = 0.78645...
    assert "\tn1 -> n0op [label=0.7864]\n" in to_dot(y, edge_labels=True)
    assert "\tn1 -> n0op\n" in to_dot(y)


def test_too_many_nodes_raises_with_count_and_how_to_raise_the_limit() -> None:
    x = Value(1.0)
    for _ in range(10):
        x = x + 1
    # 10 additions: 10 results, 10 constants and the first x.
    # Drawn nodes: those 21 values and 10 op ovals.
    with pytest.raises(
        ValueError,
        match=r"31 nodes \(21 values, 10 ops\), more than "
        r"max_nodes=30.*max_nodes=31",
    ):
        draw_dot(x, max_nodes=30)
    assert draw_dot(x, max_nodes=31).values == 21


def test_deep_chain_draws_without_recursion() -> None:
    x = Value(1.0)
    for _ in range(3 * sys.getrecursionlimit()):
        x = x * 1.0
    assert draw_dot(x, max_nodes=10**6).ops == 3 * sys.getrecursionlimit()


def test_bad_arguments_raise_named_errors() -> None:
    with pytest.raises(TypeError, match="needs a Value, got float"):
        draw_dot(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown rankdir: 'XY'"):
        draw_dot(Value(1.0), rankdir="XY")


def test_repr_is_short_and_stable() -> None:
    _a, _b, c = small_graph()
    assert repr(draw_dot(c)) == "<ValueGraph: 4 values, 2 ops>"
    assert repr(draw_dot(c).copy()) == "<ValueGraph: 4 values, 2 ops>"


# -- SVG ----------------------------------------------------------------------


def test_svg_parses_as_xml_and_contains_labels_and_numbers() -> None:
    svg = render(draw_dot(small_graph()[2]))
    texts = svg_texts(svg)
    for expected in (
        "a",
        "b",
        "c",
        "n1",
        "data 2",
        "data -3",
        "data -4",
        "grad -2",
        "grad 2",
        "*",
        "+",
    ):
        assert expected in texts


def test_jupyter_display_uses_our_renderer_without_system_dot(
    monkeypatch: pytest.MonkeyPatch, no_override: None
) -> None:
    monkeypatch.setenv("PATH", "")
    dot = draw_dot(small_graph()[2])
    bundle = dot._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]
    assert "data -4" in svg_texts(bundle["image/svg+xml"].encode())
    assert dot.pipe(format="png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert dot.pipe(encoding="utf-8").startswith("<?xml")


def test_render_svg_writes_and_replaces_atomically(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "graph.svg"
    target.write_text("old picture")
    _a, _b, c = small_graph()
    returned = render_svg(c, target, show_grad=False)
    assert returned == target
    assert os.listdir(tmp_path) == ["graph.svg"]
    texts = svg_texts(target.read_bytes())
    assert "data -4" in texts and not any(t.startswith("grad") for t in texts)
    render_svg(c, str(target))
    assert "grad -2" in svg_texts(target.read_bytes())
    assert os.listdir(tmp_path) == ["graph.svg"]


def test_render_svg_failure_keeps_old_file_and_leaves_no_temp(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "graph.svg"
    target.write_text("old picture")
    monkeypatch.setenv(viz.RENDERER_ENV, "sh -c 'echo layout exploded >&2; exit 3'")
    with pytest.raises(RenderError, match="exit status 3: layout exploded"):
        render_svg(small_graph()[2], target)
    assert target.read_text() == "old picture"
    assert os.listdir(tmp_path) == ["graph.svg"]


# -- renderer discovery ---------------------------------------------------------


def test_environment_override_comes_first(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = make_program(tmp_path, "fake-dot", 'cat > /dev/null; echo "<svg>$1</svg>"')
    monkeypatch.setenv(viz.RENDERER_ENV, f"{fake} -q")
    assert find_renderer() == [str(fake), "-q"]
    assert render("digraph { a }") == b"<svg>-q</svg>\n"


def test_environment_override_may_be_a_path_with_spaces(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "my tools"
    folder.mkdir()
    fake = make_program(folder, "fake dot", "cat > /dev/null; echo '<svg/>'")
    monkeypatch.setenv(viz.RENDERER_ENV, str(fake))
    assert find_renderer() == [str(fake)]
    assert render("digraph { a }") == b"<svg/>\n"


def test_environment_override_pointing_nowhere_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(viz.RENDERER_ENV, "/no/such/dot")
    with pytest.raises(RendererNotFoundError, match="AUTOGRAD_TINY_DOT='/no/such/dot'"):
        find_renderer()


def test_empty_path_still_finds_graphviz_pure_through_its_distribution_record(
    monkeypatch: pytest.MonkeyPatch, no_override: None
) -> None:
    monkeypatch.setenv("PATH", "")
    command = find_renderer()
    assert len(command) == 1 and pathlib.Path(command[0]).name == "graphviz-pure"
    assert pathlib.Path(command[0]).is_file()
    assert "data -4" in svg_texts(render(draw_dot(small_graph()[2])))


def test_path_is_searched_for_graphviz_pure_before_dot(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, no_override: None
) -> None:
    monkeypatch.setattr(_renderer.metadata, "distribution", no_distribution)
    dot = make_program(tmp_path, "dot", "exit 0")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_renderer() == [str(dot)]
    pure = make_program(tmp_path, "graphviz-pure", "exit 0")
    assert find_renderer() == [str(pure)]


def test_missing_renderer_raises_with_install_commands(
    monkeypatch: pytest.MonkeyPatch, no_override: None
) -> None:
    monkeypatch.setattr(_renderer.metadata, "distribution", no_distribution)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(RendererNotFoundError) as caught:
        render_svg(Value(1.0), "never-written.svg")
    message = str(caught.value)
    assert isinstance(caught.value, RuntimeError)
    for command in (
        "pip install graphviz-pure",
        "apt-get install graphviz",
        "brew install graphviz",
        viz.RENDERER_ENV,
    ):
        assert command in message
    assert not pathlib.Path("never-written.svg").exists()


def test_renderer_errors_and_timeouts_are_reported(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, no_override: None
) -> None:
    with pytest.raises(RenderError, match=r"failed with exit status 1: .*syntax error"):
        render("digraph { a -> }")
    slow = make_program(tmp_path, "slow-dot", "exec sleep 5")
    monkeypatch.setenv(viz.RENDERER_ENV, str(slow))
    with pytest.raises(RenderError, match=r"timed out after 0\.2 s"):
        render("digraph { a }", timeout=0.2)


# -- names, size cap, Digraph.render without a system dot -------------------------


def test_nodes_sharing_a_label_or_an_auto_name_are_told_apart() -> None:
    x, other_x = Value(2.0, label="x"), Value(5.0, label="x")
    fake_n0 = Value(1.0, label="n0")
    source = to_dot(x * other_x + fake_n0, show_grad=False)
    names = [
        line.split("<td>")[1].split("</td>")[0] for line in source.splitlines() if "<td>" in line
    ]
    assert sorted(names) == ["n0", "n0#2", "n2", "x", "x#2"]
    assert "<td>x#2</td><td>data 5</td>" in source
    assert "<td>n0#2</td><td>data 1</td>" in source
    assert "<td>n0</td><td>data 11</td>" in source


def sum_of_sines(n: int) -> Value:
    """sin(1*x) + ... + sin(n*x) after backward: x feeds n ops, the worst shape for dot."""
    x = Value(0.5, label="x")
    total = (1 * x).sin()
    for i in range(2, n + 1):
        total = total + (i * x).sin()
    total.backward()
    return total


def one_point_loss(sizes: list[int]) -> Value:
    model = MLP(2, sizes, seed=0)
    loss = (model([0.5, -0.5]) - 1.0) ** 2
    loss.backward()
    return loss


def test_graphs_past_the_old_cap_draw_without_keywords_and_carry_the_layout_settings() -> None:
    loss = one_point_loss([4, 4, 1])
    assert viz.graph_size(loss) == 173  # once refused by max_nodes=150
    dot = draw_dot(loss)
    assert dot.budget == viz.LAYOUT_BUDGET
    assert "\tgraph [mclimit=0.1 nslimit=1 nslimit1=1 rankdir=LR]\n" in dot.source
    assert "data 1" in svg_texts(render(dot))


def test_an_mlp_graph_of_1600_nodes_renders() -> None:
    # Its layout time is measured by bench/viz.py, not here.
    loss = one_point_loss([16, 16, 1])
    assert viz.graph_size(loss) == 1625
    dot = draw_dot(loss)
    assert (dot.values, dot.ops) == (983, 642)
    assert sum(text.startswith("data ") for text in svg_texts(render(dot))) == 983


def test_the_fan_out_shape_at_150_terms_renders_within_its_budget() -> None:
    total = sum_of_sines(150)
    assert viz.graph_size(total) == 1049
    texts = svg_texts(render(draw_dot(total, show_grad=False)))
    assert texts.count("sin") == 150


def test_in_a_big_graph_a_leaf_read_by_many_ops_is_drawn_beside_each_of_them() -> None:
    total = sum_of_sines(150)  # 1,049 nodes, more than COPY_ABOVE; x is read by 150 ops
    dot = draw_dot(total)
    x_lines = [line for line in dot.source.splitlines() if "<td>x</td>" in line]
    assert len(x_lines) == 150
    (x_id,) = dot.copied
    assert all(line.startswith(f"\t{x_id}_n") for line in x_lines)
    assert f"\t{x_id} -> " not in dot.source
    assert len(re.findall(rf"\t{x_id}_(n\d+) -> \1op\n", dot.source)) == 150
    # The constants i of i*x are read once each: drawn once.
    assert not any(
        "_" in name
        for name in re.findall(r"\t(n\S+) \[label", dot.source)
        if name.split("_")[0] != x_id
    )
    assert draw_dot(total, copy_leaves=False).source.count("<td>x</td>") == 1
    assert draw_dot(sum_of_sines(40)).source.count("<td>x</td>") == 1  # 159 nodes: not copied
    assert draw_dot(sum_of_sines(40), copy_leaves=True).source.count("<td>x</td>") == 40


def test_running_out_of_budget_says_how_to_draw_it_anyway(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = make_program(tmp_path, "slow-dot", "exec sleep 5")
    monkeypatch.setenv(viz.RENDERER_ENV, str(slow))
    dot = draw_dot(small_graph()[2], budget=0.2)
    with pytest.raises(RenderError) as caught:
        dot.pipe()
    message = str(caught.value)
    assert "timed out after 0.2 s: laying out 6 nodes (4 values, 2 ops) took longer " in message
    assert 'collapse="neuron"' in message and "draw_dot(..., budget=0.4)" in message
    assert dot.copy().budget == 0.2


def test_digraph_render_and_view_work_without_a_system_dot(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, no_override: None
) -> None:
    monkeypatch.setenv("PATH", "")
    dot = draw_dot(small_graph()[2])
    path = dot.render(tmp_path / "r", format="svg")
    assert path == str(tmp_path / "r.svg")
    assert "data -4" in svg_texts((tmp_path / "r.svg").read_bytes())
    assert (tmp_path / "r").read_text() == dot.source
    assert dot.render(outfile=tmp_path / "o.png", cleanup=True) == str(tmp_path / "o.png")
    assert (tmp_path / "o.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "o.gv").exists()
    opened: list[tuple[object, bool]] = []
    monkeypatch.setattr(viz.graphviz, "view", lambda p, quiet=False: opened.append((p, quiet)))
    viewed = dot.view(tmp_path / "v", quiet_view=True)
    assert viewed == str(tmp_path / "v.svg")  # SVG by default: graphviz-pure has no PDF
    assert "data -4" in svg_texts((tmp_path / "v.svg").read_bytes())
    assert opened == [(tmp_path / "v.svg", True)]


def test_digraph_render_with_no_renderer_at_all_gives_install_help(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, no_override: None
) -> None:
    monkeypatch.setattr(_renderer.metadata, "distribution", no_distribution)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(RendererNotFoundError, match="pip install graphviz-pure"):
        draw_dot(small_graph()[2]).render(tmp_path / "r", format="svg")
    assert not (tmp_path / "r.svg").exists()
