"""What the composer hands the engine, and what the engine hands back: one document to lay out
(``Job``), what its layout gave (``PageResult``), documents that hold several jobs (``Batch``), and
what a check of a plate found (``Finding``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..base.cache import Store
from .galley import Galley

PHOTO_SCHEME = "layout-photo"
"""Prepared photos are referenced as ``layout-photo:<file name>``: WeasyPrint names an image in the
PDF by a hash of its URL, so a file path would make the PDF depend on where the project is checked
out (and a data: URL of the whole photo costs a second to parse in every page that holds it)."""


HEIGHT_PREFIXES = ("mtop-", "msf-", "topin-", "mfig-")
"""Elements whose heights the composer reads: measured top matter and bodies, standfirsts, placed tops."""


@dataclass(frozen=True)
class Job:
    """One HTML document (one page, or one page's measuring sheet) to lay out."""

    html: str
    base: str
    """Folder that relative URLs resolve against."""
    allowed: tuple[str, ...]
    """Folders WeasyPrint may read from."""
    leading: float
    variant: str | None
    """PDF variant to write (``pdf/x-1a`` ...), or None for plain PDF."""
    pdf: bool
    """Write the PDF."""
    photos: str = ""
    """Folder of the prepared photos (``layout-photo:`` URLs)."""
    stylesheets: tuple[str, ...] = ()
    """The house stylesheets, applied to the document (parsed once a worker, not once a document)."""
    galleys: tuple[str, ...] = ()
    """Slots whose galleys the document sets, one a page from its first (each is written as a PDF of
    its own; the pages after them, of measured top matter, are not written)."""
    pages: tuple[str, ...] = ()
    """For a document of several pages (``run.page_batches``): the HTML of each page alone. Each page
    is written as a PDF of its own (``PageResult.page_pdfs``), the bytes of that page laid out alone;
    should a page not make exactly one page, each is laid out alone."""


@dataclass(frozen=True)
class PageResult:
    """What the layout of one job gave: measured heights, the PDF, WeasyPrint's warnings, galleys."""

    heights: dict[str, float]
    pdf: bytes | None
    """The document's PDF; for a galley sheet, None (see ``galley_pdfs``)."""
    warnings: tuple[str, ...]
    galleys: dict[str, Galley] = field(default_factory=dict)
    galley_pdfs: dict[str, bytes] = field(default_factory=dict)
    """Each galley's own PDF (one page): its bytes depend on nothing else on its sheet."""
    page_pdfs: tuple[bytes, ...] = ()
    """A document of several pages (``Job.pages``): each page's own PDF, in order."""


@dataclass(frozen=True)
class Batch:
    """One document to lay out for jobs not in the cache: which jobs it holds, and how to split its
    result into one a job (in the order of ``indices``)."""

    indices: list[int]
    job: Job
    split: Callable[[PageResult], list[PageResult]] = lambda result: [result]


@dataclass(frozen=True)
class Finding:
    """One preflight result (of a plate's checks, or of copy accounting)."""

    plate: str
    check: str
    ok: bool
    message: str
    count: int | None = None
    """What a passing check counted on the plate (pages, images, photos): the report adds them up."""
Warm = tuple[tuple[str, ...], tuple[str, ...], Store | None]
"""How to warm a worker up: the stylesheets, the folders it may read, the build cache."""
