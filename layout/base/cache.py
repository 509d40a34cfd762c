"""The build cache: one store for every stage, content-addressed, salted, sealed and capped.

Every entry is named by its key (``Store.key``, the one place keys are made): the SHA-256 of the
store's salt, the entry's kind and its inputs' bytes (sources, settings, the files they name,
stylesheets, fonts, templates), never paths or times. The salt holds the versions of everything
that shapes output (``versions``: layout's own code, WeasyPrint, pydyf, fontTools, Pillow, pikepdf
and the qpdf it bundles, pyphen, uharfbuzz, Markdown, Jinja2, pypdf, the system's Pango, HarfBuzz,
fontconfig, FreeType and LittleCMS, Ghostscript and Poppler), so that a new version of any of them
never reads what an older one made.

Each file is written with a seal: a trailer holding the SHA-256 of its name and its bytes. Reading
checks the seal; a file that is truncated, has a changed byte, or was copied under another entry's
name fails it, is removed, and reads as missing, so that the entry is made again. Nothing read from
the cache without its seal ever reaches a plate. (A process does not hash again the seal of a file
it wrote, or checked, whose inode, size and modification time have not changed since: ``_SEALED``.)

The store is capped (``LAYOUT_CACHE_SIZE``, 2 GB unless set): an entry is touched when it is read
or written, and once a run, when it ends, the entries least recently used are removed until the
store is under 90 % of its cap; never an entry this run used (nor one another run used since this
one started). Two runs may share the store: entries are written to a temporary file and renamed,
read whole or not at all, and checked by their seal; the index (the store's size) is changed under
a lock, once a run.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path, PurePath

SEAL = b"\n%layout-seal sha256 "
"""What starts a sealed file's trailer (after it: 64 hex digits and a newline)."""
_TRAILER = len(SEAL) + 64 + 1


def _digest(name: str, data: bytes) -> bytes:
    digest = hashlib.sha256(name.encode() + b"\0")
    digest.update(data)  # not a copy of ``data`` (entries of megabytes: plates, proofs, photos)
    return digest.hexdigest().encode()


def _trailer(name: str, data: bytes) -> bytes:
    """The seal that follows ``data`` in a cache file called ``name``."""
    return SEAL + _digest(name, data) + b"\n"


def seal(name: str, data: bytes) -> bytes:
    """``data`` with its seal, for a cache file called ``name``."""
    return data + _trailer(name, data)


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


def _read_sealed_before(path: Path, stamp: tuple[int, int, int]) -> bytes | None:
    """The data of a cache file this process found sealed (or wrote) with ``stamp`` (see
    ``_SEALED``), its seal not hashed again: still read whole, its trailer where a seal's is, and the
    file's stamp the same once read (None otherwise: then it is checked as any other)."""
    try:
        with open(path, "rb") as handle:
            blob = handle.read()
            status = os.fstat(handle.fileno())
    except OSError:
        return None
    if (status.st_ino, status.st_size, status.st_mtime_ns) != stamp or len(blob) != stamp[1]:
        return read_sealed(path)
    if len(blob) < _TRAILER or blob[-_TRAILER:-65] != SEAL or not blob.endswith(b"\n"):
        return read_sealed(path)
    return blob[:-_TRAILER]


def write_sealed(path: Path, data: bytes) -> None:
    """Write ``data`` sealed at ``path`` (atomically; not synced: the seal is checked on read, so an
    entry a crash cut short reads as missing. Syncing every entry took 1.2 s of a 16-page compose)."""
    from .files import write_atomic

    write_atomic(path, seal(path.name, data), sync=False)


@functools.cache
def code_digest() -> str:
    """SHA-256 of layout's own code and templates: a new version of the code never reads what an
    older one cached."""
    return package_digest(Path(__file__).resolve().parents[1])


