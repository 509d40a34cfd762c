"""Stage 1 (reading): read and check an issue's manifest (``issues/<issue-id>/issue.yaml``)."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..base.units import PT_PER_UNIT, parse_length
from ..errors import InputError, Problem, collect
from .normalise import shorten
from .settings import PaperSettings
from .sources import Checker, Number, did_you_mean, display_path, parse_yaml, read_text, source_text

TEMPLATES = ("front", "inside", "back")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
ISSUE_KEYS = ("date", "number", "volume", "pages")
PAGE_KEYS = ("page", "template", "articles")
SLOT_KEYS = ("slug", "continued", "ad", "columns", "depth", "jump", "column", "top", "headline_lines", "fit")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
MAX_PAGES = 96
"""Pages in one issue: more than any press run of a weekly tabloid."""
MAX_SLUG = 80
"""Characters in an article's name (a file name has at most 255 bytes)."""
MAX_SLOTS = 40
"""Articles on one page."""
NAMEPLATE_LINES = 15
"""Grid lines the front-page nameplate takes (including the line below it): pins on the front page
count from under it. Here, not in composing/compose.py, so that reading a manifest never loads the composer
(and WeasyPrint with it)."""
RESERVED = re.compile(r"^(?:cont|slot|mtop|msf|mfig|topin|frame|gal|galframe|ad|inset)-|--|-b\d+$"
                      r"|-from-\d+-\d+(?:-b\d+)?$")
"""The shapes of the names layout gives the parts of a page (``cont-<slug>`` is a continuation,
``<slug>-b3`` its fourth block, ``gal-<slug>`` its galley ...): a slug of that shape would be
confused with another slot's part and print over it."""
_ISO_DAY = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


_KEY_PATH = re.compile(r"pages\[(\d+)\](?:\.articles\[(\d+)\])?(?:\.([^\s.\[\]]+))?")


def human_key(text: str) -> str:
    """Key paths in an editor's words, counted from 1: ``pages[0].articles[1].columns`` ->
    ``page 1, second slot, columns``."""

    def say(match: re.Match) -> str:
        if match[2] is None:  # a page entry: its position in the list (its number may be wrong)
            page, slot = f"the {ordinal(int(match[1]) + 1)} page listed", ""
        else:
            page, slot = f"page {int(match[1]) + 1}", f", {ordinal(int(match[2]) + 1)} slot"
        field = f", {match[3]}" if match[3] is not None else ""
        return page + slot + field

    return _KEY_PATH.sub(say, text)


def ordinal(n: int) -> str:
    """``1`` -> ``first`` ... (``11th`` past ten): positions in an editor's words."""
    return ORDINALS[n - 1] if 1 <= n <= len(ORDINALS) else f"{n}th"


@dataclass(frozen=True)
class SlotSpec:
    """One article's place on a page, as the manifest asks for it."""

    slug: str
    """The article (``articles/<slug>.md``)."""
    columns: int
    """Width in grid columns."""
    depth: int | None
    """Body lines allotted, or None for the text's natural (balanced) depth.

    ``depth: foot`` in the manifest gives FOOT: down to the foot of the page."""
    jump: int | None = None
    """Page that takes the text that does not fit here."""
    continued: bool = False
    """True for the slot that takes a jumped story's overflow."""
    key: str = ""
    """Key path in the manifest, for messages (``pages[0].articles[1]``)."""
    column: int | None = None
    """Pinned start column (0-based here; ``column:`` in the manifest counts from 1), or None."""
    top: int | None = None
    """Pinned top, in grid lines from the top of the type area; PIN_FOOT to sit on the page foot."""
    ad: Path | None = None
    """A supplied advert's PDF (``ad: ads/x.pdf``); its slot has no article."""
    ad_size: tuple[float, float] = (0.0, 0.0)
    """A supplied advert's booked width and height, in points."""
    headline_lines: int | None = None
    """The most lines the headline may take (``headline_lines:``)."""
    page: int = 0
    position: int = 0
    """1-based position of the slot in its page's list."""
    fit: str = ""
    """``loose``: set paragraphs a line longer (where their spacing stays acceptable) to fill the
    slot's hole, as TeX's ``\\looseness`` does; every change is listed in the fit report."""

    @property
    def slot_id(self) -> str:
        """Unique id of the slot in the issue."""
        return f"{'cont-' if self.continued else ''}{self.slug}"

    @property
    def place(self) -> str:
        """Where the slot is, in an editor's words: ``page 1, second slot (letters)``."""
        name = f"advert {self.ad.name}" if self.ad is not None else self.slug
        return f"page {self.page}, {ordinal(self.position)} slot ({name}{', continued' if self.continued else ''})"


