"""WeasyPrint's C declarations compiled once, not parsed again by every process that lays a page out.

``weasyprint.text.ffi`` declares Pango's, HarfBuzz's and fontconfig's functions to cffi in its
in-line ABI mode: every process parses some 450 lines of C with pycparser when it imports
WeasyPrint, then opens each library by trying names that ``ctypes.util.find_library`` looks up by
running ``ldconfig`` and ``gcc`` (0.1-0.3 s of every ``layout compose`` before anything is done).
cffi's out-of-line ABI mode does the parsing once: ``set_source(name, None)`` and the same
declarations make a small Python module holding the parsed types, whose ``ffi`` is cffi's C
object, and whose ``dlopen`` calls ``dlopen(3)`` alone.

``install()`` (called by ``rendering/engine.py`` just before ``import weasyprint``) puts a finder in front of
the import of ``weasyprint.text.ffi``. While that module runs, ``cffi.FFI()`` gives it a stand-in
whose ``cdef(text)`` takes the module prebuilt from exactly ``text`` (kept in the user's cache
folder, ``base/usercache.py``, named by the hash of the declarations and of the
versions of WeasyPrint, cffi and Python), or, if there is none or it does not read back whole, an
ordinary ``cffi.FFI`` with ``cdef(text)``, as WeasyPrint would have had (the prebuilt module is then
written for the next process). When the module has run, its ``ffi`` is the FFI itself, so that
everything in WeasyPrint that imports it gets that object. Any surprise (another WeasyPrint, a second
``cdef``) and WeasyPrint is imported as usual. ``LAYOUT_PREBUILT_FFI=0`` turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.abc
import importlib.machinery
import io
import os
import sys
from types import ModuleType
from typing import Any

MODULE = "weasyprint.text.ffi"
ENV = "LAYOUT_PREBUILT_FFI"


def key(text: str) -> str:
    """The name of the module prebuilt from the declarations ``text``: their hash and the versions
    of everything that reads them."""
    import _cffi_backend
    import cffi

    from ..base.versions import WEASYPRINT_VERSION

    salt = (f"weasyprint {WEASYPRINT_VERSION} cffi {cffi.__version__} backend {_cffi_backend.__version__} "
            f"python {sys.version_info[0]}.{sys.version_info[1]} {sys.implementation.cache_tag}\0")
    return hashlib.sha256(salt.encode() + text.encode()).hexdigest()


def source(text: str, name: str) -> bytes:
    """The out-of-line module of the declarations ``text`` (cffi's ``set_source(name, None)``)."""
    import cffi
    from cffi import recompiler

    builder = _ORIGINAL_FFI[0]() if _ORIGINAL_FFI else cffi.FFI()
    builder.cdef(text)
    builder.set_source(name, None)
    out = io.StringIO()
    recompiler.make_py_source(builder, name, out)
    return out.getvalue().encode()


def load(blob: bytes, name: str) -> Any:
    """The ``ffi`` of the out-of-line module ``blob``."""
    import _cffi_backend

    namespace: dict[str, Any] = {"__name__": name}
    exec(compile(blob, f"<prebuilt {name}>", "exec"), namespace)
    ffi = namespace.get("ffi")
    if not isinstance(ffi, _cffi_backend.FFI):
        raise ValueError("not an out-of-line cffi module")
    return ffi


def prebuilt(text: str) -> Any | None:
    """The prebuilt FFI of the declarations ``text``, or None (then it is built for the next time)."""
    from ..base import usercache

    name = f"weasyprint_ffi_{key(text)[:32]}"
    blob = usercache.read(f"{name}.py")  # a damaged file reads as missing
    if blob is not None:
        with contextlib.suppress(Exception):
            return load(blob, name)
    with contextlib.suppress(Exception):
        blob = source(text, name)
        load(blob, name)  # it loads, or it is not kept
        usercache.write(f"{name}.py", blob)  # a read-only home, a full disk: only slower
    return None


class _StandIn:
    """What ``cffi.FFI()`` gives ``weasyprint.text.ffi`` while it runs (see the module's text)."""

    def __init__(self, original: type) -> None:
        self._original = original
        self._ffi: Any = None

    def cdef(self, text: str, *args: object, **kwargs: object) -> None:
        if self._ffi is None and not args and not kwargs:
            self._ffi = prebuilt(text)
            if self._ffi is not None:
                return
        if self._ffi is None:
            self._ffi = self._original()
        self._ffi.cdef(text, *args, **kwargs)  # a prebuilt one has no cdef: that import fails, and is redone

    def __getattr__(self, name: str) -> Any:
        if self._ffi is None:
            self._ffi = self._original()
        return getattr(self._ffi, name)


_ORIGINAL_FFI: list[type] = []


def is_prebuilt(ffi: object) -> bool:
    """Whether ``ffi`` (WeasyPrint's) is a prebuilt, out-of-line one (cffi's C object)."""
    import _cffi_backend

    return isinstance(ffi, _cffi_backend.FFI)


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader) -> None:
        self.inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        import cffi

        original: Any = cffi.FFI
        made: list[_StandIn] = []

        def ffi_factory(*args: object, **kwargs: object) -> Any:
            if made or args or kwargs or sys._getframe(1).f_globals.get("__name__") != MODULE:
                return original(*args, **kwargs)
            made.append(_StandIn(original))
            return made[0]

        _ORIGINAL_FFI[:] = [original]
        cffi.FFI = ffi_factory  # type: ignore[misc,assignment]
        try:
            self.inner.exec_module(module)
        except Exception:
            if not (made and made[0]._ffi is not None and not isinstance(made[0]._ffi, original)):
                raise
            cffi.FFI = original  # type: ignore[misc]
            spec = module.__spec__
            if spec is None:
                raise
            vars(module).clear()  # the prebuilt FFI did not serve: the module as WeasyPrint wrote it
            vars(module).update(__name__=MODULE, __spec__=spec, __loader__=self.inner, __file__=spec.origin,
                                __cached__=spec.cached, __package__=spec.parent)
            self.inner.exec_module(module)
            return
        finally:
            cffi.FFI = original  # type: ignore[misc]
        if made and getattr(module, "ffi", None) is made[0]:
            module.ffi = made[0]._ffi  # type: ignore[attr-defined]


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname != MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return spec
        spec.loader = _Loader(spec.loader)
        return spec


def install() -> None:
    """Give ``weasyprint.text.ffi`` the prebuilt FFI when it is imported (unless it already is, or
    ``LAYOUT_PREBUILT_FFI=0``, or WeasyPrint is not the version layout is pinned to)."""
    from ..base.versions import PINNED_WEASYPRINT, WEASYPRINT_VERSION

    if (MODULE in sys.modules or os.environ.get(ENV, "1") == "0" or WEASYPRINT_VERSION != PINNED_WEASYPRINT
            or any(isinstance(finder, _Finder) for finder in sys.meta_path)):
        return
    sys.meta_path.insert(0, _Finder())
