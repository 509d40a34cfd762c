"""Stage 1 (reading): read the paper settings (``issues/paper.yaml``) shared by every issue."""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..base.files import remembered
from ..base.units import parse_length
from ..errors import InputError, Problem, collect
from .normalise import check_copy, house_codepoints, shorten, uncommented
from .sources import Checker, did_you_mean, display_path, parse_yaml, read_text, source_text

PDFX_VARIANTS = ("x-1a", "x-4")

LINE_BREAKING = ("greedy", "total-fit")
"""The values of ``line_breaking``."""

DEFAULTS: dict[str, Any] = {
    "title": "New Worker",
    "tagline": "The Weekly paper of the New Communist Party of Britain",
    "price": "£1",
    "trim": {"width": "280mm", "height": "430mm"},
    "margins": {"top": "16mm", "bottom": "14mm", "inside": "12mm", "outside": "12mm"},
    "columns": 5,
    "gutter": "4mm",
    "body": {"size": "9pt", "leading": "10.5pt"},
    "bleed": "0mm",
    "crop_marks": False,
    "imprint": "",
    "pdfx": "x-1a",
    "output_condition": "WAN-IFRAnewspaper26v5",
    "icc_profile": None,
    "ink_limit": 220,
    "min_image_ppi": 200,
    "max_image_ppi": 400,
    "photo_highlight": 4,
    "photo_shadow": 85,
    "screen_ruling": 100,
    "min_type_size": "7pt",
    "min_reversed_type_size": "8pt",
    "min_rule_width": "0.25pt",
    "sample_imprint": "error",
    "issn": None,
    "tracking": 0,
    "glyph_scaling": 0,
    "line_breaking": "greedy",
    "volume": None,
}

ICC_DIRS = (Path("/usr/share/color/icc"), Path("/usr/local/share/color/icc"),
            Path.home() / ".local/share/icc", Path("/usr/share/color/icc/colord"))
"""Where installed ICC profiles are looked for by name (Debian's icc-profiles, colord-data)."""
MAX_ICC_BYTES = 32_000_000
"""Largest output profile read (newsprint's is 1.3 MB; the largest CMYK profiles about 10 MB)."""
SAMPLE_IMPRINT = "sample imprint"
"""Words the sample imprint carries (the one in the repository's paper.yaml)."""


def press_profile(name: str) -> Path | None:
    """An installed ICC profile called ``name`` (``ICC_DIRS``, then ``LAYOUT_ICC_DIR`` first if set)."""
    extra = os.environ.get("LAYOUT_ICC_DIR")
    for folder in ((Path(extra),) if extra else ()) + ICC_DIRS:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def check_icc(data: bytes, pdfx: str) -> str:
    """Why ``data`` is not an ICC profile fit for a PDF/X output intent ("" if it is): an output
    (printer) profile of CMYK or grey, version 2 for PDF/X-1a (PDF 1.4)."""
    from PIL import ImageCms  # Pillow is imported only where profiles are read

    if len(data) < 132 or data[36:40] != b"acsp":
        return "is not an ICC profile (no 'acsp' signature)"
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(data)).profile
    except (OSError, ImageCms.PyCMSError, ValueError, TypeError):
        return "is a damaged ICC profile (LittleCMS cannot read it)"
    if profile.device_class != "prtr":
        return f"is an ICC profile of class {profile.device_class!r}, not an output (printer) profile"
    if profile.xcolor_space.strip() not in ("CMYK", "GRAY"):
        return f"is an ICC profile for {profile.xcolor_space.strip()} colour, not CMYK or grey"
    if pdfx == "x-1a" and profile.version >= 4:
        return f"is an ICC version {profile.version:g} profile: PDF/X-1a (PDF 1.4) takes version 2 profiles"
    return ""


