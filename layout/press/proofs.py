"""Stage 3 (writing): proofs to look at: a PNG of every page and a flat plan of the whole issue."""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pikepdf
from PIL import Image, ImageChops, ImageDraw, ImageFont

from ..base.files import write_atomic

PROOF_DPI = 60
PLAN_SCALE = 0.36
"""Flat plan pixels per point: a 280 x 430 mm page is about 286 x 439 px."""
PLAN_GAP = 40


NEUTRAL = 8
"""How far apart (in 8-bit levels) the red, green and blue of every pixel of a drawn page may be for
its proof to be a grey PNG. pdfium draws the plates' black-only greys (DeviceCMYK, K alone) with
channels up to 4 levels apart; the nameplate's red, a colour advert or photo, and the proofs' loose-line
marks are 100 and more apart."""


def png_of(image: Image.Image) -> bytes:
    """A drawn page as a PNG, compressed lightly (it is drawn on every change): grey if the page is
    (``NEUTRAL``), which is a third of the pixels to compress and half the file of an RGB one, and
    is what a page printed in black alone looks like."""
    image = image.convert("RGB")
    red, green, blue = image.split()
    if all(cast(tuple[int, int], ImageChops.difference(a, b).getextrema())[1] <= NEUTRAL  # one band: (low, high)
           for a, b in ((red, green), (green, blue))):
        image = image.convert("L")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _pngs(data: bytes, dpi: int = PROOF_DPI) -> list[bytes]:
    import pypdfium2  # here: a recompose whose proofs are all cached draws none

    document = pypdfium2.PdfDocument(data)
    try:
        return [png_of(document[index].render(scale=dpi / 72).to_pil()) for index in range(len(document))]
    finally:
        document.close()


def page_png(pdf: bytes, dpi: int = PROOF_DPI) -> bytes:
    """The first page of ``pdf`` as a PNG."""
    return _pngs(pdf, dpi)[0]


def write_proofs(pages: tuple[bytes, ...], folder: Path, pngs: dict[int, bytes],
                 digests: tuple[str, ...] = ()) -> list[Path]:
    """Write the proofs of ``pages`` (each page's PDF) in ``folder``: ``pngs`` holds each page's PNG
    by page index (drawn now or kept in the build cache); a PNG already there with those bytes is
    left as it is. Proofs of pages that are gone are removed. ``.pages.json`` names each proof's
    page by the SHA-256 of its PDF (``layout serve`` tells the browsers which pages changed): ``digests``,
    if the caller has them (hashed where the PDFs were made), else hashed here."""
    paths = [folder / f"p{number:02d}.png" for number in range(1, len(pages) + 1)]
    for index, png in pngs.items():
        try:
            same = paths[index].read_bytes() == png
        except OSError:
            same = False
        if not same:
            write_atomic(paths[index], png)
    for stale in folder.glob("p*.png"):
        if stale not in paths:
            stale.unlink()
    (folder / ".pngs.json").unlink(missing_ok=True)  # what an earlier layout checked its PNGs by
    sources = {path.name: digests[index] if len(digests) == len(pages) else hashlib.sha256(data).hexdigest()
               for index, (path, data) in enumerate(zip(paths, pages))}
    write_atomic(folder / ".pages.json", json.dumps(sources, indent=1).encode())
    return paths


@dataclass(frozen=True)
class Label:
    """Where the flat plan wrote a slot's label (for tests and for the diff)."""

    slot_id: str
    page: int
    box: tuple[int, int, int, int]


