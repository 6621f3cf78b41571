"""MkDocs hook: the guide page (index.md) is the README, its links into docs/ made local."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
_INTO_DOCS = re.compile(r"\]\(docs/")


def on_page_markdown(markdown, page, config, files):
    """The README's text for index.md, with ``](docs/graph.svg)`` as ``](graph.svg)``."""
    if page.file.src_uri != "index.md":
        return markdown
    return _INTO_DOCS.sub("](", README.read_text(encoding="utf-8"))
