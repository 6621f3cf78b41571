"""The dependency map in DESIGN.md, enforced: each module imports only what it may.

Modules are named as from the package: ``engine``, ``cli`` (the folder's
``__init__.py``), ``cli.args`` (a module in the ``cli/`` folder). Each folder
(subpackage) is on the map with the modules outside it that may import it; a
folder's ``__init__`` may import the modules inside it.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "autograd_tiny"

# folder -> the modules outside it that may import anything in it
FOLDERS: dict[str, set[str]] = {
    "cli": {"__main__"},  # the command line: nothing else imports it
    "compiler": {"__init__", "train"},  # compile, and the compiled training step
}

# modules that import nothing from the package, which every module may import
ANYWHERE = {"_checks"}

# module -> package modules it may import (arrows point down only), besides ANYWHERE
ALLOWED: dict[str, set[str]] = {
    "_checks": set(),
    "_ieee": set(),
    "rules": {"_ieee"},
    "ops": {"_ieee", "rules", "piecewise"},  # piecewise: its last line, re-exporting
    "piecewise": {"_ieee", "rules", "ops"},  # ops: the registry's _builtin
    "modes": set(),
    "value": {"_ieee", "rules", "ops", "modes", "walk"},  # walk: only inside Value.backward
    "walk": {"modes", "rules", "value"},
    "engine": {"_ieee", "rules", "ops", "piecewise", "modes", "value", "walk"},
    "_atomic": set(),
    "functional": {"engine", "_forward"},
    "_forward": {"engine"},
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
    "viz": {"engine", "_atomic", "_names", "_collapse", "_renderer", "_value_graph"},
    "_value_graph": {"_atomic", "_renderer"},
    "nn": {"engine", "_model_files", "_torch_bridge"},
    "_model_files": {"_atomic"},
    "_torch_bridge": {"nn"},
    "losses": {"engine"},
    "optim": {"engine", "_ieee", "_clipping", "_schedules"},
    "_clipping": {"engine", "_ieee"},
    "_schedules": {"_ieee"},
    "data": set(),
    "train": {"engine", "nn", "optim", "compiler.step", "_history", "_evaluation", "_fit_checks"},
    "_history": {"_atomic"},
    "_evaluation": {"engine", "_fit_checks"},
    "_fit_checks": {"engine", "losses", "optim"},
    "plots": {"train", "_atomic"},
    "cli.args": {"expr", "_names"},
    "cli.expr_commands": {"cli.args", "engine", "explain", "expr", "gradcheck", "viz"},
    "cli.train_commands": {"cli.args", "data", "engine", "nn", "optim", "train", "viz", "plots"},
    "cli": {"*"},
    # compiler/ (tracing, its IR, the generated code); "compiler" above is its __init__
    "compiler.ir": {"engine"},
    "compiler.branches": {"engine"},
    "compiler.tracing": {"engine", "compiler.ir", "compiler.branches"},
    "compiler.symbolic": {"engine", "_ieee", "compiler.branches"},
    "compiler.inline": set(),
    "compiler.emit": {"compiler.symbolic", "compiler.inline"},
    "compiler.gates": {"engine", "compiler.symbolic", "compiler.branches"},
    "compiler.codegen": {
        "engine",
        "compiler.ir",
        "compiler.symbolic",
        "compiler.gates",
        "compiler.tracing",
        "compiler.emit",
    },
    "compiler.step": {"engine", "losses", "optim", "compiler", "_evaluation", "_fit_checks"},
    "__init__": {"*"},
    "__main__": {"cli"},
}


def _module_name(path: pathlib.Path) -> str:
    """``engine`` for engine.py, ``cli`` for cli/__init__.py, ``cli.args`` for cli/args.py."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if len(parts) > 1 and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


PATHS = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
MODULES = {_module_name(path): path for path in PATHS}


def _folder(module: str) -> str:
    """The folder a module lives in (``cli`` for ``cli`` and ``cli.args``), or ""."""
    if "." in module:
        return module.split(".")[0]
    path = MODULES.get(module)
    is_folder = path is not None and path.name == "__init__.py" and module != "__init__"
    return module if is_folder else ""


