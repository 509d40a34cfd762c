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
import tempfile
from collections.abc import Iterator
from pathlib import Path


def escape(text: str) -> str:
    """``text`` as XML character data (what ``xml.sax.saxutils.escape`` does; importing that module
    loads urllib.request, http.client and ssl: 0.03-0.05 s of every command, ``layout --help`` too)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def _font_folders() -> list[Path]:
    candidates = [Path(__file__).resolve().parents[2] / "fonts"]
    if os.environ.get("LAYOUT_ROOT"):
        candidates.append(Path(os.environ["LAYOUT_ROOT"]) / "fonts")
    candidates.append(Path.cwd() / "fonts")
    found: list[Path] = []
    for folder in candidates:
        try:
            folder = folder.resolve()
            if folder.is_dir() and folder not in found:
                found.append(folder)
        except OSError:
            continue
    return found


def confine() -> Path | None:
    """Write the confined configuration (once, atomically) and point FONTCONFIG_FILE at it."""
    dirs = "".join(f"  <dir>{escape(str(folder))}</dir>\n" for folder in _font_folders())
    for home in _homes():
        try:
            text = (f'<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
                    f"<!-- written by layout: only the paper's own fonts, never a system font -->\n"
                    f"<fontconfig>\n{dirs}  <cachedir>{escape(str(home / 'cache'))}</cachedir>\n</fontconfig>\n")
            path = home / f"fonts-{hashlib.sha256(text.encode()).hexdigest()[:16]}.conf"
            if not path.exists() or path.read_text() != text:
                part = path.with_suffix(f".{os.getpid()}.part")
                part.write_text(text)
                os.replace(part, path)
        except OSError:
            continue  # not ours, or not writable: the next place
        os.environ["FONTCONFIG_FILE"] = str(path)
        return path
    return None  # no writable temporary folder at all: the input checks still refuse missing glyphs


def _homes() -> Iterator[Path]:
    """Where the configuration may be written: a folder of this user's in the temporary folder, else
    a new private one."""
    home = Path(tempfile.gettempdir()) / f"layout-fontconfig-{os.getuid()}"
    try:
        home.mkdir(mode=0o700, exist_ok=True)
        if home.stat().st_uid == os.getuid():
            yield home
    except OSError:
        pass
    try:
        yield Path(tempfile.mkdtemp(prefix="layout-fontconfig-"))
    except OSError:
        return
