"""Stage 3: fit the articles to each page's grid, measuring with WeasyPrint's own layout.

The composer works in rounds. It measures every slot's top matter and body once (a measuring sheet:
top matter at the slot's width, body in one column), places the slots in column order, lays out the
whole issue with fixed-depth frames, and reads back what overflowed. Slots with a natural depth grow
by the lines they overflowed; jumped stories are cut at the first overset line and the rest goes to
their continuation. It stops when a round changes nothing; what still does not fit is overset.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from .articles import Article, Photo
from .cut import START, Cut, cut_point, slice_blocks
from .grid import GAP_LINES, Placement, Request, holes, place
from .manifest import Issue, SlotSpec
from .markup import Mark, PageView, PhotoView, Rule, SlotView
from .measure import Frame, Line, lines_needed
from .render import PageResult
from .settings import PaperSettings

NAMEPLATE_LINES = 15
"""Grid lines the front-page nameplate takes (including the line below it)."""
MAX_ROUNDS = 6
MAX_PHOTO_ASPECT = 0.8
"""Photos taller than this (height / width) are cropped to it."""

PhotoSource = Callable[[Photo, float, float], str]
"""Returns the URL of a photo prepared for its placed width and height (points)."""
Sheet = tuple[list[PageView], str, float | None]
"""One document to lay out: its pages, the mode (print, proof, measure) and a sheet height."""
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
    """Each page as a PDF, as WeasyPrint wrote it in the last round."""
    warnings: tuple[str, ...] = ()
    """What WeasyPrint said while laying the pages out."""

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
    head_lines: int
    natural: int
    standfirst_lines: int = 0
    total_lines: int = 0
    """Lines the slot's text takes in one column (what is overset if the slot gets no room at all)."""
    too_shallow: int = 0
    """The deepest natural depth known to overflow."""
    start: Cut = START
    end: Cut | None = None
    continued_from: int | None = None


def compose(issue: Issue, paper: PaperSettings, articles: dict[str, Article], lay_out: Layouter,
            photo_src: PhotoSource) -> Composition:
    """Fit every article of ``issue`` to its page and return the composed pages."""
    slots = [_Slot(spec, page.number, articles[spec.slug], 0, 0)
             for page in issue.pages for spec in page.slots]
    for slot in slots:
        if slot.spec.continued:
            slot.continued_from = next(s.page for s in slots if s.spec.slug == slot.spec.slug
                                       and not s.spec.continued)
    warnings = set(_measure(slots, issue, paper, lay_out, photo_src))
    views: list[PageView] = []
    measured: dict[str, Frame] = {}
    results: list[PageResult] = []
    rounds = 0
    for rounds in range(1, MAX_ROUNDS + 1):  # noqa: B007 (the count is reported)
        views = _pages(issue, paper, slots, photo_src)
        results = lay_out([([view], "print", None) for view in views], True)
        measured = {k: f for r in results for k, f in r.frames.items()}
        tops = {k[len("topin-"):]: h for r in results for k, h in r.heights.items() if k.startswith("topin-")}
        grown = _grow_tops(slots, views, tops, paper)
        if not _refit(slots, views, measured, paper) and not grown:
            break
    warnings.update(w for r in results for w in r.warnings)
    fits = _report(slots, views, measured, paper)
    page_fits = tuple(PageFit(v.number, tuple(holes(_placements(v, paper), paper.columns,
                                                    paper.grid_lines, v.top_lines))) for v in views)
    pdfs = tuple(r.pdf or b"" for r in results)
    return Composition(tuple(views), fits, page_fits, rounds, pdfs, tuple(sorted(warnings)))


def _measure(slots: list[_Slot], issue: Issue, paper: PaperSettings, lay_out: Layouter,
             photo_src: PhotoSource) -> list[str]:
    """Measure top matter at slot width and each body in one column: one measuring sheet a page."""
    sheets: list[Sheet] = []
    for page in issue.pages:
        items = []
        for slot in (s for s in slots if s.page == page.number):
            blocks = () if slot.spec.continued else slot.article.blocks
            items.append(_view(slot, paper, photo_src, Placement(0, 0, slot.spec.columns, 0, 0, 0), blocks))
        sheets.append(([PageView(0, "measure", 0, tuple(items))], "measure", 14_000.0))
    results = lay_out(sheets, False)
    found = {k: h for r in results for k, h in r.heights.items()}
    for slot in slots:
        key = slot.spec.slot_id
        slot.head_lines = lines_needed(found.get("mtop-" + key, 0.0), paper.leading)
        slot.standfirst_lines = int(found.get("msf-" + key, 0.0) // paper.leading)
        total = lines_needed(found.get("mbody-" + key, 0.0), paper.leading)
        slot.total_lines = total
        slot.natural = max(1, math.ceil(total / slot.spec.columns))
    return [w for r in results for w in r.warnings]


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
                              _rules(placements, paper, top)))
    return views


