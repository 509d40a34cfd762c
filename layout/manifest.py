"""Stage 1: read and check an issue's manifest (``issues/<issue-id>/issue.yaml``)."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError, Problem, collect
from .settings import PaperSettings
from .sources import Checker, did_you_mean, display_path, parse_yaml, read_text
from .units import parse_length

TEMPLATES = ("front", "inside", "back")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
ISSUE_KEYS = ("date", "number", "volume", "pages")
PAGE_KEYS = ("page", "template", "articles")
SLOT_KEYS = ("slug", "continued", "columns", "depth", "jump", "fit")


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
    fit: str = ""
    """``loose``: set paragraphs a line longer (where their spacing stays acceptable) to fill the
    slot's hole, as TeX's ``\\looseness`` does; every change is listed in the fit report."""

    @property
    def slot_id(self) -> str:
        """Unique id of the slot in the issue."""
        return f"{'cont-' if self.continued else ''}{self.slug}"


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
                seen.setdefault(slot.slug, None)
        return tuple(seen)


def find_issue(issues_root: Path, issue_id: str) -> Path:
    """Return the folder of ``issue_id``; if there is none, say which issues exist."""
    folder = issues_root / issue_id
    if not SLUG.match(issue_id) or not (folder / "issue.yaml").is_file():
        known = sorted(q.parent.name for q in issues_root.glob("*/issue.yaml"))
        listing = ", ".join(known) if known else "none"
        raise InputError(
            f'no issue "{issue_id}" in {display_path(issues_root)}/'
            f"{did_you_mean(issue_id, known)}",
            (Problem(display_path(issues_root), "", f"issues that exist: {listing}",
                     f"give one of those, or create {display_path(folder)}/issue.yaml"),),
        )
    return folder


def load_issue(folder: Path, settings: PaperSettings) -> Issue:
    """Read ``folder/issue.yaml`` and check all of it, reporting every problem in one error."""
    path = folder / "issue.yaml"
    shown = display_path(path)
    data = parse_yaml(read_text(path, shown), shown)
    check = Checker(shown)
    top = check.mapping(data, "", ISSUE_KEYS)
    date = _date(check, top.get("date"))
    number = check.integer(top.get("number"), "number", 1) if "number" in top else None
    if "number" not in top:
        check.add("number", "is missing", "add 'number: 2341' (the issue number on the front page)")
    volume = check.integer(top["volume"], "volume", 1) if "volume" in top else None
    pages = _pages(check, top.get("pages"), folder, settings)
    if not check.problems:
        _check_jumps(check, pages)
    collect(check.problems, f"{shown}: the manifest has {len(check.problems)} problem(s)")
    assert date is not None and number is not None
    return Issue(folder.name, folder, path, date, number, volume, pages)


def _date(check: Checker, value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    check.add("date", f"{'is missing' if value is None else f'{value!r} is not a date'}",
              "write the publication date as YYYY-MM-DD, e.g. date: 2022-04-01")
    return None


def _pages(check: Checker, value: Any, folder: Path, settings: PaperSettings) -> tuple[PageSpec, ...]:
    if not isinstance(value, list) or not value:
        check.add("pages", "is missing or empty" if not value else "expected a list of pages",
                  "list the pages, each as '- page: 1' with its 'articles:'")
        return ()
    pages: list[PageSpec] = []
    used: dict[str, str] = {}
    for index, raw in enumerate(value):
        key = f"pages[{index}]"
        page = check.mapping(raw, key, PAGE_KEYS)
        number = check.integer(page.get("page"), f"{key}.page", 1) if "page" in page else None
        if "page" not in page:
            check.add(f"{key}.page", "is missing", f"add 'page: {index + 1}'")
        elif number is not None and number != index + 1:
            check.add(f"{key}.page", f"page {number} is listed in position {index + 1}",
                      f"number pages 1, 2, 3 ... in order with no gaps or repeats: this one should be {index + 1}")
        template = page.get("template", "inside")
        if template not in TEMPLATES:
            check.add(f"{key}.template", f"unknown template {template!r}{did_you_mean(str(template), TEMPLATES)}",
                      f"use one of {', '.join(TEMPLATES)}")
        slots = _slots(check, page.get("articles"), f"{key}.articles", folder, settings, used)
        pages.append(PageSpec(index + 1, str(template), slots))
    return tuple(pages)


def _slots(check: Checker, value: Any, key: str, folder: Path, settings: PaperSettings,
           used: dict[str, str]) -> tuple[SlotSpec, ...]:
    if value is None or value == []:
        return ()
    if not isinstance(value, list):
        check.add(key, "expected a list of articles", "write each as '- slug: name-of-article'")
        return ()
    slots = []
    for index, raw in enumerate(value):
        where = f"{key}[{index}]"
        if isinstance(raw, str):
            raw = {"slug": raw}
        slot = check.mapping(raw, where, SLOT_KEYS)
        if not slot:
            continue
        continued = "continued" in slot
        if continued and "slug" in slot:
            check.add(where, "has both 'slug' and 'continued'",
                      "use 'slug:' for a story's first part, 'continued:' for its continuation")
        name = slot.get("continued" if continued else "slug")
        slug = _slug(check, name, f"{where}.{'continued' if continued else 'slug'}", folder)
        if slug is not None:
            tag = f"continued:{slug}" if continued else slug
            if tag in used:
                check.add(f"{where}.{'continued' if continued else 'slug'}",
                          f'article "{slug}" is already placed at {used[tag]}',
                          "an article appears once; to continue it elsewhere use 'jump:' and 'continued:'")
            used[tag] = where
        columns = settings.columns
        if "columns" in slot:
            columns = check.integer(slot["columns"], f"{where}.columns", 1, settings.columns) or columns
        depth = _depth(check, slot.get("depth"), f"{where}.depth", settings)
        jump = check.integer(slot["jump"], f"{where}.jump", 1) if "jump" in slot else None
        if continued and jump is not None:
            check.add(f"{where}.jump", "a continuation cannot jump again",
                      "give the continuation enough depth, or cut the story")
        fit = slot.get("fit", "")
        if fit not in ("", "loose"):
            check.add(f"{where}.fit", f"unknown fit {fit!r}",
                      "write 'fit: loose' to set paragraphs a line longer to fill the slot, or remove the key")
            fit = ""
        if slug is not None:
            slots.append(SlotSpec(slug, columns, depth, jump, continued, where, fit))
    return tuple(slots)


def _slug(check: Checker, value: Any, key: str, folder: Path) -> str | None:
    if not isinstance(value, str) or not value:
        check.add(key, "is missing" if value is None else f"{value!r} is not an article name",
                  "give the article's file name without .md, e.g. slug: russians-goodwill-gesture")
        return None
    if not SLUG.match(value):
        check.add(key, f"{value!r} is not a valid article name",
                  "use lower-case letters, digits and hyphens only (no spaces, dots or slashes)")
        return None
    if not (folder / "articles" / f"{value}.md").is_file():
        known = sorted(p.stem for p in (folder / "articles").glob("*.md"))
        check.add(key, f'no article "{value}"{did_you_mean(value, known)}',
                  f"create {display_path(folder / 'articles' / (value + '.md'))} or correct the slug")
        return None
    return value


FOOT = 0
"""``depth: foot``: the slot reaches down to the foot of the page."""


def _depth(check: Checker, value: Any, key: str, settings: PaperSettings) -> int | None:
    if value is None:
        return None
    if value == "foot":
        return FOOT
    if isinstance(value, int) and not isinstance(value, bool):
        return check.integer(value, key, 1, settings.grid_lines)
    try:
        lines = math.floor(parse_length(value) / settings.leading + 1e-6)
    except (ValueError, OverflowError):  # OverflowError: a length too large to be a number of lines
        check.add(key, f"{value!r} is not a depth",
                  "give body lines (70), a length (120mm), or foot (down to the foot of the page)")
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
