"""Stage 3: fit the articles to each page's grid.

Every story's body is set once, as a galley (``galley.py``): one column at its column width, with
its top matter measured beside it. From then on fitting is arithmetic on the galleys' rows: each
slot is placed in column order (``grid.py``), its columns are filled with whole rows where the
stylesheet allows a column to end, a slot of natural depth gets the fewest rows that hold its text
balanced, and a jumped story is cut at the first row that does not fit, the rest going to its
continuation. Then each page is laid out once with empty body frames, and the galleys' rows are
drawn into their columns (``assemble.py``). A top matter that comes out taller on the page than
measured gets more lines and the pages are placed again; what still does not fit is overset.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .articles import Article, Photo
from .assemble import Piece
from .cut import START, Cut, cut_point, slice_blocks
from .galley import Columns, Galley, fill, frame_of, natural_depth
from .grid import GAP_LINES, Placement, Request, holes, place
from .manifest import Issue, SlotSpec
from .markup import Mark, PageView, PhotoView, Rule, SlotView
from .measure import Frame, Line, lines_needed
from .render import PageResult
from .settings import PaperSettings
from .typo import loose_lines

NAMEPLATE_LINES = 15
"""Grid lines the front-page nameplate takes (including the line below it)."""
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


@dataclass(frozen=True)
class PageFit:
    """Empty lines below the lowest slot in each grid column of a page."""

    page: int
    holes: tuple[int, ...]


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

    @property
    def overset(self) -> tuple[SlotFit, ...]:
        """Slots whose copy did not fit."""
        return tuple(s for s in self.slots if s.over > 0)


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

    @property
    def stop_row(self) -> int:
        """The row after its last: where a jump cut it, else the end of the galley."""
        if self.galley is None:
            return 0
        return self.columns.next_row if self.jumps else self.galley.rows


def compose(issue: Issue, paper: PaperSettings, articles: dict[str, Article], lay_out: Layouter,
            photo_src: PhotoSource) -> Composition:
    """Fit every article of ``issue`` to its page and return the composed pages."""
    slots = [_Slot(spec, page.number, articles[spec.slug]) for page in issue.pages for spec in page.slots]
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
    measured = {slot.spec.slot_id: _frame(slot, view, paper) for view in views for slot in slots
                if slot.page == view.number}
    fits = _report(slots, views, measured, paper)
    page_fits = tuple(PageFit(v.number, tuple(holes(_placements(v, paper), paper.columns,
                                                    paper.grid_lines, v.top_lines))) for v in views)
    pieces, galleys = _pieces(slots, views, galley_pdfs, paper)
    return Composition(tuple(views), fits, page_fits, rounds, tuple(r.pdf or b"" for r in results),
                       tuple(sorted(warnings)), pieces, galleys)


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
    return replace(item, article=article, photos=(), jump_to=None)


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
        for slot in (s for s in slots if s.page == page.number):
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


def _loosen_once(slots: list[_Slot], issue: Issue, paper: PaperSettings, lay_out: Layouter,
                 photo_src: PhotoSource, galley_pdfs: dict[str, bytes]) -> list[str] | None:
    """``fit: loose``: set as many paragraphs a line longer as the slot has lines short (those whose
    longer setting is best first, where the breaker found one at acceptable spacing), set the galley
    again, and fit again (each round, while the slot is short and paragraphs can still go longer)."""
    todo = []
    for slot in slots:
        if slot.spec.fit != "loose" or slot.spec.continued or slot.galley is None or slot.jumps:
            continue
        ranges = slot.columns.ranges
        short = sum(slot.frame_lines - (end - first) for first, end in ranges) + \
            (slot.spec.columns - len(ranges)) * slot.frame_lines
        prefix = slot.galley.slot_id + "-b"
        offers = []  # each line a paragraph can gain: (its loosest line, level, paragraph)
        for key, record in slot.galley.paragraphs:
            index = int(key[len(prefix):]) if key.startswith(prefix) else -1
            taken = slot.loose.count(index)
            for level, worst in ((1, record.get("longer_worst")), (2, record.get("longer2_worst"))):
                if index >= 0 and worst is not None and level > taken:
                    offers.append((max(worst, record.get("longer_worst") or 0.0), level, index))
        offers.sort()
        if short > 0 and offers:
            chosen = [index for _, _, index in offers[:short]]
            slot.loose = tuple(sorted(slot.loose + tuple(chosen)))
            todo.append(slot)
    if not todo:
        return None
    sheets: list[Sheet] = []
    for slot in todo:
        view = replace(_body_only(_galley_view(slot, paper, photo_src, slot.article.blocks)), loose=slot.loose)
        template = next(page.template for page in issue.pages if page.number == slot.page)
        sheets.append(([PageView(slot.page, template, 0, (view,))], "galley", GALLEY_SHEET))
    warnings: list[str] = []
    for slot, result in zip(todo, lay_out(sheets, True)):
        slot.galley = result.galleys.get(slot.spec.slot_id, slot.galley)
        galley_pdfs.update(result.galley_pdfs)
        warnings += result.warnings
    for slot in slots:  # a continuation drawing from its story's galley follows it
        if slot.parent is not None and slot.parent in todo and not slot.own_galley:
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
                continue
            slot.frame_lines, slot.jumps = placement.depth, False
            slot.columns = fill(galley, slot.start_row, columns, placement.depth)
            if slot.spec.jump is not None and slot.columns.next_row < galley.rows:
                slot.frame_lines, slot.jumps = placement.depth - 1, True
                slot.columns = fill(galley, slot.start_row, columns, placement.depth - 1)
            natural = natural_depth(galley, slot.start_row, columns)
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
    return [Request(s.spec.columns, s.head_lines, s.spec.depth, s.natural) for s in page_slots]


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
    photos = tuple(_photo(p, width, photo_src) for p in slot.article.photos) if not slot.spec.continued else ()
    return SlotView(
        slot_id=slot.spec.slot_id, article=slot.article, columns=placement.columns,
        x=paper.column_x(placement.column), y=paper.margin_top + placement.line * paper.leading,
        width=width, column_width=paper.column_width, head_height=placement.head_lines * paper.leading,
        frame_height=max(frame_lines, 0) * paper.leading, blocks=blocks, first_block=slot.start.block,
        starts_mid_paragraph=mid_start, ends_mid_paragraph=mid_end,
        continued_from=slot.continued_from, jump_to=jump, photos=photos, loose=slot.loose)


def _photo(photo: Photo, width: float, photo_src: PhotoSource) -> PhotoView:
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
    """Rules between a story's columns (where its stylesheet asks for them), beside columns with text."""
    rules = []
    for slot, item in zip(page_slots, items):
        if slot.galley is None or not slot.galley.rules:
            continue
        for column in range(1, len(slot.columns.ranges)):
            x = _column_left(slot, item, column, paper) - paper.gutter / 2 - 0.5
            rules.append(Rule("v", x, item.y + item.head_height, item.frame_height))
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
                pieces.append(Piece(galley.slot_id, first, end, _column_left(slot, item, column, paper),
                                    item.y + item.head_height, galley.width))
        pages.append(tuple(pieces))
    return tuple(pages), used


