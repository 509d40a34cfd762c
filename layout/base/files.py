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


_HASHES: dict[tuple, str] = {}


def file_hash(path: Path) -> str:
    """SHA-256 of ``path``'s bytes (remembered in this process while the file is unchanged)."""
    stat = path.stat()
    key = (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size)
    if key not in _HASHES:
        _HASHES[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _HASHES[key]
