"""Where stored audio lives: one small interface, a filesystem and an S3 implementation.

A file is written in two steps: its bytes go to a local spool while the response streams,
and only a complete spool is published under its key (a rename on the filesystem, one
PutObject on S3). So a key either names a whole file or nothing: a broken or abandoned
stream never leaves half a file where a reader could find it. Calls block; the async layer
(`store.py`) runs them in worker threads.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import BinaryIO, Protocol

READ_BLOCK = 64 * 1024
_SPOOL_IN_MEMORY = 1024 * 1024
_KEY = re.compile(r"[a-z0-9_]{1,80}\.[a-z0-9]{1,8}")


class ObjectMissing(Exception):
    """The key names no stored object."""


def check_key(key: str) -> str:
    """Keys are made by the router from ids; anything else (a `..`, a slash) is refused."""
    if _KEY.fullmatch(key) is None:
        raise ValueError(f"not an artifact key: {key!r}")
    return key


def new_spool(directory: Path | None = None) -> BinaryIO:
    """A temporary file for bytes in progress: in memory while small, then on local disk."""
    spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - the caller owns and closes it
        max_size=_SPOOL_IN_MEMORY, dir=None if directory is None else str(directory)
    )
    return spool  # type: ignore[return-value]


class ObjectStorage(Protocol):
    def publish(self, key: str, spool: BinaryIO, content_type: str) -> None:
        """Store the spool's whole content under `key`, replacing what was there."""

    def read(self, key: str, start: int, length: int) -> Generator[bytes, None, None]:
        """`length` bytes from `start`; ObjectMissing if the key names nothing."""

    def delete(self, key: str) -> None:
        """Remove the object; a missing one is not an error."""

    def spool_directory(self) -> Path | None:
        """Where large spools should spill to disk (None: the system's temp directory)."""


class FilesystemStorage:
    """Objects as files in one directory; publication is an atomic rename within it."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._tmp = root / ".incoming"
        self._tmp.mkdir(parents=True, exist_ok=True)

    def spool_directory(self) -> Path | None:
        return self._tmp

    def publish(self, key: str, spool: BinaryIO, content_type: str) -> None:
        target = self._path(key)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix=f"{key}.")
        try:
            with os.fdopen(fd, "wb") as out:
                spool.seek(0)
                shutil.copyfileobj(spool, out, READ_BLOCK)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, target)
        finally:
            Path(tmp_name).unlink(missing_ok=True)

    def read(self, key: str, start: int, length: int) -> Generator[bytes, None, None]:
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError:
            raise ObjectMissing(key) from None
        return _blocks(handle, start, length)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        return self._root / check_key(key)


def _blocks(handle: BinaryIO, start: int, length: int) -> Generator[bytes, None, None]:
    with handle:
        handle.seek(start)
        left = length
        while left > 0:
            block = handle.read(min(READ_BLOCK, left))
            if not block:
                return
            left -= len(block)
            yield block
