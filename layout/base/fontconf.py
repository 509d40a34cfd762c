"""Fontconfig confined to the paper's fonts: no system font is ever used, not even as a fallback.

WeasyPrint lays text out with Pango, which asks fontconfig for a font with every character it
cannot find in the stylesheet's @font-face fonts, and fontconfig would offer the system's fonts
(DejaVu, Noto ...): Arabic or an emoji would print in a font the paper never chose. Before
WeasyPrint loads, FONTCONFIG_FILE points at a generated configuration that lists only the project's
``fonts/`` folder (and includes no system configuration), so fontconfig knows no other font. Copy
with characters the house fonts lack is refused before layout anyway (``normalise.check_copy``):
this is the second layer."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator

# os.path, not pathlib, and tempfile only when it is needed: every ``layout`` command imports this
# first, the compose server's client too (tempfile brings shutil, random, bz2 and lzma: some 5 ms).


def escape(text: str) -> str:
    """``text`` as XML character data (what ``xml.sax.saxutils.escape`` does; importing that module
    loads urllib.request, http.client and ssl: 0.03-0.05 s of every command, ``layout --help`` too)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def _font_folders() -> list[str]:
    candidates = [os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))),
                               "fonts")]
    if os.environ.get("LAYOUT_ROOT"):
        candidates.append(os.path.join(os.environ["LAYOUT_ROOT"], "fonts"))
    candidates.append(os.path.join(os.getcwd(), "fonts"))
    found: list[str] = []
    for folder in candidates:
        try:
            folder = os.path.realpath(folder)
            if os.path.isdir(folder) and folder not in found:
                found.append(folder)
        except (OSError, ValueError):
            continue
    return found


def confine() -> str | None:
    """Write the confined configuration (once, atomically) and point FONTCONFIG_FILE at it."""
    dirs = "".join(f"  <dir>{escape(folder)}</dir>\n" for folder in _font_folders())
    for home in _homes():
        try:
            text = (f'<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
                    f"<!-- written by layout: only the paper's own fonts, never a system font -->\n"
                    f"<fontconfig>\n{dirs}  <cachedir>{escape(os.path.join(home, 'cache'))}</cachedir>\n"
                    f"</fontconfig>\n")
            path = os.path.join(home, f"fonts-{hashlib.sha256(text.encode()).hexdigest()[:16]}.conf")
            if not _holds(path, text):
                part = f"{os.path.splitext(path)[0]}.{os.getpid()}.part"
                with open(part, "w") as out:
                    out.write(text)
                os.replace(part, path)
        except OSError:
            continue  # not ours, or not writable: the next place
        os.environ["FONTCONFIG_FILE"] = path
        return path
    return None  # no writable temporary folder at all: the input checks still refuse missing glyphs


def _holds(path: str, text: str) -> bool:
    try:
        with open(path) as found:
            return found.read() == text
    except FileNotFoundError:
        return False


def temporary_folder() -> str:
    """``tempfile.gettempdir()``, without importing tempfile when none of the variables it reads is set
    and ``/tmp``, the first folder it tries then, is a folder this process may write in."""
    if "tempfile" in sys.modules or any(os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")) \
            or not (os.path.isdir("/tmp") and os.access("/tmp", os.W_OK | os.X_OK)):
        import tempfile

        return tempfile.gettempdir()
    return "/tmp"


def _homes() -> Iterator[str]:
    """Where the configuration may be written: a folder of this user's in the temporary folder, else
    a new private one."""
    home = os.path.join(temporary_folder(), f"layout-fontconfig-{os.getuid()}")
    try:
        try:
            os.mkdir(home, 0o700)
        except FileExistsError:
            if not os.path.isdir(home):
                raise
        if os.stat(home).st_uid == os.getuid():
            yield home
    except OSError:
        pass
    try:
        import tempfile

        yield tempfile.mkdtemp(prefix="layout-fontconfig-")
    except OSError:
        return
