"""Finding and running the program that lays out DOT source: ``find_renderer``, ``run_renderer``.

Tried in order: the ``AUTOGRAD_TINY_DOT`` environment variable, the
``graphviz-pure`` program installed with this package, ``graphviz-pure`` on
``PATH``, a system ``dot``. Imports nothing from the package.
"""

from __future__ import annotations

import os
import pathlib
import shlex
import shutil
import subprocess
from importlib import metadata

__all__ = [
    "INSTALL_HELP",
    "RENDERER_ENV",
    "RENDER_TIMEOUT",
    "RenderError",
    "RendererNotFoundError",
    "find_renderer",
    "run_renderer",
]

RENDERER_ENV = "AUTOGRAD_TINY_DOT"
RENDER_TIMEOUT = 60.0  # seconds

INSTALL_HELP = (
    "no Graphviz renderer found. Install one of:\n"
    "  pip install graphviz-pure          (self-contained, no system packages)\n"
    "  apt-get install graphviz           (Debian/Ubuntu: the system `dot`)\n"
    "  brew install graphviz              (macOS)\n"
    f"or set {RENDERER_ENV} to a dot-compatible command."
)


class RendererNotFoundError(RuntimeError):
    """No program to lay out DOT source; the message says how to install one."""


class RenderError(RuntimeError):
    """The renderer ran but failed; the message holds its command and stderr."""


def find_renderer() -> list[str]:
    """The command (a list of words) that turns DOT source into pictures.

    Tried in order: the ``AUTOGRAD_TINY_DOT`` environment variable, the
    ``graphviz-pure`` program recorded by its installed distribution,
    ``graphviz-pure`` on ``PATH``, then a system ``dot`` on ``PATH``.
    Raises ``RendererNotFoundError`` with install commands when none exists.

    >>> find_renderer()[0].endswith(("graphviz-pure", "graphviz-pure.exe", "dot"))
    True
    """
    override = os.environ.get(RENDERER_ENV, "").strip()
    if override:
        # A path to a program may hold spaces (Windows); otherwise split like a shell.
        command = [override] if os.path.isfile(override) else shlex.split(override)
        if shutil.which(command[0]) is None:
            raise RendererNotFoundError(
                f"{RENDERER_ENV}={override!r}, but {command[0]!r} is not an executable "
                f"program; fix or unset it.\n{INSTALL_HELP}"
            )
        return command
    installed = _installed_graphviz_pure()
    if installed:
        return [installed]
    for program in ("graphviz-pure", "dot"):
        found = shutil.which(program)
        if found:
            return [found]
    raise RendererNotFoundError(INSTALL_HELP)


def _installed_graphviz_pure() -> str | None:
    """The ``graphviz-pure`` script listed in its distribution's RECORD, if installed."""
    try:
        files = metadata.distribution("graphviz-pure").files or []
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name in ("graphviz-pure", "graphviz-pure.exe"):
            path = pathlib.Path(str(file.locate())).resolve()
            if path.is_file() and os.access(path, os.X_OK):
                return str(path)
    return None


def run_renderer(
    source: str, format: str = "svg", timeout: float = RENDER_TIMEOUT, advice: str = ""
) -> bytes:
    """The output of ``find_renderer()`` on ``source``; ``advice`` ends a timeout's message.

    >>> run_renderer("digraph { a -> b }").startswith(b"<?xml")
    True
    """
    command = [*find_renderer(), f"-T{format}"]
    try:
        done = subprocess.run(
            command, input=source.encode("utf-8"), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"{shlex.join(command)} timed out after {timeout:g} s{advice}") from None
    except OSError as error:
        raise RenderError(f"{shlex.join(command)} could not run: {error}") from None
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", "replace").strip()
        raise RenderError(
            f"{shlex.join(command)} failed with exit status {done.returncode}: {stderr}"
        )
    return done.stdout
