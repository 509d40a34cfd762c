"""Stage 4: hand HTML to WeasyPrint (safely) and write PDFs atomically."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import weasyprint
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from .errors import InputError, Problem, RenderError

WEASYPRINT_VERSION = weasyprint.__version__
PINNED_WEASYPRINT = "70.0"


class ConfinedFetcher(URLFetcher):
    """A URL fetcher that reads only files inside the allowed folders, and nothing from the network."""

    def __init__(self, allowed: tuple[Path, ...]) -> None:
        super().__init__(allowed_protocols={"file", "data"}, fail_on_errors=True)
        self.allowed = tuple(p.resolve() for p in allowed)

    def fetch(self, url: str, headers: object = None):  # type: ignore[no-untyped-def]
        """Fetch ``url`` if it is a data: URL or a file inside an allowed folder."""
        scheme = urlparse(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise FatalURLFetchingError(f"refused to fetch {url}: layout never reads from the network")
        path = Path(unquote(urlparse(url).path)).resolve()
        if not any(path.is_relative_to(root) for root in self.allowed):
            raise FatalURLFetchingError(
                f"refused to read {path}: only files in the issue folder, fonts/ and stylesheets/ are used")
        return super().fetch(url, headers)


@dataclass
class WeasyLog(logging.Handler):
    """Collects what WeasyPrint says (bad CSS, missing images, missing glyphs) during one render."""

    messages: list[str]

    def __post_init__(self) -> None:
        logging.Handler.__init__(self, logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the message."""
        self.messages.append(record.getMessage())

    def __hash__(self) -> int:
        return id(self)


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


def check_version() -> None:
    """Refuse to run with another WeasyPrint: the composer reads its (private) layout tree."""
    if WEASYPRINT_VERSION != PINNED_WEASYPRINT:
        raise RenderError(
            f"WeasyPrint {WEASYPRINT_VERSION} is installed, layout needs {PINNED_WEASYPRINT}",
            (Problem("pyproject.toml", "dependencies", "the composer reads WeasyPrint's layout tree, "
                     "which changes between versions", f"pip install weasyprint=={PINNED_WEASYPRINT}"),))


def render(html: str, base: Path, allowed: tuple[Path, ...], messages: list[str]) -> weasyprint.Document:
    """Lay out ``html`` (relative URLs against ``base``); WeasyPrint's warnings go to ``messages``."""
    fetcher = ConfinedFetcher(allowed)
    with _captured(messages):
        try:
            return weasyprint.HTML(string=html, base_url=str(base) + "/", url_fetcher=fetcher).render()
        except FatalURLFetchingError as exc:
            cause = exc.__cause__ or exc
            raise InputError("a file or address outside the issue was referenced", (Problem(
                "(issue sources)", "", str(cause),
                "remove the reference; put images in the issue's images/ folder"),)) from None


def pdf_bytes(document: weasyprint.Document, variant: str | None, messages: list[str]) -> bytes:
    """Return ``document`` as PDF bytes, in PDF ``variant`` (``pdf/x-1a``, ``pdf/a-3b`` ...) if given."""
    options = {"pdf_variant": variant} if variant else {}
    with _captured(messages):
        return document.write_pdf(**options)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