@dataclass(frozen=True)
class PaperSettings:
    """Everything about the paper that is the same every week. Lengths are in points."""

    title: str
    """The paper's name, set in the nameplate and folios."""
    tagline: str
    """The line under the nameplate."""
    price: str
    """The cover price printed on the front page."""
    trim_width: float
    trim_height: float
    margin_top: float
    margin_bottom: float
    margin_inside: float
    margin_outside: float
    columns: int
    """Columns in the page grid."""
    gutter: float
    """Space between columns."""
    body_size: float
    """Body type size."""
    leading: float
    """Body leading: the baseline grid every column sits on."""
    bleed: float
    crop_marks: bool
    imprint: str
    """Printer's and publisher's names and addresses (required by UK law), set on the back page."""
    pdfx: str
    """PDF/X variant of the plates: ``x-1a`` or ``x-4``."""
    output_condition: str
    """Printing condition named in the OutputIntent."""
    icc_profile: Path | None
    """CMYK (or grey) output profile embedded in the OutputIntent: the paper's ``icc_profile``, or
    the installed profile of the printing condition (``<output_condition>.icc``), or None."""
    ink_limit: int
    """Total area coverage limit in percent."""
    min_image_ppi: int
    max_image_ppi: int
    issn: str | None
    """The paper's ISSN (``NNNN-NNNC``, check digit verified), for the archive's METS and metadata."""
    volume: int | None
    """The paper's current volume, for issues whose manifest gives none (archive METS and metadata)."""
    source: Path
    """The settings file itself (part of every page's cache key)."""
    photo_highlight: float = 4.0
    """Smallest dot (percent) in a prepared photo: newsprint loses finer dots."""
    photo_shadow: float = 85.0
    """Largest dot (percent) in a prepared photo: above it, newsprint fills in to solid."""
    screen_ruling: float = 100.0
    """Halftone screen of the press, lines per inch (the photos' sharpening is sized to it)."""
    min_type_size: float = 7.0
    """Smallest type preflight passes, points."""
    min_reversed_type_size: float = 8.0
    """Smallest reversed (white or knocked-out) type preflight passes, points."""
    min_rule_width: float = 0.25
    """Thinnest stroke preflight passes, points (hairlines disappear on newsprint)."""
    sample_imprint: str = "error"
    """What preflight does with the sample imprint: ``error`` or ``warning``."""
    icc_sha256: str = ""
    """SHA-256 of the embedded profile's bytes (so that the plates' cache keys follow its content)."""
    tracking: float = 0.0
    """Letter-spacing a justified line may take or give, as a share of its glyphs' width (0.02: +-2 %;
    0: word spaces only). Off by default; reported in the fit report. Used by ``total-fit`` only."""
    glyph_scaling: float = 0.0
    """How much wider or narrower a justified line's glyphs may be drawn, as a share (0.02: 98-102 %;
    0: off). Off by default; reported in the fit report. Used by ``total-fit`` only."""
    line_breaking: str = "greedy"
    """``greedy``: WeasyPrint breaks the body's lines (first fit); ``total-fit``: the composer's
    paragraph breaker (``composing/linebreak.py``, Knuth-Plass) chooses them. Opt-in: see the README."""

    @property
    def content_width(self) -> float:
        """Width of the type area."""
        return self.trim_width - self.margin_inside - self.margin_outside

    @property
    def column_width(self) -> float:
        """Width of one grid column."""
        return (self.content_width - (self.columns - 1) * self.gutter) / self.columns

    @property
    def grid_lines(self) -> int:
        """Body lines that fit between the top and bottom margins."""
        return math.floor((self.trim_height - self.margin_top - self.margin_bottom) / self.leading)

    def span_width(self, columns: int) -> float:
        """Width of ``columns`` grid columns and the gutters between them."""
        return columns * self.column_width + (columns - 1) * self.gutter

    def column_x(self, column: int) -> float:
        """Left edge of grid column ``column`` (0-based) from the trim's left edge."""
        return self.margin_inside + column * (self.column_width + self.gutter)


MIN_COLUMN = 36.0
"""Narrowest column in points (12.7 mm): a few words of body type."""
MIN_LINES = 20
"""Fewest body lines between the top and bottom margins."""


