"""Stage 7: preflight the plates, from the PDFs themselves, before a printer does.

Checks: page boxes and size, fonts embedded, colour spaces (no RGB, Lab, spot or ICC-RGB, in
content streams and images), image resolution at placed size, total ink (read from the plate's
objects, see ``paint.py``; rendered by Ghostscript where it cannot be), smallest type, PDF/X
identification and output intent, transparency (PDF/X-1a), and that no copy was overset.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import math
import multiprocessing
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pikepdf
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from .accounting import PlateCopy, copy_findings, story_findings
from .cache import read_sealed, write_sealed
from .paint import Paint, read_paint, rendered_inks
from .render import completed, guard_worker
from .settings import PaperSettings

MIN_TYPE_PT = 6.0
BOX_TOLERANCE = 0.5


@dataclass(frozen=True)
class Finding:
    """One preflight result."""

    plate: str
    check: str
    ok: bool
    message: str


def _resolve(value):  # type: ignore[no-untyped-def]
    return value.get_object() if isinstance(value, IndirectObject) else value


def _colour_space_name(space) -> str:  # type: ignore[no-untyped-def]
    space = _resolve(space)
    if isinstance(space, ArrayObject):
        kind = str(_resolve(space[0]))
        if kind == "/ICCBased":
            n = int(_resolve(space[1]).get("/N", 0))
            return {1: "/DeviceGray", 3: "/ICCBased-RGB", 4: "/DeviceCMYK"}.get(n, "/ICCBased")
        if kind == "/Indexed":
            return _colour_space_name(space[1])
        return kind
    return str(space)


BAD_SPACES = {"/DeviceRGB": "RGB", "/ICCBased-RGB": "RGB (ICC)", "/CalRGB": "RGB (calibrated)", "/Lab": "Lab",
              "/Separation": "spot colour", "/DeviceN": "spot colour (DeviceN)"}


def _walk_resources(resources, seen: set[int]):  # type: ignore[no-untyped-def]
    """Yield (resources dict, content-bearing object) for a page's resources and nested forms."""
    resources = _resolve(resources) or DictionaryObject()
    yield resources
    for ref in (_resolve(resources.get("/XObject")) or {}).values():
        obj = _resolve(ref)
        key = id(obj)
        if key in seen:
            continue
        seen.add(key)
        if obj.get("/Subtype") == "/Form" and "/Resources" in obj:
            yield from _walk_resources(obj["/Resources"], seen)


def _colour_findings(reader: PdfReader, paint: Paint) -> list[str]:
    problems = [f"page {number}: RGB colour in the page content ({operator})" for number, operator in paint.rgb]
    for number, page in enumerate(reader.pages, start=1):
        seen: set[int] = set()
        for resources in _walk_resources(page.get("/Resources"), seen):
            for name, space in (_resolve(resources.get("/ColorSpace")) or {}).items():
                kind = _colour_space_name(space)
                if kind in BAD_SPACES:
                    problems.append(f"page {number}: {BAD_SPACES[kind]} colour space {name}")
            for name, ref in (_resolve(resources.get("/XObject")) or {}).items():
                obj = _resolve(ref)
                if obj.get("/Subtype") == "/Image":
                    kind = _colour_space_name(obj.get("/ColorSpace", "/DeviceGray"))
                    if kind in BAD_SPACES:
                        problems.append(f"page {number}: image {name} is {BAD_SPACES[kind]} "
                                        f"({obj.get('/Width')} x {obj.get('/Height')} px)")
            for name, ref in (_resolve(resources.get("/Shading")) or {}).items():
                kind = _colour_space_name(_resolve(ref).get("/ColorSpace"))
                if kind in BAD_SPACES:
                    problems.append(f"page {number}: shading {name} is {BAD_SPACES[kind]}")
    return sorted(set(problems))


def _transparency(reader: PdfReader) -> list[str]:
    problems = []
    for number, page in enumerate(reader.pages, start=1):
        for resources in _walk_resources(page.get("/Resources"), set()):
            for name, ref in (_resolve(resources.get("/ExtGState")) or {}).items():
                state = _resolve(ref)
                if float(state.get("/ca", 1)) < 1 or float(state.get("/CA", 1)) < 1 or \
                        str(state.get("/SMask", "/None")) != "/None":
                    problems.append(f"page {number}: transparency in graphics state {name}")
            for name, ref in (_resolve(resources.get("/XObject")) or {}).items():
                obj = _resolve(ref)
                if obj.get("/Subtype") == "/Image" and ("/SMask" in obj or "/SMaskInData" in obj):
                    problems.append(f"page {number}: image {name} has a soft mask (transparency)")
                if obj.get("/Subtype") == "/Form" and "/Group" in obj:
                    problems.append(f"page {number}: transparency group in form {name}")
    return sorted(set(problems))


