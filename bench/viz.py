"""Benchmark V1: layout time of draw_dot graphs against their node count.

Run by ``make bench`` (after ``bench/run.py``), or alone: ``python bench/viz.py
[--quick] [results.json]``. Two shapes, each rendered to SVG by the bundled
``graphviz-pure`` (and by a system ``dot`` when one is on PATH):

- MLP: the squared error of one point through ``MLP(2, [h, h, 1])``, the graph
  a learner draws first (h = 16 is 1,625 nodes);
- fan-out: ``sin(1*x) + ... + sin(n*x)``, one Value read by n ops, the shape
  that made dot's default iteration limits blow up.

Each graph is laid out as ``draw_dot`` draws it (the ``LAYOUT`` settings, and
a leaf read by many ops drawn beside each of them in graphs over ``COPY_ABOVE``
nodes) and, up to the size where it still finishes in the budget, as it was
drawn before (dot's defaults, one box per leaf), so the table shows what these
buy. One run per cell (layouts of seconds vary ~1.5x with the machine's load);
the full run takes a few minutes.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from typing import Any

from autograd_tiny import MLP, Value, viz

BUDGET = 60.0  # seconds per layout, as draw_dot's default budget


def mlp_loss(hidden: int) -> Value:
    model = MLP(2, [hidden, hidden, 1], seed=0)
    loss = (model([0.5, -0.5]) - 1.0) ** 2
    loss.backward()
    return loss


def fan_out(terms: int) -> Value:
    x = Value(0.5, label="x")
    total = (1 * x).sin()
    for i in range(2, terms + 1):
        total = total + (i * x).sin()
    total.backward()
    return total


def without_layout_settings(source: str) -> str:
    for key, value in viz.LAYOUT.items():
        source = source.replace(f"{key}={value} ", "")
    if any(f"{key}=" in source for key in viz.LAYOUT):
        raise RuntimeError("the layout settings are still in the DOT source")
    return source


def lay_out(command: list[str], source: str) -> float | None:
    """Seconds to render ``source`` to SVG with ``command``; None past BUDGET."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [*command, "-Tsvg"],
            input=source.encode(),
            capture_output=True,
            timeout=BUDGET,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode(errors="replace"))
    return time.perf_counter() - start


def cell(seconds: float | None) -> str:
    return f">{BUDGET:.0f} s" if seconds is None else f"{seconds:.2f} s"


def main() -> None:
    quick = "--quick" in sys.argv
    paths = [a for a in sys.argv[1:] if not a.startswith("--")]
    path = (
        paths[0]
        if paths
        else os.path.join(os.path.dirname(os.path.abspath(__file__)), "results-viz.json")
    )
    renderers = {"graphviz-pure": viz.find_renderer()}
    system_dot = shutil.which("dot")
    if system_dot:
        renderers["system dot"] = [system_dot]
    cases: list[tuple[str, Any, bool]] = [  # (name, graph, also try dot's defaults)
        ("MLP 2-4-4-1", lambda: mlp_loss(4), True),
        ("MLP 2-8-8-1", lambda: mlp_loss(8), True),
        ("MLP 2-16-16-1", lambda: mlp_loss(16), True),
        ("MLP 2-24-24-1", lambda: mlp_loss(24), False),
        ("MLP 2-28-28-1", lambda: mlp_loss(28), False),
        ("fan-out 25", lambda: fan_out(25), True),
        ("fan-out 75", lambda: fan_out(75), True),
        ("fan-out 150", lambda: fan_out(150), True),
        ("fan-out 300", lambda: fan_out(300), False),
        ("fan-out 700", lambda: fan_out(700), False),
    ]
    if quick:
        cases = [c for c in cases if c[0] in ("MLP 2-16-16-1", "fan-out 75", "fan-out 150")]
    print(f"V1: draw_dot layout time (SVG), one run each, budget {BUDGET:.0f} s")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"renderers: {', '.join(renderers)}"
    )
    if not system_dot:
        print("(no system dot on PATH: apt-get install graphviz adds its column)")
    header = f"{'graph':<15}{'nodes':>7}"
    for name in renderers:
        header += f"{name + ' draw_dot':>24}{name + ' before':>24}"
    print(header)
    rows = []
    for name, build, try_defaults in cases:
        root = build()
        dot = viz.draw_dot(root)
        source = dot.source
        before = without_layout_settings(viz.draw_dot(root, copy_leaves=False).source)
        row: dict[str, Any] = {"graph": name, "nodes": dot.values + dot.ops}
        line = f"{name:<15}{row['nodes']:>7,}"
        for renderer, command in renderers.items():
            tuned = lay_out(command, source)
            default = lay_out(command, before) if try_defaults else None
            row[f"{renderer} draw_dot"] = tuned
            row[f"{renderer} before"] = default if try_defaults else "not run"
            line += f"{cell(tuned):>24}{cell(default) if try_defaults else 'not run':>24}"
        rows.append(row)
        print(line, flush=True)
    with open(path, "w") as f:
        json.dump(
            {"machine": platform.platform(), "layout": viz.LAYOUT, "budget": BUDGET, "rows": rows},
            f,
            indent=2,
        )
    print(f"JSON written to {path}")


if __name__ == "__main__":
    main()
