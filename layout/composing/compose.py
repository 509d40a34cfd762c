"""Stage 2 (composing): fit the articles to each page's grid.

Every story's body is set once, as a galley (``composing/galley.py``): one column at its column width, with
its top matter measured beside it. From then on fitting is arithmetic on the galleys' rows: each
slot is placed in column order (``composing/grid.py``), its columns are filled with whole rows where the
stylesheet allows a column to end, a slot of natural depth gets the fewest rows that hold its text
balanced, and a jumped story is cut at the first row that does not fit, the rest going to its
continuation. Then each page is laid out once with empty body frames, and the galleys' rows are
drawn into their columns (``press/assemble.py``). A top matter that comes out taller on the page than
measured gets more lines and the pages are placed again; what still does not fit is overset.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ..errors import InputError, Problem
from ..press.assemble import Piece
from ..reading.articles import Article, Photo, is_placeholder
from ..reading.manifest import FOOT, NAMEPLATE_LINES, PIN_FOOT, Issue, SlotSpec, human_key
from ..reading.settings import PaperSettings
from ..reading.sources import display_path
from .cut import START, Cut, cut_point, slice_blocks
from .galley import Columns, Galley, GalleyLine, fill, frame_of, natural_depth
from .grid import GAP_LINES, Placement, Request, hole_spans, holes, overlapping, place
from .jobs import PageResult
from .markup import InsetView, Mark, PageView, PhotoView, Rule, SlotView
from .measure import Frame, lines_needed
from .typo import loose_lines

MAX_ROUNDS = 6
MAX_PHOTO_ASPECT = 0.8
"""Photos taller than this (height / width) are cropped to it."""
GALLEY_SHEET = 14_000.0
"""Height in points of a galley sheet (PDF pages end at 14,400): about 1,300 lines of body."""

PhotoSource = Callable[[Photo, float, float], str]
"""Returns the URL of a photo prepared for its placed width and height (points)."""
Sheet = tuple[list[PageView], str, float | None]
"""One document to lay out: its pages, the mode (print, proof, galley) and a sheet height."""
Layouter = Callable[[list[Sheet], bool], list[PageResult]]
"""Lays out documents (in parallel, cached), writing their PDFs if asked; one result per document."""


@dataclass(frozen=True)
class SlotFit:
    """How one slot's copy fitted: the fit report's row."""

    page: int
    slot_id: str
    slug: str
    columns: int
    depth: int
    """Body lines deep."""
    available: int
    """Body lines the slot offers (depth x columns, less a jump line)."""
    used: int
    over: int
    """Lines that did not fit and went nowhere (overset)."""
    short: int
    """Empty lines left at the bottom of its columns."""
    column_short: tuple[int, ...]
    jump_to: int | None
    continued_from: int | None
    jumped_lines: int
    """Lines sent on to the continuation."""
    capped: bool
    """True when the page ran out before the slot got the depth it asked for."""
    suggestions: tuple[str, ...] = ()
    """Ways to make it fit, each with its effect in lines (never applied silently)."""
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    """Where the slot is on its page: x, y, width, height in points from the trim's top-left corner."""
    headline: str = ""
    place: str = ""
    """Where the slot is, in an editor's words: ``page 1, second slot (letters)``."""
    over_words: str = ""
    """What is over or short, in words and lines: ``about 42 words (6 lines) over``."""


@dataclass(frozen=True)
class PageFit:
    """Empty lines below the lowest slot in each grid column of a page."""

    page: int
    holes: tuple[int, ...]
    spans: tuple[tuple[int, int, int], ...] = ()
    """Each run of empty lines: (grid column, first line, lines)."""


@dataclass(frozen=True)
class Composition:
    """The composer's result: pages to render and how everything fitted."""

    pages: tuple[PageView, ...]
    slots: tuple[SlotFit, ...]
    page_fits: tuple[PageFit, ...]
    rounds: int
    page_pdfs: tuple[bytes, ...]
    """Each page as WeasyPrint laid it out: furniture, top matter, rules and empty body frames."""
    warnings: tuple[str, ...] = ()
    """What WeasyPrint said while laying the pages out."""
    pieces: tuple[tuple[Piece, ...], ...] = ()
    """For each page, the galley rows to draw into its columns."""
    galleys: dict[str, tuple[Galley, bytes]] = field(default_factory=dict)
    """Every galley drawn, with the PDF of its galley sheet."""
    adverts: tuple[tuple[AdPiece, ...], ...] = ()
    """For each page, the supplied adverts to draw into their booked boxes."""
    notes: tuple[str, ...] = ()
    """Warnings in an editor's words: slots emptied, headlines that do not fit, page count."""

    @property
    def overset(self) -> tuple[SlotFit, ...]:
        """Slots whose copy did not fit."""
        return tuple(s for s in self.slots if s.over > 0)


@dataclass(frozen=True)
class AdPiece:
    """A supplied advert's PDF placed in its booked box (points from the trim's top-left corner)."""

    slot_id: str
    path: str
    x: float
    y: float
    width: float
    height: float


@dataclass
class _Slot:
    """The composer's working state for one slot."""

    spec: SlotSpec
    page: int
    article: Article
    head_lines: int = 0
    standfirst_lines: int = 0
    natural: int = 1
    """Body lines the slot needs to hold its text balanced across its columns."""
    galley: Galley | None = None
    """The galley its rows come from: its own, or (for a continuation) its story's."""
    start_row: int = 0
    """The first row of the galley it sets."""
    columns: Columns = field(default_factory=lambda: Columns((), 0))
    """What its columns hold after the last fitting pass."""
    frame_lines: int = 0
    jumps: bool = False
    """True when its story continues on another page (a jump line takes its last line)."""
    start: Cut = START
    """Where its text starts in the article (words), and where it ends (None: at the end)."""
    end: Cut | None = None
    continued_from: int | None = None
    parent: _Slot | None = None
    """The slot a continuation continues."""
    own_galley: bool = True
    """False when a continuation draws from its story's galley (same column width)."""
    loose: tuple[int, ...] = ()
    """Paragraphs (block indices) its galley sets a line longer (``fit: loose``; twice: two lines)."""
    loose_done: bool = False
    """True once setting paragraphs longer made it overset (undone, and not tried again)."""
    insets: tuple[int, ...] = ()
    """Lines each of its columns gives to photos narrower than the slot, at the column's top."""
    top_height: float = 0.0
    standfirst_height: float = 0.0
    headline: tuple[float, ...] = ()
    """The headline's measured height: as set, on one line, and without its last word (points)."""
    inset_lines: dict[int, int] = field(default_factory=dict)
    """Lines each narrow photo takes (by its index among the article's photos), caption included."""

    @property
    def supplied(self) -> bool:
        """True for a supplied advert (a PDF drawn into booked space; no article)."""
        return self.spec.ad is not None

    @property
    def stop_row(self) -> int:
        """The row after its last: where a jump cut it, else the end of the galley."""
        if self.galley is None:
            return 0
        return self.columns.next_row if self.jumps else self.galley.rows


