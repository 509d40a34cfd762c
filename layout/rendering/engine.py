"""Stage 2 (composing): the engine, the only module that imports WeasyPrint. It lays HTML out (safely: only the
issue's own files, never the network), measures it, and writes its PDF; the workers (``rendering/workers.py``)
run it on every core."""

from __future__ import annotations

import atexit
import contextlib
import copy
import functools
import hashlib
import json
import logging
import multiprocessing.util
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from . import weasyffi

weasyffi.install()  # WeasyPrint's C declarations, parsed once a machine, not once a process

import pyphen  # noqa: E402
import weasyprint  # noqa: E402
from weasyprint.text.ffi import ffi as weasyprint_ffi  # noqa: E402
from weasyprint.text.fonts import FontConfiguration  # noqa: E402
from weasyprint.urls import FatalURLFetchingError, URLFetcher  # noqa: E402

from ..base.cache import Store  # noqa: E402
from ..base.files import file_hash, remembered  # noqa: E402
from ..composing import linebreak  # noqa: E402
from ..composing.galley import GALLEY_PREFIX, NAME, Galley, find_box, read_galleys  # noqa: E402
from ..composing.jobs import HEIGHT_PREFIXES, PHOTO_SCHEME, Job, PageResult  # noqa: E402
from ..composing.measure import heights  # noqa: E402
from ..errors import InputError, Problem  # noqa: E402
from ..reading.sources import display_path  # noqa: E402

if TYPE_CHECKING:
    import cffi

_SIZED_ARRAY = re.compile(r"([A-Za-z_][\w ]*?)\s*\[(\d+)\]")


def _one_type_an_array(ffi: cffi.FFI) -> None:
    """Make WeasyPrint's ``ffi.new("hb_codepoint_t[N]", items)`` parse its C type once, not once a length.

    WeasyPrint 70 subsets each font with arrays typed by their length. cffi parses every new type
    string with pycparser, after a preamble of all of Pango's and HarfBuzz's type names: 6 ms each,
    twice a font subset, in every process (0.6 s of a 16-page compose's work, 0.05 s of a worker's
    warm-up). An array given as a list or tuple of exactly N items is the same array typed ``T[]``,
    whose type is parsed once; any other call is passed on unchanged."""
    new = ffi.new

    def new_array(cdecl: str | cffi.FFI.CType, init: object = None) -> cffi.FFI.CData:
        if isinstance(cdecl, str) and isinstance(init, list | tuple):
            match = _SIZED_ARRAY.fullmatch(cdecl.strip())
            if match and len(init) == int(match[2]):
                cdecl = match[1] + "[]"
        return new(cdecl, init)

    ffi.new = new_array  # type: ignore[method-assign]


if not weasyffi.is_prebuilt(weasyprint_ffi):  # a prebuilt FFI (out-of-line) parses type strings in C, in microseconds
    _one_type_an_array(weasyprint_ffi)


