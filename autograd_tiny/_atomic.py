"""Safe file writes and reads, shared by nn (models), viz (SVG) and plots (PNG).

Imports nothing of the package. A write goes to a temp file in the target's
folder, is fsynced, then renamed over the target with ``os.replace``: a reader
(or a crash) sees the old file or the new one, never a part. Temp files left by
a killed writer are swept by the next write to the same path.

What a write never does: replace anything but a regular file (a FIFO, device,
socket or directory at the target raises ``NotARegularFileError`` and stays as
it was), replace a symlink (the link is followed and its final target gets the
new content; the link stays), or change an existing file's permission bits (or
its owner and group, where this process may set them). ``read_regular`` opens
without blocking and refuses anything but a regular file, so a FIFO never hangs
a load.

The check of the target's type and the rename are two system calls: a FIFO
created in between would still be replaced (POSIX has no "rename only over a
regular file").

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
import stat
from typing import BinaryIO, Callable, Union

__all__ = ["NotARegularFileError", "read_regular", "write_atomic"]

PathLike = Union[str, "os.PathLike[str]"]

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotARegularFileError(OSError, ValueError):
    """The path names a directory, FIFO, device or socket, which is left untouched.

    An ``OSError`` (the file system said no) and a ``ValueError`` (what a bad
    model file raises), so either ``except`` catches it.
    """


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _refuse(path: PathLike, mode: int, action: str) -> NotARegularFileError:
    shown = os.fspath(path)
    return NotARegularFileError(
        f"cannot {action} {shown!r}: it is {_kind(mode)}, not a regular file (left untouched)"
    )


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
        pid = name[len(prefix) :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                entry.unlink()


def _keep_attributes(descriptor: int, old: os.stat_result) -> None:
    """Give the new file the old one's permission bits, and its owner where allowed."""
    if hasattr(os, "fchmod"):
        os.fchmod(descriptor, stat.S_IMODE(old.st_mode))
    if hasattr(os, "fchown"):
        new = os.fstat(descriptor)
        if (new.st_uid, new.st_gid) != (old.st_uid, old.st_gid):
            # Only root (or the owner, for the group) may: otherwise the writer owns it.
            with contextlib.suppress(PermissionError):
                os.fchown(descriptor, old.st_uid, old.st_gid)
            if hasattr(os, "fchmod"):  # chown clears set-id bits: put them back
                os.fchmod(descriptor, stat.S_IMODE(old.st_mode))


def write_atomic(path: PathLike, content: Union[bytes, Callable[[BinaryIO], None]]) -> pathlib.Path:
    """Write ``content`` (bytes, or a function writing to a binary file) to ``path`` atomically.

    Returns ``path`` as given (a symlink stays the name the caller used).
    """
    given = pathlib.Path(path)
    # realpath follows every link, a dangling one too (its target is created).
    target = pathlib.Path(os.path.realpath(given))
    try:
        old: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        old = None
    if old is not None and not stat.S_ISREG(old.st_mode):
        raise _refuse(path, old.st_mode, "write")
    folder = target.parent
    prefix = f".{target.name}."
    _sweep(folder, prefix)
    temporary = folder / f"{prefix}{os.getpid()}.{secrets.token_hex(4)}.tmp"
    # Mode 0o666 lets the umask decide the permissions of a new file, as open() does.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            if old is not None:
                _keep_attributes(file.fileno(), old)
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
    return given


def read_regular(path: PathLike, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of the regular file ``path``; never blocks on a FIFO.

    Raises ``NotARegularFileError`` for a directory, FIFO, device or socket
    (``OSError`` as ``open`` would for a missing or unreadable file).
    """
    mode = os.stat(path).st_mode  # a socket cannot even be opened: look first
    if not stat.S_ISREG(mode):
        raise _refuse(path, mode, "read")
    # O_NONBLOCK: should a FIFO appear after the look, opening it returns at once
    # instead of waiting for a writer; the fstat below then refuses it.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise _refuse(path, mode, "read")
    except BaseException:
        os.close(descriptor)
        raise
    with os.fdopen(descriptor, "rb") as file:
        return file.read(limit + 1)
