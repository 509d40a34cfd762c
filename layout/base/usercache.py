"""The user's cache folder, for what does not depend on an issue and is costly to make in every
process: WeasyPrint's C declarations prebuilt (``rendering/weasyffi.py``), the output profile
compressed (``compressed``: for the plates and the archive's PDF/As). Its files are
content-addressed (named by the hash of all they are made from, versions included) and sealed as
the build cache's are (``base/cache.py``): a damaged one reads as missing and is made again.
Nothing fails for want of it (a read-only home only makes runs slower)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import zlib
from pathlib import Path


def folder() -> Path:
    """``$XDG_CACHE_HOME/layout`` (``~/.cache/layout``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "layout"


def read(name: str) -> bytes | None:
    """The data kept as ``name``, or None if it is not there (or damaged)."""
    from .cache import read_sealed

    try:
        return read_sealed(folder() / name)
    except OSError:
        return None


def write(name: str, data: bytes) -> None:
    """Keep ``data`` as ``name``, if the folder can be written."""
    from .cache import write_sealed

    with contextlib.suppress(OSError):
        folder().mkdir(parents=True, exist_ok=True)
        write_sealed(folder() / name, data)


def compressed(data: bytes) -> bytes:
    """``zlib.compress(data, 9)``, kept as ``icc-<hash>.zlib`` named by ``data`` and zlib's version:
    compressing the newsprint profile (1.3 MB) takes 0.1 s, in every process that writes it (each
    worker that makes a plate, a recompose, an archive)."""
    name = hashlib.sha256(f"zlib {zlib.ZLIB_RUNTIME_VERSION} level 9\0".encode() + data).hexdigest()
    made = read(f"icc-{name}.zlib")
    if made is None:
        made = zlib.compress(data, 9)
        write(f"icc-{name}.zlib", made)
    return made
