"""The backward pass as one self-contained HTML page: the graph, and controls that step through it.

``explain(root).to_html(path)`` and ``_repr_html_`` come here. The page inlines
everything (the SVG of ``draw_dot``, the steps as JSON, a short script and its
styles): no network, no CDN. Step k highlights the step's node, its input and the
edge between them, shows ``local x upstream = contribution`` and sets the
gradient shown on every node to its running total after k steps. Every number is
the cell ``Explanation.table()`` prints. Imports the engine, ``viz`` and ``_atomic``.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import pathlib
import re
from typing import Any

from ._atomic import write_atomic
from .engine import Value, reverse_topological_order
from .viz import draw_dot, render

# An explain.Explanation (steps, root, seed); not imported, as explain imports this module.
Explanation = Any

__all__ = ["explanation_html", "explanation_page", "write_page"]

_COUNTER = itertools.count()

STYLE = """
.at-explain { font-family: system-ui, sans-serif; outline: none; }
.at-explain .controls button { font-size: 1em; margin-right: 0.3em; }
.at-explain .status { font-family: monospace; margin: 0.5em 0; white-space: pre; }
.at-explain .picture svg { max-width: 100%; height: auto; }
.at-explain g.at-node > polygon, .at-explain g.at-node > ellipse { stroke-width: 1; }
.at-explain g.at-current polygon, .at-explain g.at-current ellipse { stroke: #2563eb;
  stroke-width: 4; }
