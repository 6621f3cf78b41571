"""Draw the pictures the README shows: ``python docs/make_pictures.py``.

Writes ``docs/graph.svg``, micrograd's neuron tanh(x1*w1 + x2*w2 + b) after
backward, with its weights and bias marked as parameters;
``docs/mlp-collapsed.svg``, the squared error of one point through
``MLP(2, [16, 16, 1])`` with each neuron drawn as one box; and
``docs/blobs-boundary.png``, the decision regions of an MLP trained by ``fit``
on three Gaussian blobs (needs matplotlib: ``pip install autograd-tiny[plot]``);
``docs/explain.html``, the neuron's backward pass as a page to step through, and
``docs/explain-html.png``, that page at step 4 in headless Chromium (needs
selenium, chromium and chromium-driver; skipped without them).
"""

from __future__ import annotations

import pathlib
import shutil

from autograd_tiny import MLP, Value, accuracy, explain, fit, render_svg
from autograd_tiny.data import blobs, train_test_split
from autograd_tiny.plots import plot_decision_boundary

HERE = pathlib.Path(__file__).resolve().parent


def neuron() -> tuple[Value, list[Value]]:
    """The output o and the parameters [w1, w2, b], after o.backward()."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o, [w1, w2, b]


def mlp_loss() -> tuple[Value, MLP]:
    """(model([0.5, -0.5]) - 1) ** 2 for MLP(2, [16, 16, 1]), after backward: 1,625 nodes."""
    model = MLP(2, [16, 16, 1], seed=0)
    loss = (model([0.5, -0.5]) - 1.0) ** 2
    loss.backward()
    return loss, model


def blobs_model() -> tuple[MLP, list[list[float]], list[int], float]:
    """An MLP trained on three blobs; returns it, all points, labels and held-out accuracy."""
    X, y = blobs(100, seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, seed=0)
    model = MLP(2, [8, 3], seed=0)
    fit(model, X_train, y_train, epochs=60, seed=0, progress=False)
    return model, X, y, accuracy(model, X_test, y_test)


def explain_page() -> None:
    """docs/explain.html for the neuron, and a screenshot of it at step 4 when Chromium is here."""
    o, _ = neuron()  # the page shows explain's running totals, not the grads left on o
    page = HERE / "explain.html"
    explain(o).to_html(page)
    print(f"wrote {page}")
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
    except ImportError:
        chromium = None
    if not chromium or not driver_path:
        print("skipped docs/explain-html.png: needs selenium, chromium and chromium-driver")
        return
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--window-size=1000,620"):
        options.add_argument(argument)
    options.binary_location = chromium
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        driver.get(page.as_uri())
        for _ in range(4):
            driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
        driver.save_screenshot(str(HERE / "explain-html.png"))
    finally:
        driver.quit()
    print(f"wrote {HERE / 'explain-html.png'}")


def main() -> None:
    o, params = neuron()
    path = render_svg(o, HERE / "graph.svg", params=params, edge_labels=True)
    print(f"wrote {path}")
    loss, mlp = mlp_loss()
    path = render_svg(loss, HERE / "mlp-collapsed.svg", params=mlp, collapse="neuron")
    print(f"wrote {path}")
    explain_page()
    model, X, y, held_out = blobs_model()
    path = plot_decision_boundary(
        model,
        X,
        y,
        HERE / "blobs-boundary.png",
        resolution=150,
        title=f"three blobs: held-out accuracy {held_out:.1%}",
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
