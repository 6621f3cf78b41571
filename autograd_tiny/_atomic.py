"""Atomic file writes, shared by nn (models), viz (SVG) and plots (PNG).

Imports nothing of the package. A write goes to a temp file in the target's
folder, is fsynced, then renamed over the target with ``os.replace``: a reader
(or a crash) sees the old file or the new one, never a part. Temp files left by
a killed writer are swept by the next write to the same path.

>>> import pathlib, tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     target = write_atomic(pathlib.Path(folder) / "a.txt", b"hello")
...     target.read_bytes(), sorted(p.name for p in pathlib.Path(folder).iterdir())
(b'hello', ['a.txt'])
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import secrets
from typing import BinaryIO, Callable, Union

__all__ = ["write_atomic"]

PathLike = Union[str, "os.PathLike[str]"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0  # exists but not ours / not a pid at all
    return True


def _sweep(folder: pathlib.Path, prefix: str) -> None:
    """Remove ``prefix<pid>.<token>.tmp`` files whose writer process is gone."""
    for entry in folder.iterdir():
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid = name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                entry.unlink()


def write_atomic(path: PathLike, content: Union[bytes, Callable[[BinaryIO], None]]) -> pathlib.Path:
    """Write ``content`` (bytes, or a function writing to a binary file) to ``path`` atomically."""
    target = pathlib.Path(path)
    folder = target.parent.resolve()
    prefix = f".{target.name}."
    _sweep(folder, prefix)
    temporary = folder / f"{prefix}{os.getpid()}.{secrets.token_hex(4)}.tmp"
    # Mode 0o666 lets the umask decide the permissions, as open() does.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            if isinstance(content, bytes):
                file.write(content)
            else:
                content(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    return target
