"""The notebooks as stored in git: stripped of outputs, numbered, and checking real numbers.

The suite executes them (nbmake); these tests check the files themselves, so
that a notebook saved with its outputs, or one that only prints, fails CI.
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
NAME = re.compile(r"^(\d{2})_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb$")
ASSERT_LINE = re.compile(r"^\s*assert\b", re.MULTILINE)


def _cells(path: pathlib.Path) -> list[dict]:
    with open(path, encoding="utf-8") as file:
        return json.load(file)["cells"]


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def test_notebooks_folder_is_not_empty():
    assert PATHS, f"no notebooks found in {NOTEBOOKS}"


def test_notebook_numbers_are_unique():
    numbers = [NAME.match(path.name).group(1) for path in PATHS if NAME.match(path.name)]
    assert len(numbers) == len(set(numbers)), f"repeated notebook numbers: {sorted(numbers)}"


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.name)
def test_notebook_name_is_numbered(path):
    assert NAME.match(path.name), f"{path.name} should be named like 01_chain_rule.ipynb"


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.name)
def test_notebook_has_no_outputs(path):
    dirty = [
        i
        for i, cell in enumerate(_cells(path))
        if cell["cell_type"] == "code"
        and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{path.name}: code cells {dirty} have outputs or an execution count; "
        f"clear them before committing (jupyter nbconvert --clear-output)"
    )


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.name)
def test_notebook_asserts_something(path):
    code = [_source(cell) for cell in _cells(path) if cell["cell_type"] == "code"]
    assert any(ASSERT_LINE.search(source) for source in code), (
        f"{path.name} has no code cell with an assert statement"
    )
