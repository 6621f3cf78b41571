"""The built docs site (``make docs``), opened in headless Chromium: every picture shows.

The pages are opened as files, the way the README says to open ``site/index.html``.

Each notebook page must show every picture its executed notebook produced (graphs as
SVG, matplotlib figures as PNG), each one loaded and laid out with a real size; a
notebook whose code draws must have produced at least one. The guide page shows the
README's pictures. Skipped with the reason when the site is not built, Playwright is
missing or Debian's chromium is absent; ``.ci/run`` provides all three and sets
``AUTOGRAD_TINY_REQUIRE_DOCS_CHECK=1``, which turns such a skip into a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A picture output of nbconvert: the class attribute of its output element.
PICTURE_OUTPUT = re.compile(r'class="jp-(?:RenderedImage|RenderedSVG) jp-OutputArea-output')
DRAWING_CALLS = ("draw_dot(", "plt.", "plot_history(", "plot_decision_boundary(")


def chromium() -> str | None:
    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)


def missing() -> str | None:
    """Why the browser check cannot run here, or None."""
    if not (SITE / "index.html").is_file():
        return "the docs site is not built: run `make docs` first"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs playwright: `make docs` installs it into .venv"
    if chromium() is None:
        return "needs Debian's chromium: apt-get install chromium"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    reason = missing()
    if reason:
        if os.environ.get("AUTOGRAD_TINY_REQUIRE_DOCS_CHECK") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium(), headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


# Every picture in the page's notebook outputs (or, for the guide, its content):
# whether it is loaded, and its laid-out size.
PICTURES_JS = """(selector) => Array.from(document.querySelectorAll(selector)).map(p => {
    const box = p.getBoundingClientRect();
    const loaded = p.tagName.toLowerCase() === 'img' ? p.complete && p.naturalWidth > 0 : true;
    return {tag: p.tagName.toLowerCase(), loaded, width: box.width, height: box.height,
            src: (p.getAttribute('src') || '').slice(0, 60)};
})"""


def pictures_on(browser, url: str, selector: str) -> list[dict]:
    page = browser.new_page()
    try:
        page.goto(url, wait_until="load")
        return page.evaluate(PICTURES_JS, selector)
    finally:
        page.close()


def draws(notebook: Path) -> bool:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = "".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
    return any(call in code for call in DRAWING_CALLS)


def test_there_are_notebooks_to_check():
    assert len(NOTEBOOKS) >= 7


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_page_shows_every_picture_it_produced(browser, notebook):
    page = SITE / "notebooks" / f"{notebook.stem}.html"
    html = page.read_text(encoding="utf-8")
    produced = len(PICTURE_OUTPUT.findall(html))
    if draws(notebook):
        assert produced >= 1, f"{notebook.name} draws but its page has no picture output"
    shown = pictures_on(
        browser, page.as_uri(), ".jp-OutputArea-output img, .jp-OutputArea-output svg"
    )
    # An SVG graph holds no nested <svg>, so each output is one picture here.
    assert len(shown) == produced, shown
    for picture in shown:
        assert picture["loaded"], picture
        assert picture["width"] > 50 and picture["height"] > 50, picture


@pytest.mark.slow
def test_guide_page_shows_the_readme_pictures(browser):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    expected = re.findall(r"!\[.*?\]\(([^)\s]+)\)", readme)  # alt text may hold "]"
    shown = pictures_on(browser, (SITE / "index.html").as_uri(), "article img")
    assert len(shown) == len(expected) >= 2, shown
    for picture in shown:
        assert picture["loaded"], picture
        assert picture["width"] > 50 and picture["height"] > 50, picture


REFERENCE = sorted(p.stem for p in (ROOT / "docs" / "reference").glob("*.md") if p.stem != "index")


@pytest.mark.parametrize("module", REFERENCE)
def test_api_reference_page_documents_every_public_name(module):
    page = SITE / "reference" / f"{module}.html"
    if not page.is_file():
        if os.environ.get("AUTOGRAD_TINY_REQUIRE_DOCS_CHECK") == "1":
            pytest.fail(f"{page} is missing")
        pytest.skip("the docs site is not built: run `make docs` first")
    import importlib

    names = importlib.import_module(f"autograd_tiny.{module}").__all__
    html = page.read_text(encoding="utf-8")
    missing = [name for name in names if f'id="autograd_tiny.{module}.{name}"' not in html]
    assert not missing, missing