@dataclass(frozen=True)
class PageSpec:
    """One page of the manifest."""

    number: int
    template: str
    slots: tuple[SlotSpec, ...]


@dataclass(frozen=True)
class Issue:
    """An issue as its manifest describes it."""

    issue_id: str
    folder: Path
    manifest: Path
    date: dt.date
    number: int
    volume: int | None
    pages: tuple[PageSpec, ...]

    @property
    def slugs(self) -> tuple[str, ...]:
        """Every article slug used, in page order, each once."""
        seen: dict[str, None] = {}
        for page in self.pages:
            for slot in page.slots:
                if slot.ad is None:
                    seen.setdefault(slot.slug, None)
        return tuple(seen)


def find_issue(issues_root: Path, issue_id: str) -> Path:
    """Return the folder of ``issue_id``; if there is none, say which issues exist."""
    folder = issues_root / issue_id
    manifest = folder / "issue.yaml"
    if len(issue_id) <= MAX_SLUG and SLUG.fullmatch(issue_id) and folder.is_dir() and not manifest.is_file():
        what = ("is a folder, not a file" if manifest.is_dir() else "is not an ordinary file" if manifest.exists()
                else "is missing")
        raise InputError(f"{display_path(manifest)} {what}", (Problem(
            display_path(manifest), "", f"the issue folder has no manifest: issue.yaml {what}",
            "write the issue's manifest (date, number, pages) in the file issue.yaml"),))
    if len(issue_id) > MAX_SLUG or not SLUG.fullmatch(issue_id) or not manifest.is_file():
        known = sorted(q.parent.name for q in issues_root.glob("*/issue.yaml"))
        listing = ", ".join(known) if known else "none"
        name = Path(issue_id.rstrip("/")).name if issue_id.strip("/. ") else ""
        if name != issue_id and name in known:  # a path, as the shell completes it: issues/x/
            raise InputError(f'give the issue\'s name "{name}", not a path to it', (Problem(
                display_path(issues_root), "", f'"{shorten(issue_id)[1:-1]}" is a path; layout looks the issue '
                f"up by its name in {display_path(issues_root)}/", f"give just its name, e.g. layout compose {name}"),))
        raise InputError(
            f'no issue "{shorten(issue_id)[1:-1]}" in {display_path(issues_root)}/'
            f"{did_you_mean(issue_id, known)}",
            (Problem(display_path(issues_root), "", f"issues that exist: {listing}",
                     f"give one of those, or create {display_path(folder)}/issue.yaml" if SLUG.fullmatch(issue_id)
                     else "give one of those (an issue's name is lower-case letters, digits and hyphens)"),),
        )
    for path, inside in ((folder, issues_root.parent), (folder / "issue.yaml", folder)):
        if not path.resolve().is_relative_to(inside.resolve()):
            raise InputError(f"{display_path(path)} is outside the project", (Problem(
                display_path(path), "", f"is a link to {path.resolve()}, outside {display_path(inside) or '.'}",
                "copy the issue into the project's issues/ folder instead of linking to it"),))
    return folder


