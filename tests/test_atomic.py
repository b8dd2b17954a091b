"""Writing a user's file: whole or not at all, never over one unasked, never over a device."""

import os
import stat
import threading

import pytest

from hvtui.atomic import write_file
from hvtui.errors import InputError


def test_a_new_file_is_written_whole(tmp_path):
    path = tmp_path / "out.txt"
    write_file(str(path), b"hello\n", overwrite=False, exists="exists")
    assert path.read_bytes() == b"hello\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temp file left


def test_an_existing_file_is_kept_unless_overwrite(tmp_path):
    path = tmp_path / "out.txt"
    path.write_bytes(b"mine\n")
    with pytest.raises(InputError, match="exists"):
        write_file(str(path), b"theirs\n", overwrite=False, exists="exists")
    assert path.read_bytes() == b"mine\n"
    write_file(str(path), b"theirs\n", overwrite=True, exists="exists")
    assert path.read_bytes() == b"theirs\n"


def test_overwrite_keeps_the_file_mode(tmp_path):
    path = tmp_path / "out.txt"
    path.write_bytes(b"mine\n")
    os.chmod(path, 0o600)
    write_file(str(path), b"theirs\n", overwrite=True, exists="exists")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_fifo_is_written_through_not_replaced(tmp_path):
    """`-o /dev/null --force` must not leave a plain file where the device was."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_file(str(fifo), b"through\n", overwrite=True, exists="exists")
    reader.join(timeout=10)
    assert got == [b"through\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
