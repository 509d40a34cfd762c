"""The input models: ``paper.yaml`` and ``issue.yaml`` as pydantic models, whose errors are told in
the project's words, every one at once.

Reading a source is three steps. The safe YAML reader (``sources.parse_yaml``) gives plain data: no
anchors, no repeated keys, dates left as text, numbers that keep the text they were typed as, NFC,
raw HTML and unprintable characters refused. The models here check its shape and every value,
collecting every problem. ``settings.load_settings`` and ``manifest.load_issue`` then turn a valid
model into the frozen dataclasses the stages share (and the manifest's rules that span pages,
jumps and pinned boxes, run on those).

What pydantic does: the walk over the document, which keys each mapping takes (``extra="forbid"``),
which are required and what the others default to, the nesting (paper groups; pages, their slots),
and gathering every error with its location instead of stopping at the first. What stays the
project's own: the check of each value (``Checker`` and the rules in reading/settings.py and reading/manifest.py),
run by the validators here and raised as ``PydanticCustomError`` carrying message and fix, so that
no message is pydantic's English; ``problems_of`` words pydantic's own errors (a required key
missing, an unknown key, a list where a mapping goes) the way ``Checker`` always has.

Only load_settings and load_issue import this module: ``layout --help``, and every command that
reads no manifest, never import pydantic.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidationInfo,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from ..errors import Problem
from . import manifest, settings
from .normalise import shorten
from .sources import Checker, Number, source_text

OURS = "layout"
"""The error type of every error the validators raise: its context holds message, fix and key."""


class Input(BaseModel):
    """A mapping of a source file: only its own keys (an unknown one is reported with the nearest
    known one), immutable once read."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    MISSING: ClassVar[dict[str, tuple[str, str]]] = {}
    """Message and fix for a required key that is absent (``{n}``: the position of the entry)."""


# ---- errors: the validators' and pydantic's own, as Problem(file, key, message, fix) ----------------

def _ours(message: str, fix: str, key: str | None = None) -> PydanticCustomError:
    """An error in the project's words; ``key`` (a whole key path) where it is not the value's own."""
    return PydanticCustomError(OURS, "{message}", {"message": message, "fix": fix, "key": key})


def _raise(problems: list[Problem], here: str) -> None:
    """Raise what a Checker found while checking the key ``here``: all of it, each at its key."""
    errors = [_ours(p.message, p.fix, None if p.key == here else p.key) for p in problems]
    if len(errors) == 1:
        raise errors[0]
    raise ValidationError.from_exception_data(OURS, [InitErrorDetails(type=e, loc=(), input=None) for e in errors])


