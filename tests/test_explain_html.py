"""explain(root).to_html(): one self-contained page stepping through the backward pass.

The browser tests drive headless Chromium (Debian's ``chromium`` and ``chromium-driver``)
through Selenium; they skip, saying what to install, where either is missing.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

import pytest

from autograd_tiny import Value, explain, viz
from autograd_tiny.cli import main

SVG = "{http://www.w3.org/2000/svg}"
ARTIFACTS = pathlib.Path(
    os.environ.get(
        "AUTOGRAD_TINY_ARTIFACTS", pathlib.Path(__file__).parent.parent / ".test-artifacts"
    )
)


def reused_input() -> Value:
    """c = a * b + a: the input a is read by two ops."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b + a
    c.label = "c"
    return c


def cube() -> Value:
    """x * x * x at 3: x on both edges of one op (two edges n2 -> n1op) and on a third."""
    x = Value(3.0, label="x")
    return x * x * x


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, Any]]] = []
        self.data: dict[str, str] = {}
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = dict(attrs).get("class") if tag == "script" else None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.data[self._in] = self.data.get(self._in, "") + data


def page_parts(page: str) -> tuple[Tags, dict[str, Any], ET.Element]:
    tags = Tags()
    tags.feed(page)
    svg = ET.fromstring(page[page.index("<svg") : page.index("</svg>") + 6])
    return tags, json.loads(tags.data["at-data"]), svg


@pytest.mark.parametrize("build", [reused_input, cube])
def test_the_page_is_self_contained_and_carries_the_tables_numbers(build: Any) -> None:
    explanation = explain(build())
    page = explanation.to_html()
    tags, data, svg = page_parts(page)
    assert page.startswith("<!DOCTYPE html>")
    for tag, attrs in tags.tags:
        assert tag not in ("link", "iframe", "img")
        assert "src" not in attrs and "href" not in attrs, (tag, attrs)
    assert re.findall(r"https?://[^\"' ]+", page) == [
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    ]
    assert [
        [
            s[k]
            for k in ("index", "node", "op", "input", "local", "upstream", "contribution", "total")
        ]
        for s in data["steps"]
    ] == [list(step.row()) for step in explanation.steps]
    titles = [
        g.find(f"{SVG}title").text
        for g in svg.iter(f"{SVG}g")
        if g.get("class") in ("node", "edge")
    ]
    for step in data["steps"]:
        assert step["node_id"] in titles and step["edge_from"] in titles
        assert step["edge_from"] == step["input_id"]  # no copied leaves in small graphs
        assert titles.count(f"{step['input_id']}->{step['node_id']}op") > step["edge"]


def test_an_input_on_both_edges_of_one_op_steps_through_both_edges() -> None:
    _, data, _ = page_parts(explain(cube()).to_html())
    x_steps = [(s["node_id"], s["edge"]) for s in data["steps"] if s["input"] == "x"]
    assert x_steps == [("n0", 0), ("n1", 0), ("n1", 1)]


def test_to_html_writes_the_file_and_repr_html_gives_a_fragment(tmp_path: pathlib.Path) -> None:
    explanation = explain(reused_input())
    path = tmp_path / "steps.html"
    assert explanation.to_html(path) == path.read_text(encoding="utf-8")
    fragment, other = explanation._repr_html_(), explanation._repr_html_()
    assert fragment.startswith('<div class="at-explain" id="at-explain-')
    ids = [re.search(r'id="(at-explain-\d+)"', f).group(1) for f in (fragment, other)]
    assert ids[0] != ids[1] and f'getElementById("{ids[0]}")' in fragment
    assert "no steps" in explain(Value(1.0, label="x"))._repr_html_()