def _fonts(reader: PdfReader) -> list[str]:
    problems = []
    for number, page in enumerate(reader.pages, start=1):
        for resources in _walk_resources(page.get("/Resources"), set()):
            for name, ref in (_resolve(resources.get("/Font")) or {}).items():
                font = _resolve(ref)
                base = str(font.get("/BaseFont", name))
                if font.get("/Subtype") == "/Type3":
                    problems.append(f"page {number}: font {base} is a Type 3 (bitmap) font")
                    continue
                target = _resolve(font["/DescendantFonts"][0]) if "/DescendantFonts" in font else font
                descriptor = _resolve(target.get("/FontDescriptor")) or {}
                files = [k for k in ("/FontFile", "/FontFile2", "/FontFile3") if k in descriptor]
                if not files:
                    problems.append(f"page {number}: font {base} is not embedded")
                elif _restricted(_resolve(descriptor[files[0]]).get_data()):
                    problems.append(f"page {number}: font {base} is embedded but its licence forbids "
                                    "embedding (OS/2 fsType: restricted)")
    return sorted(set(problems))


def _restricted(data: bytes) -> bool:
    """True if a font program's OS/2 fsType says it may not be embedded (restricted licence)."""
    if data[:4] not in (b"\x00\x01\x00\x00", b"true", b"OTTO") or len(data) < 12:
        return False  # not a TrueType/OpenType program (CFF, Type 1): nothing to read
    tables = int.from_bytes(data[4:6], "big")
    for record in range(12, min(12 + 16 * tables, len(data) - 15), 16):  # the sfnt table directory
        if data[record:record + 4] == b"OS/2":
            offset = int.from_bytes(data[record + 8:record + 12], "big")
            fs_type = int.from_bytes(data[offset + 8:offset + 10], "big")  # OS/2 version, xAvgCharWidth, ...
            return fs_type & 0x000F == 0x0002
    return False


def _read_paint(path: Path) -> Paint | None:
    try:
        return read_paint(path)
    except (pikepdf.PdfError, KeyError, ValueError, TypeError, AttributeError, IndexError):
        return None  # reported as a finding


def _checks_but_ink(path: Path, paper: PaperSettings, paint: Paint | None) -> list[Finding]:
    """Every check of a plate but the ink; ``paint``: what the plate paints (None if its
    content streams could not be read)."""
    name = path.name
    reader = PdfReader(path)
    findings: list[Finding] = []

    def add(check: str, problems: list[str], ok_message: str) -> None:
        if problems:
            findings.extend(Finding(name, check, False, p) for p in problems)
        else:
            findings.append(Finding(name, check, True, ok_message))

    boxes = []
    for number, page in enumerate(reader.pages, start=1):
        trim = [float(v) for v in page.trimbox]
        media = [float(v) for v in page.mediabox]
        size = (trim[2] - trim[0], trim[3] - trim[1])
        if "/TrimBox" not in page:
            boxes.append(f"page {number}: no TrimBox")
        elif abs(size[0] - paper.trim_width) > BOX_TOLERANCE or abs(size[1] - paper.trim_height) > BOX_TOLERANCE:
            boxes.append(f"page {number}: trim {size[0] / 2.8346:.1f} x {size[1] / 2.8346:.1f} mm, the paper is "
                         f"{paper.trim_width / 2.8346:.1f} x {paper.trim_height / 2.8346:.1f} mm")
        outer = [float(v) for v in page.bleedbox] if "/BleedBox" in page else media
        bleed = (outer[2] - outer[0] - size[0]) / 2
        if abs(bleed - paper.bleed) > BOX_TOLERANCE:
            boxes.append(f"page {number}: bleed {bleed:.1f} pt, the paper asks {paper.bleed:.1f} pt")
        if paper.bleed and "/BleedBox" not in page:
            boxes.append(f"page {number}: bleed is set but there is no BleedBox")
    add("page boxes", boxes, f"{len(reader.pages)} page(s), trim and bleed as the paper settings say")
    add("fonts", _fonts(reader), "every font embedded")
    if paint is not None:
        add("colour", _colour_findings(reader, paint), "CMYK and grey only")
    root = reader.trailer["/Root"]
    intents = [_resolve(i) for i in _resolve(root.get("/OutputIntents", ArrayObject()))]
    pdfx = []
    if not any(str(i.get("/S")) == "/GTS_PDFX" for i in intents):
        pdfx.append("no PDF/X OutputIntent")
    version = str((reader.metadata or {}).get("/GTS_PDFXVersion", ""))
    if not version.startswith("PDF/X"):
        pdfx.append("no GTS_PDFXVersion in the document information")
    add("PDF/X", pdfx, f"{version}, output intent {paper.output_condition}")
    if paper.pdfx == "x-1a":
        add("transparency", _transparency(reader), "none (PDF/X-1a)")
    if paint is None:
        add("content", ["the content streams could not be read (colour, type size and image resolution not "
                        "checked): is the PDF damaged?"], "")
        return findings
    smallest = paint.smallest_type
    add("type size", [f"text set at {smallest:.1f} pt, below {MIN_TYPE_PT:g} pt"] if smallest < MIN_TYPE_PT - 0.05
        else [], f"smallest type {smallest:.1f} pt" if smallest < math.inf else "no text")
    low = [f"page {p}: an image at {ppi:.0f} ppi, below {paper.min_image_ppi} ppi" for p, ppi in paint.images
           if ppi < paper.min_image_ppi - 0.5]
    add("image resolution", low, f"{len(paint.images)} image(s), all at least {paper.min_image_ppi} ppi")
    return findings


