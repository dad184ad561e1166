"""Opening files safely: the tool's own files, and the input files it reads.

The state, its backup, the lock, the lock guard and the audit log are the tool's own: it
never follows a symbolic link to them (a link planted there would make the tool write
wherever it points) and never blocks on a FIFO put in their place. Input files (config, var
files) may be links, but must end in a regular file: a FIFO would hang the run, a device
would be read forever.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from collections.abc import Callable
from pathlib import Path


class UnsafeFileError(OSError):
    """A path holds something other than the regular file expected there; str() says what."""


def kind_of(mode: int) -> str:
    """What a file of this st_mode is, in words ("a FIFO (named pipe)", "a directory", ...)."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def _link_message(path: Path | str) -> str:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return (
        f"{path} is a symbolic link (to {target}); telegent-iac never follows a link to a file it "
        f"writes: remove the link (or point --state at the real file)"
    )


def _foreign(path: Path | str, mode: int) -> str:
    return f"{path} is {kind_of(mode)}, not a regular file: telegent-iac keeps its own file there; remove it"


def check_own_entry(path: Path | str) -> None:
    """Raise UnsafeFileError if `path` exists and is not a regular file (links not followed).

    For entries the tool replaces or links rather than opens (the backup, the state before a
    rename over it): a rename would quietly remove whatever the user put there."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeFileError(_link_message(path))
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeFileError(_foreign(path, st.st_mode))


def _regular_blocking(fd: int, refusal: Callable[[int], str]) -> int:
    """`fd` back in blocking mode when it is a regular file; otherwise closed, and
    UnsafeFileError with `refusal(st_mode)`."""
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFileError(refusal(st.st_mode))
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_own(path: Path | str, flags: int, mode: int = 0o666) -> int:
    """os.open() for a file the tool itself writes: the descriptor of a regular file, or
    UnsafeFileError naming the path when a symlink (even a dangling one), a FIFO, a directory
    or a device is there. Never blocks: O_NONBLOCK for the open, then the kind is checked with
    fstat on what was actually opened, and blocking mode is restored for a regular file.
    Other OSErrors (missing file, permission denied, disk full) pass through unchanged."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP and os.path.islink(path):
            raise UnsafeFileError(_link_message(path)) from None
        if exc.errno in (errno.EISDIR, errno.ENXIO):  # ENXIO: a FIFO opened for writing, no reader
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                raise exc from None
            raise UnsafeFileError(_foreign(path, mode)) from None
        raise
    return _regular_blocking(fd, lambda mode: _foreign(path, mode))


def read_own(path: Path | str) -> bytes:
    """The whole content of one of the tool's own files (see open_own); FileNotFoundError if absent."""
    fd = open_own(path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as f:
        return f.read()


def open_input(path: Path | str) -> int:
    """os.open() for reading an input file: links are followed, but what they end in must be a
    regular file. A FIFO, a device, a directory or a link loop raise UnsafeFileError with a
    reason; never blocks."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFileError("is a symbolic link loop (too many levels of symbolic links)") from None
        if exc.errno == errno.ENXIO:
            raise UnsafeFileError("is a socket or a device without a driver, not a file") from None
        raise
    return _regular_blocking(fd, lambda mode: f"is {kind_of(mode)}, not a regular file")


def read_input(path: Path | str) -> bytes:
    """The whole content of an input file (see open_input): never blocks on a FIFO or reads
    a device forever."""
    with os.fdopen(open_input(path), "rb") as f:
        return f.read()