def package_digest(package: Path) -> str:
    """SHA-256 of every module of ``package`` and of its subpackages, and of their templates, each
    named by its path in the package (a module moved is another digest)."""
    digest = hashlib.sha256()
    files = [*package.rglob("*.py"), *package.rglob("templates/*")]
    for path in sorted(files, key=lambda p: p.relative_to(package).as_posix()):
        if "__pycache__" not in path.parts and path.is_file():
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def files_digest(paths: list[Path | None]) -> str:
    """SHA-256 of the bytes of ``paths`` (a setting that names a file, such as ``icc_profile``):
    another file, or the same file changed, is another key."""
    from .files import file_hash

    digest = hashlib.sha256()
    for path in paths:
        if path is None:
            digest.update(b"-")
            continue
        try:
            digest.update(bytes.fromhex(file_hash(Path(path))))  # its SHA-256 (hashed once a process)
        except OSError:
            digest.update(b"unreadable " + os.fsencode(str(path)))
    return digest.hexdigest()


def portable(value: object, root: Path) -> str:
    """The text of ``value`` for a key (as ``repr`` writes it: dataclasses, tuples, lists, dicts,
    plain values), with every path inside the project ``root`` written relative to it: a project
    copied or moved to another folder has the same keys (what the files hold is hashed apart: a
    path names a file, it does not say what is in it). A path outside ``root`` stays absolute."""
    base = str(root)
    done: dict[int, str] = {}

    def text(item: object) -> str:
        if item is None or isinstance(item, (str, int, float, bytes)):
            return repr(item)
        if isinstance(item, PurePath):
            shown = str(item)
            if shown == base or shown.startswith(base + os.sep):
                return f"Path(<project>{shown[len(base):]!r})"
            return f"Path({shown!r})"
        key = id(item)
        if key in done:  # (an article is in every view of its slot)
            return done[key]
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            shown = f"{type(item).__qualname__}(" + ", ".join(
                f"{f.name}={text(getattr(item, f.name))}" for f in dataclasses.fields(item)) + ")"
        elif isinstance(item, tuple):
            shown = "(" + ", ".join(map(text, item)) + ("," if len(item) == 1 else "") + ")"
        elif isinstance(item, list):
            shown = "[" + ", ".join(map(text, item)) + "]"
        elif isinstance(item, dict):
            shown = "{" + ", ".join(f"{text(k)}: {text(v)}" for k, v in item.items()) + "}"
        elif isinstance(item, (set, frozenset)):
            shown = "{" + ", ".join(sorted(map(text, item))) + "}"
        else:
            shown = repr(item)  # dates, enums, ...: no paths in them
        done[key] = shown
        return shown

    return text(value)


def settings_files(settings: object) -> list[Path | None]:
    """The files a settings object names (its path-like fields), in field order."""
    return [value for _, value in sorted(vars(settings).items()) if isinstance(value, Path)]


# --- what the salt holds ------------------------------------------------------------------------

PACKAGES = ("weasyprint", "pydyf", "tinycss2", "cssselect2", "fonttools", "pillow", "pikepdf", "pypdf",
            "pypdfium2", "pyphen", "uharfbuzz", "markdown", "jinja2", "pyyaml", "cffi")
"""The Python packages whose version shapes output (pikepdf's bundles qpdf, Pillow's LittleCMS,
pypdfium2's PDFium, uharfbuzz's HarfBuzz)."""
LIBRARIES = ("libpango-1.0.so.0", "libpangoft2-1.0.so.0", "libharfbuzz.so.0", "libfontconfig.so.1",
             "libfreetype.so.6")
"""The system libraries WeasyPrint lays text out with (Debian names a library's file by its version)."""
PROGRAMS = ("gs",)
"""Programs run on the plates (Ghostscript measures ink in preflight)."""


def _packages() -> dict[str, str]:
    """Installed distributions' versions, read from the names of their ``.dist-info`` folders (one
    folder listing per ``sys.path`` entry: ``importlib.metadata`` took 50 ms for these)."""
    found: dict[str, str] = {}
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info") and (match := re.match(r"(.+?)-([^-]+)\.dist-info$", name)):
                found.setdefault(match[1].lower().replace("-", "_").replace(".", "_"), match[2])
    return found