def compose(issue: Issue, paper: PaperSettings, articles: dict[str, Article], lay_out: Layouter,
            photo_src: PhotoSource) -> Composition:
    """Fit every article of ``issue`` to its page and return the composed pages."""
    slots = [_Slot(spec, page.number, articles[spec.slug] if spec.ad is None else _ad_article(spec))
             for page in issue.pages for spec in page.slots]
    _check_photos(slots)
    for slot in slots:
        if slot.spec.continued:
            slot.parent = next(s for s in slots if s.spec.slug == slot.spec.slug and not s.spec.continued)
            slot.continued_from = slot.parent.page
    galley_pdfs: dict[str, bytes] = {}
    warnings = set(_set_galleys(slots, issue, paper, lay_out, photo_src, galley_pdfs))
    views: list[PageView] = []
    results: list[PageResult] = []
    rounds = 0
    for rounds in range(1, MAX_ROUNDS + 1):  # noqa: B007 (the count is reported)
        _fit(slots, issue, paper)
        warnings.update(_loosen(slots, issue, paper, lay_out, photo_src, galley_pdfs))
        warnings.update(_set_continuation_galleys(slots, issue, paper, lay_out, photo_src, galley_pdfs))
        views = _pages(issue, paper, slots, photo_src)
        results = lay_out([([_frames_only(view)], "print", None) for view in views], True)
        tops = {k[len("topin-"):]: h for r in results for k, h in r.heights.items() if k.startswith("topin-")}
        if not _grow_tops(slots, views, tops, paper):
            break
    warnings.update(w for r in results for w in r.warnings)
    _check_overlaps(slots, issue, paper)
    measured = {slot.spec.slot_id: _frame(slot, view, paper) for view in views for slot in slots
                if slot.page == view.number}
    fits = _report(slots, views, measured, paper, issue)
    page_fits = tuple(PageFit(v.number, tuple(holes(placed, paper.columns, paper.grid_lines, v.top_lines)),
                              tuple(hole_spans(placed, paper.columns, paper.grid_lines, v.top_lines)))
                      for v in views for placed in [_page_placements(slots, v.number, v.template, paper)])
    pieces, galleys = _pieces(slots, views, galley_pdfs, paper)
    adverts = tuple(tuple(AdPiece(s.spec.slot_id, str(s.spec.ad), item.x, item.y, s.spec.ad_size[0], s.spec.ad_size[1])
                          for s in slots if s.supplied and s.page == view.number
                          for item in view.slots if item.slot_id == s.spec.slot_id) for view in views)
    notes = _notes(slots, views, fits, issue, paper)
    return Composition(tuple(views), fits, page_fits, rounds, tuple(r.pdf or b"" for r in results),
                       tuple(sorted(warnings)), pieces, galleys, adverts, notes)


def _ad_article(spec: SlotSpec) -> Article:
    """A supplied advert's stand-in article: no top matter, no body (its PDF is drawn on the plate)."""
    assert spec.ad is not None
    return Article(spec.slug, spec.ad, "", None, None, None, None, "supplied", "", False, (), ())


def _check_photos(slots: list[_Slot]) -> None:
    """A photo is at most as wide as its slot."""
    problems = []
    for slot in slots:
        if slot.spec.continued:
            continue
        for index, photo in enumerate(slot.article.photos):
            if photo.columns is not None and photo.columns > slot.spec.columns:
                problems.append(Problem(display_path(slot.article.path), f"images[{index}].columns",
                                        f"the photo is {photo.columns} columns wide but its slot, "
                                        f"{slot.spec.place}, is {slot.spec.columns}",
                                        f"use columns: {slot.spec.columns} or less, or widen the slot"))
    if problems:
        raise InputError("a photo is wider than its slot", tuple(problems))


def _frames_only(view: PageView) -> PageView:
    """The page as it is laid out for print: its frames are empty (the galleys are drawn into them
    afterwards), so it is made without the bodies, and an edit to a body alone does not change it
    (nor its cache key)."""
    return replace(view, slots=tuple(_top_only(item) for item in view.slots))


def _top_only(item: SlotView) -> SlotView:
    """A slot without its body: its top matter does not change when its body does."""
    return replace(item, article=replace(item.article, blocks=()), blocks=(), first_block=0,
                   starts_mid_paragraph=False, ends_mid_paragraph=False)


def _body_only(item: SlotView) -> SlotView:
    """A story's body, as its galley is set: without its top matter, photos and jump line, so that
    an edit to a headline does not set its body again."""
    article = replace(item.article, headline="", kicker=None, standfirst=None, byline=None, jumphead="",
                      photos=())
    return replace(item, article=article, photos=(), insets=(), jump_to=None)


def _galley_view(slot: _Slot, paper: PaperSettings, photo_src: PhotoSource, blocks: tuple = (),
                 first_block: int = 0, mid_start: bool = False) -> SlotView:
    """The slot as a galley sheet shows it: top matter at the slot's width, and ``blocks`` as its galley."""
    view = _view(slot, paper, photo_src, Placement(0, 0, slot.spec.columns, 0, 0, 0), blocks, mid_start)
    return replace(view, first_block=first_block)