def _placements(view: PageView, paper: PaperSettings) -> list[Placement]:
    out = []
    for item in view.slots:
        column = round((item.x - paper.margin_inside) / (paper.column_width + paper.gutter))
        line = round((item.y - paper.margin_top) / paper.leading)
        head = round(item.head_height / paper.leading)
        depth = round(item.frame_height / paper.leading) + (1 if item.jump_to else 0)
        out.append(Placement(column, line, item.columns, head, depth, depth))
    return out


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
            paper: PaperSettings) -> tuple[SlotFit, ...]:
    fits = []
    placed = {item.slot_id: (view.number, item) for view in views for item in view.slots}
    for slot in slots:
        number, item = placed[slot.spec.slot_id]
        frame = measured.get(slot.spec.slot_id, Frame(slot.spec.slot_id, (), ()))
        columns = slot.spec.columns
        frame_lines = round(item.frame_height / paper.leading)
        column_used = [frame.column_lines[i] if i < len(frame.column_lines) else 0.0 for i in range(columns)]
        column_short = tuple(max(0, frame_lines - math.ceil(u - 0.05)) for u in column_used)
        over = math.ceil(frame.over(columns) - 0.05)
        wanted = slot.spec.depth if slot.spec.depth is not None else slot.natural
        depth = frame_lines + (1 if item.jump_to else 0)
        fit = SlotFit(
            page=number, slot_id=slot.spec.slot_id, slug=slot.spec.slug, columns=columns,
            depth=depth, available=frame_lines * columns,
            used=round(sum(column_used)), over=over, short=0 if over else sum(column_short),
            column_short=column_short, jump_to=item.jump_to, continued_from=slot.continued_from,
            jumped_lines=0, capped=depth < wanted,
            box=(round(item.x, 2), round(item.y, 2), round(item.width, 2),
                 round(item.head_height + depth * paper.leading, 2)),
            headline=slot.article.headline)
        if slot.article.kind == "advert":  # an advert is a box: its white space is its design, not a hole
            fit = replace(fit, short=0, column_short=tuple(0 for _ in column_short))
        fits.append(replace(fit, suggestions=_suggest(fit, slot, frame, paper)))
    return tuple(_with_jumped(fits))