def check_geometry(check: Checker, lengths: dict[str, float], columns: int | None) -> None:
    """The page must hold its columns and some lines: each length may be in range while together they
    leave no room (wide margins on a narrow trim), which would make negative or zero-width columns."""
    needed = ("trim.width", "trim.height", "margins.top", "margins.bottom", "margins.inside", "margins.outside",
              "gutter", "body.leading")
    if columns is None or any(key not in lengths for key in needed):
        return
    width = lengths["trim.width"] - lengths["margins.inside"] - lengths["margins.outside"]
    column = (width - (columns - 1) * lengths["gutter"]) / columns
    if column < MIN_COLUMN:
        check.add("columns", f"{columns} columns on a type area {width / 72 * 25.4:.0f} mm wide leave "
                  f"{max(column, 0) / 72 * 25.4:.1f} mm a column; the least is {MIN_COLUMN / 72 * 25.4:.1f} mm",
                  "use fewer columns, a narrower gutter or narrower margins, or a wider trim")
    lines = (lengths["trim.height"] - lengths["margins.top"] - lengths["margins.bottom"]) / lengths["body.leading"]
    if lines < MIN_LINES:
        check.add("trim.height", f"the margins leave room for {max(lines, 0):.0f} body lines; the least is {MIN_LINES}",
                  "use a taller trim, smaller top and bottom margins, or less leading")


def load_settings(path: Path) -> PaperSettings:
    """Read and check ``paper.yaml``; every problem is reported at once.

    The safe YAML reader comes first (characters, anchors, repeated keys, numbers as typed); then
    the input model (``inputs.PaperIn``, pydantic) checks every key and value with the rules
    below; its problems are listed together, in the project's words."""
    shown = display_path(path)
    glyphs = house_codepoints(path.parent.parent)
    data: Any = {}
    if path.exists() and not path.resolve().is_relative_to(path.parent.parent.resolve()):
        raise InputError(f"{shown} is outside the project", (Problem(
            shown, "", f"is a link to {path.resolve()}, outside the project",
            "copy the paper settings into issues/paper.yaml instead of linking to them"),))
    if path.exists():
        text = read_text(path, shown)
        problems = check_copy(uncommented(text, yaml_only=True), shown, glyphs, prose=False)
        if problems:
            raise InputError(f"{shown}: characters that cannot be printed", tuple(problems))
        data = parse_yaml(text, shown, copy_keys=frozenset(("title", "tagline", "price", "imprint")))
    check = Checker(shown, glyphs=glyphs)
    if isinstance(data, dict):  # a key of a group written at the top level: "size: 9pt" for body.size
        for name in [k for k in data if k not in DEFAULTS]:
            group = next((g for g, keys in DEFAULTS.items() if isinstance(keys, dict) and name in keys), None)
            if group:
                check.add(str(name), f'"{name}" belongs in the group "{group}:"',
                          f"indent it under '{group}:' with spaces, e.g.\n      {group}:\n        {name}: ...")
                del data[name]
    from .inputs import PaperIn, validate  # pydantic is imported by the commands that read settings only

    model = validate(PaperIn, {} if data is None else data, shown, check.problems,
                     {"glyphs": glyphs, "path": path})
    collect(check.problems, f"{shown}: the paper settings have problems")
    assert model is not None
    profile, icc_sha256 = model.icc_profile
    return PaperSettings(
        title=model.title or "", tagline=model.tagline or "", price=model.price or "",
        trim_width=model.trim.width, trim_height=model.trim.height,
        margin_top=model.margins.top, margin_bottom=model.margins.bottom,
        margin_inside=model.margins.inside, margin_outside=model.margins.outside,
        columns=model.columns, gutter=model.gutter, body_size=model.body.size,
        leading=model.body.leading, bleed=model.bleed, crop_marks=model.crop_marks,
        imprint=model.imprint or "", pdfx=model.pdfx,
        output_condition=model.output_condition or "", icc_profile=profile,
        ink_limit=model.ink_limit, min_image_ppi=model.min_image_ppi, max_image_ppi=model.max_image_ppi,
        issn=model.issn, volume=model.volume, source=path,
        photo_highlight=model.photo_highlight, photo_shadow=model.photo_shadow,
        screen_ruling=model.screen_ruling, min_type_size=model.min_type_size,
        min_reversed_type_size=model.min_reversed_type_size, min_rule_width=model.min_rule_width,
        sample_imprint=model.sample_imprint, icc_sha256=icc_sha256, tracking=model.tracking,
        glyph_scaling=model.glyph_scaling, line_breaking=model.line_breaking,
    )