def _set_galleys(slots: list[_Slot], issue: Issue, paper: PaperSettings, lay_out: Layouter,
                 photo_src: PhotoSource, galley_pdfs: dict[str, bytes]) -> list[str]:
    """Set every story's galley and measure every slot's top matter.

    Each galley and each top matter is a sheet of its own, so that each is kept in the cache by
    itself: an edit to one story sets that story again, not its page's. (The renderer lays the
    sheets of a page out as one document.)"""
    sheets: list[Sheet] = []
    for page in issue.pages:
        for slot in (s for s in slots if s.page == page.number and not s.supplied):
            view = _galley_view(slot, paper, photo_src, () if slot.spec.continued else slot.article.blocks)
            if view.blocks:
                sheets.append(([PageView(page.number, page.template, 0, (_body_only(view),))], "galley", GALLEY_SHEET))
            sheets.append(([PageView(page.number, page.template, 0, (_top_only(view),))], "galley", GALLEY_SHEET))
    results = lay_out(sheets, True)
    found = {k: h for r in results for k, h in r.heights.items()}
    for result in results:
        galley_pdfs.update(result.galley_pdfs)
    galleys = {k: g for r in results for k, g in r.galleys.items()}
    for slot in slots:
        key = slot.spec.slot_id
        slot.head_lines = lines_needed(found.get("mtop-" + key, 0.0), paper.leading)
        slot.standfirst_lines = int(found.get("msf-" + key, 0.0) // paper.leading)
        slot.top_height, slot.standfirst_height = found.get("mtop-" + key, 0.0), found.get("msf-" + key, 0.0)
        slot.inset_lines = {i: lines_needed(found[f"mfig-{key}--{i}"], paper.leading)
                            for i in range(len(slot.article.photos)) if f"mfig-{key}--{i}" in found}
        slot.headline = tuple(found.get(f"msf-{key}--{k}", 0.0) for k in ("hl", "hl1", "hlw"))
        slot.insets = _inset_columns(slot)
        if not slot.spec.continued:
            slot.galley = galleys.get(key)
    for slot in slots:
        if slot.parent is not None and slot.parent.galley is not None:
            parent = slot.parent.galley
            inset = _inset(parent, slot.parent.spec.columns, paper)
            width = (paper.span_width(slot.spec.columns) - inset - (slot.spec.columns - 1) * paper.gutter) \
                / slot.spec.columns
            slot.own_galley = abs(width - parent.width) > 0.01
            if not slot.own_galley:
                slot.galley = parent
    return [w for r in results for w in r.warnings]


def _is_inset(photo: Photo, slot: _Slot) -> bool:
    """A photo narrower than its slot is set at the top of the slot's first columns, text beside it."""
    return photo.columns is not None and photo.columns < slot.spec.columns and not slot.spec.continued


def _inset_columns(slot: _Slot) -> tuple[int, ...]:
    """Lines taken at the top of each of the slot's columns by its narrow photos (stacked, from the left)."""
    taken = [0] * slot.spec.columns
    for index, photo in enumerate(slot.article.photos):
        if _is_inset(photo, slot) and index in slot.inset_lines:
            assert photo.columns is not None
            for column in range(photo.columns):
                taken[column] += slot.inset_lines[index]
    return tuple(taken) if any(taken) else ()


def _natural(galley: Galley, start: int, columns: int, insets: tuple[int, ...] = ()) -> int:
    """``galley.natural_depth``, around the slot's narrow photos."""
    if not insets:
        return natural_depth(galley, start, columns)
    rows = galley.rows - start
    if rows <= 0:
        return max(insets) + 1
    first_fit = None
    # never shallower than its deepest photo: the photo is drawn in the slot, not over what is below
    for depth in range(max(1, max(insets), math.ceil((rows + sum(insets)) / columns)), rows + max(insets) + 1):
        cut = fill(galley, start, columns, depth, insets)
        if cut.next_row >= galley.rows:
            if not cut.forced:
                return depth
            first_fit = first_fit or depth
    return first_fit or rows + max(insets)


def _inset(galley: Galley, columns: int, paper: PaperSettings) -> float:
    """The frame's horizontal padding, from the galley's column width."""
    return paper.span_width(columns) - columns * galley.width - (columns - 1) * paper.gutter


def _set_continuation_galleys(slots: list[_Slot], issue: Issue, paper: PaperSettings, lay_out: Layouter,
                              photo_src: PhotoSource, galley_pdfs: dict[str, bytes]) -> list[str]:
    """Set the galley of each continuation whose column width differs from its story's (from the cut on),
    and fit again; repeat while the cuts move."""
    warnings: list[str] = []
    for _ in range(MAX_ROUNDS):
        todo = [s for s in slots if s.parent is not None and s.own_galley
                and (s.galley is None or s.galley.slot_id != _galley_key(s))]
        if not todo:
            break
        sheets: list[Sheet] = []
        for slot in todo:
            blocks, mid_start, _ = slice_blocks(slot.article.blocks, slot.start, None)
            view = _galley_view(slot, paper, photo_src, blocks, slot.start.block, mid_start)
            template = next(page.template for page in issue.pages if page.number == slot.page)
            sheets.append(([PageView(slot.page, template, 0, (replace(_body_only(view), slot_id=_galley_key(slot)),))],
                           "galley", GALLEY_SHEET))
        results = lay_out(sheets, True)
        for slot, result in zip(todo, results):
            key = _galley_key(slot)
            slot.galley = result.galleys.get(key, Galley(key, 0, (), ()))
            galley_pdfs[key] = result.galley_pdfs.get(key, b"")
            warnings += result.warnings
        _fit(slots, issue, paper)
    return warnings


def _loosen(slots: list[_Slot], issue: Issue, paper: PaperSettings, lay_out: Layouter,
            photo_src: PhotoSource, galley_pdfs: dict[str, bytes]) -> list[str]:
    """``fit: loose``, until no slot so marked is short or can gain more (at most ``MAX_ROUNDS``)."""
    warnings: list[str] = []
    for _ in range(MAX_ROUNDS):
        said = _loosen_once(slots, issue, paper, lay_out, photo_src, galley_pdfs)
        if said is None:
            break
        warnings += said
    return warnings


AUTO_LOOSEST = 2.5
"""The loosest line (in natural spaces) a paragraph set a line longer may have when a hole, not
``fit: loose``, asks for it (what the proofs mark as too loose beyond)."""
AUTO_ADDED = 1
"""Lines wider than 2x such a paragraph may gain (measured on the sample, total-fit at 2 %: none
leaves 5 holes, 15.6 % of lines > 2x, 9 rivers; one, 3 holes, 15.9 %, 11; any, 3 holes, 16.8 %, 14)."""


def _loosen_once(slots: list[_Slot], issue: Issue, paper: PaperSettings, lay_out: Layouter,
                 photo_src: PhotoSource, galley_pdfs: dict[str, bytes]) -> list[str] | None:
    """``fit: loose``: set as many paragraphs a line longer as the slot has lines short (those whose
    longer setting is best first, where the breaker found one at acceptable spacing), set the galley
    again, and fit again (each round, while the slot is short and paragraphs can still go longer)."""
    todo = []
    for slot in slots:
        if slot.spec.continued or slot.galley is None or slot.jumps or slot.loose_done:
            continue
        ranges = slot.columns.ranges
        short = sum(slot.frame_lines - (end - first) for first, end in ranges) + \
            (slot.spec.columns - len(ranges)) * slot.frame_lines
        # With total-fit, a slot left with a hole (more than HOLE_SHORT short: total-fit sets tighter
        # than the greedy breaking the depths were fitted with) is loosened as ``fit: loose`` would.
        auto = slot.spec.fit != "loose"
        if auto and not (paper.line_breaking == "total-fit" and short > HOLE_SHORT):
            continue
        prefix = slot.galley.slot_id + "-b"
        offers = []  # each line a paragraph can gain: (its loosest line, level, paragraph)
        for key, record in slot.galley.paragraphs:
            index = int(key[len(prefix):]) if key.startswith(prefix) else -1
            taken = slot.loose.count(index)
            for level, worst in ((1, record.get("longer_worst")), (2, record.get("longer2_worst"))):
                added = record.get("longer2_loose" if level == 2 else "longer_loose") or 0
                if index >= 0 and worst is not None and level > taken and not (auto and worst > AUTO_LOOSEST) \
                        and not (auto and added > AUTO_ADDED):
                    offers.append((max(worst, record.get("longer_worst") or 0.0), level, index))
        offers.sort()
        wanted = short - HOLE_SHORT if auto else short  # a hole: only what makes it no hole
        if wanted > 0 and offers:
            chosen = [index for _, _, index in offers[:wanted]]
            slot.loose = tuple(sorted(slot.loose + tuple(chosen)))
            todo.append(slot)
    if not todo:
        return None
    sheets: list[Sheet] = []
    kept = {id(slot): (slot.loose, slot.galley) for slot in todo}
    pdfs_before, made = dict(galley_pdfs), dict[int, list[str]]()
    for slot in todo:
        view = replace(_body_only(_galley_view(slot, paper, photo_src, slot.article.blocks)), loose=slot.loose)
        template = next(page.template for page in issue.pages if page.number == slot.page)
        sheets.append(([PageView(slot.page, template, 0, (view,))], "galley", GALLEY_SHEET))
    warnings: list[str] = []
    for slot, result in zip(todo, lay_out(sheets, True)):
        slot.galley = result.galleys.get(slot.spec.slot_id, slot.galley)
        galley_pdfs.update(result.galley_pdfs)
        made[id(slot)] = list(result.galley_pdfs)
        warnings += result.warnings
    for slot in slots:  # a continuation drawing from its story's galley follows it
        if slot.parent is not None and slot.parent in todo and not slot.own_galley:
            slot.galley = slot.parent.galley
    _fit(slots, issue, paper)
    # A slot whose shortfall was not all at its end (a column ended early, before a block kept
    # together) can overflow once its paragraphs run longer: that is undone, and not tried again.
    undone = [slot for slot in todo if slot.galley is not None and slot.columns.next_row < slot.galley.rows]
    for slot in undone:
        slot.loose, slot.galley = kept[id(slot)]
        for key in made[id(slot)]:
            if key in pdfs_before:
                galley_pdfs[key] = pdfs_before[key]
            else:
                del galley_pdfs[key]
        slot.loose_done = True
    if undone:
        for slot in slots:
            if slot.parent is not None and slot.parent in undone and not slot.own_galley:
                slot.galley = slot.parent.galley
        _fit(slots, issue, paper)
    return warnings


def _galley_key(slot: _Slot) -> str:
    """The id of a continuation's own galley: it changes with where the story was cut."""
    return f"{slot.spec.slot_id}-from-{slot.start.block}-{slot.start.word}"


def _fit(slots: list[_Slot], issue: Issue, paper: PaperSettings) -> None:
    """Place the slots and fill their columns until nothing moves (arithmetic on the galleys' rows)."""
    for _ in range(4 * MAX_ROUNDS):
        changed = False
        placements = {}
        for page in issue.pages:
            top = NAMEPLATE_LINES if page.template == "front" else 0
            page_slots = [s for s in slots if s.page == page.number]
            for slot, placement in zip(page_slots, place(_requests(page_slots), paper.columns,
                                                         paper.grid_lines, top)):
                placements[slot.spec.slot_id] = placement
        for slot in slots:
            placement = placements[slot.spec.slot_id]
            if slot.parent is not None and not slot.own_galley:
                start = slot.parent.stop_row if slot.parent.jumps else (slot.galley.rows if slot.galley else 0)
                changed |= start != slot.start_row
                slot.start_row = start
            galley, columns = slot.galley, slot.spec.columns
            if galley is None:
                slot.columns, slot.frame_lines, slot.jumps = Columns((), 0), placement.depth, False
                if slot.insets:
                    changed |= slot.natural != max(slot.insets)
                    slot.natural = max(slot.insets)
                continue
            slot.frame_lines, slot.jumps = placement.depth, False
            slot.columns = fill(galley, slot.start_row, columns, placement.depth, slot.insets)
            if slot.spec.jump is not None and slot.columns.next_row < galley.rows:
                slot.frame_lines, slot.jumps = placement.depth - 1, True
                slot.columns = fill(galley, slot.start_row, columns, placement.depth - 1, slot.insets)
            natural = _natural(galley, slot.start_row, columns, slot.insets)
            changed |= natural != slot.natural
            slot.natural = natural
        _cut_words(slots, paper)
        if not changed:
            return


def _cut_words(slots: list[_Slot], paper: PaperSettings) -> None:
    """Turn each jump's cut row into a place in the article's words (for the continuation's text)."""
    for slot in slots:
        if slot.spec.continued or slot.spec.jump is None:
            continue
        target = next(s for s in slots if s.parent is slot)
        cut = None
        if slot.jumps and slot.galley is not None:
            frame = frame_of(slot.galley, slot.spec.slot_id, slot.columns, slot.frame_lines,
                             slot.spec.columns, 0.0, paper.leading)
            cut = cut_point(frame.lines, slot.spec.columns, slot.article.blocks, slot.start,
                            f"{slot.galley.slot_id}-b")
        slot.end = cut
        target.start = cut if cut is not None else Cut(len(slot.article.blocks), 0)


def _frame(slot: _Slot, view: PageView, paper: PaperSettings) -> Frame:
    """What the slot's frame holds, as the fit report reads it."""
    item = next(i for i in view.slots if i.slot_id == slot.spec.slot_id)
    if slot.galley is None:
        return Frame(slot.spec.slot_id, (), ())
    galley = slot.galley
    if slot.jumps:  # the rows past the cut are the continuation's, not this slot's
        galley = replace(galley, rows=slot.columns.next_row)
    return frame_of(galley, slot.spec.slot_id, slot.columns, slot.frame_lines, slot.spec.columns,
                    item.y + item.head_height, paper.leading)


def _requests(page_slots: list[_Slot]) -> list[Request]:
    return [_request(s) for s in page_slots]


def _request(slot: _Slot) -> Request:
    """What the slot asks of the grid (a supplied advert: its booked lines)."""
    spec = slot.spec
    natural = spec.depth if slot.supplied and spec.depth else slot.natural
    depth = spec.depth
    if depth and slot.insets and depth < max(slot.insets):  # a narrow photo deeper than its slot: the slot
        depth = max(slot.insets)  # holds it (never drawn over the slot below; _notes says so)
    return Request(spec.columns, slot.head_lines, depth, natural, spec.column, spec.top)


def _pages(issue: Issue, paper: PaperSettings, slots: list[_Slot],
           photo_src: PhotoSource) -> list[PageView]:
    views = []
    for page in issue.pages:
        top = NAMEPLATE_LINES if page.template == "front" else 0
        page_slots = [s for s in slots if s.page == page.number]
        placements = place(_requests(page_slots), paper.columns, paper.grid_lines, top)
        items = []
        for slot, placement in zip(page_slots, placements):
            blocks, mid_start, mid_end = slice_blocks(slot.article.blocks, slot.start, slot.end)
            items.append(_view(slot, paper, photo_src, placement, blocks, mid_start, mid_end))
        views.append(PageView(page.number, page.template, top, tuple(items),
                              _rules(placements, paper, top),
                              column_rules=_column_rules(page_slots, items, paper)))
    return views


def _view(slot: _Slot, paper: PaperSettings, photo_src: PhotoSource, placement: Placement,
          blocks: tuple, mid_start: bool = False, mid_end: bool = False) -> SlotView:
    width = paper.span_width(placement.columns)
    jump = slot.spec.jump if slot.jumps else None
    frame_lines = placement.depth - (1 if jump else 0)
    y = paper.margin_top + placement.line * paper.leading
    if slot.supplied:  # booked space: the advert's PDF is drawn into it; on the foot, it sits on the foot
        height = slot.spec.ad_size[1]
        if slot.spec.top == PIN_FOOT:
            y += placement.depth * paper.leading - height
        return SlotView(slot_id=slot.spec.slot_id, article=slot.article, columns=placement.columns,
                        x=paper.column_x(placement.column), y=y, width=width, column_width=paper.column_width,
                        head_height=0.0, frame_height=placement.depth * paper.leading, blocks=(),
                        supplied=height)
    photos: list[PhotoView] = []
    insets: list[InsetView] = []
    if not slot.spec.continued:
        for index, photo in enumerate(slot.article.photos):
            if _is_inset(photo, slot):
                assert photo.columns is not None
                inset_width = paper.span_width(photo.columns)
                view = _photo(photo, inset_width, photo_src, paper)
                lines = slot.inset_lines.get(index, lines_needed(view.height, paper.leading) + 2)
                above = sum(i.height for i in insets)  # narrow photos stack down the first columns
                insets.append(InsetView(view, inset_width, lines * paper.leading, index, above))
            else:
                photos.append(_photo(photo, width, photo_src, paper))
    return SlotView(
        slot_id=slot.spec.slot_id, article=slot.article, columns=placement.columns,
        x=paper.column_x(placement.column), y=y,
        width=width, column_width=paper.column_width, head_height=placement.head_lines * paper.leading,
        frame_height=max(frame_lines, 0) * paper.leading, blocks=blocks, first_block=slot.start.block,
        starts_mid_paragraph=mid_start, ends_mid_paragraph=mid_end,
        continued_from=slot.continued_from, jump_to=jump, photos=tuple(photos), insets=tuple(insets), loose=slot.loose)


def _photo(photo: Photo, width: float, photo_src: PhotoSource, paper: PaperSettings) -> PhotoView:
    """The photo's box: ``width`` wide, as deep as its ``depth:`` (a length, or body lines), else
    its own shape up to MAX_PHOTO_ASPECT; cropped round its ``focus:``."""
    if photo.depth_pt is not None:
        height = photo.depth_pt
    elif photo.depth_lines is not None:
        height = photo.depth_lines * paper.leading
    else:
        height = width * min(photo.aspect, MAX_PHOTO_ASPECT)
    return PhotoView(photo_src(photo, width, height), height, photo.caption, photo.credit)


def _rules(placements: list[Placement], paper: PaperSettings, top: int) -> tuple[Rule, ...]:
    """Column rules between side-by-side slots and rules between stacked ones."""
    rules = []
    for p in placements:
        y = paper.margin_top + p.line * paper.leading
        height = (p.head_lines + p.depth) * paper.leading
        if p.column > 0:
            rules.append(Rule("v", paper.column_x(p.column) - paper.gutter / 2, y, height))
        if p.line > top:
            rules.append(Rule("h", paper.column_x(p.column), y - GAP_LINES * paper.leading / 2 - 0.5,
                              paper.span_width(p.columns)))
    return tuple(rules)


def _column_left(slot: _Slot, item: SlotView, column: int, paper: PaperSettings) -> float:
    galley = slot.galley
    assert galley is not None
    return item.x + galley.left + column * (galley.width + paper.gutter)


def _column_rules(page_slots: list[_Slot], items: list[SlotView], paper: PaperSettings) -> tuple[Rule, ...]:
    """Rules between a story's columns (where its stylesheet asks for them), beside columns with text:
    a gutter's rule starts below any narrow photo that spans it (the photo and its caption take the top
    lines of both columns beside it) and ends at the foot of the deeper of the two columns' text."""
    rules = []
    for slot, item in zip(page_slots, items):
        if slot.galley is None or not slot.galley.rules:
            continue
        ranges = slot.columns.ranges
        taken = slot.insets or (0,) * max(len(ranges), 1)
        frame_lines = item.frame_height / paper.leading
        for column in range(1, len(ranges)):
            pair = (column - 1, column)
            top = min(taken[c] for c in pair)  # lines of a photo across this gutter
            bottom = min(frame_lines, max((taken[c] + ranges[c][1] - ranges[c][0] for c in pair
                                           if ranges[c][1] > ranges[c][0]), default=0))
            if bottom <= top:
                continue
            x = _column_left(slot, item, column, paper) - paper.gutter / 2 - 0.5
            rules.append(Rule("v", x, item.y + item.head_height + top * paper.leading,
                              (bottom - top) * paper.leading))
    return tuple(rules)


def _pieces(slots: list[_Slot], views: list[PageView], galley_pdfs: dict[str, bytes],
            paper: PaperSettings) -> tuple[tuple[tuple[Piece, ...], ...], dict[str, tuple[Galley, bytes]]]:
    """The rows of each page's galleys, column by column; and every galley drawn, with its sheet's PDF."""
    pages = []
    used: dict[str, tuple[Galley, bytes]] = {}
    for view in views:
        pieces = []
        for slot in (s for s in slots if s.page == view.number):
            galley = slot.galley
            if galley is None or not slot.columns.ranges:
                continue
            item = next(i for i in view.slots if i.slot_id == slot.spec.slot_id)
            used[galley.slot_id] = (galley, galley_pdfs[galley.slot_id])
            for column, (first, end) in enumerate(slot.columns.ranges):
                if end <= first:
                    continue
                below = slot.insets[column] * paper.leading if slot.insets else 0.0
                pieces.append(Piece(galley.slot_id, first, end, _column_left(slot, item, column, paper),
                                    item.y + item.head_height + below, galley.width))
        pages.append(tuple(pieces))
    return tuple(pages), used


def _page_placements(slots: list[_Slot], number: int, template: str, paper: PaperSettings) -> list[Placement]:
    """Where the grid put the slots of page ``number``."""
    top = NAMEPLATE_LINES if template == "front" else 0
    return place(_requests([s for s in slots if s.page == number]), paper.columns, paper.grid_lines, top)


def _check_overlaps(slots: list[_Slot], issue: Issue, paper: PaperSettings) -> None:
    """Pinned slots that land on each other (or on a slot placed around them) are an input error."""
    problems = []
    for page in issue.pages:
        page_slots = [s for s in slots if s.page == page.number]
        placements = _page_placements(slots, page.number, page.template, paper)
        for i, j in overlapping(placements):
            a, b = page_slots[i].spec, page_slots[j].spec
            problems.append(Problem(display_path(issue.manifest), human_key(b.key),
                                    f"{b.place} overlaps {a.place}",
                                    "move a pinned slot (column:, top:), or give one of them less depth"))
    if problems:
        raise InputError("pinned slots overlap", tuple(problems))


def _grow_tops(slots: list[_Slot], views: list[PageView], tops: dict[str, float], paper: PaperSettings) -> bool:
    """Give more lines to any top matter that came out taller than measured (never clip a headline)."""
    allotted = {item.slot_id: item.head_height for view in views for item in view.slots}
    changed = False
    for slot in slots:
        height = tops.get(slot.spec.slot_id, 0.0)
        if height > allotted[slot.spec.slot_id] + 0.5:
            slot.head_lines = lines_needed(height, paper.leading)
            changed = True
    return changed


def _report(slots: list[_Slot], views: list[PageView], measured: dict[str, Frame],
            paper: PaperSettings, issue: Issue) -> tuple[SlotFit, ...]:
    fits = []
    placed = {item.slot_id: (view.number, item) for view in views for item in view.slots}
    for slot in slots:
        number, item = placed[slot.spec.slot_id]
        frame = measured.get(slot.spec.slot_id, Frame(slot.spec.slot_id, (), ()))
        columns = slot.spec.columns
        frame_lines = round(item.frame_height / paper.leading)
        column_used = [frame.column_lines[i] if i < len(frame.column_lines) else 0.0 for i in range(columns)]
        taken = slot.insets or (0,) * columns
        column_short = tuple(max(0, frame_lines - taken[i] - math.ceil(u - 0.05)) for i, u in enumerate(column_used))
        over = math.ceil(frame.over(columns) - 0.05)
        over += max(0, max(taken) - frame_lines)  # a narrow photo the page could not give its lines
        wanted = slot.spec.depth if slot.spec.depth is not None else slot.natural
        depth = frame_lines + (1 if item.jump_to else 0)
        fit = SlotFit(
            page=number, slot_id=slot.spec.slot_id, slug=slot.spec.slug, columns=columns,
            depth=depth, available=frame_lines * columns - sum(slot.insets),
            used=round(sum(column_used)), over=over, short=0 if over else sum(column_short),
            column_short=column_short, jump_to=item.jump_to, continued_from=slot.continued_from,
            jumped_lines=0, capped=depth < wanted,
            box=(round(item.x, 2), round(item.y, 2), round(item.width, 2),
                 round(item.head_height + depth * paper.leading, 2)),
            headline=slot.article.headline)
        if slot.article.kind in ("advert", "supplied"):  # an advert is a box: its white space is its design
            fit = replace(fit, short=0, column_short=tuple(0 for _ in column_short))
        if slot.supplied:  # booked space never shrinks: what the page lacks is over
            fit = replace(fit, over=max(0, (slot.spec.depth or 0) - depth), used=0, available=0)
        elif slot.article.kind == "advert" and slot.spec.depth not in (None, FOOT) and depth < slot.spec.depth:
            fit = replace(fit, over=max(fit.over, slot.spec.depth - depth))  # a house advert keeps its size
        fits.append(replace(fit, place=slot.spec.place))
    return tuple(_with_jumped(_suggestions(slots, issue, paper, fits)))


def _with_jumped(fits: list[SlotFit]) -> list[SlotFit]:
    used = {f.slug: f.used for f in fits if f.continued_from is not None}
    return [replace(f, jumped_lines=used.get(f.slug, 0)) if f.jump_to else f for f in fits]


def _words(text: str) -> int:
    return len(text.split())


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class _Change:
    """One change to try: cut the story's last ``cut`` rows, drop a row of a paragraph (``drop``), or
    set the slot's ``depth`` or top-matter lines (``head``)."""

    cut: int = 0
    drop: int | None = None
    depth: int | None = None
    head: int | None = None


def _trial(slots: list[_Slot], issue: Issue, paper: PaperSettings, target: _Slot,
           change: _Change) -> dict[str, tuple[int, int]]:
    """Fit copies of the slots with ``change`` made to ``target``; return each slot's (over, short)
    in lines. Arithmetic on the galleys, as the composer fits them: no layout."""
    linked = {target.page}  # its page and every page a story on it jumps to or from, and so on
    while True:
        slugs = {s.spec.slug for s in slots if s.page in linked}
        grown = linked | {s.page for s in slots if s.spec.slug in slugs}
        if grown == linked:
            break
        linked = grown
    slots = [s for s in slots if s.page in linked]
    issue = replace(issue, pages=tuple(p for p in issue.pages if p.number in linked))
    copies = {id(s): replace(s) for s in slots}
    for copy in copies.values():
        if copy.parent is not None:
            copy.parent = copies.get(id(copy.parent), copy.parent)
    slot = copies[id(target)]
    story = slot.parent if slot.parent is not None and not slot.own_galley else slot
    if change.cut or change.drop is not None:
        galley = story.galley
        assert galley is not None
        if change.cut:
            keep = galley.rows - change.cut
            galley = replace(galley, rows=keep, lines=tuple(x for x in galley.lines if x.row < keep),
                             breaks=tuple(b for b in galley.breaks if b < keep - 1))  # no widow at the new end
        else:
            row = change.drop
            assert row is not None
            galley = replace(galley, rows=galley.rows - 1,
                             lines=tuple(replace(x, row=x.row - (x.row > row)) for x in galley.lines if x.row != row),
                             breaks=tuple(b - (b > row) for b in galley.breaks if b != row))
        for copy in copies.values():
            if copy.galley is not None and copy.galley.slot_id == galley.slot_id:
                copy.galley = galley
    if change.depth is not None:
        slot.spec = replace(slot.spec, depth=change.depth)
    if change.head is not None:
        slot.head_lines = change.head
    trial = list(copies.values())
    _fit(trial, issue, paper)
    out = {s.spec.slot_id: _measure(s) for s in trial}
    out[PAGE_EMPTY] = (_page_empty(trial, issue, paper, target.page), 0)
    return out


PAGE_EMPTY = "--page-empty"
"""The key of a trial's result holding the empty lines of the target's page grid (``--``: no slot's id)."""


def _page_empty(slots: list[_Slot], issue: Issue, paper: PaperSettings, number: int) -> int:
    """Empty lines on page ``number``'s grid, outside every slot (what ``PageFit.holes`` counts)."""
    template = _template(issue, number)
    top = NAMEPLATE_LINES if template == "front" else 0
    return sum(holes(_page_placements(slots, number, template, paper), paper.columns, paper.grid_lines, top))


def _measure(slot: _Slot) -> tuple[int, int]:
    """(over, short) of a slot after ``_fit``: rows of its galley that went nowhere, and empty lines
    at the foot of its columns."""
    if slot.galley is None:
        return 0, 0
    over = 0 if slot.jumps else max(0, slot.galley.rows - slot.columns.next_row)
    taken = slot.insets or (0,) * slot.spec.columns
    used = [end - first for first, end in slot.columns.ranges] + [0] * slot.spec.columns
    short = 0 if over or slot.jumps else sum(max(0, slot.frame_lines - taken[c] - used[c])
                                             for c in range(slot.spec.columns))
    return over, short


def _effect(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]], slot_id: str) -> str | None:
    """What a tried change did: to the slot, and to any other slot it pushed over; None if it made
    anything else worse."""
    over, short = after[slot_id]
    worse = [k for k in after if k != slot_id and k != PAGE_EMPTY and after[k][0] > before.get(k, (0, 0))[0]]
    if worse:
        return None
    if over:
        return f"then {over} over"
    return "then it fits" + (f", about {short} lines short" if short > HOLE_SHORT else "")