.at-explain g.at-input polygon { stroke: #dc2626; stroke-width: 4; }
.at-explain g.at-edge path, .at-explain g.at-edge polygon { stroke: #dc2626;
  stroke-width: 3; }
.at-explain table.steps { border-collapse: collapse; font-family: monospace; }
.at-explain table.steps td, .at-explain table.steps th { padding: 0.1em 0.6em;
  text-align: right; }
.at-explain table.steps tr.at-row { background: #fde68a; }
"""

SCRIPT = """
(function (box) {
  var data = JSON.parse(box.querySelector("script.at-data").textContent);
  var svg = box.querySelector(".picture svg");
  // A leaf drawn once per reading op has copies titled <id>_<op output id>.
  var groups = {}, drawings = {}, edges = {};
  svg.querySelectorAll("g.node, g.edge").forEach(function (g) {
    var title = g.querySelector("title").textContent;
    if (g.classList.contains("node")) {
      groups[title] = g;
      var id = title.split("_")[0];
      (drawings[id] = drawings[id] || []).push(g);
      return;
    }
    (edges[title] = edges[title] || []).push(g);
  });
  function gradTexts(id) {
    var found = [];
    (drawings[id] || []).forEach(function (g) {
      g.querySelectorAll("text").forEach(function (text) {
        if (text.textContent.indexOf("grad ") === 0) { found.push(text); }
      });
    });
    return found;
  }
  var rows = box.querySelectorAll("table.steps tbody tr");
  var status = box.querySelector(".status");
  var current = 0;
  function show(k) {
    current = Math.max(0, Math.min(data.steps.length, k));
    svg.querySelectorAll(".at-current, .at-input, .at-edge").forEach(function (g) {
      g.classList.remove("at-current", "at-input", "at-edge");
    });
    var grads = {};
    data.nodes.forEach(function (id) { grads[id] = "0"; });
    grads[data.root] = data.seed;
    for (var i = 0; i < current; i++) { grads[data.steps[i].input_id] = data.steps[i].total; }
    data.nodes.forEach(function (id) {
      gradTexts(id).forEach(function (text) { text.textContent = "grad " + grads[id]; });
    });
    rows.forEach(function (row, i) { row.classList.toggle("at-row", i === current - 1); });
    box.querySelector(".step-number").textContent = current + " / " + data.steps.length;
    if (current === 0) {
      status.textContent = "before the backward pass: grad " + data.root_name + " = " +
        data.seed + " (the seed), every other grad 0";
      return;
    }
    var s = data.steps[current - 1];
    groups[s.node_id + "op"] && groups[s.node_id + "op"].classList.add("at-current");
    groups[s.node_id] && groups[s.node_id].classList.add("at-current");
    groups[s.edge_from] && groups[s.edge_from].classList.add("at-input");
    var drawn = edges[s.edge_from + "->" + s.node_id + "op"] || [];
    if (drawn[s.edge]) { drawn[s.edge].classList.add("at-edge"); }
    status.textContent = "step " + s.index + ": " + s.node + " = " + s.op + "(...), input " +
      s.input + "\\nlocal x upstream = contribution: " + s.local + " x " + s.upstream +
      " = " + s.contribution + "\\ngrad " + s.input + " so far: " + s.total;
  }
  box.querySelector("button.first").onclick = function () { show(0); };
  box.querySelector("button.back").onclick = function () { show(current - 1); };
  box.querySelector("button.next").onclick = function () { show(current + 1); };
  box.querySelector("button.last").onclick = function () { show(data.steps.length); };
  function onKey(event) {
    if (event.key === "ArrowRight") { show(current + 1); event.preventDefault(); }
    else if (event.key === "ArrowLeft") { show(current - 1); event.preventDefault(); }
    else if (event.key === "Home") { show(0); event.preventDefault(); }
    else if (event.key === "End") { show(data.steps.length); event.preventDefault(); }
  }
  box.addEventListener("keydown", onKey);
  if (box.dataset.page === "1") { document.addEventListener("keydown", function (event) {
    if (!box.contains(event.target)) { onKey(event); } }); }
  box.atShow = show;
  show(0);
})(document.getElementById("%(id)s"));
"""


def _widest_grads(source: str, shown: dict[str, list[str]]) -> str:
    """DOT source whose grad cells hold each node's longest grad text, so the layout
    leaves room for every running total the script writes there."""
    lines = []
    for line in source.splitlines(keepends=True):
        match = re.match(r"\t(n\d+)(?:_n\d+)? \[label=<", line)
        if match and match[1] in shown:
            widest = html.escape(max(shown[match[1]], key=len))
            line = re.sub(r"grad [^<]*<", f"grad {widest}<".replace("\\", "\\\\"), line)
        lines.append(line)
    return "".join(lines)


def _root(explanation: Explanation) -> Value | None:
    return explanation.steps[0].node_value if explanation.steps else None


def explanation_html(explanation: Explanation, *, page: bool = False) -> str:
    """The stepper as an HTML fragment (a ``div`` with its style and script)."""
    root = _root(explanation)
    box_id = f"at-explain-{next(_COUNTER)}"
    if root is None:
        return (
            f'<div class="at-explain" id="{box_id}"><p>explain: no steps (the root '
            f"{html.escape(explanation.root)} depends on nothing)</p></div>"
        )
    order = reverse_topological_order(root)
    ids = {node: f"n{i}" for i, node in enumerate(order)}
    seed = format(explanation.seed + 0.0, ".6g")
    dot = draw_dot(root)
    seen: dict[tuple[str, str], int] = {}
    shown = {ids[root]: [seed]}  # every grad text a node will show, for its cell's width
    steps = []
    for step in explanation.steps:
        cells = step.row()
        pair = (ids[step.node_value], ids[step.input_value])
        source = f"{pair[1]}_{pair[0]}" if pair[1] in dot.copied else pair[1]
        edge = seen.get((pair[0], source), 0)  # the k-th edge of an input read k times (a + a)
        seen[(pair[0], source)] = edge + 1
        shown.setdefault(pair[1], ["0"]).append(cells[7])
        steps.append(
            {
                "index": cells[0],
                "node": cells[1],
                "op": cells[2],
                "input": cells[3],
                "local": cells[4],
                "upstream": cells[5],
                "contribution": cells[6],
                "total": cells[7],
                "node_id": pair[0],
                "input_id": pair[1],
                "edge_from": source,
                "edge": edge,
            }
        )
    svg = render(_widest_grads(dot.source, shown), timeout=dot.budget).decode("utf-8")
    svg = svg[svg.index("<svg") :]  # no XML declaration or DOCTYPE inside the page
    data = {
        "steps": steps,
        "nodes": list(ids.values()),
        "root": ids[root],
        "root_name": explanation.root,
        "seed": seed,
    }
    payload = json.dumps(data).replace("</", "<\\/")
    head = "".join(
        f"<th>{html.escape(c)}</th>"
        for c in ("step", "node", "op", "input", "local", "upstream", "contribution", "total")
    )
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in step.row()) + "</tr>"
        for step in explanation.steps
    )
    return (
        f'<div class="at-explain" id="{box_id}" tabindex="0" data-page="{int(page)}">'
        f"<style>{STYLE}</style>"
        f'<div class="controls"><button class="first" title="Home">|&lt;</button>'
        f'<button class="back" title="left arrow">&lt; back</button>'
        f'<button class="next" title="right arrow">next &gt;</button>'
        f'<button class="last" title="End">&gt;|</button> step '
        f'<span class="step-number"></span></div>'
        f'<div class="status"></div>'
        f'<div class="picture">{svg}</div>'
        f'<table class="steps"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        f'<script type="application/json" class="at-data">{payload}</script>'
        f"<script>{SCRIPT % {'id': box_id}}</script></div>"
    )


def explanation_page(explanation: Explanation, title: str = "") -> str:
    """A whole HTML document around ``explanation_html``."""
    title = title or f"backward pass from {explanation.root}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1>{explanation_html(explanation, page=True)}"
        "<p>Keys: left and right arrows step, Home and End jump.</p></body></html>\n"
    )


def write_page(explanation: Explanation, path: str | os.PathLike[str]) -> pathlib.Path:
    """Write ``explanation_page`` to ``path`` atomically."""
    return write_atomic(path, explanation_page(explanation).encode("utf-8"))