def _view(slot: _Slot, paper: PaperSettings, photo_src: PhotoSource, placement: Placement,
          blocks: tuple, mid_start: bool = False, mid_end: bool = False) -> SlotView:
    width = paper.span_width(placement.columns)
    jump = slot.spec.jump if slot.end is not None else None
    frame_lines = placement.depth - (1 if jump else 0)
    photos = tuple(_photo(p, width, photo_src) for p in slot.article.photos) if not slot.spec.continued else ()
    return SlotView(
        slot_id=slot.spec.slot_id, article=slot.article, columns=placement.columns,
        x=paper.column_x(placement.column), y=paper.margin_top + placement.line * paper.leading,
        width=width, column_width=paper.column_width, head_height=placement.head_lines * paper.leading,
        frame_height=max(frame_lines, 0) * paper.leading, blocks=blocks, first_block=slot.start.block,
        starts_mid_paragraph=mid_start, ends_mid_paragraph=mid_end,
        continued_from=slot.continued_from, jump_to=jump, photos=photos)


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


def _placements(view: PageView, paper: PaperSettings) -> list[Placement]:
    out = []
    for item in view.slots:
        column = round((item.x - paper.margin_inside) / (paper.column_width + paper.gutter))
        line = round((item.y - paper.margin_top) / paper.leading)
        head = round(item.head_height / paper.leading)
        depth = round(item.frame_height / paper.leading) + (1 if item.jump_to else 0)
        out.append(Placement(column, line, item.columns, head, depth, depth))
    return out


def _refit(slots: list[_Slot], views: list[PageView], measured: dict[str, Frame],
           paper: PaperSettings) -> bool:
    """Grow natural slots that overflowed and move jump cuts; return True if anything changed."""
    changed = False
    by_id = {item.slot_id: item for view in views for item in view.slots}
    for slot in slots:
        frame = measured.get(slot.spec.slot_id)
        item = by_id[slot.spec.slot_id]
        if frame is None:
            continue
        over = frame.over(slot.spec.columns)
        if slot.spec.jump is not None and over > 0.5:
            prefix = f"{slot.spec.slot_id}-b"
            cut = cut_point(frame.lines, slot.spec.columns, slot.article.blocks, slot.start, prefix)
            if cut is not None and cut != slot.end:
                slot.end = cut
                target = next(s for s in slots if s.spec.continued and s.spec.slug == slot.spec.slug)
                target.start = cut
                rest = measured.get(target.spec.slot_id)
                lines = over + (rest.used(target.spec.columns) + rest.over(target.spec.columns) if rest else 0)
                target.natural = max(1, math.ceil(lines / target.spec.columns))
                target.total_lines = math.ceil(lines)
                changed = True
        elif slot.spec.depth is None:
            changed |= _balance(slot, frame, round(item.frame_height / paper.leading))
    return changed


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


def _balance(slot: _Slot, frame: Frame, depth: int) -> bool:
    """Deepen a natural-depth slot that overflowed; make one with a short last column shallower.

    A depth that overflowed once is never tried again, so the rounds cannot oscillate.
    """
    columns = slot.spec.columns
    over = frame.over(columns)
    if over > 0.5:
        slot.too_shallow = max(slot.too_shallow, depth)
        if slot.natural > depth:  # the page ran out: nothing to gain
            return False
        slot.natural = depth + math.ceil(over / columns - 0.05)
        return True
    balanced = max(math.ceil(frame.used(columns) / columns - 0.05), slot.too_shallow + 1, 1)
    if balanced < depth and slot.natural != balanced:
        slot.natural = balanced
        return True
    return False


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
        if slot.spec.slot_id not in measured or frame_lines <= 0:
            # No room on the page at all: the frame was not laid out, so all of its text is over.
            over = max(over, slot.total_lines if item.blocks else 0)
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
    """The pages with proof marks: a red bar on each overset slot, a blue one on each hole."""
    fits = {f.slot_id: f for f in composition.slots}
    pages = []
    for view in composition.pages:
        marks = []
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
