"""Stage 2 (composing): check photos and prepare them for newsprint before WeasyPrint sees them.

**Checked before use** (``inspect``, called when an article is read): a photo must be a JPEG, PNG
or TIFF (Pillow is only ever allowed those three decoders: an EPS or PostScript "photo" is never
handed to Ghostscript), no larger than ``MAX_PIXELS``, decode completely (a truncated file is an
error, not a grey block), be in a mode this module can print (grey, 16-bit grey, palette, RGB,
CMYK, Lab, with or without alpha) and carry, if any, an ICC profile that parses and fits its mode.
Each problem is an input error naming the photo (and, through the article's checker, its article).

**Prepared for the press** (``prepare``):

1. Decoded, turned upright (EXIF orientation), 16-bit scaled (not clipped) to 8 bits, palette
   expanded, transparency flattened on white paper.
2. Converted to the press's grey by LittleCMS (Pillow's ImageCms), from the photo's own ICC profile
   (sRGB assumed for untagged RGB and grey, the press's CMYK profile for untagged CMYK), perceptual
   intent with black-point compensation, into the grey profile of the printing condition
   (``<output_condition>_gr.icc``, e.g. ``WAN-IFRAnewspaper26v5_gr.icc`` from Debian's
   ``icc-profiles``): its tables hold the measured tone value increase of coldset newsprint, so the
   dot written is the dot that prints the photo's lightness. Without that profile, ``tone_curve``
   does the same from a measured curve of that condition (see ``TONE_CURVE`` for its source).
3. Cropped to the placed shape, resampled to at most ``max_image_ppi``.
4. Sharpened with an unsharp mask sized to the screen ruling (``screen_ruling``: the radius is half a
   halftone cell, so detail finer than the screen can hold is not sharpened into noise).
5. Compressed into the paper's tone range: the lightest pixel gets ``photo_highlight`` (the minimum
   dot newsprint holds), the darkest ``photo_shadow`` (above it, dots fill in and print solid),
   linearly in dot area.
6. Saved as a baseline JPEG (grey), checked after encoding (a JPEG's ringing may overshoot the range:
   the range is narrowed until the decoded pixels keep within it), with a comment naming the source
   file and article, which preflight reads back from the plate to name the photo in its findings.

The file is named by a hash of the source's bytes and every setting above (the profiles' bytes
included), so the same photo gives the same bytes on every run and any change makes a new one.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import io
import json
import math
import os
import struct
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PIL import EpsImagePlugin, Image, ImageCms, ImageFilter, ImageOps, UnidentifiedImageError

from ..base.cache import Store
from ..base.files import file_hash, remembered, write_atomic
from ..errors import InputError, Problem
from ..press.paint import PHOTO_COMMENT, label_of
from ..reading.settings import PaperSettings, press_profile
from ..reading.sources import display_path

if TYPE_CHECKING:
    from ..reading.articles import Photo

_LIMIT = threading.Lock()
EpsImagePlugin.gs_binary = False
"""Pillow never runs Ghostscript on an EPS, in this process or the workers forked from it (photos
are opened with ``FORMATS`` only; this covers any other image Pillow is handed, e.g. WeasyPrint's)."""

JPEG_QUALITY = 90
FORMATS = ("JPEG", "PNG", "TIFF")
"""The only decoders Pillow may use on a photo."""
MAX_PIXELS = 100_000_000
"""Largest photo accepted (10,000 x 10,000 px): larger files are refused before decoding."""
PREPARATION = "newsprint-grey 3"
"""Version of the preparation below: part of every prepared photo's key."""
COMMENT = PHOTO_COMMENT
"""Start of the JPEG comment that names a prepared photo's source (read back by preflight)."""
__all__ = ["Inspected", "PhotoProblem", "PreparedPhoto", "Preparer", "inspect", "label_of", "prepare", "target",
           "upright"]
MODES = {"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB",
         "I;16", "I;16L", "I;16B", "I;16N", "I"}
PROFILE_SPACES = {"L": "GRAY", "RGB": "RGB", "CMYK": "CMYK", "LAB": "LAB"}

TONE_CURVE = ((0, 100.0), (5, 95.3), (10, 91.4), (15, 86.7), (20, 82.4), (25, 77.6), (30, 73.3), (35, 69.0),
              (40, 64.7), (45, 60.4), (50, 56.1), (55, 51.4), (60, 47.1), (65, 42.7), (70, 38.8), (75, 34.5),
              (80, 29.8), (85, 24.7), (90, 18.8), (95, 11.4), (100, 0.0))
"""The fallback tone curve (``tone_curve``): (dot %, CIELAB L* printed, relative to paper white) of
coldset newsprint. Source: WAN-IFRAnewspaper26v5_gr.icc (WAN-IFRA's grey profile for ISO 12647-3:2013
coldset offset on newsprint, tone value increase 26 % at 50 %; Debian's icc-profiles), read through
LittleCMS (relative colorimetric, 8-bit) at every 5 % dot. A 50 % dot prints L* 56 (a plain
conversion would ask 50 % for L* 50 and print it at about L* 44)."""


class PhotoProblem(ValueError):
    """Why a photo cannot be printed, and what to do (the caller names the photo and article)."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message, fix)
        self.message, self.fix = message, fix


@dataclass(frozen=True)
class Inspected:
    """What a photo's check found."""

    width: int
    """Width, upright (after EXIF orientation)."""
    height: int
    mode: str
    format: str
    profile: str
    """The embedded ICC profile's description ("" if none)."""


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
    tone: str = ""
    """How it was made grey: the grey profile's name, or the fallback curve's."""


def _sniff(head: bytes) -> str:
    """A name for a file Pillow is not allowed to open, from its first bytes."""
    if head.startswith((b"%!PS", b"\xc5\xd0\xd3\xc6")):
        return "an EPS/PostScript file"
    if head.startswith(b"%PDF"):
        return "a PDF"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "a GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[4:8] == b"ftyp":
        return "a HEIC/AVIF image"
    if head.startswith(b"BM"):
        return "a BMP image"
    if b"<svg" in head.lower() or head.lstrip().startswith(b"<?xml"):
        return "an SVG drawing"
    return ""


def _open(path: Path) -> Image.Image:
    """Open ``path`` with the JPEG, PNG and TIFF decoders only, its size checked before decoding."""
    _LIMIT.acquire()  # photos are prepared on threads: the limit is Pillow's global, changed in turn
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # only the header is read: sized below
    try:
        image = Image.open(path, formats=FORMATS)
    except UnidentifiedImageError:
        with open(path, "rb") as file:
            kind = _sniff(file.read(512))
        message = f"is {kind}: layout prints JPEG, PNG and TIFF photos only" if kind else \
            "is not an image layout can read (JPEG, PNG or TIFF)"
        raise PhotoProblem(message, "export it again from your picture editor as JPEG (or PNG or TIFF)") from None
    except Image.DecompressionBombError:
        raise PhotoProblem("has too many pixels to be a photo (a damaged or hostile file?)",
                           "export it again at most 10,000 px on its long side") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise PhotoProblem(f"cannot be read ({exc})", "export it again as JPEG or PNG") from None
    finally:
        Image.MAX_IMAGE_PIXELS = limit
        _LIMIT.release()
    width, height = image.size
    if width * height > MAX_PIXELS or width <= 0 or height <= 0:
        image.close()
        raise PhotoProblem(f"is too large ({width} x {height} px)",
                           "resize it to at most about 5000 px on its long side (400 ppi at full page width)")
    return image


def _load(path: Path) -> Image.Image:
    """The photo decoded in full (a truncated or damaged file raises ``PhotoProblem``); its size
    was checked by ``_open`` from its header, before any pixel was decoded."""
    image = _open(path)
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        image.close()
        why = "is truncated or damaged" if "truncated" in str(exc) or isinstance(exc, EOFError) \
            else f"cannot be decoded ({exc})"
        raise PhotoProblem(why, "copy or export the photo again (the file is incomplete)") from None
    if image.format in ("JPEG", "MPO") and not _jpeg_complete(path):
        image.close()
        raise PhotoProblem("is truncated (its JPEG data stops before the end of the picture)",
                           "copy or export the photo again (the file is incomplete)")
    if image.mode not in MODES:
        raise PhotoProblem(f"is in a pixel format layout does not print ({image.mode})",
                           "export it as an 8-bit RGB, CMYK or greyscale JPEG")
    return image


def _jpeg_complete(path: Path) -> bool:
    """Whether a JPEG's compressed data runs to its end marker (libjpeg pads a truncated file with
    grey and only warns: Pillow then gives a picture half grey, with no error)."""
    data = path.read_bytes()
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return False
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xDA:  # start of scan: entropy-coded data holds no FF D9 but the end marker
            return data.find(b"\xff\xd9", position) != -1
        if marker in (0x01, *range(0xD0, 0xD8)):
            position += 2
            continue
        position += 2 + int.from_bytes(data[position + 2:position + 4], "big")
    return False


def _profile(image: Image.Image) -> ImageCms.ImageCmsProfile | None:
    """The photo's embedded ICC profile, checked against its mode (None if it has none)."""
    data = image.info.get("icc_profile")
    if not data:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(data))
    except (OSError, ImageCms.PyCMSError, TypeError, ValueError):
        raise PhotoProblem("has an embedded ICC colour profile that is damaged",
                           "export it again with its colour profile (or with none: sRGB is assumed)") from None
    space = profile.profile.xcolor_space.strip()
    mode = _base_mode(image.mode)
    wanted = PROFILE_SPACES.get(mode)
    if wanted and space.upper() != wanted:
        raise PhotoProblem(f"is {mode} but its embedded ICC profile is for {space} colour",
                           "export it again with a profile of its own colour space")
    usable = (hashlib.sha256(data).digest(), mode)
    if usable in _USABLE:
        return profile
    try:  # a profile that parses may still be unusable (a link, abstract or named-colour profile)
        ImageCms.buildTransform(profile, _lab(), mode, "LAB")
    except (ImageCms.PyCMSError, ValueError, OSError):
        raise PhotoProblem(f"has an embedded ICC profile ({profile.profile.profile_description or space}) that "
                           "cannot convert its colours", "export it again with a standard profile (sRGB, "
                           "Adobe RGB) or none") from None
    if len(_USABLE) > 256:
        _USABLE.clear()
    _USABLE.add(usable)
    return profile