# The rules of paper.yaml's values, in the project's words: each records what is wrong with one
# value in ``check`` and returns the value read. ``inputs.PaperIn`` runs them, one a key.

def length(check: Checker, key: str, value: Any, low: float, high: float) -> float | None:
    """A length with its unit (``280mm``, ``9pt``) from ``low`` to ``high`` points."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value != 0:
        written = source_text(value)
        check.add(key, f"{written} has no unit", f"write it with its unit, such as {written}mm or {written}pt "
                  "(lengths in paper.yaml are never guessed)")
        return None
    try:
        points = parse_length(value)
    except (ValueError, OverflowError):
        check.add(key, f"{shorten(value)} is not a length", "write a length with its unit, such as 280mm or 9pt")
        return None
    if not low <= points <= high:
        check.add(key, f"{value} is out of range", f"use a value from {low:.0f}pt to {high:.0f}pt "
                  f"({low / 72 * 25.4:.0f}mm to {high / 72 * 25.4:.0f}mm)")
        return None
    return points


def limit_length(check: Checker, key: str, value: Any, low: float, high: float) -> float | None:
    """A preflight limit (``min_type_size: 7pt``), from ``low`` to ``high`` points."""
    try:
        points = parse_length(value)
    except (ValueError, OverflowError) as exc:
        words = str(exc) if len(str(exc)) <= 120 else f"{shorten(value)} is not a length"
        check.add(key, words, f"write a length with its unit, such as {DEFAULTS[key]}")
        return None
    if not low <= points <= high:
        check.add(key, f"{value} is out of range", f"use a value from {low:g}pt to {high:g}pt")
        return None
    return points


def tone(check: Checker, key: str, value: Any, low: float, high: float) -> float | None:
    """A number from ``low`` to ``high`` (a dot percentage, a screen ruling)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        check.add(key, f"expected a number from {low} to {high}, found {shorten(value)}",
                  f"write e.g. {key}: {DEFAULTS[key]}")
        return None
    return float(value)


def choice(check: Checker, key: str, value: Any) -> str | None:
    """One of a few words: ``pdfx``, ``line_breaking``, ``sample_imprint``."""
    if key == "pdfx" and value not in PDFX_VARIANTS:
        check.add("pdfx", f"unknown PDF/X variant {shorten(value)}{did_you_mean(str(value).lower(), PDFX_VARIANTS)}",
                  f"use one of {', '.join(PDFX_VARIANTS)}")
    elif key == "line_breaking" and value not in LINE_BREAKING:
        check.add("line_breaking", f"unknown line breaking {shorten(value)}",
                  "write line_breaking: greedy (WeasyPrint's, the default) or line_breaking: total-fit "
                  "(the paragraph breaker)")
    elif key == "sample_imprint" and value not in ("error", "warning"):
        check.add("sample_imprint", f"expected error or warning, found {shorten(value)}",
                  "write sample_imprint: error (the default) or sample_imprint: warning")
    else:
        return str(value)
    return None


def yes_no(check: Checker, key: str, value: Any) -> bool | None:
    """``true`` or ``false`` (YAML's yes/no)."""
    if not isinstance(value, bool):
        check.add(key, "expected yes or no", f"write {key}: true or {key}: false")
        return None
    return value


def tracking(check: Checker, value: Any, key: str = "tracking") -> float | None:
    """``tracking: 2%`` (or ``2``) as a share of the glyphs' width (0.02), from 0 to 3 %; the same for
    ``glyph_scaling``."""
    number = value.strip()[:-1] if isinstance(value, str) and value.strip().endswith("%") else value
    try:
        share = float(number)
    except (TypeError, ValueError, OverflowError):
        share = None
    if share is None or not 0 <= share <= 3:
        what = "letter-spacing" if key == "tracking" else "glyphs drawn 98-102 % wide"
        check.add(key, f"{shorten(value)} is not a percentage from 0 to 3",
                  f"write {key}: 2% ({what}, at most, a line) or {key}: 0 (off)")
        return None
    return share / 100