def check_issue(plates: list[Path], paper: PaperSettings, fit: dict | None, cache: Path | None = None,
                keys: list[str] | None = None, copies: list[PlateCopy] | None = None) -> list[Finding]:
    """Preflight every plate and the fit report; return every finding (on every core: a pool of
    its own, whose workers end with this process; see ``start_checks``)."""
    if len(plates) > 1 and (os.cpu_count() or 1) > 1:
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(os.cpu_count(), mp_context=context, initializer=guard_worker,
                                                    initargs=(os.getpid(),)) as pool:
            return start_checks(plates, paper, fit, cache, keys, pool.submit, copies).result()
    return start_checks(plates, paper, fit, cache, keys, copies=copies).result()


@dataclass
class Checks:
    """The preflight of an issue's plates, under way (``start_checks``)."""

    plates: list[Path]
    paper: PaperSettings
    fit: dict | None
    stored: list[Path | None]
    results: list[list | None]
    todo: list[int]
    checked: list[concurrent.futures.Future[tuple[list[Finding], float | None]]]
    copies: list[PlateCopy] | None = None
    """What each plate must show: jumped stories are accounted for over all their plates."""

    def result(self) -> list[Finding]:
        """Every finding, once the plates' checks are done (Ghostscript renders the inks of those
        whose ink cannot be read from their objects)."""
        plates, paper, results = self.plates, self.paper, self.results
        findings = []
        if self.fit is not None:
            over = self.fit.get("overset", [])
            findings.append(Finding("fit.json", "overset", not over,
                                    f"overset: {', '.join(over)}" if over else "no copy overset"))
        checked = [future.result() for future in self.checked]
        unread = [position for position, (_, ink) in enumerate(checked) if ink is None]
        rendered = rendered_inks([plates[self.todo[position]] for position in unread]) if unread else []
        inks: list[float | str] = [NO_GHOSTSCRIPT if ink is None else ink for _, ink in checked]
        for position, ink in zip(unread, rendered or []):
            inks[position] = NOT_RENDERED if ink is None else ink
        for position, (index, (plate_findings, _)) in enumerate(zip(self.todo, checked)):
            results[index] = plate_findings = plate_findings + _ink_findings(plates[index].name, inks[position], paper)
            if self.stored[index] is not None:
                write_sealed(self.stored[index], json.dumps([[f.plate, f.check, f.ok, f.message]
                                                             for f in plate_findings]).encode())
        for plate, result in zip(plates, results):
            findings.extend(Finding(plate.name, *f[1:]) if isinstance(f, list) else f for f in result or [])
        return story_findings(self.copies, findings) if self.copies else findings