_USABLE: set[tuple[bytes, str]] = set()
"""Embedded profiles (their bytes' SHA-256, and the photo's mode) that LittleCMS has converted
from once in this process (``_profile``): the check is not made again for every photo that has one."""


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1 when there is none, or the EXIF data is damaged)."""
    try:
        value = image.getexif().get(0x0112, 1)
    except (OSError, ValueError, SyntaxError, struct.error, TypeError, KeyError):
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _base_mode(mode: str) -> str:
    if mode.startswith("I") or mode in ("1", "L", "LA", "La"):
        return "L"
    if mode in ("P", "PA", "RGBA", "RGBa", "RGBX", "YCbCr"):
        return "RGB"
    return mode


def inspect(path: Path, cache: Store | None = None) -> Inspected:
    """Decode and check the photo at ``path`` (see the module's notes); raise ``PhotoProblem``.

    With ``cache`` (the build cache), a photo whose bytes passed before is not decoded again:
    decoding every photo in full cost 10 ms a photo on every run."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PhotoProblem(f"cannot be read ({exc.strerror})",
                           "check the file's permissions, or copy it again") from None
    if cache is None:
        return _inspect(path)
    key = cache.key("photo-check", PREPARATION, data)
    try:  # sealed (see base/cache.py): a damaged entry reads as missing
        row = json.loads(cache.get("photo-check", key) or b"null")
        return Inspected(*row)
    except (ValueError, TypeError):
        pass
    found = _inspect(path)
    cache.put("photo-check", key, json.dumps([found.width, found.height, found.mode, found.format,
                                              found.profile]).encode())
    return found