def _path(loc: tuple[str | int, ...]) -> str:
    """``("pages", 0, "articles", 1, "columns")`` -> ``pages[0].articles[1].columns``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f"{'.' if text else ''}{part}"
    return text


def _model_at(model: type[Input], loc: tuple[str | int, ...]) -> type[Input]:
    """The model of the mapping at ``loc`` inside ``model`` (a paper group; else ``model`` itself:
    errors inside lists are worded where the list's items are checked)."""
    for part in loc:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        kind = field.annotation if field is not None else None
        if not (isinstance(kind, type) and issubclass(kind, Input)):
            break
        model = kind
    return model


def _words(error: ErrorDetails, model: type[Input], n: int = 0) -> tuple[str, str, str | None, tuple]:
    """Message, fix, key path (None: the error's location) and location of one error of ``model``'s
    validation; ``n`` is the position of the entry in its list (1-based), for fixes that name it."""
    kind, loc = error["type"], tuple(error["loc"])
    if kind == OURS:
        context = error.get("ctx") or {}
        return context["message"], context["fix"], context.get("key"), loc
    if kind in ("extra_forbidden", "invalid_key"):  # invalid_key: a key that is a number, a list ...
        name = error["input"] if kind == "invalid_key" else loc[-1]
        allowed = tuple(_model_at(model, loc[:-1]).model_fields)
        check = Checker("")
        check.mapping({name: None}, "", allowed)
        found = check.problems[0]
        return found.message, found.fix, None, (*loc[:-1], found.key)
    if kind == "missing":
        message, fix = _model_at(model, loc[:-1]).MISSING.get(str(loc[-1]), (
            "is missing", f"add a line '{loc[-1]}: ...'"))
        return message, fix.format(n=n), None, loc
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        check = Checker("")
        check.mapping(error["input"], "", tuple(_model_at(model, loc).model_fields))
        return check.problems[0].message, check.problems[0].fix, None, loc
    # Not raised by these models (every value goes through a rule first); worded all the same.
    return (f"{shorten(error.get('input'))} cannot be read here",
            "check the value against the keys the README lists for this file", None, loc)


def problems_of(error: ValidationError, model: type[Input], shown: str) -> list[Problem]:
    """Every error of ``model``'s validation as a Problem of the file ``shown``."""
    found = []
    for detail in error.errors(include_url=False):
        message, fix, key, loc = _words(detail, model)
        found.append(Problem(shown, key or _path(loc) or "(top level)", message, fix))
    return found


def validate(model: type[Input], data: Any, shown: str, problems: list[Problem],
             context: dict[str, Any]) -> Any:
    """``model`` read from ``data``, or None with every problem found added to ``problems``."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as error:
        problems.extend(problems_of(error, model, shown))
        return None


def _entry(model: type[Input], item: Any, index: int, context: dict[str, Any],
           errors: list[InitErrorDetails]) -> Any:
    """Entry ``index`` of a list, read by ``model`` (None if it has problems: they are added to
    ``errors``, worded, with the index in front of their location). ``context["where"]`` is the
    entry's key path."""
    try:
        return model.model_validate(item, context={**context, "index": index})
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            message, fix, key, loc = _words(detail, model, index + 1)
            errors.append(InitErrorDetails(type=_ours(message, fix, key), loc=(index, *loc), input=detail.get("input")))
        return None


def _fail(errors: list[InitErrorDetails]) -> None:
    if errors:
        raise ValidationError.from_exception_data(OURS, errors)


# ---- validators: the rules of reading/settings.py and reading/manifest.py, run on one value each ------------------

Rule = Callable[[Checker, Any, ValidationInfo], Any]


def rule(check_value: Rule, after: bool = False) -> BeforeValidator | AfterValidator:
    """A validator that runs ``check_value(check, value, info)`` and raises every problem it records
    in ``check`` (its key is the value's own unless it names another)."""

    def run(value: Any, info: ValidationInfo) -> Any:
        check = Checker("", glyphs=(info.context or {}).get("glyphs"))
        result = check_value(check, value, info)
        if check.problems:
            _raise(check.problems, _key(info))
        return result

    return AfterValidator(run) if after else BeforeValidator(run)


def _ctx(info: ValidationInfo) -> dict[str, Any]:
    return info.context or {}


def _key(info: ValidationInfo) -> str:
    return info.field_name or ""


def whole(low: int, high: int | Callable[[Any], int] | None = None) -> BeforeValidator | AfterValidator:
    """A whole number from ``low`` to ``high`` (of the paper's settings, if a function of them)."""
    return rule(lambda check, value, info: check.integer(
        value, _key(info), low, high(_ctx(info)["settings"]) if callable(high) else high))


def text(check: Checker, value: Any, info: ValidationInfo) -> str | None:
    """Printed copy (a number is its text as typed), or None for none; only the title is required."""
    return check.text(value, _key(info), required=_key(info) == "title")


# ---- paper.yaml ---------------------------------------------------------------------------------

DEFAULTS = settings.DEFAULTS


def length(low: float, high: float) -> BeforeValidator | AfterValidator:
    """A length with its unit, from ``low`` to ``high`` points."""
    return rule(lambda check, value, info: settings.length(check, _key(info), value, low, high))


def tone(low: float, high: float) -> BeforeValidator | AfterValidator:
    """A number from ``low`` to ``high``."""
    return rule(lambda check, value, info: settings.tone(check, _key(info), value, low, high))


def limit(low: float, high: float) -> BeforeValidator | AfterValidator:
    """A preflight limit: a length (millimetres if it has no unit) from ``low`` to ``high`` points."""
    return rule(lambda check, value, info: settings.limit_length(check, _key(info), value, low, high))


Choice = Annotated[str, rule(lambda check, value, info: settings.choice(check, _key(info), value))]
Text = Annotated[str | None, rule(text)]


class Group(Input):
    """A group of paper.yaml (``trim:``, ``margins:``, ``body:``): its keys default one by one."""

    model_config = ConfigDict(validate_default=True)


class TrimIn(Group):
    width: Annotated[float, length(200, 2000)] = DEFAULTS["trim"]["width"]
    height: Annotated[float, length(200, 2000)] = DEFAULTS["trim"]["height"]


class MarginsIn(Group):
    top: Annotated[float, length(0, 150)] = DEFAULTS["margins"]["top"]
    bottom: Annotated[float, length(0, 150)] = DEFAULTS["margins"]["bottom"]
    inside: Annotated[float, length(0, 150)] = DEFAULTS["margins"]["inside"]
    outside: Annotated[float, length(0, 150)] = DEFAULTS["margins"]["outside"]


def _leading(check: Checker, leading: float, info: ValidationInfo) -> float:
    if "size" in info.data and leading < info.data["size"]:
        check.add("leading", "leading is smaller than the type size", "make leading at least the size")
    return leading


class BodyIn(Group):
    size: Annotated[float, length(6, 14)] = DEFAULTS["body"]["size"]
    leading: Annotated[float, length(6, 14), rule(_leading, after=True)] = DEFAULTS["body"]["leading"]


def _geometry(check: Checker, body: BodyIn, info: ValidationInfo) -> BodyIn:
    """Trim, margins, columns, gutter and leading together must leave columns and lines."""
    trim, margins, columns, gutter = (info.data.get(k) for k in ("trim", "margins", "columns", "gutter"))
    if trim is not None and margins is not None and columns is not None and gutter is not None:
        settings.check_geometry(check, {
            "trim.width": trim.width, "trim.height": trim.height, "margins.top": margins.top,
            "margins.bottom": margins.bottom, "margins.inside": margins.inside, "margins.outside": margins.outside,
            "gutter": gutter, "body.leading": body.leading}, columns)
    return body


def _ppi_order(check: Checker, high: int, info: ValidationInfo) -> int:
    low = info.data.get("min_image_ppi")
    if low is not None and low > high:
        check.add("min_image_ppi", f"{low} is more than max_image_ppi ({high})",
                  "make min_image_ppi the smaller of the two (e.g. 200 and 400)")
    return high


def _tones_order(check: Checker, shadow: float, info: ValidationInfo) -> float:
    if info.data.get("photo_highlight", 0) >= shadow:
        check.add("photo_highlight", "is not below photo_shadow",
                  "the highlight dot must be smaller than the shadow dot")
    return shadow


def _icc(check: Checker, value: Any, info: ValidationInfo) -> tuple[Path | None, str]:
    return settings.icc_profile(check, _ctx(info)["path"], value, info.data.get("pdfx", ""),
                                info.data.get("output_condition"))


class PaperIn(Input):
    """``issues/paper.yaml``: every key optional (DEFAULTS), in the order the README lists them.
    Lengths are read into points; ``icc_profile`` into the profile's path and SHA-256."""

    model_config = ConfigDict(validate_default=True)

    title: Text = DEFAULTS["title"]
    tagline: Text = DEFAULTS["tagline"]
    price: Text = DEFAULTS["price"]
    trim: TrimIn = DEFAULTS["trim"]
    margins: MarginsIn = DEFAULTS["margins"]
    columns: Annotated[int, whole(1, 12)] = DEFAULTS["columns"]
    gutter: Annotated[float, length(2, 40)] = DEFAULTS["gutter"]
    body: Annotated[BodyIn, rule(_geometry, after=True)] = DEFAULTS["body"]
    bleed: Annotated[float, length(0, 15)] = DEFAULTS["bleed"]
    crop_marks: Annotated[bool, rule(lambda check, value, info: settings.yes_no(check, "crop_marks", value))] = \
        DEFAULTS["crop_marks"]
    imprint: Text = DEFAULTS["imprint"]
    pdfx: Choice = DEFAULTS["pdfx"]
    output_condition: Text = DEFAULTS["output_condition"]
    icc_profile: Annotated[tuple[Path | None, str], rule(_icc)] = DEFAULTS["icc_profile"]
    ink_limit: Annotated[int, whole(100, 400)] = DEFAULTS["ink_limit"]
    min_image_ppi: Annotated[int, whole(50, 2400)] = DEFAULTS["min_image_ppi"]
    max_image_ppi: Annotated[int, whole(50, 2400), rule(_ppi_order, after=True)] = DEFAULTS["max_image_ppi"]
    photo_highlight: Annotated[float, tone(0, 20)] = DEFAULTS["photo_highlight"]
    photo_shadow: Annotated[float, tone(60, 100), rule(_tones_order, after=True)] = DEFAULTS["photo_shadow"]
    screen_ruling: Annotated[float, tone(50, 300)] = DEFAULTS["screen_ruling"]
    min_type_size: Annotated[float, limit(4, 14)] = DEFAULTS["min_type_size"]
    min_reversed_type_size: Annotated[float, limit(4, 24)] = DEFAULTS["min_reversed_type_size"]
    min_rule_width: Annotated[float, limit(0.05, 4)] = DEFAULTS["min_rule_width"]
    sample_imprint: Choice = DEFAULTS["sample_imprint"]
    issn: Annotated[str | None, rule(text), rule(lambda check, value, info: settings.issn(check, value),
                                                 after=True)] = DEFAULTS["issn"]
    tracking: Annotated[float, rule(lambda check, value, info: settings.tracking(check, value))] = \
        DEFAULTS["tracking"]
    glyph_scaling: Annotated[float, rule(lambda check, value, info:
                                         settings.tracking(check, value, "glyph_scaling"))] = DEFAULTS["glyph_scaling"]
    line_breaking: Choice = DEFAULTS["line_breaking"]
    volume: Annotated[int | None, rule(lambda check, value, info: None if value is None
                                       else check.integer(value, "volume", 1, 100000))] = DEFAULTS["volume"]


# ---- issue.yaml ---------------------------------------------------------------------------------

def _slug(check: Checker, value: Any, info: ValidationInfo) -> str | None:
    """``slug:`` or ``continued:``; an article is placed once (and continued once)."""
    context = _ctx(info)
    key = _key(info)
    slug = manifest.article_slug(check, value, key, context["folder"])
    if slug is not None:
        used, tag = context["used"], f"continued:{slug}" if key == "continued" else slug
        if tag in used:
            check.add(key, f'article "{slug}" is already placed at {used[tag]}',
                      "an article appears once; to continue it elsewhere use 'jump:' and 'continued:'")
        used[tag] = context["where"]
    return slug


def _columns(paper: Any) -> int:
    return paper.columns


def _column(check: Checker, value: Any, info: ValidationInfo) -> int | None:
    paper = _ctx(info)["settings"]
    width = info.data.get("columns") or (None if _ctx(info).get("advert") else paper.columns)
    return manifest.pin_column(check, value, paper, width)


def _top(check: Checker, value: Any, info: ValidationInfo) -> int | None:
    return manifest.pin_top(check, value, _ctx(info)["settings"])


def _not_for_adverts(check: Checker, value: Any, info: ValidationInfo) -> None:
    check.add(_key(info), f"an advert slot takes no '{_key(info)}:'",
              "a supplied advert is booked space: give it ad:, columns:, depth: and (optionally) column: and top:")


def _booking(check: Checker, value: Any, info: ValidationInfo) -> float | None:
    """An advert's booked depth; an advert whose file, width and depth are right is placed once."""
    context = _ctx(info)
    height = manifest.booked_depth(check, value, context["settings"])
    if height is not None and "ad" in info.data and "columns" in info.data:
        used, slug = context["used"], manifest.advert_slug(info.data["ad"])
        if slug in used:
            name = info.data["ad"].relative_to(context["folder"].resolve())
            check.add(f"{context['where']}.ad", f"advert {shorten(str(name))} is already placed at {used[slug]}",
                      "place each advert once")
        else:
            used[slug] = context["where"]
    return height


Column = Annotated[int | None, rule(_column)]
Top = Annotated[int | None, rule(_top)]
NotForAdverts = Annotated[None, rule(_not_for_adverts)]


class ArticleSlotIn(Input):
    """An article's slot: ``- slug: <article>`` (or ``- continued: <article>``) and its place.
    ``column`` is read from 0 (the manifest counts from 1)."""

    slug: Annotated[str | None, rule(_slug)] = None
    continued: Annotated[str | None, rule(_slug)] = None
    ad: None = None
    """Never set here (a slot with ``ad:`` is an AdvertSlotIn): a key of slots all the same."""
    columns: Annotated[int | None, whole(1, _columns)] = None
    depth: Annotated[int | None, rule(lambda check, value, info: manifest.depth_lines(
        check, value, "depth", _ctx(info)["settings"]))] = None
    jump: Annotated[int | None, rule(lambda check, value, info: manifest.jump(
        check, value, _ctx(info)["continued"]))] = None
    column: Column = None
    top: Top = None
    headline_lines: Annotated[int | None, whole(1, 12)] = None
    fit: Annotated[str, rule(lambda check, value, info: manifest.fit(check, value, _ctx(info)["settings"]))] = ""

    def spec(self, paper: Any, page: int, position: int, where: str) -> manifest.SlotSpec:
        """The slot as the stages take it."""
        return manifest.SlotSpec(
            self.slug or self.continued or "", self.columns or paper.columns, self.depth, self.jump,
            self.continued is not None, where, self.column, self.top, headline_lines=self.headline_lines,
            page=page, position=position, fit=self.fit)


class AdvertSlotIn(Input):
    """A supplied advert: ``- ad: ads/<file>.pdf`` with its booked ``columns:`` and ``depth:`` (a
    length, read into points), optionally pinned (``column:``, ``top:``)."""

    MISSING: ClassVar[dict[str, tuple[str, str]]] = {
        "columns": ("is missing", "give the booked width in columns, e.g. columns: 2"),
        "depth": ("is missing", "give the booked depth as a length, e.g. depth: 10cm or depth: 95mm")}

    slug: NotForAdverts = None
    continued: NotForAdverts = None
    ad: Annotated[Path, rule(lambda check, value, info: manifest.advert_file(check, value, _ctx(info)["folder"]))]
    columns: Annotated[int, whole(1, _columns)]
    depth: Annotated[float, rule(_booking)]
    jump: NotForAdverts = None
    column: Column = None
    top: Top = None
    headline_lines: NotForAdverts = None
    fit: Any = None
    """Not used by adverts (accepted, as before)."""

    def spec(self, paper: Any, page: int, position: int, where: str) -> manifest.SlotSpec:
        """The slot as the stages take it: as deep as the lines its booked depth reaches into."""
        lines = math.ceil(self.depth / paper.leading - 1e-6)
        return manifest.SlotSpec(manifest.advert_slug(self.ad), self.columns, lines, None, False, where,
                                 self.column, self.top, ad=self.ad, page=page, position=position,
                                 ad_size=(paper.span_width(self.columns), self.depth))


def _slots(value: Any, info: ValidationInfo) -> tuple[tuple[int, ArticleSlotIn | AdvertSlotIn], ...]:
    """A page's ``articles:``, each with its index in the list (an empty entry is passed over)."""
    if value is None or value == []:
        return ()
    if not isinstance(value, list):
        raise _ours("expected a list of articles", "write each as '- slug: name-of-article'")
    if len(value) > manifest.MAX_SLOTS:
        raise _ours(f"lists {len(value)} articles; a page has at most {manifest.MAX_SLOTS}", "move some to other pages")
    errors: list[InitErrorDetails] = []
    items = []
    for index, raw in enumerate(value):
        if isinstance(raw, (str, Number)):  # a number as typed: "- 2022" is the article 2022.md
            raw = {"slug": source_text(raw)}
        if raw == {}:
            continue
        if isinstance(raw, dict) and "ad" not in raw:
            if "continued" in raw and "slug" in raw:
                errors.append(InitErrorDetails(type=_ours(
                    "has both 'slug' and 'continued'",
                    "use 'slug:' for a story's first part, 'continued:' for its continuation"),
                    loc=(index,), input=raw))
                raw = {k: v for k, v in raw.items() if k != "slug"}
            elif "continued" not in raw and "slug" not in raw:
                errors.append(InitErrorDetails(type=_ours(
                    "is missing", "give the article's file name without .md, e.g. slug: russians-goodwill-gesture"),
                    loc=(index, "slug"), input=raw))
        items.append((index, raw))
    context = _ctx(info)
    read = []
    for index, raw in items:
        continued, advert = isinstance(raw, dict) and "continued" in raw, isinstance(raw, dict) and "ad" in raw
        slot = _entry(AdvertSlotIn if advert else ArticleSlotIn, raw, index, {
            **context, "where": f"{context['where']}.articles[{index}]", "continued": continued, "advert": advert},
            errors)
        if slot is not None:
            read.append((index, slot))
    errors.sort(key=lambda e: e["loc"][0])
    _fail(errors)
    return tuple(read)


class PageIn(Input):
    """One page: ``- page: <n>`` (in order), its ``template:`` and its ``articles:``."""

    MISSING: ClassVar[dict[str, tuple[str, str]]] = {"page": ("is missing", "add 'page: {n}'")}

    page: Annotated[int, rule(lambda check, value, info: manifest.page_number(check, value, _ctx(info)["index"]))]
    template: Annotated[str, rule(lambda check, value, info: manifest.template(check, value))] = "inside"
    articles: Annotated[tuple[Any, ...], BeforeValidator(_slots)] = ()
    """The slots, each with its index in the list: ``(index, ArticleSlotIn | AdvertSlotIn)``."""


PAGES_FIX = "list the pages, each as '- page: 1' with its 'articles:'"


def _pages(value: Any, info: ValidationInfo) -> tuple[PageIn, ...]:
    if not isinstance(value, list) or not value:
        raise _ours("is missing or empty" if not value else "expected a list of pages", PAGES_FIX)
    if len(value) > manifest.MAX_PAGES:
        raise _ours(f"lists {len(value)} pages; an issue has at most {manifest.MAX_PAGES}",
                    "split the issue, or check the manifest is the one you meant")
    errors: list[InitErrorDetails] = []
    pages = [_entry(PageIn, raw, index, {**_ctx(info), "where": f"pages[{index}]"}, errors)
             for index, raw in enumerate(value)]
    _fail(errors)
    return tuple(pages)


class IssueIn(Input):
    """``issues/<issue>/issue.yaml``: the issue's date, number (and volume), and its pages."""

    MISSING: ClassVar[dict[str, tuple[str, str]]] = {
        "date": ("is missing", manifest.DATE_FIX),
        "number": ("is missing", "add 'number: 2341' (the issue number on the front page)"),
        "pages": ("is missing or empty", PAGES_FIX)}

    date: Annotated[dt.date, rule(lambda check, value, info: manifest.issue_date(check, value))]
    number: Annotated[int, whole(1, 999_999)]
    volume: Annotated[int | None, whole(1, 9_999)] = None
    pages: Annotated[tuple[PageIn, ...], BeforeValidator(_pages)]