def start_checks(plates: list[Path], paper: PaperSettings, fit: dict | None, cache: Path | None = None,
                 keys: list[str] | None = None, submit: Callable | None = None,
                 copies: list[PlateCopy] | None = None) -> Checks:
    """Start preflighting every plate and the fit report: each plate's checks are handed to
    ``submit`` (a worker pool's; without one they run here, now) at once, so that they run while
    the caller goes on. With ``copies`` (what each plate must show), every word of every article is
    accounted for on its plate (``accounting.py``).

    With ``cache``, a plate checked before is not checked again: it is known by ``keys`` (the hash
    of its own inputs) or else by its own bytes, and the paper settings. Ghostscript renders the
    inks only of plates whose ink cannot be read from their objects (see ``paint.py``).
    """
    expected = copies if copies is not None and len(copies) == len(plates) else [None] * len(plates)
    stored = [_stored(plate, paper, cache, keys[index] if keys else None, copy.digest if copy else "")
              for index, (plate, copy) in enumerate(zip(plates, expected))]
    results: list[list | None] = [_load(path) for path in stored]
    todo = [index for index, result in enumerate(results) if result is None]
    checked = [submit(_check_job, (plates[index], paper, expected[index])) if submit is not None else completed(
        _check_job((plates[index], paper, expected[index]))) for index in todo]
    return Checks(plates, paper, fit, stored, results, todo, checked,
                  copies if copies is not None and len(copies) == len(plates) else None)


def _check_job(job: tuple) -> tuple[list[Finding], float | None]:
    """One plate's checks, and its ink if it can be read from its objects (a worker process runs
    this: the plates are checked on every core)."""
    path, paper, copy = job
    paint = _read_paint(path)
    try:
        findings = _checks_but_ink(path, paper, paint)
    except Exception as error:  # noqa: BLE001 - a damaged PDF fails pypdf in any of its ways
        return [Finding(path.name, "readable", False, f"the plate cannot be read as a PDF ({type(error).__name__}: "
                        f"{str(error)[:120]}): is it damaged or truncated? compose again")], None
    if copy is not None:
        findings += copy_findings(path, copy)
    return findings, paint.ink if paint is not None else None


NO_GHOSTSCRIPT = "not checked: the plate paints with what only a rendering can measure, and Ghostscript " \
    "is not installed"
NOT_RENDERED = "Ghostscript could not render the plate to measure its ink (is the PDF damaged?)"


def _ink_findings(name: str, ink: float | str, paper: PaperSettings) -> list[Finding]:
    """The total-ink finding: ``ink`` is a percentage, or why it is not known (``NO_GHOSTSCRIPT``,
    ``NOT_RENDERED``)."""
    if isinstance(ink, str):
        return [Finding(name, "total ink", ink == NO_GHOSTSCRIPT, ink)]
    if ink > paper.ink_limit + 0.5:
        return [Finding(name, "total ink", False,
                        f"{ink:.0f}% ink at the darkest point, over the {paper.ink_limit}% limit")]
    return [Finding(name, "total ink", True, f"at most {ink:.0f}% (limit {paper.ink_limit}%)")]


def _stored(plate: Path, paper: PaperSettings, cache: Path | None, key: str | None, expected: str = ""
            ) -> Path | None:
    if cache is None:
        return None
    digest = hashlib.sha256(key.encode() if key else plate.read_bytes())
    digest.update(expected.encode())
    digest.update(repr(sorted(asdict(paper).items())).encode())
    return cache / f"preflight-{digest.hexdigest()}.json"


def _load(path: Path | None) -> list | None:
    if path is None:
        return None
    kept = read_sealed(path)  # sealed (see cache.py): a damaged result is checked again
    try:
        found = json.loads(kept) if kept is not None else None
    except ValueError:
        return None
    return found if isinstance(found, list) else None


def report_json(findings: list[Finding]) -> bytes:
    """The preflight report as JSON."""
    errors = [f for f in findings if not f.ok]
    data = {"passed": not errors, "errors": len(errors), "findings": [asdict(f) for f in findings]}
    return (json.dumps(data, indent=2) + "\n").encode()


def report_table(findings: list[Finding]) -> str:
    """The preflight report for the terminal: errors in full, passes summarised."""
    lines = []
    errors = [f for f in findings if not f.ok]
    for f in errors:
        lines.append(f"FAIL  {f.plate}: {f.check}: {f.message}")
    checks = sorted({f.check for f in findings})
    for check in checks:
        passed = [f for f in findings if f.check == check and f.ok]
        if passed and not any(f.check == check for f in errors):
            lines.append(f"ok    {check}: {passed[0].message}" + (f" ({len(passed)} files)" if len(passed) > 1 else ""))
    lines.append(f"preflight: {'FAILED, ' + str(len(errors)) + ' error(s)' if errors else 'passed'}")
    return "\n".join(lines)