def _inspect(path: Path) -> Inspected:
    image = _load(path)
    try:
        profile = _profile(image)
        orientation = _orientation(image)
        width, height = image.size
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        description = (profile.profile.profile_description or "embedded profile").strip() if profile else ""
        return Inspected(width, height, image.mode, image.format or "", description)
    finally:
        image.close()


def upright(path: Path) -> tuple[Image.Image, ImageCms.ImageCmsProfile | None]:
    """The photo decoded, upright, 8 bits, flattened on white: ``L``, ``RGB``, ``CMYK`` or ``LAB``;
    and its embedded profile."""
    image = _load(path)
    profile = _profile(image)
    if _orientation(image) != 1:
        image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode.startswith("I"):
        # 16-bit grey: scale to 8 bits (a plain convert clips everything above level 255 to white).
        top = 65535 if mode.startswith("I;16") or cast(tuple[int, int], image.getextrema())[1] > 255 else 255
        image = image.convert("I").point(lambda v: v * (255 / top)).convert("L")
    elif mode == "1":
        image = image.convert("L")
    elif mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode == "PA":
        image = image.convert("RGBA")
    elif mode == "YCbCr" or mode == "RGBX":
        image = image.convert("RGB")
    if image.mode in ("LA", "La", "RGBA", "RGBa"):
        # Transparency is flattened on white paper (printed as-is it would come out black).
        rgba = image.convert("RGBA" if image.mode.startswith("RGB") else "LA")
        paper = Image.new(rgba.mode, rgba.size, (255, 255, 255, 255) if rgba.mode == "RGBA" else (255, 255))
        image = Image.alpha_composite(paper.convert("RGBA"), rgba.convert("RGBA")).convert(
            "RGB" if rgba.mode == "RGBA" else "L")
    return image, profile


@cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@cache
def _lab() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB", 5000))


_PROFILES: dict[tuple, tuple[tuple, ImageCms.ImageCmsProfile]] = {}
"""Profile files parsed, by path, with the stamp of the file they were parsed from (``_file_profile``)."""


def _file_profile(path: Path) -> ImageCms.ImageCmsProfile:
    """The ICC profile in the file at ``path``, parsed from its bytes once while the file is unchanged
    (``files.remembered``): kept by its path alone, a long-lived process (``serve``, ``watch``) went on
    converting with a profile replaced under the same name, while the prepared photo's cache key held
    the new profile's bytes."""
    return remembered(_PROFILES, path, lambda data: ImageCms.ImageCmsProfile(io.BytesIO(data)))


def grey_profile(paper: PaperSettings) -> Path | None:
    """The printing condition's grey profile (``<output_condition>_gr.icc``), if installed."""
    return press_profile(f"{paper.output_condition}_gr.icc")


def cmyk_profile(paper: PaperSettings) -> Path | None:
    """The CMYK profile assumed for an untagged CMYK photo: the paper's (if CMYK), the printing
    condition's, or Ghostscript's default CMYK profile."""
    candidates = [paper.icc_profile, press_profile(f"{paper.output_condition}.icc"),
                  *sorted(Path("/usr/share/ghostscript").glob("*/iccprofiles/default_cmyk.icc"))]
    for candidate in candidates:
        if candidate is not None and _space_of(candidate) == b"CMYK":
            return candidate
    return None


@cache
def _space_of(path: Path) -> bytes:
    with open(path, "rb") as file:
        return file.read(20)[16:20]


def tone_curve(lightness: float) -> float:
    """Dot area (0-1) to write so that newsprint prints CIELAB ``lightness`` (0-100, relative to
    paper white): ``TONE_CURVE`` inverted, linearly between its points. The fallback when the
    printing condition's grey profile is not installed; dot gain is compensated because the curve
    is what newsprint prints, gain included."""
    wanted = min(max(lightness, 0.0), 100.0)
    for (dot0, light0), (dot1, light1) in zip(TONE_CURVE, TONE_CURVE[1:]):
        if light1 <= wanted <= light0:
            share = (light0 - wanted) / (light0 - light1) if light0 != light1 else 0.0
            return (dot0 + share * (dot1 - dot0)) / 100
    return 1.0


