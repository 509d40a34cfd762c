"""Stage 3e: prepare photos for newsprint before WeasyPrint sees them.

Each photo is cropped to the shape it is placed at (CSS ``object-fit: cover`` would crop it there
anyway), converted to greyscale (the New Worker prints its photos in black ink: grey is exact for a
one-ink photo, and a CMYK build of a grey photo would only add ink and misregistration), resampled
down when it is sharper than the paper's ``max_image_ppi``, and saved as a baseline JPEG named by a
hash of its source and settings, so the same photo gives the same bytes on every run. Photos below
``min_image_ppi`` are kept as they are and reported by preflight.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from .articles import Photo
from .render import write_atomic

JPEG_QUALITY = 88


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo as it will be printed."""

    source: Path
    path: Path
    """The prepared greyscale JPEG."""
    width_pt: float
    height_pt: float
    ppi: float
    """Effective resolution at the placed size, after any downsampling."""
    source_ppi: float
    """Effective resolution of the source at the placed size."""
    mode: str
    """Pillow mode of the source (``RGB``, ``CMYK``, ``L`` ...)."""


def prepare(photo: Photo, width_pt: float, height_pt: float, folder: Path, max_ppi: int) -> PreparedPhoto:
    """Crop, convert and resample ``photo`` for a box of ``width_pt`` x ``height_pt``."""
    source_ppi = _ppi(photo.width_px, photo.height_px, width_pt, height_pt)
    key = hashlib.sha256(photo.path.read_bytes())
    key.update(f"{width_pt:.3f} {height_pt:.3f} {max_ppi} {JPEG_QUALITY}".encode())
    if photo.focus != (0.5, 0.5):  # the point kept when cropping (``focus:``)
        key.update(f" focus {photo.focus[0]:.3f} {photo.focus[1]:.3f}".encode())
    target = folder / f"{photo.path.stem}-{key.hexdigest()[:16]}.jpg"
    ppi = min(source_ppi, float(max_ppi))
    if not target.exists():
        with Image.open(photo.path) as image:
            image = ImageOps.exif_transpose(image)
            grey = image.convert("L") if image.mode != "L" else image
            crop = ImageOps.fit(grey, _crop_size(grey.size, width_pt, height_pt), Image.Resampling.LANCZOS,
                                centering=photo.focus)
            if source_ppi > max_ppi:
                size = (round(width_pt / 72 * max_ppi), round(height_pt / 72 * max_ppi))
                crop = crop.resize(size, Image.Resampling.LANCZOS)
            data = _jpeg(crop)
        write_atomic(target, data)
    return PreparedPhoto(photo.path, target, width_pt, height_pt, ppi, source_ppi, photo.mode)


def _ppi(width_px: int, height_px: int, width_pt: float, height_pt: float) -> float:
    """Resolution of an image scaled to cover a box (the smaller of the two axes' ppi)."""
    scale = max(width_pt / width_px, height_pt / height_px)  # points per pixel
    return 72 / scale


def _crop_size(size: tuple[int, int], width_pt: float, height_pt: float) -> tuple[int, int]:
    """The largest crop of ``size`` with the box's aspect ratio."""
    width, height = size
    if width / height > width_pt / height_pt:
        return round(height * width_pt / height_pt), height
    return width, round(width * height_pt / width_pt)


def _jpeg(image: Image.Image) -> bytes:
    import io

    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=False, dpi=(300, 300))
    return out.getvalue()