def _with_jumped(fits: list[SlotFit]) -> list[SlotFit]:
    used = {f.slug: f.used for f in fits if f.continued_from is not None}
    return [replace(f, jumped_lines=used.get(f.slug, 0)) if f.jump_to else f for f in fits]


def _suggest(fit: SlotFit, slot: _Slot, frame: Frame, paper: PaperSettings) -> tuple[str, ...]:
    """Ways to make an overset or short slot fit, each with its effect in lines."""
    full = [len(line.text) for line in frame.lines if line.fill > 0.9]
    per_line = round(sum(full) / len(full)) if full else 35
    columns = fit.columns
    if fit.over:
        out = [f"cut {fit.over} line(s) (about {fit.over * per_line} characters)"]
        out += _cheap_cuts(frame)
        if slot.standfirst_lines:
            out.append(f"drop the standfirst: saves {slot.standfirst_lines * columns} line(s)")
        if columns < paper.columns:
            need = math.ceil((fit.used + fit.over) / (columns + 1))
            out.append(f"take one more column ({columns + 1}): about {need} lines deep instead of {fit.depth}")
        grow = math.ceil(fit.over / columns)
        if fit.capped:
            out.append(f"give it {grow} more line(s) of depth: there is no room below it on this page, "
                       "so shorten or move what sits below")
        else:
            out.append(f"depth: {fit.depth + grow} (+{grow} line(s) of depth)")
        return tuple(out)
    if fit.short > 2 and not fit.jump_to:
        out = [f"add about {fit.short} line(s) of copy (about {fit.short * per_line} characters)"]
        if fit.short >= columns:
            out.append(f"depth: {fit.depth - fit.short // columns} (-{fit.short // columns} line(s) of depth)")
        return tuple(out)
    return ()


def _cheap_cuts(frame: Frame) -> list[str]:
    """Paragraphs whose last line is nearly empty: trimming a few words there saves a whole line."""
    last: dict[str, Line] = {}
    for line in frame.lines:
        last[line.block_id] = line
    short = sorted((line for line in last.values() if line.fill < 0.35), key=lambda line: line.fill)
    return [f"cheap cut: the paragraph ending “{line.text.strip()[-30:]}” has a "
            f"{round(line.fill * 100)}% last line: trim {max(1, len(line.text.strip()))} characters "
            f"to save a line" for line in short[:3]]


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
        for fit in composition.page_fits:
            if fit.page != view.number:
                continue
            for column, depth in enumerate(fit.holes):
                if depth > 2:
                    y = paper.margin_top + (paper.grid_lines - depth) * paper.leading
                    marks.append(Mark("hole", paper.column_x(column), y, paper.column_width,
                                      f"HOLE {depth} lines"))
        pages.append(replace(view, marks=tuple(marks)))
    return pages
