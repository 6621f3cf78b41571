"""Griffe extension for the API reference: doctests in docstrings become ``pycon`` code blocks.

The docstrings hold bare ``>>>`` examples (run by ``pytest --doctest-modules``); Markdown
would read them as prose, and ``[0.5, 0.5]`` in an output line as a link.
"""

from __future__ import annotations

from typing import Any

import griffe


def fence_doctests(text: str) -> str:
    """``text`` with each run of ``>>>`` lines and their output inside a ``pycon`` fence."""
    lines: list[str] = []
    in_example = in_fence = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        starts = not in_fence and line.lstrip().startswith(">>>")
        if starts and not in_example:
            lines.append("```pycon")
            in_example = True
        elif in_example and not line.strip():
            lines.append("```")
            in_example = False
        lines.append(line)
    if in_example:
        lines.append("```")
    return "\n".join(lines)


class FenceDoctests(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)