def _metadata_version(name: str) -> str:
    """A package's version from its metadata (for one installed without a ``.dist-info`` folder)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _library(soname: str) -> str:
    """The file a system library's name resolves to (``libpango-1.0.so.0.5000.12``: its version),
    with its size; or, if it is not in the usual folders, the version it reports."""
    arch = getattr(sys.implementation, "_multiarch", "")  # x86_64-linux-gnu (sysconfig took 4 ms)
    for folder in (f"/usr/lib/{arch}", f"/lib/{arch}", "/usr/lib", "/usr/local/lib", "/lib", "/usr/lib64"):
        path = os.path.join(folder, soname)
        if os.path.exists(path):
            real = os.path.realpath(path)
            return f"{os.path.basename(real)} {os.stat(real).st_size}"
    import ctypes

    try:
        library = ctypes.CDLL(soname)
        function = getattr(library, _VERSION_FUNCTIONS[soname])
    except (OSError, KeyError, AttributeError):
        return "not found"
    function.restype = ctypes.c_int if soname.startswith("libfontconfig") else ctypes.c_char_p
    return f"version {function()!r}"


_VERSION_FUNCTIONS = {"libpango-1.0.so.0": "pango_version_string", "libpangoft2-1.0.so.0": "pango_version_string",
                      "libharfbuzz.so.0": "hb_version_string", "libfontconfig.so.1": "FcGetVersion"}


def _program(name: str) -> str:
    """A program's file: its resolved name, size and time (a new version is a new file; running it
    to ask its version would cost a process a run)."""
    found = shutil.which(name)
    if found is None:
        return "not installed"
    real = os.path.realpath(found)
    stat = os.stat(real)
    return f"{real} {stat.st_size} {stat.st_mtime_ns}"


@functools.cache
def versions() -> dict[str, str]:
    """The versions of everything that shapes output, by name (the store's salt is made of them)."""
    installed = _packages()
    found = {"layout": code_digest()}
    found.update({name: installed.get(name) or _metadata_version(name) for name in PACKAGES})
    found.update({name: _library(name) for name in LIBRARIES})
    found.update({name: _program(name) for name in PROGRAMS})
    return found


def salt() -> str:
    """SHA-256 of ``versions``: part of every key."""
    return hashlib.sha256(json.dumps(versions(), sort_keys=True).encode()).hexdigest()


# --- the store -----------------------------------------------------------------------------------

SIZE_VARIABLE = "LAYOUT_CACHE_SIZE"
DEFAULT_SIZE = 2 * 1024 ** 3
"""The store's cap unless ``LAYOUT_CACHE_SIZE`` says otherwise (``500M``, ``2G``, bytes; 0: no cap)."""
LOW_WATER = 0.9
"""Eviction goes down to this share of the cap, so that the next runs need not evict again."""
RESCAN_RUNS = 64
"""Every so many runs the store's size is counted again from its files (what a killed run wrote)."""
_KEY = re.compile(r"[0-9a-f]{64}")
_UNITS = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}


def cache_size(text: str | None = None) -> int:
    """The cap in bytes that ``text`` (or ``$LAYOUT_CACHE_SIZE``) sets; an ``InputError`` if it
    cannot be read."""
    text = os.environ.get(SIZE_VARIABLE, "") if text is None else text
    if not text.strip():
        return DEFAULT_SIZE
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
    if match is None:
        from ..errors import InputError, Problem

        raise InputError(f"{SIZE_VARIABLE}={text!r} is not a size", (Problem(
            SIZE_VARIABLE, "", "the build cache's cap must be a size such as 500M or 2G (0: no cap)",
            f"set {SIZE_VARIABLE}=2G, or unset it for the default (2G)"),))
    return int(float(match[1]) * _UNITS[match[2].upper()])


HELD_BYTES = 32 * 2**20
"""The most bytes of entries a process keeps in memory (``_hold``)."""
HELD_ENTRY = 512 * 2**10
"""The largest entry a process keeps in memory: the documents, articles, checks and PNGs a recompose
reads back, not the plates (2 MB each with their proofs, 35 MB at 16 pages: read in turn through a
32 MB memory, they pushed out everything else and each other, and none was ever found there; their
seals are not hashed again either way, see ``_SEALED``)."""
_HELD: collections.OrderedDict[str, tuple[tuple[int, int, int], bytes]] = collections.OrderedDict()
_held_bytes = 0
_held_lock = threading.Lock()  # the background threads of a run read entries too