def load_issue(folder: Path, settings: PaperSettings) -> Issue:
    """Read ``folder/issue.yaml`` and check all of it, reporting every problem in one error.

    The safe YAML reader comes first; then the input model (``inputs.IssueIn``, pydantic) checks
    every key and value with the rules below, against the paper's grid; when all of them hold, the
    rules that span pages (jumps, pinned slots that overlap) run on the pages read."""
    path = folder / "issue.yaml"
    shown = display_path(path)
    data = parse_yaml(read_text(path, shown), shown)
    from .inputs import IssueIn, validate  # pydantic is imported by the commands that read a manifest only

    check = Checker(shown)
    model = validate(IssueIn, data, shown, check.problems, {"settings": settings, "folder": folder, "used": {}})
    issue = None
    if model is not None:
        pages = tuple(PageSpec(number, page.template, tuple(
            slot.spec(settings, number, index + 1, f"pages[{number - 1}].articles[{index}]")
            for index, slot in page.articles)) for number, page in enumerate(model.pages, start=1))
        issue = Issue(folder.name, folder, path, model.date, model.number, model.volume, pages)
        _check_jumps(check, pages)
        _check_pins(check, pages, settings)
    problems = [Problem(p.file, human_key(p.key), human_key(p.message), p.fix) for p in check.problems]
    collect(problems, f"{shown}: the manifest has {len(problems)} problem(s)")
    assert issue is not None
    return issue


# The rules of the manifest's values, in the project's words: each records what is wrong with one
# value in ``check`` (under ``key``, the value's own key) and returns the value read, or None.
# ``inputs.IssueIn`` and its page and slot models run them, one a key.

