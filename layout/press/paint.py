"""Stage 5 (preflight): what a plate paints, read from its content streams: ink, type sizes and image resolutions.

One pass over each page's content stream and the forms it draws (pikepdf parses them), following
the graphics state (``q``/``Q``, ``cm``, colours, ``Tf``, ``Tm``), gives every preflight check that
depends on what is painted:

- **Total ink** (C+M+Y+K, percent): the colour of everything painted inside the trim (fills,
  strokes, text) and the darkest pixel of every image. This is how a preflight tool checks objects,
  and it is exact: a thin rule or small type in a rich black is never averaged away, as it is in a
  coarse rendering. Knockout painting (what PDF/X-1a plates do unless they ask for overprint) never
  adds one object's ink to another's, so the darkest thing painted is the darkest point of the page.
  Paths and images wholly outside the trim (crop marks, drawn in every ink by design) are not
  counted; text is counted wherever it is, and what is painted and then clipped away is counted too
  (the check errs on the printer's side). What cannot be read so (overprint, where inks do add up;
  blending; shadings and patterns; spot colours; inline images; images in anything but grey) is
  rendered by Ghostscript in CMYK, clipped to the trim, and its darkest pixel measured.
- **Type sizes**: the size of all text shown, through its text matrix and the CTM.
- **Image resolutions**: each image's pixels over the size it is drawn at; a photo prepared by
  ``composing/images.py`` is known by the comment in its JPEG (its source file and article), and its lightest
  and darkest dots are read from its samples.
- **Where it is**: type below the paper's limits (``Limits``; reversed type, white on ink, has its
  own), strokes thinner than the thinnest rule, and marks in registration colour (all four inks,
  the crop and registration marks), each with its page and position.
"""

from __future__ import annotations

import concurrent.futures
import math
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pikepdf
from PIL import Image, ImageMath

from ..base.units import IDENTITY, Matrix, multiply, transform
from .accounting import operand_numbers, operand_values, operations

INK_DPI = 20
"""Resolution of the Ghostscript rendering: coarse, but wide enough to catch solids over the limit."""
INK_BATCH = 8
"""Plates a Ghostscript run renders: its start-up costs more than rendering a page this coarsely,
so plates are rendered in batches, one batch a core."""

FILL = {"f", "F", "f*", "B", "B*", "b", "b*"}
STROKE = {"S", "s", "B", "B*", "b", "b*"}
TEXT = {"Tj", "TJ", "'", '"'}
COLOUR = frozenset(("g", "G", "k", "K", "rg", "RG", "cs", "CS", "sc", "scn", "SC", "SCN", "gs", "sh", "BI",
                    "INLINE IMAGE"))
"""The operators ``_Reader._colour`` reads (the others' operands are not read at all)."""
_HEX_DIGIT = re.compile(rb"<\s*[0-9A-Fa-f]")
"""A hex string's first digit (``_shows``)."""
DEVICE = {"/DeviceGray": 1, "/G": 1, "/DeviceCMYK": 4, "/CMYK": 4}
BLACK = {1: (0.0,), 4: (0.0, 0.0, 0.0, 1.0)}
"""The colour a colour space starts with (``cs``): black."""
PHOTO_COMMENT = b"layout photo: "
"""Start of the JPEG comment that names a prepared photo's source and article (``composing/images.py``)."""


@dataclass(frozen=True)
class Limits:
    """Sizes below which what is painted is noted with its position (the paper's preflight limits)."""

    type_size: float = 7.0
    reversed_type_size: float = 8.0
    rule_width: float = 0.25


@dataclass(frozen=True)
class Placed:
    """Something painted, where: ``x``, ``y`` in points from the trim's top-left corner."""

    page: int
    x: float
    y: float
    size: float
    """Type size, stroke width or image resolution (ppi)."""
    what: str = ""
    """``reversed`` for reversed type; a photo's source and article; "" otherwise."""
    dots: tuple[float, float] = (-1.0, -1.0)
    """A grey image's lightest and darkest dot, percent ((-1, -1) if it is not plain grey)."""


def label_of(jpeg: bytes) -> str:
    """The source file and article named in a prepared photo's JPEG comment ("" if none)."""
    index = jpeg.find(b"\xff\xfe", 0, 8192)
    while index != -1:
        length = int.from_bytes(jpeg[index + 2:index + 4], "big")
        text = jpeg[index + 4:index + 2 + length]
        if text.startswith(PHOTO_COMMENT):
            return text[len(PHOTO_COMMENT):].decode("utf-8", "replace")
        index = jpeg.find(b"\xff\xfe", index + 2 + max(length, 1), 8192)
    return ""


