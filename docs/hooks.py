"""MkDocs hooks: every notebook in the nav, and the README as the guide page (index.md)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
_INTO_DOCS = re.compile(r"\]\(docs/")


def on_page_markdown(markdown, page, config, files):
    """The README's text for index.md, with ``](docs/graph.svg)`` as ``](graph.svg)``."""
    if page.file.src_uri != "index.md":
        return markdown
    return _INTO_DOCS.sub("](", README.read_text(encoding="utf-8"))


def on_config(config):
    """Fill the nav's Notebooks section with every notebooks/*.ipynb, in file-name order."""
    notebooks = [f"notebooks/{path.name}" for path in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    for section in config["nav"]:
        if isinstance(section, dict) and "Notebooks" in section:
            section["Notebooks"] = notebooks
    return config
