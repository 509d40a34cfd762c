"""Stage 2 (composing): turn placed slots into the HTML of the issue (Jinja2 templates, strict)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import jinja2
import jinja2.bccache

from .. import __version__
from ..base import usercache
from ..base.cache import Store
from ..reading.articles import Article, Block
from ..reading.manifest import Issue
from ..reading.settings import PaperSettings

TEMPLATES = Path(__file__).parent / "templates"
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    undefined=jinja2.StrictUndefined,
    autoescape=True,
    trim_blocks=False,
)


def keep_compiled(store: Store) -> None:
    """Keep the templates, once compiled, in ``store`` (Jinja2's bytecode cache, keyed by each
    template's source): compiling them cost 0.05-0.1 s of every run that makes HTML."""
    _ENV.bytecode_cache = StoreBytecodeCache(store)


class StoreBytecodeCache(jinja2.BytecodeCache):
    """Jinja2's compiled templates, kept in the store by their source's checksum: a damaged entry is
    compiled again, never run. They are layout's own templates, the same for every project: kept in
    the user's cache folder too (``base/usercache.py``, by the source's checksum and the versions of
    Jinja2 and Python), a compose in a new or emptied build folder does not compile them again
    (0.04 s of its main process, before the first document can be laid out)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _key(self, bucket: jinja2.bccache.Bucket) -> str:
        return self.store.key("template", bucket.key, bucket.checksum)

    @staticmethod
    def _user_name(bucket: jinja2.bccache.Bucket) -> str:
        made_by = f"{bucket.key} {bucket.checksum} jinja2 {jinja2.__version__} python {sys.version}"
        return f"jinja2_{hashlib.sha256(made_by.encode()).hexdigest()[:32]}.bin"

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Load ``bucket``'s code if its entry is whole (the user's copy put in the store if need be)."""
        data = self.store.get("template", self._key(bucket))
        if data is None and (data := usercache.read(self._user_name(bucket))) is not None:
            with contextlib.suppress(OSError):
                self.store.put("template", self._key(bucket), data)
        if data is not None:
            bucket.bytecode_from_string(data)  # Jinja2 checks its own version's mark: else compiled

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Keep ``bucket``'s code."""
        code = bucket.bytecode_to_string()
        with contextlib.suppress(OSError):
            self.store.put("template", self._key(bucket), code)
        usercache.write(self._user_name(bucket), code)


@dataclass(frozen=True)
class PhotoView:
    """A photo as the template places it."""

    src: str
    height: float
    caption: str
    credit: str


@dataclass(frozen=True)
class InsetView:
    """A photo narrower than its slot, at the top of the slot's first columns: the body runs below
    and beside it (the grid lines it takes are ``height``, caption included)."""

    photo: PhotoView
    width: float
    height: float
    """Its box on the grid, in points: whole body lines."""
    index: int
    """Its place among the article's photos (for element ids)."""
    top: float = 0.0
    """How far below the top of the slot's body it starts (under narrow photos before it), points."""


@dataclass(frozen=True)
class SlotView:
    """One slot (or one part of a jumped story) placed on a page, in points from the trim's corner."""

    slot_id: str
    article: Article
    columns: int
    x: float
    y: float
    width: float
    column_width: float
    head_height: float
    frame_height: float
    blocks: tuple[Block, ...]
    first_block: int = 0
    """Index in the article of ``blocks[0]`` (for element ids)."""
    starts_mid_paragraph: bool = False
    ends_mid_paragraph: bool = False
    continued_from: int | None = None
    jump_to: int | None = None
    photos: tuple[PhotoView, ...] = ()
    loose: tuple[int, ...] = ()
    """Paragraphs (block indices in the article) the breaker is to set a line longer (``fit: loose``);
    an index twice: two lines longer."""
    insets: tuple[InsetView, ...] = ()
    """Photos narrower than the slot, set at the top of its body (text beside and below)."""
    supplied: float = 0.0
    """A supplied advert's booked height, in points (its box is left empty: the advert's PDF is drawn
    into it on the plate); 0 for a story."""

    def block_class(self, index: int) -> str:
        """CSS classes of ``blocks[index]``: first paragraph, continued line, split end."""
        classes = []
        if index == 0 and self.first_block == 0 and self.continued_from is None:
            classes.append("first")
        if index == 0 and (self.starts_mid_paragraph or self.continued_from is not None):
            classes.append("cont")
        if index == len(self.blocks) - 1 and self.ends_mid_paragraph:
            classes.append("split")
        return " ".join(classes)


@dataclass(frozen=True)
class Rule:
    """A column rule (``v``) or a rule between stacked stories (``h``)."""

    kind: str
    x: float
    y: float
    length: float


@dataclass(frozen=True)
class Mark:
    """A proof mark: overset bar or hole (proofs only)."""

    kind: str
    x: float
    y: float
    width: float
    text: str


@dataclass(frozen=True)
class PageView:
    """One page for the template."""

    number: int
    template: str
    top_lines: int
    slots: tuple[SlotView, ...]
    rules: tuple[Rule, ...] = ()
    marks: tuple[Mark, ...] = field(default=())
    column_rules: tuple[Rule, ...] = ()
    """Rules between a story's columns: drawn by the page when its bodies are drawn in afterwards."""


def long_date(date: dt.date) -> str:
    """Return the date as the paper prints it: ``Friday 1 April 2022``."""
    return f"{date:%A} {date.day} {date:%B %Y}"


def issue_meta(issue: Issue, paper: PaperSettings, weasyprint_version: str) -> dict[str, str]:
    """Return the document metadata (title, dates, generator) for ``issue``."""
    created = dt.datetime.combine(issue.date, dt.time(0, 0), tzinfo=dt.UTC)
    return {
        "title": f"{paper.title} No. {issue.number}, {long_date(issue.date)}",
        "description": f"{paper.title}: {paper.tagline}",
        "keywords": f"{paper.title}, issue {issue.number}, {issue.date.isoformat()}",
        "generator": f"layout {__version__} (WeasyPrint {weasyprint_version})",
        "created": created.isoformat().replace("+00:00", "Z"),
        "date_long": long_date(issue.date),
    }


def issue_html(pages: list[PageView], issue: Issue, paper: PaperSettings, meta: dict[str, str],
               stylesheets: list[str], mode: str = "print", sheet_height: float | None = None) -> str:
    """Render the issue as HTML: ``print`` or ``proof`` (empty body frames, for the galleys to be drawn
    into), ``full`` (bodies in multi-column frames: the one-pass HTML) or a galley sheet (``galley``).

    The templates see the issue without its manifest's pages (its number, date, volume...): what a
    sheet draws comes from its own ``pages``, so a document's cache key holds the issue without its
    pages too (``Run._document_keys``) and an edit to another slot of the manifest is not a miss."""
    template = _ENV.get_template("issue.html.j2")
    return template.render(pages=pages, issue=replace(issue, pages=()), paper=paper, meta=meta,
                           stylesheets=stylesheets, mode=mode, sheet_height=sheet_height)
