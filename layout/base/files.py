"""Files written atomically, and hashed by their bytes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TypeVar

from .publish import umask


def write_atomic(path: Path, data: bytes, sync: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: never a half-written file.
    ``sync`` False: not synced to the disk first (a cache entry: its seal is checked on read, so an
    entry that a crash left empty or short reads as missing and is made again)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(handle, 0o666 & ~umask())  # mkstemp makes it 0600: outputs are for others to read too
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            if sync:
                os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        if isinstance(error, OSError) and error.filename is None:  # fsync, write: name the file
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise


def link_atomic(source: Path, path: Path, data: bytes) -> None:
    """Replace ``path`` atomically (as ``write_atomic``) with a hard link to ``source``, a file just
    written and synced that holds ``data``: nothing is written or synced twice. Outputs are
    replaced, never changed in place, so the link is as safe as a copy. Where the system cannot
    link, or ``source`` does not hold ``data``, ``data`` is written."""
    try:
        if _holds(source, data):
            temp = path.with_name(f".{path.name}.{os.getpid()}.{id(data):x}.part")  # cleaned by the next run
            os.link(source, temp)
            try:
                os.replace(temp, path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
                raise
            return
    except OSError:
        pass
    write_atomic(path, data)


def write_changed(path: Path, data: bytes) -> None:
    """``write_atomic``, unless ``path`` already holds exactly ``data`` (then it is left as it is)."""
    try:
        if _holds(path, data):
            return
    except OSError:
        pass
    write_atomic(path, data)


def _holds(path: Path, data: bytes) -> bool:
    """Whether the file at ``path`` holds exactly ``data`` (its size first); OSError if it cannot be read."""
    return path.stat().st_size == len(data) and path.read_bytes() == data


RACY_NS = 100_000_000
"""A file changed less than this long before its stamp is taken is too recent to tell by its stamp:
written again in the same tick of the kernel's clock (a few milliseconds: the times are the tick's,
not the write's), it could keep every field of its stamp (git's "racy" files)."""


def stamp(path: Path, now: int | None = None, racy: bool = True) -> tuple[int, ...] | None:
    """What says a file or folder is unchanged: its device, inode, size, modification and change times
    and mode (a link followed: what reading it gives), or None if it is missing or unreadable, or
    (``racy``) if it changed less than ``RACY_NS`` before ``now`` (the time, by default), so that the
    next write could leave the same stamp. The one stamp that every memo of a file's bytes is kept
    by, and every watcher of a source compares."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if racy and (time.time_ns() if now is None else now) - max(info.st_mtime_ns, info.st_ctime_ns) < RACY_NS:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_mode)


T = TypeVar("T")


def remembered(memo: dict[tuple, tuple[tuple, T]], path: Path, make: Callable[[bytes], T], *extra: Hashable) -> T:
    """``make`` of the bytes of ``path``, remembered in ``memo`` (by the path and ``extra``) while the
    file keeps its ``stamp``: read and made again once it changed, and every time while it is too
    recent to tell. One entry a path and ``extra``, so a long-lived process (the compose server,
    ``layout serve``) keeps no entry for a file's older bytes. OSError if it cannot be read."""
    found, key = stamp(path), (str(path), *extra)
    known = memo.get(key)
    if found is not None and known is not None and known[0] == found:
        return known[1]
    value = make(path.read_bytes())
    if found is not None:
        memo[key] = (found, value)
    return value


_HASHES: dict[tuple, tuple[tuple, str]] = {}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_hash(path: Path) -> str:
    """SHA-256 of ``path``'s bytes (remembered in this process while the file is unchanged: ``remembered``)."""
    return remembered(_HASHES, path, _sha256)