HOLE_SHORT = 2
"""Empty lines at a slot's foot beyond which it is reported short (as ``fit.HOLE_LINES``)."""


def _suggestions(slots: list[_Slot], issue: Issue, paper: PaperSettings, fits: list[SlotFit]) -> list[SlotFit]:
    """Ways to make each overset or short slot fit. Every one is tried (arithmetic on the galleys)
    and shown only if it works, with its measured effect; none is ever applied."""
    before = {s.spec.slot_id: _measure(s) for s in slots}
    out = []
    for fit, slot in zip(fits, slots):
        found = _suggest(fit, slot, slots, issue, paper, before)
        words = _over_words(fit, slot)
        if fit.over and fit.capped and not slot.supplied:
            words += _blame(slot, slots, issue, paper)
        out.append(replace(fit, suggestions=found, over_words=words))
    return out


def _blame(slot: _Slot, slots: list[_Slot], issue: Issue, paper: PaperSettings) -> str:
    """Why a slot got less depth than it asked: the slot that ends just above it on its page."""
    page_slots = [s for s in slots if s.page == slot.page]
    placements = _page_placements(slots, slot.page, _template(issue, slot.page), paper)
    mine = placements[page_slots.index(slot)]
    above = [(p.bottom, s) for s, p in zip(page_slots, placements) if s is not slot and p.bottom <= mine.line
             and p.column < mine.column + mine.columns and mine.column < p.column + p.columns]
    below = [(p.line, s) for s, p in zip(page_slots, placements) if s is not slot and p.line >= mine.bottom
             and p.column < mine.column + mine.columns and mine.column < p.column + p.columns]
    asked = mine.wanted
    if not above:
        if below:
            return (f": the slot was cut to {mine.depth} of the {asked} lines it asks by "
                    f"{min(below, key=lambda item: item[0])[1].spec.place} below it")
        return f": the page ends {mine.depth} lines below its top; it asks {asked}"
    culprit = max(above, key=lambda item: item[0])[1]
    return (f": the slot was cut to {mine.depth} of the {asked} lines it asks, pushed down by {culprit.spec.place} "
            f"above it ({culprit.head_lines} lines of heads and {culprit.frame_lines} of text)")