def issue_date(check: Checker, value: Any) -> dt.date | None:
    """``date: 2022-04-01`` (YAML's dates are read as text: this says what is wrong with one)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        day = _ISO_DAY.match(value)
        if day:
            year, month, number = (int(part) for part in day.groups())
            try:
                return dt.date(year, month, number)
            except ValueError:
                if year < 1:
                    check.add("date", f"{value.strip()} is not a date: there is no year 0", DATE_FIX)
                elif not 1 <= month <= 12:
                    check.add("date", f"{value.strip()} is not a date: there is no month {month}",
                              f"{DATE_FIX} (the month comes second)")
                else:
                    days = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day \
                        if 1 <= year <= 9998 else 31
                    check.add("date", f"{value.strip()} is not a date: {dt.date(2000, month, 1):%B} {year} "
                              f"has {days} days", f"{DATE_FIX}; check the day")
                return None
    check.add("date", f"{'is missing' if value is None else f'{shorten(value)} is not a date'}", DATE_FIX)
    return None


DATE_FIX = "write the publication date as YYYY-MM-DD, e.g. date: 2022-04-01"


def page_number(check: Checker, value: Any, index: int) -> int | None:
    """``page:`` of the page listed ``index``-th (from 0): pages are numbered 1, 2, 3 ... in order."""
    number = check.integer(value, "page", 1)
    if number is not None and number != index + 1:
        check.add("page", f"page {number} is listed in position {index + 1}",
                  f"number pages 1, 2, 3 ... in order with no gaps or repeats: this one should be {index + 1}")
        return None
    return number


def template(check: Checker, value: Any) -> str | None:
    """``template:``, one of TEMPLATES."""
    if value is None:
        check.add("template", "is empty", f"write one of {', '.join(TEMPLATES)} or remove the line")
    elif value not in TEMPLATES:
        check.add("template", f"unknown template {shorten(value)}"
                  f"{did_you_mean(str(value), TEMPLATES) if isinstance(value, str) else ''}",
                  f"use one of {', '.join(TEMPLATES)}")
    else:
        return str(value)
    return None


def jump(check: Checker, value: Any, continued: bool) -> int | None:
    """``jump:``, the page a story continues on (a continuation does not jump again)."""
    page = check.integer(value, "jump", 1)
    if continued and page is not None:
        check.add("jump", "a continuation cannot jump again", "give the continuation enough depth, or cut the story")
        return None
    return page


def fit(check: Checker, value: Any, settings: PaperSettings) -> str | None:
    """``fit: loose`` (the paragraph breaker only), or nothing."""
    if value not in ("", "loose"):
        check.add("fit", f"unknown fit {shorten(value)}",
                  "write 'fit: loose' to set paragraphs a line longer to fill the slot, or remove the key")
    elif value == "loose" and settings.line_breaking != "total-fit":
        check.add("fit", "'fit: loose' needs the paragraph breaker (WeasyPrint's greedy breaking "
                  "cannot set a paragraph a line longer)",
                  "set line_breaking: total-fit in issues/paper.yaml, or remove the key")
    else:
        return str(value)
    return None


def article_slug(check: Checker, value: Any, key: str, folder: Path) -> str | None:
    """``slug:`` or ``continued:``: an article of the issue, by the name of its file."""
    if isinstance(value, Number):
        value = source_text(value)
    if not isinstance(value, str) or not value:
        check.add(key, "is missing" if value is None else f"{shorten(value)} is not an article name",
                  "give the article's file name without .md, e.g. slug: russians-goodwill-gesture")
        return None
    if len(value) > MAX_SLUG or not SLUG.fullmatch(value):
        check.add(key, f"{shorten(value)} is not a valid article name" + (
            f" (longer than {MAX_SLUG} characters)" if len(value) > MAX_SLUG else ""),
                  "use lower-case letters, digits and hyphens only (no spaces, dots or slashes)")
        return None
    if RESERVED.search(value):
        check.add(key, f'"{value}" is not allowed as an article name: layout names parts of a page that way '
                  "(cont-, gal-, frame-, slot-, mtop-, msf-, topin- at the start; -b<number> or -from-<n>-<n> "
                  "at the end)", "rename the article file and its slug, e.g. without that start or ending")
        return None
    path = folder / "articles" / f"{value}.md"
    if (path.exists() or path.is_symlink()) and not path.resolve().is_relative_to(folder.resolve()):
        check.add(key, f'article "{value}" is a link to {path.resolve()}, outside the issue folder',
                  f"copy the article into {display_path(folder / 'articles')}/ instead of linking to it")
        return None
    if not path.is_file():
        check.add(key, *_no_article(folder, value, path))
        return None
    return value


def _no_article(folder: Path, value: str, path: Path) -> tuple[str, str]:
    """Message and fix for a slug with no article file: say what is there instead, if anything."""
    shown = display_path(path)
    if path.is_symlink() and not path.exists():
        return (f'{shown} is a link to {path.resolve()}, which does not exist',
                "replace the link with the article file itself, or correct the slug")
    if path.is_dir():
        return f"{shown} is a folder, not an article file", f"put the article in a file {value}.md instead"
    if path.exists():
        return (f"{shown} is not an ordinary file (a pipe, device or socket)",
                f"save the article as an ordinary file {value}.md")
    try:
        names = [p.name for p in (folder / "articles").iterdir()]
    except OSError:
        names = []
    if not names and not (folder / "articles").is_dir():
        return (f'no article "{value}": the issue has no articles/ folder',
                f"create {display_path(folder / 'articles')}/ and put {value}.md in it")
    similar = [n for n in names if n.lower() == f"{value}.md" or n.lower().startswith(f"{value}.")
               or n.lower().split(".")[0] == value]
    if similar:
        return (f'no article "{value}": there is {similar[0]!r} (names are exact: lower case, ending .md)',
                f"rename {similar[0]!r} to {value}.md, or correct the slug")
    known = sorted(n[:-3] for n in names if n.endswith(".md") and n != f"{value}.md")
    return (f'no article "{value}"{did_you_mean(value, known)}',
            f"create {display_path(folder / 'articles' / (value + '.md'))} or correct the slug")


FOOT = 0
"""``depth: foot``: the slot reaches down to the foot of the page."""


def depth_lines(check: Checker, value: Any, key: str, settings: PaperSettings) -> int | None:
    """An article's ``depth:``: body lines, a length, or ``foot`` (FOOT); None: its natural depth."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() == "foot":
        return FOOT
    if isinstance(value, int) and not isinstance(value, bool):
        return check.integer(value, key, 1, settings.grid_lines)
    if isinstance(value, float):  # never read as millimetres: "20.5" means lines to whoever wrote it
        check.add(key, f"{source_text(value)} is not a whole number of lines",
                  f"give whole body lines ({max(1, int(value)) if math.isfinite(value) else 70}), "
                  "a length with its unit (120mm), or foot")
        return None
    try:
        lines = math.floor(parse_length(value) / settings.leading + 1e-6)
    except (ValueError, OverflowError):  # OverflowError: a length too large to be a number of lines
        check.add(key, f"{shorten(value)} is not a depth",
                  "give body lines (70), a length (120mm), or foot (down to the foot of the page)")
        return None
    if lines < 1:
        check.add(key, f"{shorten(value)} is less than one body line", "give at least one line (or 10mm)")
        return None
    return check.integer(lines, key, 1, settings.grid_lines)