def icc_profile(check: Checker, path: Path, value: Any, pdfx: str, condition: str | None) -> tuple[Path | None, str]:
    """The output intent's profile and its SHA-256: ``icc_profile`` (a path inside the project,
    symlinks resolved, that parses as a CMYK or grey output profile), ``none`` for no profile, or
    (absent) the printing condition's installed profile (``condition``: ``output_condition``)."""
    if value is None:
        found = press_profile(f"{condition}.icc") if isinstance(condition, str) else None
        if found is None:
            return None, ""
        why, digest = _profile_read(found, pdfx)
        return (None, "") if why else (found, digest)
    if value is False or str(value).lower() == "none":
        return None, ""
    if not isinstance(value, str) or not value.strip():
        check.add("icc_profile", f"expected a file name, found {value!r}",
                  "give a path relative to paper.yaml, write none, or remove the key")
        return None, ""
    root = path.resolve().parent.parent
    profile = (path.parent / value).resolve()
    if not profile.is_relative_to(root):
        check.add("icc_profile", f"{value} is outside the project folder (symlinks are followed)",
                  "copy the profile into the project, e.g. issues/profiles/, and give that path")
        return None, ""
    if not profile.is_file():
        check.add("icc_profile", f"no ICC profile at {value}", "give a path relative to paper.yaml, or remove the key")
        return None, ""
    try:
        if profile.stat().st_size > MAX_ICC_BYTES:
            check.add("icc_profile", f"{value} is {profile.stat().st_size // 1_000_000} MB: not an ICC profile",
                      "give the printer's CMYK output profile (a few MB at most)")
            return None, ""
        why, digest = _profile_read(profile, pdfx)
    except OSError as exc:
        check.add("icc_profile", f"{value} cannot be read ({exc.strerror})", "check the file's permissions")
        return None, ""
    if why:
        check.add("icc_profile", f"{value} {why}",
                  "give the printer's CMYK output profile (e.g. WAN-IFRAnewspaper26v5.icc), or remove the key")
        return None, ""
    return profile, digest


_PROFILES: dict[tuple, tuple[tuple, tuple[str, str]]] = {}
"""``check_icc``'s verdict on a profile file and its SHA-256, by its path (and the PDF/X variant):
once a process while the file is unchanged (``base.files.remembered``). Every compose reads the paper
settings, and the installed newsprint profile (1.3 MB) was read twice, parsed by LittleCMS and hashed
each time: 4 ms of a small compose's 120."""


def _profile_read(path: Path, pdfx: str) -> tuple[str, str]:
    """``check_icc(bytes, pdfx)`` of the profile at ``path`` and the bytes' SHA-256 (remembered while
    the file is unchanged); OSError if it cannot be read."""
    return remembered(_PROFILES, path, lambda data: (check_icc(data, pdfx), hashlib.sha256(data).hexdigest()), pdfx)


def issn(check: Checker, value: str | None) -> str | None:
    """An ISSN as ``NNNN-NNNC`` (C a digit or X), its check digit verified (ISO 3297)."""
    if not value:
        return None
    compact = value.strip().upper().replace("-", "").replace(" ", "")
    if not re.fullmatch(r"\d{7}[\dX]", compact):
        check.add("issn", f"{value!r} is not an ISSN", "write it as eight characters NNNN-NNNC, e.g. 1234-5679")
        return None
    total = sum(int(d) * w for d, w in zip(compact[:7], range(8, 1, -1)))
    digit = (11 - total % 11) % 11
    expected = "X" if digit == 10 else str(digit)
    if compact[7] != expected:
        check.add("issn", f"{value}: the check digit should be {expected}, not {compact[7]}",
                  "copy the ISSN again from the ISSN register or the paper's masthead")
        return None
    return f"{compact[:4]}-{compact[4:]}"
