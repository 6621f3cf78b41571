"""The dependency map in DESIGN.md, enforced: each module imports only what it may."""

from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "autograd_tiny"

# module -> package modules it may import (arrows point down only)
ALLOWED: dict[str, set[str]] = {
    "_ieee": set(),
    "engine": {"_ieee"},
    "_atomic": set(),
    "functional": {"engine"},
    "gradcheck": {"engine", "_nested", "_report"},
    "_nested": {"engine"},
    "_report": set(),
    "testing": {"engine"},
    "explain": {"engine", "_names", "_stepper"},
    "_stepper": {"engine", "_atomic", "viz"},
    "_names": {"engine"},
    "compiler": {"engine", "_ieee"},  # a folder: its modules import only these
    "expr": {"engine", "_ieee"},
    "_collapse": {"engine", "_names"},
    "_renderer": set(),
    "viz": {"engine", "_atomic", "_names", "_collapse", "_renderer"},
    "nn": {"engine", "_atomic", "_torch_bridge"},
    "_torch_bridge": {"nn"},
    "losses": {"engine"},
    "optim": {"engine", "_ieee", "_clipping", "_schedules"},
    "_clipping": {"engine", "_ieee"},
    "_schedules": {"_ieee"},
    "data": set(),
    "train": {"engine", "nn", "losses", "optim", "steps", "_atomic"},
    "steps": {"engine", "losses", "optim", "compiler"},
    "plots": {"train", "_atomic"},
    "_cli_args": {"expr", "_names"},
    "_cli_expr": {"_cli_args", "engine", "explain", "expr", "gradcheck", "viz"},
    "_cli_train": {"_cli_args", "data", "engine", "nn", "optim", "train", "viz", "plots"},
    "cli": {"*"},
    "__init__": {"*"},
    "__main__": {"cli"},
}


def _package_imports(path: pathlib.Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autograd_tiny"):
            parts = node.module.split(".")  # type: ignore[union-attr]
            found.update([parts[1]] if len(parts) > 1 else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "autograd_tiny":
                    found.add(parts[1] if len(parts) > 1 else "__init__")
    return found


def test_every_module_is_on_the_map():
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert modules <= set(ALLOWED), f"add {sorted(modules - set(ALLOWED))} to the map"


def test_no_module_imports_against_the_map():
    broken = []
    for path in sorted(PACKAGE.glob("*.py")):
        allowed = ALLOWED.get(path.stem, set())
        if "*" in allowed:
            continue
        for imported in sorted(_package_imports(path) - allowed):
            broken.append(f"{path.name} imports {imported}")
    assert not broken, broken


def test_the_checker_sees_relative_and_absolute_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from .nn import MLP\nfrom . import viz\nimport autograd_tiny.cli\n"
                      "from autograd_tiny.data import xor\n")
    assert _package_imports(sample) == {"nn", "viz", "cli", "data"}