def _story(slot: _Slot) -> _Slot:
    return slot.parent if slot.parent is not None and not slot.own_galley else slot


def _last_words(galley: Galley, rows: int) -> int:
    """Words in the galley's last ``rows`` rows (a word broken across the first of them counted whole)."""
    return sum(_words(x.text) for x in galley.lines if x.row >= galley.rows - rows)


def _over_words(fit: SlotFit, slot: _Slot) -> str:
    if not fit.over or slot.galley is None or slot.supplied:
        if slot.supplied and fit.over:
            return (f"the advert is booked {slot.spec.depth} lines deep; the page leaves {fit.depth}: "
                    "move it, or take the space from the slots above it")
        return ""
    return f"about {_plural(_last_words(slot.galley, fit.over), 'word')} ({_plural(fit.over, 'line')}) over"


def _suggest(fit: SlotFit, slot: _Slot, slots: list[_Slot], issue: Issue, paper: PaperSettings,
             before: dict[str, tuple[int, int]]) -> tuple[str, ...]:
    """The suggestions for one slot, each tried."""
    key = slot.spec.slot_id
    if slot.supplied or slot.galley is None or is_placeholder(slot.article):  # a placeholder: write the story
        return ()
    out: list[str] = []
    galley = slot.galley

    over, short = before[key]

    last: dict[str, tuple[int, int]] = {}

    def tried(change: _Change) -> str | None:  # the measured effect, if the change helps this slot
        after = _trial(slots, issue, paper, slot, change)
        last.clear()
        last.update(after)
        helps = after[key][0] < over if over else (after[key][0] == 0 and after[key][1] < short)
        return _effect(before, after, key) if helps else None

    if over:
        # the fewest rows cut that make it fit; never the whole story (a slot with no room is not a cut)
        for rows in range(over, min(over + 6, galley.rows - 1) + 1):
            effect = tried(_Change(cut=rows))
            if effect and effect.startswith("then it fits"):
                words = _last_words(_story(slot).galley or galley, rows)
                out.append(f"cut about {_plural(words, 'word')}, {_plural(rows, 'line')} "
                           f"(the last {_plural(words, 'word')} of the story): {effect}")
                break
        out += _cheap_cuts(slot, tried)
        if slot.standfirst_lines and not slot.spec.continued and slot.article.standfirst:
            head = lines_needed(max(0.0, slot.top_height - slot.standfirst_height), paper.leading)
            effect = tried(_Change(head=head))
            if effect:
                out.append(f"drop the standfirst ({_plural(slot.head_lines - head, 'line')} of top matter): {effect}")
        if slot.spec.depth not in (None, FOOT) and not fit.capped:
            for grow in range(max(1, math.ceil(over / slot.spec.columns) - 3), over + 1):  # from about the fewest
                effect = tried(_Change(depth=(slot.spec.depth or 0) + grow))
                if effect is None:
                    break
                if effect.startswith("then it fits"):
                    out.append(f"depth: {(slot.spec.depth or 0) + grow} (+{_plural(grow, 'line')} of depth): {effect}")
                    break
        return tuple(out)
    if short > HOLE_SHORT and not slot.jumps and slot.article.kind not in ("advert", "supplied"):
        if slot.spec.depth is not None:
            best: tuple[int, int, str] | None = None
            empty = _page_empty(slots, issue, paper, slot.page)
            for less in range(1, fit.depth):
                change = _Change(depth=fit.depth - less)
                effect = tried(change)
                if effect is None or not effect.startswith("then it fits"):
                    break
                # less depth that only moves the white space out of the slot onto the page (nothing
                # below takes it up) fixes nothing: not suggested
                if last[PAGE_EMPTY][0] > empty:
                    break
                best = (fit.depth - less, less, effect)
            if best is not None:
                out.append(f"depth: {best[0]} (-{_plural(best[1], 'line')} of depth): {best[2]}")
        ends = {x.block_id: x for x in galley.lines}  # the last line of each paragraph is not full
        full = [x for x in galley.lines if x.fill > 0.9 and ends[x.block_id] is not x]
        per_line = sum(_words(x.text) for x in full) / len(full) if full else 6.0
        lines = math.floor(0.75 * (short - slot.spec.columns))  # copy comes in words, not lines: leave room
        if lines > 0:
            words = max(1, math.floor(lines * per_line))
            out.append(f"add about {_plural(words, 'word')} ({_plural(lines, 'line')}): "
                       f"then about {short - lines} lines short")
    return tuple(out)