def test_cli_explain_writes_the_page(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    page = tmp_path / "pass.html"
    assert main(["explain", "x*y + x", "--var", "x=2", "--var", "y=-3", "--html", str(page)]) == 0
    assert f"wrote {page}" in capsys.readouterr().out
    _, data, _ = page_parts(page.read_text(encoding="utf-8"))
    assert len(data["steps"]) == 4
    assert main(["explain", "x", "--var", "x=2", "--html", str(tmp_path / "p.svg")]) == 2
    assert "--html must name an .html file" in capsys.readouterr().err


# -- in a real browser ------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Any:
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("no headless browser: apt-get install chromium chromium-driver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,900"):
        options.add_argument(argument)
    options.binary_location = chromium
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    yield driver
    driver.quit()


READ = """
var box = document.querySelector('.at-explain');
var grads = {};
box.querySelectorAll('g.node').forEach(function (g) {
  var text = Array.from(g.querySelectorAll('text')).find(t => t.textContent.startsWith('grad '));
  if (text) { grads[g.querySelector('title').textContent] = text.textContent; }
});
var row = box.querySelector('tr.at-row');
return {
  grads: grads,
  status: box.querySelector('.status').textContent,
  row: row ? Array.from(row.querySelectorAll('td')).map(td => td.textContent) : null,
  edges: Array.from(box.querySelectorAll('g.edge.at-edge')).map(
    g => g.querySelector('title').textContent),
  number: box.querySelector('.step-number').textContent,
};
"""


def sum_of_sines() -> Value:
    """sin(1*x) + ... + sin(20*x): x read by 20 ops, drawn once beside each (copy_leaves)."""
    x = Value(0.5, label="x")
    total = (1 * x).sin()
    for i in range(2, 21):
        total = total + (i * x).sin()
    return total


def test_a_leaf_drawn_once_per_reader_steps_along_each_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(viz, "COPY_ABOVE", 10)
    _, data, svg = page_parts(explain(sum_of_sines()).to_html())
    x_steps = [s for s in data["steps"] if s["input"] == "x"]
    assert len(x_steps) == 20
    assert {s["edge_from"] for s in x_steps} == {f"{s['input_id']}_{s['node_id']}" for s in x_steps}
    titles = [g.find(f"{SVG}title").text for g in svg.iter(f"{SVG}g") if g.get("class") == "node"]
    assert all(s["edge_from"] in titles for s in x_steps)
    assert x_steps[0]["input_id"] not in titles  # only the copies are drawn


@pytest.mark.slow
@pytest.mark.parametrize("build", [reused_input, cube, sum_of_sines])
def test_stepping_in_chromium_shows_exactly_the_tables_numbers(
    monkeypatch: pytest.MonkeyPatch, browser: Any, build: Any, tmp_path: pathlib.Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    monkeypatch.setattr(viz, "COPY_ABOVE", 10)  # sum_of_sines draws x once per sin(i*x)
    explanation = explain(build())
    path = tmp_path / "steps.html"
    explanation.to_html(path)
    browser.get(path.as_uri())
    _, data, _ = page_parts(path.read_text(encoding="utf-8"))
    nodes, root = data["nodes"], data["root"]
    start = browser.execute_script(READ)
    assert {n.split("_")[0]: g for n, g in start["grads"].items()} == {
        n: ("grad 1" if n == root else "grad 0") for n in nodes
    }
    assert start["row"] is None and start["number"] == f"0 / {len(explanation)}"
    body = browser.find_element(By.TAG_NAME, "body")
    expected = {n: "0" for n in nodes}
    expected[root] = "1"
    for k, (step, cells) in enumerate(zip(explanation.steps, data["steps"]), start=1):
        if k == 1:
            browser.find_element(By.CSS_SELECTOR, "button.next").click()
        else:
            body.send_keys(Keys.ARROW_RIGHT)
        seen = browser.execute_script(READ)
        row = list(step.row())
        expected[cells["input_id"]] = row[7]
        assert seen["row"] == row
        assert seen["number"] == f"{k} / {len(explanation)}"
        assert f"{row[4]} x {row[5]} = {row[6]}" in seen["status"]
        assert f"grad {row[3]} so far: {row[7]}" in seen["status"]
        # Every drawing of a node (a copied leaf has several) shows its running total.
        assert seen["grads"] == {n: f"grad {expected[n.split('_')[0]]}" for n in seen["grads"]}
        assert {n.split("_")[0] for n in seen["grads"]} == set(nodes)
        assert seen["edges"] == [f"{cells['edge_from']}->{cells['node_id']}op"]
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"explain-{build.__name__}.png"))
    body.send_keys(Keys.ARROW_RIGHT)  # past the end: stays on the last step
    assert browser.execute_script(READ)["number"] == f"{len(explanation)} / {len(explanation)}"
    for _ in explanation.steps:
        body.send_keys(Keys.ARROW_LEFT)
    assert browser.execute_script(READ)["grads"] == start["grads"]
    body.send_keys(Keys.END)
    final = browser.execute_script(READ)["grads"]
    for step in {s.input_value: s for s in explanation.steps}.values():
        assert (
            final[data["steps"][step.index - 1]["edge_from"]]
            == f"grad {format(step.input_value.grad, '.6g')}"
        )
