"""Stage 0: read the paper settings (``issues/paper.yaml``) shared by every issue."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import collect
from .sources import Checker, display_path, parse_yaml, read_text
from .units import parse_length

PDFX_VARIANTS = ("x-1a", "x-4")

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
    "ink_limit": 240,
    "min_image_ppi": 200,
    "max_image_ppi": 400,
    "issn": None,
    "tracking": 0,
}


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
    """Optional CMYK ICC profile to embed in the OutputIntent."""
    ink_limit: int
    """Total area coverage limit in percent."""
    min_image_ppi: int
    max_image_ppi: int
    issn: str | None
    source: Path
    """The settings file itself (part of every page's cache key)."""
    tracking: float = 0.0
    """Letter-spacing a justified line may take or give, as a share of its glyphs' width (0.02: +-2 %;
    0: word spaces only). Off by default; reported in the fit report."""

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


def load_settings(path: Path) -> PaperSettings:
    """Read and check ``paper.yaml``; every problem is reported at once."""
    shown = display_path(path)
    data = parse_yaml(read_text(path, shown), shown) if path.exists() else {}
    check = Checker(shown)
    data = check.mapping(data if data is not None else {}, "", tuple(DEFAULTS))
    merged = {**DEFAULTS, **data}
    lengths: dict[str, float] = {}

    def length(key: str, value: Any, low: float, high: float) -> None:
        try:
            points = parse_length(value)
        except ValueError as exc:
            check.add(key, str(exc), "write a length with its unit, such as 280mm or 9pt")
            return
        if not low <= points <= high:
            check.add(key, f"{value} is out of range", f"use a value from {low:.0f}pt to {high:.0f}pt")
            return
        lengths[key] = points

    for group, keys, low, high in (
        ("trim", ("width", "height"), 200, 2000),
        ("margins", ("top", "bottom", "inside", "outside"), 0, 150),
        ("body", ("size", "leading"), 6, 14),
    ):
        block = check.mapping(merged[group], group, keys)
        for key in keys:
            length(f"{group}.{key}", block.get(key, DEFAULTS[group][key]), low, high)
    length("gutter", merged["gutter"], 2, 40)
    length("bleed", merged["bleed"], 0, 15)
    columns = check.integer(merged["columns"], "columns", 1, 12)
    if merged["pdfx"] not in PDFX_VARIANTS:
        check.add("pdfx", f"unknown PDF/X variant {merged['pdfx']!r}",
                  f"use one of {', '.join(PDFX_VARIANTS)}")
    if not isinstance(merged["crop_marks"], bool):
        check.add("crop_marks", "expected yes or no", "write crop_marks: true or crop_marks: false")
    ink = check.integer(merged["ink_limit"], "ink_limit", 100, 400)
    tracking = merged["tracking"]
    if isinstance(tracking, str) and tracking.strip().endswith("%"):
        tracking = tracking.strip()[:-1]
    try:
        tracking = float(tracking)
    except (TypeError, ValueError):
        tracking = None
    if tracking is None or not 0 <= tracking <= 3:
        check.add("tracking", f"{merged['tracking']!r} is not a percentage from 0 to 3",
                  "write tracking: 2% (letter-spacing of up to +-2 % a line) or tracking: 0 (off)")
        tracking = 0.0
    low_ppi = check.integer(merged["min_image_ppi"], "min_image_ppi", 50, 2400)
    high_ppi = check.integer(merged["max_image_ppi"], "max_image_ppi", 50, 2400)
    profile = None
    if merged["icc_profile"]:
        profile = (path.parent / str(merged["icc_profile"])).resolve()
        if not profile.is_file():
            check.add("icc_profile", f"no ICC profile at {merged['icc_profile']}",
                      "give a path relative to paper.yaml, or remove the key")
    texts = {k: check.text(merged[k], k, required=k in ("title",)) for k in
             ("title", "tagline", "price", "imprint", "output_condition", "issn")}
    if "body.size" in lengths and "body.leading" in lengths and lengths["body.leading"] < lengths["body.size"]:
        check.add("body.leading", "leading is smaller than the type size", "make leading at least the size")
    collect(check.problems, f"{shown}: the paper settings have problems")
    return PaperSettings(
        title=texts["title"] or "", tagline=texts["tagline"] or "", price=texts["price"] or "",
        trim_width=lengths["trim.width"], trim_height=lengths["trim.height"],
        margin_top=lengths["margins.top"], margin_bottom=lengths["margins.bottom"],
        margin_inside=lengths["margins.inside"], margin_outside=lengths["margins.outside"],
        columns=columns or 5, gutter=lengths["gutter"], body_size=lengths["body.size"],
        leading=lengths["body.leading"], bleed=lengths["bleed"], crop_marks=merged["crop_marks"],
        imprint=texts["imprint"] or "", pdfx=merged["pdfx"],
        output_condition=texts["output_condition"] or "", icc_profile=profile,
        ink_limit=ink or 240, min_image_ppi=low_ppi or 200, max_image_ppi=high_ppi or 400,
        issn=texts["issn"], source=path, tracking=tracking / 100,
    )