def _check_jumps(check: Checker, pages: tuple[PageSpec, ...]) -> None:
    targets = {(p.number, s.slug): s for p in pages for s in p.slots if s.continued}
    jumped: set[tuple[int, str]] = set()
    for page in pages:
        for slot in page.slots:
            if slot.jump is None:
                continue
            if slot.jump <= page.number:
                check.add(f"{slot.key}.jump", f"jumps to page {slot.jump}, which is not after page {page.number}",
                          "a story can only continue on a later page")
            elif slot.jump > len(pages):
                check.add(f"{slot.key}.jump", f"page {slot.jump} does not exist (the issue has {len(pages)})",
                          "jump to an existing page")
            elif (slot.jump, slot.slug) not in targets:
                check.add(f"{slot.key}.jump", f'page {slot.jump} has no "continued: {slot.slug}" slot',
                          f"add '- continued: {slot.slug}' to page {slot.jump}'s articles")
            jumped.add((slot.jump, slot.slug))
    for (number, slug), slot in targets.items():
        if (number, slug) not in jumped:
            check.add(f"{slot.key}.continued", f'nothing jumps to this continuation of "{slug}"',
                      f"add 'jump: {number}' to the '{slug}' slot on an earlier page, or remove this slot")


PIN_FOOT = -1
"""``top: foot``: the slot sits on the foot of the type area."""
AD_NAME = re.compile(r"[^a-z0-9]+")


def pin_column(check: Checker, value: Any, settings: PaperSettings, columns: int | None) -> int | None:
    """``column:``, the slot's first column counted from 1 (returned from 0), for a slot ``columns``
    wide (None: its width is not known, so not checked against the grid's right edge)."""
    found = check.integer(value, "column", 1, settings.columns)
    if found is not None and columns is not None and found + columns - 1 > settings.columns:
        check.add("column", f"a slot {columns} column(s) wide cannot start in column {found} "
                  f"of {settings.columns}", f"use column: {settings.columns - columns + 1} or less, "
                  "or make the slot narrower")
        return None
    return found - 1 if found is not None else None


def pin_top(check: Checker, value: Any, settings: PaperSettings) -> int | None:
    """``top:``, a length or body lines from the top of the type area, or ``foot`` (PIN_FOOT)."""
    if value == "foot":
        return PIN_FOOT
    if isinstance(value, int) and not isinstance(value, bool):
        return check.integer(value, "top", 0, settings.grid_lines - 1)
    try:
        top = math.floor(parse_length(value) / settings.leading + 1e-6)
    except (ValueError, OverflowError):
        check.add("top", f"{shorten(value)} is not a position",
                  "give body lines from the top of the type area (20), a length (80mm), or foot")
        return None
    if not 0 <= top < settings.grid_lines:  # say it in the length the editor wrote
        deepest = (settings.grid_lines - 1) * settings.leading / PT_PER_UNIT["mm"]
        check.add("top", f"{shorten(value)} ({top} lines) is off the page: the type area "
                  f"has {settings.grid_lines} lines", f"give a length up to {math.floor(deepest)}mm, "
                  f"body lines from 0 to {settings.grid_lines - 1}, or foot")
        return None
    return top