def to_press_grey(image: Image.Image, profile: ImageCms.ImageCmsProfile | None, paper: PaperSettings
                  ) -> tuple[Image.Image, str]:
    """``image`` (from ``upright``) as the press's grey: an ``L`` image whose level ``v`` asks for a
    dot of ``1 - v / 255``; and how it was made."""
    if image.mode == "L":
        # One channel: the transform is a function of the level, so it is worked out on a ramp of
        # the 256 levels and applied as a table (the same result, in a fiftieth of the time).
        ramp = Image.new("L", (256, 1))
        ramp.putdata(range(256))
        grey, how = _to_press_grey(ramp, profile, paper)
        return image.point(list(grey.tobytes())), how  # the 256 levels, one byte each (an L ramp)
    return _to_press_grey(image, profile, paper)


def _to_press_grey(image: Image.Image, profile: ImageCms.ImageCmsProfile | None, paper: PaperSettings
                   ) -> tuple[Image.Image, str]:
    if profile is None:
        if image.mode == "CMYK":
            cmyk = cmyk_profile(paper)
            if cmyk is None:  # no CMYK profile anywhere: Pillow's plain conversion, then as sRGB
                image, profile = image.convert("RGB"), _srgb()
            else:
                profile = _file_profile(cmyk)
        elif image.mode == "LAB":
            profile = _lab()
        else:
            profile = _srgb()
            if image.mode == "L":
                image = image.convert("RGB")  # untagged grey: sRGB's tone curve (sGray)
    target = grey_profile(paper)
    intent = ImageCms.Intent.PERCEPTUAL
    flags = ImageCms.Flags.BLACKPOINTCOMPENSATION
    if target is not None:
        grey = _transformed(image, profile, _file_profile(target), "L", intent, flags)
        return grey, target.name
    # No grey profile: to Lab, then the measured newsprint curve on L*.
    lightness = _transformed(image, profile, _lab(), "LAB", ImageCms.Intent.RELATIVE_COLORIMETRIC, flags
                             ).getchannel("L")
    table = [round(255 * (1 - tone_curve(level / 255 * 100))) for level in range(256)]
    return lightness.point(table), "newsprint tone curve (no grey profile installed)"


_FREE: dict[tuple, list[ImageCms.ImageCmsTransform]] = {}
"""Transforms made and not in use, by what they convert (``_transformed``)."""
_FREE_LOCK = threading.Lock()


def _forked() -> None:
    """A process forked while a photo thread held the lock or a transform starts with its own lock
    and no transforms (a worker forked mid-compose, the compose server)."""
    global _FREE_LOCK
    _FREE_LOCK = threading.Lock()
    _FREE.clear()


os.register_at_fork(after_in_child=_forked)


def _transformed(image: Image.Image, source: ImageCms.ImageCmsProfile, target: ImageCms.ImageCmsProfile,
                 mode: str, intent: ImageCms.Intent, flags: ImageCms.Flags) -> Image.Image:
    """``image`` converted by LittleCMS from ``source`` to ``target`` (an image of ``mode``). A
    transform takes 6-9 ms to make and converts any image of its modes the same way, so it is made
    once a process for each pair of profiles (by their bytes), modes, intent and flags, and used
    again. It is lent to one thread at a time: LittleCMS keeps a one-pixel cache in the transform,
    which two threads must not share (a photo's preparation runs in a thread pool)."""
    key = (hashlib.sha256(source.tobytes()).digest(), hashlib.sha256(target.tobytes()).digest(),
           image.mode, mode, int(intent), int(flags))
    with _FREE_LOCK:
        free = _FREE.get(key)
        transform = free.pop() if free else None
    if transform is None:
        transform = ImageCms.buildTransform(source, target, image.mode, mode, intent, flags)
    try:
        return cast(Image.Image, ImageCms.applyTransform(image, transform))  # None only in place
    finally:
        with _FREE_LOCK:
            if len(_FREE) > 64:  # a long-lived process that met many profiles: start again
                _FREE.clear()
            _FREE.setdefault(key, []).append(transform)


def _clamp_table(highlight: float, shadow: float) -> list[int]:
    """Levels mapped so that dots run linearly from ``highlight`` to ``shadow`` (fractions)."""
    return [round(255 * (1 - (highlight + (shadow - highlight) * (1 - level / 255)))) for level in range(256)]