@dataclass(frozen=True)
class Paint:
    """What a PDF paints."""

    ink: float | None
    """The largest total ink inside the trim, percent; None if only a rendering can tell (overprint,
    blending, shadings, patterns, spot colours, non-grey images)."""
    smallest_type: float
    """The smallest type shown, in points (infinity if there is no text)."""
    images: tuple[tuple[int, float], ...]
    """(page, ppi) of every image drawn: the lower of its two resolutions at its drawn size."""
    rgb: tuple[tuple[int, str], ...] = ()
    """(page, operator) where an RGB colour is set (``rg``, ``RG``)."""
    small_type: tuple[Placed, ...] = ()
    """Type below ``Limits.type_size`` (or reversed type below ``Limits.reversed_type_size``)."""
    hairlines: tuple[Placed, ...] = ()
    """Strokes inside the trim thinner than ``Limits.rule_width``."""
    registration: tuple[Placed, ...] = ()
    """Strokes in registration colour (all four inks): ``what`` is ``curve`` for a target's circle."""
    photos: tuple[Placed, ...] = ()
    """Every image drawn (``size`` its ppi; ``what`` a prepared photo's source and article)."""


def read_paint(path: Path, limits: Limits = Limits()) -> Paint:
    """Read what the PDF at ``path`` paints (raises ``pikepdf.PdfError`` if it cannot be opened)."""
    with pikepdf.open(path) as pdf:
        reader = _Reader(limits)
        for number, page in enumerate(pdf.pages, start=1):
            reader.page = number
            reader.trim = tuple(float(v) for v in page.obj.get("/TrimBox", page.MediaBox))
            reader.run(page.obj, page.Resources, IDENTITY, {})
        return Paint(None if reader.unread else reader.darkest, reader.smallest, tuple(reader.images),
                     tuple(sorted(reader.rgb)), tuple(reader.small_type), tuple(reader.hairlines),
                     tuple(reader.registration), tuple(reader.photos))


def object_ink(path: Path) -> float | None:
    """The largest total ink painted inside the trim, read from the objects (see ``read_paint``);
    None if it cannot be read so."""
    try:
        return read_paint(path).ink
    except pikepdf.PdfError:
        return None


