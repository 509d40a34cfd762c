"""Page images for the archive: each plate rendered as a greyscale TIFF (LZW) at 300 ppi.

Rendered with pypdfium2 (PDFium, already used for the proofs: a library call, no shell-out, and
the same pixels for the same PDF), straight to 8-bit grey (``grayscale=True``), and written by
Pillow as a baseline TIFF with LZW compression, its resolution, a DateTime from the issue (never the
clock) and the software that made it, so that the same plate gives the same bytes. 300 ppi is the
low end of the 300-400 ppi newspaper programmes ask for (NDNP, Europeana): a 280 x 430 mm page is
3307 x 5079 pixels, about 2-4 MB compressed.
"""

from __future__ import annotations

import io

import pypdfium2
from PIL import Image, TiffImagePlugin

PPI = 300


def page_tiff(pdf: bytes, when: str, software: str, ppi: int = PPI) -> tuple[bytes, tuple[int, int]]:
    """The first page of ``pdf`` as a greyscale LZW TIFF at ``ppi``, and its size in pixels.
    ``when``: the TIFF DateTime (``YYYY:MM:DD HH:MM:SS``)."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        bitmap = document[0].render(scale=ppi / 72, grayscale=True, may_draw_forms=False)
        image = bitmap.to_pil()
    finally:
        document.close()
    if image.mode != "L":
        image = image.convert("L")
    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[305] = software  # Software
    info[306] = when  # DateTime
    out = io.BytesIO()
    image.save(out, "TIFF", compression="tiff_lzw", dpi=(ppi, ppi), tiffinfo=info)
    return out.getvalue(), image.size


def tiff_info(data: bytes) -> tuple[str, tuple[int, int], tuple[float, float]]:
    """Mode, size and resolution of a TIFF (for checks)."""
    with Image.open(io.BytesIO(data)) as image:
        dpi = image.info.get("dpi", (0, 0))
        return image.mode, image.size, (float(dpi[0]), float(dpi[1]))