def _sharpen(image: Image.Image, ppi: float, ruling: float) -> Image.Image:
    """Unsharp mask for a screen of ``ruling`` lines per inch at ``ppi``: radius half a halftone
    cell (at least 0.5 px), strength 120 %, threshold 2 levels."""
    radius = max(0.5, ppi / ruling / 2)
    return image.filter(ImageFilter.UnsharpMask(radius=radius, percent=120, threshold=2))


def settings_key(paper: PaperSettings) -> bytes:
    """What a prepared photo depends on beside its source and size (profiles by their bytes)."""
    parts = [PREPARATION, str(JPEG_QUALITY), str(paper.max_image_ppi), f"{paper.photo_highlight:g}",
             f"{paper.photo_shadow:g}", f"{paper.screen_ruling:g}", str(ImageCms.core.littlecms_version),
             Image.__version__]
    for profile in (grey_profile(paper), cmyk_profile(paper)):
        parts.append(file_hash(profile) if profile else "-")
    return " ".join(parts).encode()


def target(photo: Photo, width_pt: float, height_pt: float, folder: Path, paper: PaperSettings,
           article: str = "") -> Path:
    """Where ``prepare`` writes the photo: named by the hash of all it is made from."""
    return _target(photo, folder, _made_from(photo, width_pt, height_pt, paper, article))


def _made_from(photo: Photo, width_pt: float, height_pt: float, paper: PaperSettings, article: str) -> str:
    """SHA-256 of all a prepared photo is made from."""
    key = hashlib.sha256(photo.path.read_bytes())
    key.update(f"{width_pt:.3f} {height_pt:.3f} {article}".encode() + settings_key(paper))
    if photo.focus != (0.5, 0.5):  # the point kept when cropping (``focus:``)
        key.update(f" focus {photo.focus[0]:.3f} {photo.focus[1]:.3f}".encode())
    return key.hexdigest()


def _target(photo: Photo, folder: Path, made_from: str) -> Path:
    return folder / f"{photo.path.stem}-{made_from[:16]}.jpg"


class Preparer:
    """Photos prepared on threads while the caller goes on (Pillow and LittleCMS let go of the GIL
    while they work): ``start`` gives a photo's file name at once, ``wait`` returns once every photo
    started is written (raising the first problem) and stops the threads, so that none is running
    when worker processes are forked."""

    def __init__(self, store: Store | None = None, threads: int | None = None) -> None:
        self.store = store
        """The build cache, where each prepared photo is kept (``images/`` holds this run's copies)."""
        self.threads = threads or max(1, min(4, os.cpu_count() or 1))
        self.pool: concurrent.futures.ThreadPoolExecutor | None = None
        self.started: dict[tuple, Path] = {}
        self.pending: list[concurrent.futures.Future[PreparedPhoto]] = []

    def start(self, photo: Photo, width_pt: float, height_pt: float, folder: Path, paper: PaperSettings,
              article: str = "") -> Path:
        """Start preparing ``photo`` (see ``prepare``) unless it was started before; its file."""
        key = (str(photo.path), round(width_pt, 2), round(height_pt, 2), article, photo.focus)
        if key not in self.started:
            made_from = _made_from(photo, width_pt, height_pt, paper, article)
            path = _target(photo, folder, made_from)
            self.started[key] = path
            if not _intact(path, made_from, self.store):
                if self.pool is None:
                    self.pool = concurrent.futures.ThreadPoolExecutor(self.threads, thread_name_prefix="photo")
                self.pending.append(self.pool.submit(prepare, photo, width_pt, height_pt, folder, paper, article,
                                                     self.store))
        return self.started[key]

    def wait(self) -> None:
        """Wait for every photo started; raise the first problem (an ``InputError``)."""
        pending, self.pending = self.pending, []
        try:
            for future in pending:
                future.result()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True, cancel_futures=True)
                self.pool = None

    def prune(self, folder: Path) -> None:
        """Remove the prepared photos in ``folder`` that this run did not use (the build cache keeps
        them, capped, for a later run that needs one again)."""
        used = set(self.started.values())
        for path in folder.glob("*.jpg"):
            if path not in used:
                with contextlib.suppress(OSError):
                    path.unlink()