class _Reader:
    """Follows the graphics state through content streams, noting what is painted."""

    def __init__(self, limits: Limits = Limits()) -> None:
        self.limits = limits
        self.small_type: list[Placed] = []
        self.hairlines: list[Placed] = []
        self.registration: list[Placed] = []
        self.photos: list[Placed] = []
        self.samples: dict[tuple[int, int], tuple[str, tuple[float, float]] | None] = {}
        self.page = 0
        self.trim: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)
        self.darkest = 0.0
        self.smallest = math.inf
        self.images: list[tuple[int, float]] = []
        self.unread = ""
        self.rgb: set[tuple[int, str]] = set()

    def run(self, stream: pikepdf.Object, resources: pikepdf.Object, ctm: Matrix, inherited: dict,
            seen: frozenset = frozenset()) -> None:
        """Read one content stream (a page's, or a form's drawn with ``ctm`` and ``inherited`` state)."""
        if stream.objgen in seen:
            raise ValueError("a form draws itself")
        seen = seen | {stream.objgen}
        state = {"fill": (1, BLACK[1]), "stroke": (1, BLACK[1]), "render": 0, "size": 0.0, "width": 1.0,
                 **inherited, "ctm": ctm}
        stack: list[dict] = []
        path: list[tuple[float, float]] = []
        curved = False
        text_matrix = IDENTITY
        for written, operator, _ in operations(stream):  # operands as written (or values): read when used
            op = operator.decode()
            if op == "q":
                stack.append(dict(state))
            elif op == "Q":
                state = stack.pop() if stack else state
            elif op == "cm":
                state["ctm"] = multiply(tuple(operand_numbers(written)), state["ctm"])  # type: ignore[arg-type]
            elif op in ("m", "l", "c", "v", "y"):
                curved = curved or op in ("c", "v", "y")
                values = operand_numbers(written)
                path += [transform(state["ctm"], values[i], values[i + 1]) for i in range(0, len(values), 2)]
            elif op == "re":
                x, y, w, h = operand_numbers(written)
                path += [transform(state["ctm"], px, py) for px, py in ((x, y), (x + w, y), (x, y + h), (x + w, y + h))]
            elif op in FILL or op in STROKE:
                if op in STROKE and path:
                    self._stroke(state, path, curved)
                self._paint(state, op in FILL, op in STROKE, path)
                path, curved = [], False
            elif op == "n":
                path, curved = [], False
            elif op == "w":
                state["width"] = abs(operand_numbers(written)[0])
            elif op == "BT":
                text_matrix = IDENTITY
            elif op == "Tm":
                text_matrix = tuple(operand_numbers(written))  # type: ignore[assignment]
            elif op in ("Td", "TD"):  # moves the start of the line (the position findings give)
                tx, ty = operand_numbers(written)
                text_matrix = multiply((1.0, 0.0, 0.0, 1.0, tx, ty), text_matrix)
            elif op == "Tf":
                state["size"] = abs(float(operand_values(written)[1]))
            elif op == "Tr":
                state["render"] = int(operand_numbers(written)[0])
            elif op in TEXT:
                self._text(state, text_matrix, written)
            elif op == "Do":
                self._draw(resources.XObject[operand_values(written)[0]], resources, state, seen)
            elif op in COLOUR:
                self._colour(op, operand_values(written) if written else [], state, resources)

    def _colour(self, op: str, operands: list, state: dict, resources: pikepdf.Object) -> None:
        """Colour operators, and what makes the ink unreadable from the objects."""
        if op in ("g", "G", "k", "K"):
            state["fill" if op.islower() else "stroke"] = (len(operands), tuple(float(v) for v in operands))
        elif op in ("rg", "RG"):
            self.rgb.add((self.page, op))
            self._unread("RGB colour")
        elif op in ("cs", "CS"):
            components = _space(operands[0], resources)
            if components is None:
                self._unread(f"colour space {operands[0]}")
                components = 1
            state["fill" if op == "cs" else "stroke"] = (components, BLACK[components])
        elif op in ("sc", "scn", "SC", "SCN"):
            key = "fill" if op.islower() else "stroke"
            if len(operands) != state[key][0] or any(isinstance(v, str | list) for v in operands):
                self._unread("a pattern, or a colour of another colour space")
            else:
                state[key] = (state[key][0], tuple(float(v) for v in operands))
        elif op == "gs":
            if not _knockout(resources.ExtGState[operands[0]]):
                self._unread("overprint or blending")
        elif op in ("sh", "BI", "INLINE IMAGE"):
            if op == "INLINE IMAGE" and operands and _inline_rgb(operands[0], resources):
                self.rgb.add((self.page, "an inline image in RGB or Lab"))
            self._unread("a shading or an inline image")

    def _unread(self, why: str) -> None:
        self.unread = self.unread or why

    def _stroke(self, state: dict, path: list[tuple[float, float]], curved: bool) -> None:
        """Note a hairline inside the trim, or a mark in registration colour."""
        ctm = state["ctm"]
        width = state["width"] * math.sqrt(abs(ctm[0] * ctm[3] - ctm[1] * ctm[2]))
        components, values = state["stroke"]
        xs, ys = [p[0] for p in path], [p[1] for p in path]
        x, y = self._from_trim((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
        if components == 4 and all(v >= 0.999 for v in values):
            self.registration.append(Placed(self.page, x, y, width, "curve" if curved else "line"))
        elif width < self.limits.rule_width - 0.005 and self._inside(path):
            self.hairlines.append(Placed(self.page, x, y, width))

    def _from_trim(self, x: float, y: float) -> tuple[float, float]:
        x0, y0, x1, y1 = self.trim
        return x - min(x0, x1), max(y0, y1) - y

    def _text(self, state: dict, text_matrix: Matrix, written: bytes | list) -> None:
        matrix = multiply(text_matrix, state["ctm"])
        size = state["size"] * math.hypot(matrix[2], matrix[3])
        render = state["render"]
        fill, stroke = render in (0, 2, 4, 6), render in (1, 2, 5, 6)
        if fill or stroke:
            white = fill and _total(*state["fill"]) < 0.5 and not (stroke and _total(*state["stroke"]) >= 0.5)
            limit = self.limits.reversed_type_size if white else self.limits.type_size
            if size < limit - 0.05 and _shows(written):
                x, y = self._from_trim(matrix[4], matrix[5])
                self.small_type.append(Placed(self.page, x, y, size, "reversed" if white else ""))
        darker = (fill and _total(*state["fill"]) > self.darkest) or \
            (stroke and _total(*state["stroke"]) > self.darkest)
        if (size >= self.smallest and not darker) or not _shows(written):  # looking costs: only if it counts
            return
        self.smallest = min(self.smallest, size)
        self._paint(state, fill, stroke, None)

    def _draw(self, xobject: pikepdf.Object, resources: pikepdf.Object, state: dict, seen: frozenset) -> None:
        ctm = state["ctm"]
        if xobject.Subtype == "/Form":
            matrix = tuple(float(v) for v in xobject.get("/Matrix", IDENTITY))
            inherited = {key: state[key] for key in ("fill", "stroke", "render", "size", "width")}
            self.run(xobject, xobject.get("/Resources", resources), multiply(matrix, ctm), inherited, seen)  # type: ignore[arg-type]
            return
        if xobject.Subtype != "/Image":
            return
        width, height = math.hypot(ctm[0], ctm[1]), math.hypot(ctm[2], ctm[3])
        corners = [transform(ctm, x, y) for x, y in ((0, 0), (1, 0), (0, 1), (1, 1))]
        if not xobject.get("/ImageMask", False) and width > 0 and height > 0:
            ppi = min(int(xobject.Width) / width, int(xobject.Height) / height) * 72
            self.images.append((self.page, ppi))
            label, dots = self._samples(xobject)
            x, y = self._from_trim(sum(c[0] for c in corners) / 4, sum(c[1] for c in corners) / 4)  # its centre
            self.photos.append(Placed(self.page, x, y, ppi, label, dots))
        if not self._inside(corners):
            return
        if xobject.get("/ImageMask", False):
            self._paint(state, True, False, None)
        elif not self.unread:
            why = _image_unreadable(xobject)
            if why:
                self._unread(why)
            else:
                self.darkest = max(self.darkest, self._samples(xobject)[1][1])

    def _samples(self, image: pikepdf.Object) -> tuple[str, tuple[float, float]]:
        """A grey image's label (a prepared photo's source and article) and its lightest and darkest
        dots, percent; read once an image."""
        key = image.objgen
        if key not in self.samples or key == (0, 0):
            label = ""
            if str(image.get("/Filter")) == "/DCTDecode":
                label = label_of(image.read_raw_bytes()[:8192])
            dots = (-1.0, -1.0)  # not read: not a plain grey image
            if not _image_unreadable(image):
                dots = _grey_image_dots(image)
            self.samples[key] = (label, dots)
        return self.samples[key]  # type: ignore[return-value]

    def _paint(self, state: dict, fill: bool, stroke: bool, path: list[tuple[float, float]] | None) -> None:
        if path is not None and (not path or not self._inside(path)):
            return
        if fill:
            self.darkest = max(self.darkest, _total(*state["fill"]))
        if stroke:
            self.darkest = max(self.darkest, _total(*state["stroke"]))

    def _inside(self, points: list[tuple[float, float]]) -> bool:
        """Whether the box around ``points`` reaches into the trim."""
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        x0, y0, x1, y1 = self.trim
        return max(xs) > x0 and min(xs) < x1 and max(ys) > y0 and min(ys) < y1


def _shows(written: bytes | list) -> bool:
    """Whether a text-showing operator shows any glyph (not an empty string); its operands as written
    or as ``accounting._operands`` reads them (strings as bytes, arrays as lists). A ``<`` then a hex
    digit is a hex string of at least one byte, or within a literal string that is not empty: either
    way a glyph is shown, and the operands need not be read."""
    if isinstance(written, bytes) and _HEX_DIGIT.search(written):
        return True
    operands = operand_values(written)
    shown = operands[0] if operands else b""
    if isinstance(shown, list):
        return any(isinstance(v, bytes) and len(v) for v in shown)
    return bool(operands) and isinstance(operands[-1], bytes) and len(operands[-1]) > 0



def _space(name: pikepdf.Object, resources: pikepdf.Object) -> int | None:
    """Components of a colour space that is grey or CMYK (device or ICC); None for any other."""
    key = str(name)
    if key in DEVICE:
        return DEVICE[key]
    space = resources.ColorSpace.get(key) if "/ColorSpace" in resources else None
    if isinstance(space, pikepdf.Name) and str(space) in DEVICE:
        return DEVICE[str(space)]
    if isinstance(space, pikepdf.Array) and len(space) == 2 and str(space[0]) == "/ICCBased" \
            and int(space[1].get("/N", 0)) in (1, 4):
        return int(space[1].N)
    return None


def _knockout(state: pikepdf.Object) -> bool:
    """Whether a graphics state paints each object over the others (no overprint, blending or mask)."""
    return not (state.get("/OP", False) or state.get("/op", False)) and str(state.get("/BM", "/Normal")) in (
        "/Normal", "/Compatible") and str(state.get("/SMask", "/None")) == "/None"


def _total(components: int, values: tuple[float, ...]) -> float:
    if components == 1:
        return (1.0 - min(max(values[0], 0.0), 1.0)) * 100
    return sum(min(max(v, 0.0), 1.0) for v in values) * 100


def _image_unreadable(image: pikepdf.Object) -> str:
    """Why an image's ink cannot be read from its samples ("" if it can: plain grey)."""
    if str(image.get("/ColorSpace")) not in ("/DeviceGray", "/G") or "/Decode" in image or "/SMask" in image \
            or "/Mask" in image:
        return "an image that is not plain grey"
    return ""


def _grey_image_dots(image: pikepdf.Object) -> tuple[float, float]:
    """A grey image's lightest and darkest dot, percent."""
    extrema = pikepdf.PdfImage(image).as_pil_image().convert("L").getextrema()  # type: ignore[arg-type]  # a stream
    darkest_level, lightest_level = cast(tuple[int, int], extrema)  # one band: (darkest, lightest)
    return (1.0 - lightest_level / 255) * 100, (1.0 - darkest_level / 255) * 100


def rendered_inks(paths: list[Path]) -> list[float | None] | None:
    """Largest total ink inside the trim of each PDF, rendered by Ghostscript in CMYK, a run a batch
    of them, the batches on every core; None without Ghostscript. A PDF Ghostscript cannot read
    fails its run, so then each of that batch is rendered alone, and an unreadable one gets None."""
    gs = shutil.which("gs")
    if gs is None:
        return None
    if len(paths) <= INK_BATCH:
        return _ink_batch(gs, paths)
    cores = os.cpu_count() or 1
    size = max(INK_BATCH, math.ceil(len(paths) / cores))
    batches = [paths[i:i + size] for i in range(0, len(paths), size)]
    with concurrent.futures.ThreadPoolExecutor(len(batches)) as pool:
        return [ink for found in pool.map(lambda batch: _ink_batch(gs, batch), batches) for ink in found]


def _ink_batch(gs: str, paths: list[Path], retry: bool = False) -> list[float | None]:
    if not paths:
        return []
    counts = []
    for path in paths:
        try:
            with pikepdf.open(path) as pdf:
                counts.append(len(pdf.pages))
        except Exception:  # noqa: BLE001 (any damage: Ghostscript will say; counted as one page)
            counts.append(1)
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "ink-%05d.tif"
        done = subprocess.run([gs, "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-dUseTrimBox", "-sDEVICE=tiff32nc",
                               f"-r{INK_DPI}", f"-sOutputFile={target}", *map(str, paths)],
                              capture_output=True, check=False)
        tifs = sorted(Path(folder).glob("ink-*.tif"))
        if done.returncode != 0 or len(tifs) != sum(counts):
            if len(paths) == 1:
                return [None] if retry else _ink_batch(gs, paths, retry=True)
            return [_ink_batch(gs, [path])[0] for path in paths]
        out: list[float | None] = []
        for count in counts:
            out.append(max((_darkest(tif) for tif in tifs[:count]), default=0.0))
            tifs = tifs[count:]
        return out


def _darkest(tif: Path) -> float:
    """Total ink, percent, of the darkest pixel of a CMYK rendering."""
    with Image.open(tif) as image:
        channels = image.convert("CMYK").split()
    total = ImageMath.lambda_eval(lambda a: a["c"] + a["m"] + a["y"] + a["k"],
                                  c=channels[0], m=channels[1], y=channels[2], k=channels[3])
    return total.getextrema()[1] / 255 * 100



INLINE_SPACES = {"/RGB": "/DeviceRGB", "/G": "/DeviceGray", "/CMYK": "/DeviceCMYK", "/I": "/Indexed"}


def _inline_rgb(image: object, resources: pikepdf.Object) -> bool:
    """Whether an inline image (``BI ... ID ... EI``) is in RGB, calibrated or Lab colour: its
    abbreviated or named colour space (a page resource), an Indexed one's base included."""
    try:
        data = image.obj  # type: ignore[attr-defined]
    except AttributeError:
        return False
    space = data.get("/CS", data.get("/ColorSpace"))
    for _ in range(4):  # a name of the page's resources, or Indexed on a base
        if isinstance(space, pikepdf.Name) and "/ColorSpace" in resources and space in resources.ColorSpace:
            space = resources.ColorSpace[space]
        if isinstance(space, pikepdf.Array) and len(space) > 1 and str(space[0]) in ("/Indexed", "/I"):
            space = space[1]
            continue
        break
    family = str(space[0]) if isinstance(space, pikepdf.Array) and len(space) else str(space)
    family = INLINE_SPACES.get(family, family)
    if family == "/ICCBased":
        return int(space[1].get("/N", 0)) == 3
    return family in ("/DeviceRGB", "/CalRGB", "/Lab")
