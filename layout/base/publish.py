"""Publishing outputs so that a crash at any instant leaves the complete old set or the complete new one.

A folder of outputs (``plates/``, ``plates-draft/``, ``proofs/``, ``previous/``) is written whole
under a staging name (``.<name>-XXXX``, files written and synced), then swapped with the published
folder in one step: ``renameat2(RENAME_EXCHANGE)``, which the kernel does atomically, so that at
every instant the published name holds one complete set. Where the file system cannot exchange
(``EINVAL``, ``ENOSYS``...), the old folder is renamed aside (``.<name>.old``) and the new one put in
its place; a crash between those two renames leaves both whole, and the next run (or ``layout
check`` and ``archive``, which call ``recover``) puts the old one back before anything else. Single
files are replaced atomically (``files.write_atomic``). Whatever a killed run left half-done
(``.*.part`` files, staging folders, old folders) is removed by the next run (``clean``).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
FOLDERS = ("plates", "plates-draft", "proofs", "previous")
"""The folders of outputs published whole."""
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EXDEV, errno.ENOTSUP, errno.EPERM}
_LIBC: list = []


def _renameat2():
    if not _LIBC:
        try:
            function = ctypes.CDLL(None, use_errno=True).renameat2
            function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            _LIBC.append(function)
        except (AttributeError, OSError):
            _LIBC.append(None)
    return _LIBC[0]


def exchange(a: Path, b: Path) -> bool:
    """Swap ``a`` and ``b`` in one atomic step; False if the system cannot (nothing was changed)."""
    function = _renameat2()
    if function is None:
        return False
    if function(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(b))


def rename_new(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target``, which must not exist: never replaces anything (an archive).

    ``renameat2(RENAME_NOREPLACE)`` makes the check and the rename one step; without it, a plain
    rename would replace an empty folder, so ``target`` is looked for first (the caller holds the
    issue's lock)."""
    function = _renameat2()
    if function is not None:
        if function(AT_FDCWD, os.fsencode(source), AT_FDCWD, os.fsencode(target), RENAME_NOREPLACE) == 0:
            _sync_folder(target.parent)
            return
        code = ctypes.get_errno()
        if code not in _UNSUPPORTED:
            raise OSError(code, os.strerror(code), str(target))
    if target.exists() or target.is_symlink():
        raise FileExistsError(errno.EEXIST, "an archive is already there", str(target))
    os.rename(source, target)
    _sync_folder(target.parent)


SUMS = "SHA256SUMS"
"""The checksums of a published folder's files (``sha256sum -c`` reads them), written last."""


def write_sums(folder: Path, known: dict[str, str] | None = None) -> None:
    """Write ``SHA256SUMS`` for every file in ``folder`` (a staging folder, before it is published).
    ``known``: the SHA-256 of files the caller wrote there (or linked, holding the same bytes), by
    name, hashed when their bytes were made; every other file is read and hashed."""
    known = known or {}
    lines = [f"{known.get(path.name) or hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n"
             for path in sorted(folder.iterdir()) if path.is_file() and path.name != SUMS]
    write_file(folder / SUMS, "".join(lines).encode())