def _cheap_cuts(slot: _Slot, tried: Callable[[_Change], str | None]) -> list[str]:
    """Paragraphs whose last line is nearly empty: cutting its words there saves a whole line (tried)."""
    galley = slot.galley
    assert galley is not None
    start, stop = slot.start_row, galley.rows
    last: dict[str, GalleyLine] = {}
    for line in galley.lines:
        if start <= line.row < stop:
            last[line.block_id] = line
    widths = sorted(len(x.text) for x in galley.lines) or [1]
    typical = widths[len(widths) * 3 // 4] or 1  # a full line's characters (the galley's fill is not always read)

    def fill(line: GalleyLine) -> float:
        return min(line.fill, len(line.text.strip()) / typical)

    short = sorted((x for x in last.values() if fill(x) < 0.35 and _words(x.text)), key=fill)
    out = []
    for line in short[:3]:
        previous = [x for x in galley.lines if x.block_id == line.block_id and x.row < line.row]
        if not previous:
            continue
        effect = tried(_Change(drop=line.row))
        if effect is None:
            continue
        words = _words(line.text) + (1 if previous[-1].text.rstrip().endswith("-") else 0)
        ending = previous[-1].text.strip()[-30:]
        out.append(f"cheap cut: the paragraph whose last line is “{line.text.strip()}” (after “…{ending}”): "
                   f"cut its last {_plural(words, 'word')} to save a line: {effect}")
    return out


def proof_pages(composition: Composition, paper: PaperSettings) -> list[PageView]:
    """The pages with proof marks: a red bar on each overset slot, a blue one on each hole, an orange
    one in the gutter beside each line still looser than 2.5x (``typo.loose_lines``)."""
    fits = {f.slot_id: f for f in composition.slots}
    loose = loose_lines(composition, paper.leading)
    pages = []
    for view in composition.pages:
        marks = [Mark("loose", line.edge + 1.0, line.top - 1.5, paper.gutter - 2.0, "")
                 for line, _ in loose.get(view.number, ()) if line.edge is not None]
        for item in view.slots:
            fit = fits[item.slot_id]
            bottom = item.y + item.head_height + item.frame_height
            if fit.over:
                marks.append(Mark("over", item.x, bottom - paper.leading * 1.4, item.width,
                                  f"OVERSET +{fit.over} lines: {fit.slug}"))
            for column, short in enumerate(fit.column_short):
                if short > 2 and not fit.over:
                    x = item.x + column * (paper.column_width + paper.gutter)
                    marks.append(Mark("hole", x, bottom - short * paper.leading, paper.column_width,
                                      f"HOLE {short} lines"))
        for page_fit in composition.page_fits:
            if page_fit.page != view.number:
                continue
            for column, line, depth in page_fit.spans:
                if depth > 2:
                    y = paper.margin_top + line * paper.leading
                    marks.append(Mark("hole", paper.column_x(column), y, paper.column_width,
                                      f"HOLE {depth} lines"))
        pages.append(replace(view, marks=tuple(marks)))
    return pages


def _notes(slots: list[_Slot], views: list[PageView], fits: tuple[SlotFit, ...], issue: Issue,
           paper: PaperSettings) -> tuple[str, ...]:
    """What would otherwise go to press unremarked: a story that gets no body lines on its page, a
    headline that does not fit its slot or its ``headline_lines:``, a headline whose last line is
    one word, a page count that is not a multiple of 4."""
    notes = []
    by_id = {f.slot_id: f for f in fits}
    for slot in slots:
        spec = slot.spec
        if slot.supplied:
            continue
        if not spec.continued and is_placeholder(slot.article):
            fit = by_id.get(spec.slot_id)
            room = (" (its slot will be as deep as the story)" if spec.depth is None else
                    f" (its slot holds {_plural(fit.available, 'line')})" if fit is not None and fit.available else "")
            notes.append(f"{spec.place}: still the placeholder `layout new` wrote{room}: write the story and "
                         f"its headline in {display_path(slot.article.path)}")
        if slot.galley is not None and slot.galley.rows > slot.start_row and not any(
                end > first for first, end in slot.columns.ranges):
            notes.append(f"{spec.place}: the story gets no body lines on page {slot.page}, only its "
                         "headline: give it depth or move it, or move the story whole to another page")
        placement = next(p for p, s in zip(_page_placements(slots, slot.page, _template(issue, slot.page), paper),
                                           [s for s in slots if s.page == slot.page]) if s is slot)
        photo = max(slot.insets) if slot.insets else 0
        if photo and spec.depth and photo > spec.depth:
            notes.append(f"{spec.place}: its photo is {photo} lines deep (caption included), deeper than the "
                         f"slot's depth: {spec.depth}: the slot is made {photo} lines deep to hold it; give "
                         f"depth: {photo} or more, or the photo a smaller depth:")
        elif photo > placement.depth:
            notes.append(f"{spec.place}: its photo is {photo} lines deep (caption included) but the slot has only "
                         f"{placement.depth} line(s) on page {slot.page}: move the slot up or give the photo a "
                         "smaller depth:")
        if placement.line + placement.head_lines > paper.grid_lines:
            notes.append(f"{spec.place}: the headline does not fit on the page: it needs "
                         f"{placement.head_lines} line(s) from line {placement.line + 1} of {paper.grid_lines}")
        if len(slot.headline) == 3 and slot.headline[1] > 0:
            full, one, without = slot.headline
            lines = round(full / one)
            if spec.headline_lines is not None and lines > spec.headline_lines:
                notes.append(f"{spec.place}: the headline takes {lines} lines, more than headline_lines: "
                             f"{spec.headline_lines}: shorten it or widen the slot")
            if lines > 1 and without and without < full - one / 2:
                last = slot.article.headline.split()[-1]
                notes.append(f"{spec.place}: the headline's last line is one word (“{last}”): "
                             "reword it, or shorten it by a word or two")
    if len(issue.pages) % 4:
        notes.append(f"the issue has {len(issue.pages)} pages: a newspaper is printed in multiples of 4 "
                     f"(add or remove pages in pages: to make {4 * -(-len(issue.pages) // 4)})")
    return tuple(notes)


def _template(issue: Issue, number: int) -> str:
    return next(page.template for page in issue.pages if page.number == number)