def _known(dotted: str, modules: set[str]) -> str:
    """``dotted`` cut to the longest module on the map (``cli.args.fail`` -> ``cli.args``)."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in modules:
            return ".".join(parts[:end])
    return dotted


def _package_imports(
    path: pathlib.Path,
    module: str = "",
    modules: set[str] | None = None,
    *,
    is_package: bool = False,
) -> set[str]:
    """The package modules that the file at ``path`` imports, named as on the map.

    ``module`` is the file's name on the map (``cli.args``); ``is_package`` says it is a
    folder's ``__init__.py``, whose relative imports start from the folder itself.
    ``from autograd_tiny import Value`` imports ``__init__``.
    """
    modules = set(MODULES) if modules is None else modules
    own = module.split(".") if module else []
    package = own if is_package else own[:-1]  # where ``from .`` starts
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level >= 1:
                if node.level - 1 > len(package):
                    raise ValueError(f"{path}: an import goes above the package")
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            elif (node.module or "").split(".")[0] == "autograd_tiny":
                target = node.module.partition(".")[2]  # type: ignore[union-attr]
            else:
                continue
            for alias in node.names:
                name = f"{target}.{alias.name}" if target else alias.name
                if name in modules:  # from . import viz, from .cli import args
                    found.add(name)
                else:
                    found.add(_known(target, modules) if target else "__init__")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "autograd_tiny":
                    found.add(
                        _known(".".join(parts[1:]), modules) if len(parts) > 1 else "__init__"
                    )
    return found


def test_every_folder_is_on_the_map():
    folders = {_folder(module) for module in MODULES} - {""}
    unknown = sorted(folders - set(FOLDERS))
    assert not unknown, (
        f"autograd_tiny/{unknown[0]}/ is a folder the map does not know: add it to FOLDERS in "
        f"tests/test_layering.py with the modules outside it that may import it, and its "
        f"modules to ALLOWED as {unknown[0]!r}, '{unknown[0]}.<module>' (and to DESIGN.md's map)"
    )


def test_every_module_is_on_the_map():
    missing = sorted(set(MODULES) - set(ALLOWED))
    assert not missing, f"add {missing} to ALLOWED in tests/test_layering.py (and DESIGN.md's map)"


def test_no_module_imports_against_the_map():
    broken = []
    for module, path in sorted(MODULES.items()):
        allowed = ALLOWED.get(module, set())
        imported = _package_imports(
            path, module, is_package=path.name == "__init__.py" and module != "__init__"
        )
        if "*" not in allowed:
            extra = ANYWHERE if module not in ANYWHERE else set()
            if path.name == "__init__.py":  # a folder's own modules
                extra = extra | {name for name in MODULES if name.startswith(f"{module}.")}
            broken += [f"{module} imports {name}" for name in sorted(imported - allowed - extra)]
        folder = _folder(module)
        for name in sorted(imported):
            into = _folder(name)
            if into and into != folder and module not in FOLDERS.get(into, set()):
                broken.append(
                    f"{module} imports {name}, inside {into}/, which only "
                    f"{sorted(FOLDERS.get(into, set()))} may import"
                )
    assert not broken, broken


def test_the_checker_sees_relative_and_absolute_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from .nn import MLP\nfrom . import viz\nimport autograd_tiny.cli\n"
        "from autograd_tiny.data import xor\nfrom autograd_tiny import Value\n"
    )
    assert _package_imports(sample, "sample") == {"nn", "viz", "cli", "data", "__init__"}


def test_the_checker_names_modules_inside_folders(tmp_path):
    modules = {"__init__", "engine", "viz", "cli", "cli.args", "cli.run"}
    sample = tmp_path / "run.py"
    sample.write_text(
        "from ..engine import Value\nfrom .. import viz, __version__\n"
        "from .args import fail\nfrom . import args\n"
        "from autograd_tiny.cli.args import fail\nimport autograd_tiny.cli.args\n"
    )
    assert _package_imports(sample, "cli.run", modules) == {"engine", "viz", "__init__", "cli.args"}
    package = tmp_path / "__init__.py"
    package.write_text("from .args import fail\nfrom ..engine import Value\n")
    assert _package_imports(package, "cli", modules, is_package=True) == {"cli.args", "engine"}


@pytest.mark.parametrize(
    "module, folder", [("engine", ""), ("__init__", ""), ("cli", "cli"), ("cli.args", "cli")]
)
def test_the_checker_knows_each_modules_folder(module, folder):
    assert _folder(module) == folder
