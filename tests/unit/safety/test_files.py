"""safety.files: the tool's own files are opened without following a link or blocking on a
FIFO, input files may be links to a regular file, and each refusal says what was found."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from telegent_iac.safety.files import UnsafeFileError, open_input, open_own
from tests.support.bounded import bounded_raise


def test_open_own_and_open_input_never_block_and_say_what_they_found(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for flags in (os.O_RDONLY, os.O_WRONLY | os.O_APPEND | os.O_CREAT, os.O_RDWR | os.O_CREAT):
        with pytest.raises(UnsafeFileError, match="FIFO"):
            bounded_raise(lambda flags=flags: open_own(fifo, flags))
    with pytest.raises(UnsafeFileError, match="FIFO"):
        bounded_raise(lambda: open_input(fifo))
    with pytest.raises(UnsafeFileError, match="device"):
        open_input("/dev/null")
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(UnsafeFileError, match="loop"):
        open_input(loop)
    real = tmp_path / "real.yaml"
    real.write_text("a: 1\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    os.close(open_input(link))  # input files may be links to a regular file
    with pytest.raises(UnsafeFileError, match="symbolic link"):
        open_own(link, os.O_RDONLY)
    with pytest.raises(FileNotFoundError):
        open_own(tmp_path / "absent", os.O_RDONLY)