def advert_file(check: Checker, name: Any, folder: Path) -> Path | None:
    """``ad: ads/<file>.pdf``: the advertiser's PDF, inside the issue folder."""
    if not isinstance(name, str) or not name.lower().endswith(".pdf"):
        check.add("ad", f"{shorten(name)} is not a PDF file name", "give the advert's file, e.g. ad: ads/coop.pdf")
        return None
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()):
        check.add("ad", f"{shorten(name)} is outside the issue folder", "put the advert in the issue's ads/ folder")
        return None
    if not path.is_file():
        known = sorted(str(p.relative_to(folder)) for p in folder.glob("ads/*.pdf"))
        check.add("ad", f"advert {shorten(name)} not found{did_you_mean(name, known)}",
                  f"put the advertiser's PDF at {display_path(folder / name)} or correct the name")
        return None
    return path


def advert_slug(path: Path) -> str:
    """The slot id of the advert ``path`` (``ads/Co-op.pdf`` -> ``ad-co-op``)."""
    return "ad-" + AD_NAME.sub("-", path.stem.lower()).strip("-")


def booked_depth(check: Checker, value: Any, settings: PaperSettings) -> float | None:
    """An advert's ``depth:``, a length (adverts are booked by length), in points."""
    if value is None:
        check.add("depth", "is missing", "give the booked depth as a length, e.g. depth: 10cm or depth: 95mm")
        return None
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ValueError
        height = parse_length(value)
    except (ValueError, OverflowError):
        check.add("depth", f"{shorten(value)} is not a booked depth",
                  "adverts are booked by length: write depth: 10cm or depth: 95mm")
        return None
    if not 0 < height <= settings.grid_lines * settings.leading:
        check.add("depth", f"{value} is deeper than the type area "
                  f"({settings.grid_lines * settings.leading / PT_PER_UNIT['mm']:.0f} mm)", "book a smaller advert")
        return None
    return height


def _check_pins(check: Checker, pages: tuple[PageSpec, ...], settings: PaperSettings) -> None:
    """Pinned slots whose boxes overlap (those with a fixed depth and both pins) are an input error."""
    for page in pages:
        boxes = []
        free = settings.grid_lines - (NAMEPLATE_LINES if page.template == "front" else 0)
        under = " under the nameplate" if page.template == "front" else ""
        for slot in page.slots:
            if slot.top not in (None, PIN_FOOT) and slot.top >= free:
                check.add(f"{slot.key}.top", f"{slot.top} lines is off the page: the type area has {free} "
                          f"lines{under}", f"pin it higher (top: {free - 1} or less), or use top: foot")
            elif slot.top not in (None, PIN_FOOT) and slot.depth not in (None, FOOT) and slot.top + slot.depth > free:
                past = slot.top + slot.depth - free
                check.add(f"{slot.key}.top", f"{slot.top} with depth: {slot.depth} (lines) runs {past} line(s) "
                          f"off the foot of the type area ({free} lines{under})",
                          f"pin it higher (top: {max(0, free - slot.depth)} or less), give it less depth, "
                          "or use top: foot")
            if slot.column is None or slot.top is None or slot.depth in (None, FOOT):
                continue
            top = settings.grid_lines - slot.depth if slot.top == PIN_FOOT else slot.top
            boxes.append((slot, slot.column, slot.column + slot.columns, top, top + slot.depth))
        for i, (a, a0, a1, at, ab) in enumerate(boxes):
            for b, b0, b1, bt, bb in boxes[i + 1:]:
                if a0 < b1 and b0 < a1 and at < bb and bt < ab:
                    check.add(b.key, f"{b.place} overlaps {a.place}: both are pinned to the same space",
                              "move one of them (column:, top:) or make it smaller")