def _new_lock() -> None:  # a process forked while another thread held it starts with one of its own
    global _held_lock
    _held_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_lock)


_holder = 0
"""The process that holds what it reads (``hold_entries``); no other (its workers included)."""


def hold_entries() -> None:
    """From now on, this process keeps the entries it reads back in memory (``_hold``): for the
    processes that compose again and again (``layout watch``, ``serve``, the compose server). A
    one-off compose holds none (a cold compose of 64 pages peaks at about 450 MB without them)."""
    global _holder
    _holder = os.getpid()


def holder() -> int:
    """The process that holds the entries it reads back (``hold_entries``), or 0: what
    ``restore_holder`` takes back to."""
    return _holder


def restore_holder(before: int) -> None:
    """Make ``before`` (``holder()`` as it was) the holder again; if that is not this process, it lets
    go of what it held (``layout watch`` or ``serve`` called from a library: the process composes on
    as a one-off command would)."""
    global _holder, _held_bytes
    _holder = before
    if before != os.getpid():
        with _held_lock:
            _HELD.clear()
            _held_bytes = 0


def holds_entries() -> bool:
    """Whether this process keeps the entries it reads back (``hold_entries``)."""
    return _holder == os.getpid()


def _hold(path: Path, stamp: tuple[int, int, int], data: bytes) -> None:
    """Keep an entry's bytes in this process, by its file's inode, size and modification time
    (nanoseconds; ``get`` sets it on every use): a process that composes again reads the same
    entries back, and reading some 260 files and checking their seals was a tenth of a 16-page
    recompose (its entries: about 40 MB). A file replaced, damaged or touched since has another
    stamp, and is read (and its seal checked) again. The oldest go first beyond ``HELD_BYTES``."""
    global _held_bytes
    if _holder != os.getpid() or len(data) > min(HELD_ENTRY, HELD_BYTES // 8):
        return
    name = str(path)
    with _held_lock:
        old = _HELD.pop(name, None)
        if old is not None:
            _held_bytes -= len(old[1])
        _HELD[name] = (stamp, data)
        _held_bytes += len(data)
        while _held_bytes > HELD_BYTES and _HELD:
            _held_bytes -= len(_HELD.popitem(last=False)[1][1])


_SEALED: dict[str, tuple[int, int, int]] = {}
"""The files this process wrote, or read and found sealed, by path: each file's inode, size and
modification time (nanoseconds) then. Read again with the same stamp, an entry's seal is not
hashed again (a compose reads back some 40 MB of entries, plates and proofs above all, too many to
hold: hashing them was 0.02-0.03 s of a recompose); a file replaced, damaged or touched since has
another stamp and is checked as any other. A compose server inherits its first command's."""
SEALED_MAX = 100_000
"""Stamps kept at most (some 20 MB); beyond, the oldest are forgotten (their seals checked again)."""


def _sealed(path: Path, stamp: tuple[int, int, int]) -> None:
    name = str(path)
    with _held_lock:
        _SEALED.pop(name, None)
        _SEALED[name] = stamp
        if len(_SEALED) > SEALED_MAX:
            del _SEALED[next(iter(_SEALED))]


def _touch(path: Path) -> int:
    """Set the entry's modification time to now, to the nanosecond (``time.time_ns``, not the
    kernel's coarse clock, which a write within the same tick would leave as it was), and remember
    its stamp as sealed (``_SEALED``) if the file system kept that time exactly; return the time."""
    now = time.time_ns()
    os.utime(path, ns=(now, now))
    status = os.stat(path)
    if status.st_mtime_ns == now:
        _sealed(path, (status.st_ino, status.st_size, now))
    else:
        _forget(path)
    return now


def _forget(path: Path) -> None:
    global _held_bytes
    with _held_lock:
        _SEALED.pop(str(path), None)
        old = _HELD.pop(str(path), None)
        if old is not None:
            _held_bytes -= len(old[1])


class Store:
    """The build cache (``build/.cache/``): entries by kind and key, sealed, touched when used.

    ``Store(None)`` keeps nothing. A store is made once a run and ``close``d when the run ends (that
    is when it is kept under its cap); worker processes are given a copy, which reads and writes
    the same files."""

    def __init__(self, root: Path | None, size: int | None = None, salt_: str | None = None) -> None:
        self.root = Path(root) if root is not None else None
        if self.root is not None and (self.root.is_symlink() or (self.root.exists() and not self.root.is_dir())):
            self.root.unlink()  # the cache is ours (a link would have it written elsewhere): made again
        self.size = cache_size() if size is None else size
        self.salt = salt() if salt_ is None else salt_
        self.started = time.time()
        self.added = 0
        """Bytes this process wrote (added to the index's count when the run ends)."""

    def __getstate__(self) -> dict:
        return {"root": self.root, "size": self.size, "salt": self.salt, "started": self.started, "added": 0}

    def key(self, kind: str, *parts: bytes | str) -> str:
        """The key of an entry of ``kind`` made from ``parts`` (bytes, or text such as digests and
        reprs; never a path, whose file may change while its name does not)."""
        digest = hashlib.sha256(f"{self.salt}\0{kind}\0".encode())
        for part in parts:
            if not isinstance(part, (bytes, str)):
                raise TypeError(f"a cache key is made of bytes or text, not {type(part).__name__}")
            data = part.encode() if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "big") + data)
        return digest.hexdigest()

    def path(self, kind: str, key: str) -> Path:
        """Where the entry is kept."""
        assert self.root is not None
        return self.root / kind / key

    def get(self, kind: str, key: str) -> bytes | None:
        """The entry's bytes, or None if it is missing or damaged (then removed, to be made again)."""
        if self.root is None:
            return None
        path = self.root / kind / key
        try:
            status = os.stat(path)
        except OSError:
            _forget(path)
            return None
        stamp = (status.st_ino, status.st_size, status.st_mtime_ns)
        held = _HELD.get(str(path))
        if held is not None and held[0] == stamp:
            data: bytes | None = held[1]  # read and its seal checked before, and the file not changed since
        elif _SEALED.get(str(path)) == stamp:
            data = _read_sealed_before(path, stamp)
        else:
            data = read_sealed(path)
        if data is None:
            _forget(path)
            return None
        try:
            now = _touch(path)  # used now: evicted last
        except OSError:
            _forget(path)
        else:
            _hold(path, (status.st_ino, status.st_size, now), data)
        return data

    def put(self, kind: str, key: str, data: bytes) -> None:
        """Keep ``data`` as the entry (written whole to a temporary file, then renamed: a reader
        finds the old entry, the new one or none, never part of one)."""
        if self.root is None:
            return
        path = self.root / kind / key
        trailer = _trailer(path.name, data)
        _replace(path, data, trailer)  # written one after the other: the entry is not copied to seal it
        self.added += len(data) + len(trailer)
        _forget(path)
        with contextlib.suppress(OSError):
            now = _touch(path)
            if _holder == os.getpid():
                _hold(path, (os.stat(path).st_ino, len(data) + len(trailer), now), data)

    def touch(self, kind: str, key: str) -> bool:
        """Mark the entry used now, as ``get`` does, without reading it (its caller holds what it
        gave); whether its file is there."""
        if self.root is None:
            return False
        path = self.root / kind / key
        try:
            status = os.stat(path)
            now = _touch(path)
        except OSError:
            _forget(path)
            return False
        held = _HELD.get(str(path))
        if held is not None and held[0][:2] == (status.st_ino, status.st_size):
            _hold(path, (status.st_ino, status.st_size, now), held[1])  # still held, under its new time
        return True

    def has(self, kind: str, key: str) -> bool:
        """Whether the entry's file is there (not read, nor its seal checked: ``get`` may still find
        it damaged)."""
        return self.root is not None and (self.root / kind / key).is_file()

    def get_parts(self, kind: str, key: str) -> list[bytes] | None:
        """An entry of several blobs (see ``put_parts``)."""
        data = self.get(kind, key)
        return unpack(data) if data is not None else None

    def put_parts(self, kind: str, key: str, parts: list[bytes]) -> None:
        """Keep several blobs as one entry (one file, one seal: whole or missing together)."""
        self.put(kind, key, pack(*parts))

    def close(self) -> None:
        """The run is over: add what it wrote to the store's size and, if the store is over its
        cap, remove the entries least recently used (none that this run or a later one used)."""
        if self.root is None or not self.root.is_dir():
            return
        with contextlib.suppress(OSError), self._locked():
            index_path = self.root / "index.json"
            try:
                index = json.loads(read_sealed(index_path) or b"null")
                total, runs = int(index["bytes"]), int(index["runs"])
            except (ValueError, TypeError, KeyError):
                total, runs = -1, 0
            total, runs = (total + self.added if total >= 0 else -1), runs + 1
            if total < 0 or runs % RESCAN_RUNS == 0 or (self.size and total > self.size):
                total = self.evict()
            _replace(index_path, seal(index_path.name, json.dumps({"bytes": total, "runs": runs}).encode()))
            self.added = 0

    def entries(self) -> list[tuple[float, int, Path]]:
        """Every entry: when it was last used, its size, its file (and leftovers of killed writes
        over an hour old are removed)."""
        found: list[tuple[float, int, Path]] = []
        if self.root is None:
            return found
        old = time.time() - 3600
        for kind in os.scandir(self.root):
            if not kind.is_dir(follow_symlinks=False) or kind.name.startswith("."):
                continue
            for entry in os.scandir(kind.path):
                with contextlib.suppress(OSError):
                    stat = entry.stat(follow_symlinks=False)
                    if _KEY.fullmatch(entry.name):
                        found.append((stat.st_mtime, stat.st_size, Path(entry.path)))
                    elif entry.name.endswith(".part") and stat.st_mtime < old:
                        os.unlink(entry.path)
        return found

    def evict(self) -> int:
        """Remove the least recently used entries until the store is under ``LOW_WATER`` of its cap,
        none used since this run started; return the store's size."""
        found = sorted(self.entries(), key=lambda entry: entry[0])
        total = sum(size for _, size, _ in found)
        if not self.size or total <= self.size:
            return total
        for used, size, path in found:
            if total <= self.size * LOW_WATER or used >= self.started - 1:  # (file times lag the clock)
                break
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            total -= size
        return total

    def clear(self) -> int:
        """Remove every entry (``layout clean --cache``); the bytes freed."""
        if self.root is None or not self.root.is_dir():
            return 0
        with self._locked():
            freed = sum(size for _, size, _ in self.entries())
            for kind in os.scandir(self.root):
                if kind.is_dir(follow_symlinks=False) and not kind.name.startswith("."):
                    shutil.rmtree(kind.path, ignore_errors=True)
            (self.root / "index.json").unlink(missing_ok=True)
        return freed

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        assert self.root is not None
        with open(self.root / ".lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # held for a few milliseconds, once a run
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _replace(path: Path, *blobs: bytes) -> None:
    """Write ``blobs``, one after the other, at ``path`` through a temporary file and a rename, not
    synced: a file cut short by a power cut fails its seal and is made again (syncing cost
    milliseconds an entry). A folder removed meanwhile (``layout clean --cache`` while a run
    writes) is made again, once."""
    try:
        _write(path, *blobs)
    except FileNotFoundError:
        _write(path, *blobs)


def _write(path: Path, *blobs: bytes) -> None:
    from .publish import umask

    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(handle, 0o666 & ~umask())
        with os.fdopen(handle, "wb") as out:
            for blob in blobs:
                out.write(blob)
        os.replace(temp, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        if isinstance(error, OSError) and error.filename is None:
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise


def pack(*parts: bytes) -> bytes:
    """Blobs as one (each after its length)."""
    return b"".join(len(part).to_bytes(8, "big") + part for part in parts)


def unpack(blob: bytes) -> list[bytes]:
    """The blobs ``pack`` joined (a sealed entry: its lengths are whole)."""
    parts, at = [], 0
    while at < len(blob):
        size = int.from_bytes(blob[at:at + 8], "big")
        parts.append(blob[at + 8:at + 8 + size])
        at += 8 + size
    return parts