def prepare(photo: Photo, width_pt: float, height_pt: float, folder: Path, paper: PaperSettings,
            article: str = "", store: Store | None = None) -> PreparedPhoto:
    """Make ``photo`` ready to print in a box of ``width_pt`` x ``height_pt`` (see the module notes),
    in ``folder``; kept in ``store`` (the build cache), it is made once."""
    source_ppi = _ppi(photo.width_px, photo.height_px, width_pt, height_pt)
    max_ppi = paper.max_image_ppi
    made_from = _made_from(photo, width_pt, height_pt, paper, article)
    target_path = _target(photo, folder, made_from)
    ppi = min(source_ppi, float(max_ppi))
    grey_name = grey_profile(paper)
    tone = grey_name.name if grey_name else "newsprint tone curve (no grey profile installed)"
    if _intact(target_path, made_from, store):
        return PreparedPhoto(photo.path, target_path, width_pt, height_pt, ppi, source_ppi, photo.mode, tone)
    label = f"{photo.path.parent.name}/{photo.path.name}" + (f" (article {article})" if article else "")
    try:
        image, profile = upright(photo.path)
    except PhotoProblem as problem:  # checked when the article was read: the file changed since
        shown = display_path(photo.path)
        raise InputError(f"{shown}: the photo cannot be printed", (Problem(
            shown, f"article {article}" if article else "", problem.message, problem.fix),)) from None
    with image:
        grey, tone = to_press_grey(image, profile, paper)
    crop = ImageOps.fit(grey, _crop_size(grey.size, width_pt, height_pt), Image.Resampling.LANCZOS,
                        centering=photo.focus)
    if source_ppi > max_ppi:
        size = (round(width_pt / 72 * max_ppi), round(height_pt / 72 * max_ppi))
        crop = crop.resize(size, Image.Resampling.LANCZOS)
    sharp = _sharpen(crop, ppi, paper.screen_ruling)
    data = _encode(sharp, paper.photo_highlight / 100, paper.photo_shadow / 100, label)
    write_atomic(target_path, data)
    if store is not None:
        store.put("photo", store.key("photo", made_from), data)  # see _intact
    return PreparedPhoto(photo.path, target_path, width_pt, height_pt, ppi, source_ppi, photo.mode, tone)


def _intact(target: Path, made_from: str, store: Store | None) -> bool:
    """Whether the prepared photo ``target`` (made from what ``made_from`` hashes) is there and
    whole: the build cache's entry for it is whole (sealed) and ``target`` holds its bytes. One the
    folder lost, or that changed there, is put back from the cache; one the cache does not hold (or
    holds damaged) is made again, never printed."""
    if store is None:
        return False
    kept = store.get("photo", store.key("photo", made_from))
    if kept is None or not (kept.startswith(b"\xff\xd8") and kept.endswith(b"\xff\xd9")):
        return False
    try:
        if target.read_bytes() == kept:
            return True
    except OSError:
        pass
    write_atomic(target, kept)
    return True


def _encode(image: Image.Image, highlight: float, shadow: float, label: str) -> bytes:
    """The JPEG of ``image`` with its dots compressed into [``highlight``, ``shadow``], checked
    after decoding."""
    darkest_level = math.ceil(255 * (1 - shadow))  # levels: 0 black, 255 paper
    lightest_level = math.floor(255 * (1 - highlight))
    low, high = highlight + 2 / 255, shadow - 2 / 255  # JPEG's ringing at edges: start a little inside
    for _ in range(8):
        data = _jpeg(image.point(_clamp_table(low, high)), label)
        with Image.open(io.BytesIO(data)) as decoded:
            least, most = cast(tuple[int, int], decoded.getextrema())  # grey: one band
        if least >= darkest_level + 1 and most <= lightest_level - 1:  # a level of margin for other decoders
            break
        # JPEG ringing overshoots at hard edges: narrow the range by the overshoot and encode again.
        low += max(0, most - (lightest_level - 1)) / 255
        high -= max(0, (darkest_level + 1) - least) / 255
    return data


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


def _jpeg(image: Image.Image, label: str) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=False, dpi=(300, 300),
               comment=COMMENT + label.encode("utf-8", "replace")[:400])
    return out.getvalue()