def flat_plan(fit: dict, trim: tuple[float, float], fonts: Path) -> tuple[Image.Image, list[Label]]:
    """Draw every page side by side, each slot a labelled box with its lines over or short and jumps."""
    pages = sorted({s["page"] for s in fit["slots"]} | {p["page"] for p in fit["pages"]})
    width, height = round(trim[0] * PLAN_SCALE), round(trim[1] * PLAN_SCALE)
    image = Image.new("RGB", (PLAN_GAP + len(pages) * (width + PLAN_GAP), height + 2 * PLAN_GAP), "white")
    draw = ImageDraw.Draw(image)
    bold = ImageFont.truetype(str(fonts / "PTS75F.ttf"), 12)
    small = ImageFont.truetype(str(fonts / "PTS55F.ttf"), 10)
    origin = {n: (PLAN_GAP + i * (width + PLAN_GAP), PLAN_GAP) for i, n in enumerate(pages)}
    labels = []
    for number in pages:
        x0, y0 = origin[number]
        draw.rectangle([x0, y0, x0 + width, y0 + height], outline=(0, 0, 0), width=2)
        draw.text((x0, y0 - 18), f"page {number}", font=bold, fill=(0, 0, 0))
    boxes = {}
    for slot in fit["slots"]:
        x0, y0 = origin[slot["page"]]
        x, y, w, h = (v * PLAN_SCALE for v in slot["box"])
        boxes[slot["slot_id"]] = box = (round(x0 + x), round(y0 + y), round(x0 + x + w), round(y0 + y + h))
        colour = (255, 225, 225) if slot["over"] else (225, 235, 255) if slot["short"] > 2 else (235, 235, 235)
        draw.rectangle(box, fill=colour, outline=(90, 90, 90))
    for slot in fit["slots"]:  # jump arrows under the labels, from the story's foot to its continuation
        if slot["jump_to"] and (target := boxes.get(f"cont-{slot['slug']}")):
            box = boxes[slot["slot_id"]]
            start, end = ((box[0] + box[2]) // 2, box[3] - 6), ((target[0] + target[2]) // 2, target[3] - 6)
            draw.line([start, end], fill=(200, 0, 0), width=3)
            draw.ellipse([end[0] - 6, end[1] - 6, end[0] + 6, end[1] + 6], fill=(200, 0, 0))
    for slot in fit["slots"]:
        box = boxes[slot["slot_id"]]
        status = f"+{slot['over']} over" if slot["over"] else f"-{slot['short']} short" if slot["short"] > 2 else "fits"
        if slot["jump_to"]:
            status += f", jumps to p{slot['jump_to']}"
        text = "\n".join(_wrap_slug(draw, slot["slot_id"], bold, box[2] - box[0] - 8))
        text_box = draw.multiline_textbbox((box[0] + 4, box[1] + 4), text, font=bold, spacing=2)
        draw.multiline_text((box[0] + 4, box[1] + 4), text, font=bold, fill=(0, 0, 0), spacing=2)
        draw.text((box[0] + 4, text_box[3] + 3), status, font=small,
                  fill=(200, 0, 0) if slot["over"] else (0, 0, 0))
        labels.append(Label(slot["slot_id"], slot["page"], tuple(text_box)))  # type: ignore[arg-type]
    return image, labels


def _wrap_slug(draw: ImageDraw.ImageDraw, slug: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Break a slug after its hyphens so that every line fits ``width`` pixels (a part that is
    still too wide is broken between letters): the whole slug stays readable inside its box."""
    lines = [""]
    for part in re.findall(r"[^-]+-?|-", slug):
        if lines[-1] and draw.textlength(lines[-1] + part, font=font) > width:
            lines.append("")
        for letter in part:
            if lines[-1] and draw.textlength(lines[-1] + letter, font=font) > width:
                lines.append("")
            lines[-1] += letter
    return lines


def flat_plan_png(fit: dict, trim: tuple[float, float], fonts: Path) -> bytes:
    """The flat plan of the fit report ``fit`` as a PNG (compressed lightly: it is drawn every run,
    and the default level takes three times as long for a file two thirds the size)."""
    image, _ = flat_plan(fit, trim, fonts)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=3)
    return buffer.getvalue()


MARK_COLOURS = {"over": (0.85, 0.0, 0.0), "hole": (0.0, 0.35, 0.85), "loose": (0.95, 0.55, 0.0)}
MARK_HEIGHT = 13.0


def mark_pages(pages: tuple[bytes, ...], marks: list[tuple]) -> tuple[bytes, ...]:
    """Return the pages with proof marks drawn on top: a bar with its text for each mark.

    ``marks`` holds, for each page, its ``Mark``s (x, y from the trim's top-left corner, points). The
    marks are drawn straight into a copy of each laid-out page, so a proof costs no second layout. They
    are in RGB with a standard font on purpose: proofs are never sent to press.
    """
    out = []
    for data, page_marks in zip(pages, marks):
        if not page_marks:
            out.append(data)
            continue
        with pikepdf.open(io.BytesIO(data)) as pdf:  # pikepdf: a tenth of pypdf's time to copy a page
            page = pdf.pages[0]
            left, _, _, top = (float(v) for v in page.obj.get("/TrimBox", page.MediaBox))
            if "/Font" not in page.Resources:
                page.Resources.Font = pikepdf.Dictionary()
            page.Resources.Font.ProofMark = pdf.make_indirect(pikepdf.Dictionary(
                Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name("/Helvetica-Bold")))
            ops = []
            for mark in page_marks:
                r, g, b = MARK_COLOURS.get(mark.kind, (0.85, 0.0, 0.0))
                x, y = left + mark.x, top - mark.y - MARK_HEIGHT
                text = mark.text.encode("latin-1", "replace").decode("latin-1")
                text = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                ops.append(f"q {r} {g} {b} rg {x:.2f} {y:.2f} {mark.width:.2f} {MARK_HEIGHT} re f "
                           f"BT 1 1 1 rg /ProofMark 9 Tf {x + 4:.2f} {y + 3.5:.2f} Td ({text}) Tj ET Q")
            page.contents_add(pdf.make_stream(("\n" + "\n".join(ops) + "\n").encode("latin-1")), prepend=False)
            buffer = io.BytesIO()
            pdf.save(buffer, deterministic_id=True)
        out.append(buffer.getvalue())
    return tuple(out)
