"""Files written atomically, and hashed by their bytes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

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


_HASHES: dict[tuple, str] = {}


def file_hash(path: Path) -> str:
    """SHA-256 of ``path``'s bytes (remembered in this process while the file is unchanged)."""
    stat = path.stat()
    key = (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size)
    if key not in _HASHES:
        _HASHES[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _HASHES[key]
