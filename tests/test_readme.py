"""Every Python block of the README runs exactly as written and prints what it shows.

A block's printed output is checked against the ``text`` block right after it, or
else against the ``# comments`` of its ``print`` lines (micrograd's style: each
comment is the printed line, then perhaps prose). Functions a block
defines as ``test_*`` are called, so a property test shown there really runs.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"

# A fenced block and, optionally, the ```text block that follows it at once.
BLOCK = re.compile(r"```python\n(?P<code>.*?)```\n(?:\n```text\n(?P<shown>.*?)```\n)?", re.DOTALL)
PRINT_COMMENT = re.compile(r"^print\(.*\)\s+#\s*(?P<shown>.*)$")
# What may follow the printed text in its comment: nothing, or prose ("True: second
# derivatives too", "1.0, not 2.0", "[4.0, 6.0] = Hessian times v"), never more numbers.
PROSE = re.compile(r"(?:[:,]?\s+[=(A-Za-z].*)?")


def python_blocks() -> list[tuple[str, str | None]]:
    """(code, the output the README shows for it) of every ```python block."""
    return [(m["code"], m["shown"]) for m in BLOCK.finditer(README.read_text(encoding="utf-8"))]


def shown_by_comments(code: str) -> list[str] | None:
    """The comments of the block's ``print`` lines, or None if one has no comment."""
    lines = [line for line in code.splitlines() if line.startswith("print(")]
    matches = [PRINT_COMMENT.match(line) for line in lines]
    if not lines or not all(matches):
        return None
    return [m["shown"] for m in matches if m]


def test_the_readme_has_python_blocks():
    assert len(python_blocks()) >= 4


@pytest.mark.parametrize(
    "code, shown", python_blocks(), ids=[f"block{i}" for i in range(len(python_blocks()))]
)
def test_readme_python_block_runs_as_written(code, shown, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a block that writes files writes them here
    namespace: dict[str, object] = {"__name__": "readme"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), namespace)
        for name, function in list(namespace.items()):
            if name.startswith("test_") and callable(function):
                function()
    printed = out.getvalue()
    if shown is not None:
        assert printed == shown
        return
    comments = shown_by_comments(code)
    if comments is not None:
        lines = printed.splitlines()
        assert len(lines) == len(comments)
        for line, comment in zip(lines, comments):
            assert comment.startswith(line) and PROSE.fullmatch(comment[len(line) :]), (
                line,
                comment,
            )


MAKEFILE = README.parent / "Makefile"


def test_every_make_command_in_the_readme_is_a_target():
    targets = set()
    for line in MAKEFILE.read_text(encoding="utf-8").splitlines():
        if ":" in line and not line.startswith(("\t", "#", " ")) and "=" not in line.split(":")[0]:
            targets.update(line.split(":")[0].split())
    shown = set(re.findall(r"`make ([a-z][a-z-]*)", README.read_text(encoding="utf-8")))
    shown |= set(re.findall(r"^make ([a-z][a-z-]*)", README.read_text(encoding="utf-8"), re.M))
    assert {"demo", "test", "test-torch", "notebooks", "docs"} <= shown
    assert shown <= targets, shown - targets