class ConfinedFetcher(URLFetcher):
    """A URL fetcher that reads only files inside the allowed folders, and nothing from the network."""

    def __init__(self, allowed: tuple[Path, ...], photos: Path | None = None) -> None:
        super().__init__(allowed_protocols={"file", "data"}, fail_on_errors=True)
        self.allowed = tuple(p.resolve() for p in allowed)
        self.photos = photos

    def fetch(self, url: str, headers: object = None):
        """Fetch ``url`` if it is a data: URL, a prepared photo or a file inside an allowed folder."""
        scheme = urlparse(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == PHOTO_SCHEME and self.photos is not None:
            name = url.split(":", 1)[1]
            if not (self.photos / name).is_file():  # WeasyPrint quotes a space or an é in a name, not a '%'
                name = unquote(name)
            path = self.photos / name
            if "/" in name or not path.is_file():
                raise FatalURLFetchingError(f"no prepared photo {name}: compose the issue again")
            return super().fetch(path.as_uri(), headers)
        if scheme != "file":
            raise FatalURLFetchingError(f"refused to fetch {url}: layout never reads from the network")
        path = Path(unquote(urlparse(url).path)).resolve()
        if not any(path.is_relative_to(root) for root in self.allowed):
            raise FatalURLFetchingError(
                f"refused to read {path}: only files in the issue folder, fonts/ and stylesheets/ are used")
        return super().fetch(url, headers)


@dataclass(eq=False)  # handlers are told apart by identity (logging tests ``in`` before adding one)
class WeasyLog(logging.Handler):
    """Collects what WeasyPrint says (bad CSS, missing images, missing glyphs) during one render."""

    messages: list[str]

    def __post_init__(self) -> None:
        logging.Handler.__init__(self, logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the message."""
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _captured(messages: list[str]) -> Iterator[None]:
    logger = logging.getLogger("weasyprint")
    handler = WeasyLog(messages)
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


_FONTS: dict[int, dict[tuple, FontConfiguration]] = {}
_INHERITED: list[FontConfiguration] = []
"""Configurations a forked child inherited: kept alive so that their clean-up never runs in the child."""


def _font_config(fonts: tuple = ()) -> FontConfiguration:
    """One font configuration a process for the same fonts (``fonts``: what the stylesheets' keys say
    of them, see ``_sheet_key``): @font-face files are loaded once, not once a page.

    Other fonts get a configuration of their own: one holds the first face it was given for a
    family, weight and style, so a font file changed (or another project's) would otherwise never
    be used. WeasyPrint copies each @font-face file into a temporary folder that it removes only
    when the configuration is garbage-collected; worker processes may never get there, so remove
    it at exit.
    """
    pid = os.getpid()
    if pid not in _FONTS:
        for inherited in _FONTS.values():  # a forked child must not use, nor delete, its parent's
            _INHERITED.extend(inherited.values())
        _FONTS.clear()
        _FONTS[pid] = {}
        atexit.register(drop_fonts, pid)  # a normal process
        multiprocessing.util.Finalize(None, drop_fonts, args=(pid,), exitpriority=10)  # a pool worker
    configs = _FONTS[pid]
    if fonts not in configs:
        configs[fonts] = FontConfiguration()
    return configs[fonts]


def drop_fonts(pid: int) -> None:
    for config in _FONTS.pop(pid, {}).values():
        folder = getattr(config, "_folder", None)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


_SHEETS: dict[tuple, tuple[weasyprint.CSS, tuple[str, ...]]] = {}
"""Stylesheets parsed in this process, with what WeasyPrint said while parsing them."""
_URLS: dict[tuple, tuple[tuple, tuple[str, tuple[str, ...], bool]]] = {}
"""A stylesheet's SHA-256, its url()s and whether they are all in @font-face rules, by its path
(``base.files.remembered``: while the file keeps its stamp)."""
_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
_FONT_FACE = re.compile(r"@font-face\s*{[^}]*}", re.S)


def _sheet_urls(data: bytes) -> tuple[str, tuple[str, ...], bool]:
    """A stylesheet's SHA-256, the url()s it names, and whether they are all in @font-face rules."""
    text = data.decode("utf-8", errors="replace")
    urls = tuple(_URL.findall(text))
    faces = sum(len(_URL.findall(face)) for face in _FONT_FACE.findall(text))
    return hashlib.sha256(data).hexdigest(), urls, faces == len(urls)


def _sheet_key(path: Path, fetcher: ConfinedFetcher) -> tuple:
    """What parsing ``path`` gives depends on: its bytes, the bytes of the files its url()s name (the
    fonts of its @font-face rules, loaded while it is parsed) and whether the fetcher may read them.
    The same stylesheet and fonts in another folder (a copied project) are parsed once a process. A
    sheet with a url() outside @font-face rules (an image, fetched when a page is drawn by the
    address the parse resolved) is known by its folder as well."""
    digest, urls, faces_only = remembered(_URLS, path, _sheet_urls)
    targets: list[tuple] = []
    for url in urls:
        if urlparse(url).scheme:  # data: (its bytes are in the sheet's), or refused whatever the folder
            targets.append((url, ""))
            continue
        target = (path.parent / unquote(url)).resolve()
        try:
            found = file_hash(target)
        except OSError:
            found = "missing"
        targets.append((url, found, any(target.is_relative_to(root) for root in fetcher.allowed)))
    return (digest, tuple(targets), None if faces_only else str(path.parent))


def _stylesheets(paths: tuple[Path, ...], fetcher: ConfinedFetcher, messages: list[str]
                 ) -> tuple[list[weasyprint.CSS], FontConfiguration]:
    """``paths`` parsed once a process (and their @font-face fonts loaded once), not once a document,
    and the font configuration that holds their fonts."""
    keys = tuple(_sheet_key(path, fetcher) for path in paths)
    config = _font_config(keys)
    sheets = []
    for path, key in zip(paths, keys):
        known = (os.getpid(), keys, key)
        if known not in _SHEETS:
            said: list[str] = []
            with _captured(said):
                css = weasyprint.CSS(filename=str(path), url_fetcher=fetcher, font_config=config)
            _SHEETS[known] = (css, tuple(said))
        css, heard = _SHEETS[known]
        messages.extend(heard)
        sheets.append(css)
    return sheets, config


def set_paragraphs(html: str, allowed: tuple[Path, ...], report: linebreak.Report | None = None,
                   scaled_by_plates: bool = False) -> str:
    """Set the marked paragraphs of ``html`` with the paragraph breaker (``composing/linebreak.py``), measured
    in the fonts of the folders WeasyPrint may read, hyphenated as the house stylesheet says.
    ``scaled_by_plates``: glyph-scaled lines left unscaled for the plates to scale (a galley sheet's:
    ``linebreak.spacing_css``); else WeasyPrint scales them (``transform``)."""
    fonts = next((p for p in allowed if (p / linebreak.FONTS[(False, False)]).is_file()), None)
    if fonts is None:
        return html
    css = next((p / "newspaper.css" for p in allowed if (p / "newspaper.css").is_file()), None)
    limit = linebreak.house_limit(_read_css(css, file_hash(css))) if css is not None else (6, 3, 3)
    return linebreak.set_marked(html, fonts, limit, report=report, scaled_by_plates=scaled_by_plates)


@functools.lru_cache(maxsize=4)
def _read_css(path: Path, sha256: str) -> str:
    """The stylesheet's text, read once a process while its bytes (``sha256``) are the same."""
    return path.read_text(encoding="utf-8")


UA_PSEUDO = {"marker": "list-item", "footnote-call": "footnote", "footnote-marker": "footnote",
             "note-call": "note(", "note-marker": "note(", "note-callback": "note("}
"""The pseudo-elements that WeasyPrint 70's user-agent stylesheet styles on every element (``::marker
{...}``, ``::footnote-call {...}`` ...), each with what a document's HTML or stylesheets must say for
it to be drawn anywhere: a marker on an element shown as ``list-item``, a footnote's call and marker
on a ``float: footnote``, a note's on a ``position: note(...)``."""


@functools.lru_cache(maxsize=8)
def ua_stylesheet(needed: frozenset[str]) -> weasyprint.CSS | None:
    """WeasyPrint's user-agent stylesheet with its universal pseudo-element rules (``UA_PSEUDO``) kept
    only where they can apply: those ``needed`` everywhere, as they are; ``::marker`` on ``li`` (the
    only element the sheet shows as a list item); the footnotes' and notes' nowhere. None if the
    sheet is not the one this was written for (then it is used as it is).

    Each universal rule gave every element a computed style of its own for its pseudo-element, made
    and matched for nothing: the 16-page benchmark's documents got 20,018 computed styles for 2,366
    elements (and 1,728 page-margin boxes), 4,094 with this. On a worker (no collection during a
    task) that was 0.07 s of the style step's 0.21-0.23 s over those 32 documents; in a process that
    collects as it goes (``LAYOUT_WORKERS=1``, a recompose laid out in the main process, ``layout
    watch``, the compose server) the collector walked them too: 0.45 s -> 0.15-0.19 s (CPU, on the
    loaded machine).
    The rules are the sheet's own (the same declarations, specificity and order, moved in its
    matcher from the selectors tried on every element to those tried on ``li``), so what is drawn
    is the same, byte for byte."""
    from weasyprint.html import UA_STYLESHEET

    matcher = UA_STYLESHEET.matcher
    universal = {entry[3]: entry for entry in matcher.other_selectors if entry[3] in UA_PSEUDO}
    if sorted(universal) != sorted(UA_PSEUDO) or len(universal) != sum(
            entry[3] in UA_PSEUDO for entry in matcher.other_selectors):
        return None
    scoped = copy.copy(matcher)
    scoped.other_selectors = [entry for entry in matcher.other_selectors
                              if entry[3] not in UA_PSEUDO or entry[3] in needed]
    if "marker" not in needed:
        scoped.lower_local_name_selectors = {**matcher.lower_local_name_selectors, "li": [
            *matcher.lower_local_name_selectors.get("li", []), universal["marker"]]}
    sheet = copy.copy(UA_STYLESHEET)
    sheet.matcher = scoped
    return sheet


def pseudo_needed(texts: list[str]) -> frozenset[str] | None:
    """The pseudo-elements of ``UA_PSEUDO`` that a document made of ``texts`` (its HTML and its
    stylesheets) may draw on any element; None if another stylesheet could say (a ``<link>`` in the
    HTML, an ``@import``): then WeasyPrint's own sheet is used."""
    lowered = [text.lower() for text in texts]
    if any("<link" in text or "@import" in text for text in lowered):
        return None
    return frozenset(name for name, trigger in UA_PSEUDO.items() if any(trigger in text for text in lowered))


class _HTML(weasyprint.HTML):
    """A document laid out with ``ua`` as its user-agent stylesheets, if they are set."""

    ua: list[weasyprint.CSS] | None = None

    def _ua_stylesheets(self, forms: bool = False) -> list[weasyprint.CSS]:
        return self.ua if self.ua is not None and not forms else super()._ua_stylesheets(forms)


def render(html: str, base: Path, allowed: tuple[Path, ...], messages: list[str],
           photos: Path | None = None, stylesheets: tuple[Path, ...] = (),
           report: linebreak.Report | None = None, scaled_by_plates: bool = False) -> weasyprint.Document:
    """Lay out ``html`` (relative URLs against ``base``, prepared photos from ``photos``) with the
    ``stylesheets`` (user stylesheets, parsed once a process); WeasyPrint's warnings go to ``messages``.
    ``scaled_by_plates``: a galley sheet, whose glyph-scaled lines the plates scale (``set_paragraphs``)."""
    fetcher = ConfinedFetcher(allowed, photos)
    if 'data-lb="' in html:  # the body's paragraphs, set by the paragraph breaker before WeasyPrint draws them
        html = set_paragraphs(html, allowed, report, scaled_by_plates)
    with _captured(messages):
        try:
            sheets, config = _stylesheets(stylesheets, fetcher, messages)
            document = _HTML(string=html, base_url=str(base) + "/", url_fetcher=fetcher)
            needed = pseudo_needed([html, *(_read_css(path, file_hash(path)) for path in stylesheets)])
            ua = ua_stylesheet(needed) if needed is not None else None
            document.ua = [ua] if ua is not None else None
            return document.render(font_config=config, stylesheets=sheets)
        except FatalURLFetchingError as exc:
            cause = exc.__cause__ or exc
            raise InputError("a file or address outside the issue was referenced", (Problem(
                "(issue sources)", "", str(cause),
                "remove the reference; put images in the issue's images/ folder"),)) from None


def pdf_bytes(document: weasyprint.Document, variant: str | None, messages: list[str],
              compressed: bool = True) -> bytes:
    """Return ``document`` as PDF bytes, in PDF ``variant`` (``pdf/x-1a``, ``pdf/a-3b`` ...) if given."""
    options: dict[str, object] = {"pdf_variant": variant} if variant else {}
    if not compressed:
        options["uncompressed_pdf"] = True
    with _captured(messages):
        return document.write_pdf(**options)


_RENDERED = False
"""Whether this process has laid a document out, or warmed up as a worker."""


def rendered() -> bool:
    """Whether this process has laid a document out, or warmed up as a worker."""
    return _RENDERED


LANGUAGE = "en-GB"
"""The papers' language (``<html lang>`` in the templates): its hyphenation patterns are loaded at warm-up."""


def load_hyphenation(store: Store | None, lang: str = LANGUAGE) -> None:
    """Put ``lang``'s hyphenation patterns in pyphen's cache, from a copy in ``store`` if there is one.

    pyphen parses its ``hyph_*.dic`` file in every process, which takes 0.15 s (about half of a
    worker's warm-up); reading back the parsed patterns as JSON takes a third of that. The copy is
    keyed by the dictionary file's bytes (and pyphen's version, in the store's salt); anything wrong
    with it, and the file is parsed as usual (and the copy written again)."""
    path = pyphen.LANGUAGES.get(pyphen.language_fallback(lang) or "")
    if path is None or path in pyphen.hdcache:
        return
    if store is None:
        pyphen.hdcache[path] = pyphen.HyphDict(path)
        return
    key = store.key("hyphenation", path.read_bytes())
    try:
        kept = store.get("hyphenation", key)
        if kept is None:
            raise ValueError("no copy")
        patterns = {key: (int(start), tuple(int(v) for v in values))
                    for key, (start, values) in json.loads(kept).items()}
        hyph = pyphen.HyphDict.__new__(pyphen.HyphDict)
        hyph.patterns, hyph.cache, hyph.maxlen = patterns, {}, max(map(len, patterns))
    except (OSError, ValueError, TypeError, AttributeError):
        hyph = pyphen.HyphDict(path)
        if all(type(v) is int for _, values in hyph.patterns.values() for v in values):  # no nonstandard hyphens
            with contextlib.suppress(OSError):
                store.put("hyphenation", key, json.dumps(hyph.patterns, separators=(",", ":")).encode())
    pyphen.hdcache[path] = hyph


def warm_up(stylesheets: tuple[str, ...], allowed: tuple[str, ...], store: Store | None = None) -> None:
    """Get a page worker ready while the main process reads the sources: hyphenation patterns read
    (kept in ``store``), stylesheets parsed and their fonts loaded.

    A small document laid out and written as well, to pay WeasyPrint's first-use costs, took
    0.15 s and made the first real document no faster; a recompose waited for it."""
    global _RENDERED
    load_hyphenation(store)
    fetcher = ConfinedFetcher(tuple(Path(p) for p in allowed))
    _stylesheets(tuple(Path(path) for path in stylesheets), fetcher, [])
    _RENDERED = True


def _rendered(job: Job, messages: list[str], report: linebreak.Report) -> weasyprint.Document:
    """``job``'s HTML laid out (``render``) with its folders, photos and stylesheets."""
    return render(job.html, Path(job.base), tuple(Path(p) for p in job.allowed), messages,
                  Path(job.photos) if job.photos else None, tuple(Path(p) for p in job.stylesheets), report,
                  scaled_by_plates=bool(job.galleys))  # a galley's PDF is drawn only by the plates


def _measured(document: weasyprint.Document) -> dict[str, float]:
    """The heights measured in ``document``, each under its prefix's key (``HEIGHT_PREFIXES``)."""
    found: dict[str, float] = {}
    for prefix in HEIGHT_PREFIXES:
        found.update({prefix + key: value for key, value in heights(document, prefix).items()})
    return found


def lay_out(job: Job) -> PageResult:
    """Lay out ``job`` with WeasyPrint, measure it, and write its PDF if asked (runs in a worker)."""
    global _RENDERED
    _RENDERED = True
    if job.pages:
        return _lay_out_pages(job)
    messages: list[str] = []
    report = linebreak.Report()
    document = _rendered(job, messages, report)
    found = _measured(document)
    galleys: dict[str, Galley] = {}
    pdfs: dict[str, bytes] = {}
    if job.galleys:
        pages = document.pages
        long = [slot for index, slot in enumerate(job.galleys)
                if index + 1 < len(pages) and find_box(pages[index + 1]._page_box, GALLEY_PREFIX + slot, NAME)]
        if long:
            slugs = dict.fromkeys(slot.removeprefix("cont-").split("-from-")[0] for slot in long)
            raise InputError("a story is longer than a galley sheet holds (about 1,300 lines)", tuple(
                Problem(display_path(Path(job.base) / "articles" / f"{slug}.md"), "body",
                        "the story is too long to set in one piece",
                        "split it into two articles (or cut it)") for slug in slugs))
        galleys = read_galleys(document, list(job.galleys), job.leading, report)
        if job.pdf:  # a PDF a galley, so that a galley's bytes do not depend on what shared its sheet;
            # uncompressed, since its content is filtered and compressed into the plates' columns
            pdfs = {slot: pdf_bytes(document.copy([pages[index]]), job.variant, messages, compressed=False)
                    for index, slot in enumerate(job.galleys)}
        return PageResult(found, None, tuple(messages), galleys, pdfs)
    pdf = pdf_bytes(document, job.variant, messages) if job.pdf else None
    return PageResult(found, pdf, tuple(messages))


def _lay_out_pages(job: Job) -> PageResult:
    """Lay out a document of several pages (``job.pages``), each page written as a PDF of its own.

    The same bytes as each page laid out alone (its own document, written whole), for less: a
    document's fixed costs (its HTML's head and stylesheet matched, its photos read, WeasyPrint's
    start-up) are paid once for its pages, not once a page. A document whose pages did not come
    out one a page is laid out again, a page a document."""
    messages: list[str] = []
    document = _rendered(job, messages, linebreak.Report())
    if len(document.pages) != len(job.pages):
        alone = [lay_out(replace(job, html=html, pages=())) for html in job.pages]
        return PageResult({key: value for result in alone for key, value in result.heights.items()}, None,
                          tuple(message for result in alone for message in result.warnings),
                          page_pdfs=tuple(result.pdf or b"" for result in alone))
    found = _measured(document)
    pdfs = tuple(pdf_bytes(document.copy([page]), job.variant, messages) for page in document.pages) \
        if job.pdf else ()
    return PageResult(found, None, tuple(messages), page_pdfs=pdfs)
