"""The build cache's entries: content-addressed, and sealed so that a damaged entry is never used.

Every entry is named by the hash of all its inputs' bytes (sources, settings, the files they name,
stylesheets, fonts, templates, and the code itself: ``CODE_DIGEST``), never by paths or times. Each
file is written with a seal: a trailer holding the SHA-256 of its name and its bytes. Reading
checks the seal; a file that is truncated, has a changed byte, or was copied under another entry's
name fails it, is removed, and reads as missing, so that the entry is made again. Nothing read from
the cache without its seal ever reaches a plate.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from pathlib import Path

import jinja2
import jinja2.bccache

SEAL = b"\n%layout-seal sha256 "
"""What starts a sealed file's trailer (after it: 64 hex digits and a newline)."""
_TRAILER = len(SEAL) + 64 + 1


def _digest(name: str, data: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\0" + data).hexdigest().encode()


def seal(name: str, data: bytes) -> bytes:
    """``data`` with its seal, for a cache file called ``name``."""
    return data + SEAL + _digest(name, data) + b"\n"


def unseal(name: str, blob: bytes) -> bytes | None:
    """The data of a sealed cache file called ``name``, or None if its seal does not hold."""
    if len(blob) < _TRAILER or blob[-_TRAILER:-65] != SEAL or not blob.endswith(b"\n"):
        return None
    data, digest = blob[:-_TRAILER], blob[-65:-1]
    return data if digest == _digest(name, data) else None


def read_sealed(path: Path) -> bytes | None:
    """The data of the sealed cache file at ``path``; None if it is missing or damaged (a damaged
    one is removed, so that it is made again)."""
    try:
        blob = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    data = unseal(path.name, blob)
    if data is None:
        with contextlib.suppress(OSError):
            path.unlink()
    return data


def write_sealed(path: Path, data: bytes) -> None:
    """Write ``data`` sealed at ``path`` (atomically)."""
    from .files import write_atomic

    write_atomic(path, seal(path.name, data))


@functools.cache
def code_digest() -> str:
    """SHA-256 of layout's own code and templates: a new version of the code never reads what an
    older one cached."""
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted([*package.glob("*.py"), *package.glob("templates/*")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def files_digest(paths: list[Path | None]) -> str:
    """SHA-256 of the bytes of ``paths`` (a setting that names a file, such as ``icc_profile``):
    another file, or the same file changed, is another key."""
    digest = hashlib.sha256()
    for path in paths:
        if path is None:
            digest.update(b"-")
            continue
        try:
            digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
        except OSError:
            digest.update(b"unreadable " + os.fsencode(str(path)))
    return digest.hexdigest()


def settings_files(settings: object) -> list[Path | None]:
    """The files a settings object names (its path-like fields), in field order."""
    return [value for _, value in sorted(vars(settings).items()) if isinstance(value, os.PathLike)]


class SealedBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja2's compiled templates, kept sealed: a damaged file is compiled again, never run."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Load ``bucket``'s code if its file is whole."""
        data = read_sealed(Path(self._get_cache_filename(bucket)))
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Keep ``bucket``'s code, sealed."""
        with contextlib.suppress(OSError):
            write_sealed(Path(self._get_cache_filename(bucket)), bucket.bytecode_to_string())