def changed_files(folder: Path) -> list[str] | None:
    """The files of a published ``folder`` that are missing or no longer match its ``SHA256SUMS``
    (damaged since they were written); None if the folder has no checksums (an older compose)."""
    try:
        text = (folder / SUMS).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeError):
        return [SUMS]
    changed = []
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        if not name or "/" in name:
            changed.append(SUMS)
            continue
        try:
            if hashlib.sha256((folder / name).read_bytes()).hexdigest() != digest:
                changed.append(name)
        except (FileNotFoundError, IsADirectoryError):
            changed.append(name)
    return changed


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def staging(target: Path) -> Path:
    """A new, empty staging folder for ``target`` (beside it, mode 0777 less the umask)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    folder.chmod(0o777 & ~_umask())
    return folder


def staged_copy(target: Path) -> Path:
    """A staging folder holding what ``target`` holds now (hard links where the system allows:
    files are replaced, never changed in place, so the published ones are not touched)."""
    folder = staging(target)
    if target.is_dir():
        for path in target.iterdir():
            if path.is_file():
                try:
                    os.link(path, folder / path.name)
                except OSError:
                    shutil.copy2(path, folder / path.name)
    return folder


def write_file(path: Path, data: bytes, sync: bool = True) -> None:
    """Write a file in a staging folder (synced: it will be published by a rename). ``sync`` False:
    synced later, by ``sync_files``, which must be done before the folder is published."""
    try:
        with open(path, "wb") as out:
            out.write(data)
            out.flush()
            if sync:
                os.fsync(out.fileno())
    except OSError as error:
        if error.filename is None:  # fsync, write: name the file
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise


def sync_files(paths: list[Path]) -> None:
    """Sync files written with ``sync=False`` (a file linked by ``write_or_link`` is synced already)."""
    for path in paths:
        try:
            handle = os.open(path, os.O_RDONLY)
            try:
                os.fsync(handle)
            finally:
                os.close(handle)
        except OSError as error:
            raise OSError(error.errno, error.strerror, str(path)) from error


def write_or_link(path: Path, data: bytes, published: Path, sync: bool = True) -> None:
    """``write_file`` (``sync`` as there), or a hard link to ``published`` if it holds exactly
    ``data`` (a plate that a recompose made again the same): nothing written or synced. Published
    files are replaced, never changed in place, so the link is as safe as a copy."""
    try:
        if published.stat().st_size == len(data) and published.read_bytes() == data:
            os.link(published, path)
            return
    except OSError:
        pass
    write_file(path, data, sync)


def unshare(folder: Path) -> None:
    """Make each file of the staging ``folder`` that ``write_or_link`` linked a file of its own
    (for a folder published beside the one its links point into, such as plates-draft/)."""
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_nlink > 1:
            data = path.read_bytes()
            path.unlink()
            write_file(path, data)


def replace_folder(new: Path, target: Path) -> None:
    """Publish folder ``new`` as ``target``: at every instant ``target`` is the old or the new set."""
    _sync_folder(new)
    if not target.exists() and not target.is_symlink():
        os.rename(new, target)
    elif exchange(new, target):
        _remove(new)  # now the old set
    else:
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.rename(target, old)
        os.rename(new, target)  # a crash before this: ``recover`` puts the old set back
        shutil.rmtree(old, ignore_errors=True)
    _sync_folder(target.parent)


def recover(out: Path) -> None:
    """Put back a published folder that a crash between two renames left aside (see ``replace_folder``)."""
    for name in FOLDERS:
        old, target = out / f".{name}.old", out / name
        if old.is_dir() and not target.exists():
            with contextlib.suppress(OSError):
                os.rename(old, target)


def clean(out: Path) -> None:
    """Remove what an interrupted run left half-done: temporary files, staging and old folders (after
    ``recover``). The caller holds the issue's lock, so no other run is writing them."""
    recover(out)
    for leftover in out.rglob(".*.part"):
        with contextlib.suppress(OSError):
            leftover.unlink()
    for name in FOLDERS:
        for folder in [*out.glob(f".{name}-*"), out / f".{name}.old"]:
            _remove(folder)
    _remove(out / ".cache")  # an earlier layout's cache of the issue (the build cache is build/.cache)


def _remove(path: Path) -> None:
    """Remove a file, a symbolic link (not what it points to) or a folder, if it is there."""
    if path.is_symlink() or path.is_file():
        with contextlib.suppress(OSError):
            path.unlink()
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def _umask() -> int:
    try:  # thread-safe: setting the umask to read it is not
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def umask() -> int:
    """The process's umask (read without changing it for long)."""
    return _umask()
