"""Stage 1 (reading): read articles (YAML front matter + Markdown) and turn their bodies into HTML blocks."""

from __future__ import annotations

import functools
import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import markdown
from markdown.extensions.smarty import SmartyExtension

from ..base.cache import Store
from ..base.files import stamp
from ..errors import InputError, Problem, collect
from .normalise import check_copy, house_codepoints, shorten, uncommented, xml_entities
from .sources import Checker, did_you_mean, display_path, parse_yaml, read_text

FRONT_KEYS = ("headline", "kicker", "standfirst", "byline", "section", "kind", "jumphead",
              "sample", "images", "regular")
IMAGE_KEYS = ("file", "caption", "credit", "columns", "depth", "focus")
COPY_KEYS = frozenset(("headline", "kicker", "standfirst", "byline", "section", "jumphead", "caption", "credit"))
"""Front-matter keys whose values are printed."""
KINDS = ("news", "editorial", "brief", "advert")
MAX_DEPTH = 8
"""Nesting of quotes and lists in a body (a pull quote is one level, a list in it two)."""
MAX_PHOTOS = 12
"""Photos with one article."""
MAX_WORDS = 8_000
"""Words in one article: what one galley sheet (about 1,300 lines of one column) can set."""
MAX_HEAD_WORDS = 40
"""Words in a headline, kicker, byline, jump head or credit (a tabloid headline has under 15)."""
MAX_TEXT_WORDS = 150
"""Words in a standfirst or a caption."""
MAX_LINES = 1_250
"""Lines of one column an article's body may need, estimated at LINE_CHARS a line (a narrow column
holds fewer, so only a body that cannot fit is refused here; compose checks the rest exactly)."""
LINE_CHARS = 48
CONVERTER = "5"
"""Version of the body conversion below, part of the body cache's keys: bump it when it changes."""
SMARTY = {
    "left-single-quote": "\u2018", "right-single-quote": "\u2019",
    "left-double-quote": "\u201c", "right-double-quote": "\u201d",
    "ndash": "\u2013", "mdash": "\u2014", "ellipsis": "\u2026",
    "left-angle-quote": "\u00ab", "right-angle-quote": "\u00bb",
}


@dataclass(frozen=True)
class Photo:
    """A picture that runs with an article."""

    path: Path
    caption: str
    credit: str
    width_px: int
    height_px: int
    mode: str
    """Pillow mode of the source: ``L`` grey, ``CMYK``, ``RGB`` ..."""
    columns: int | None = None
    """Width in grid columns (``columns:``); None: the slot's width."""
    depth_lines: int | None = None
    """Depth of the picture in body lines (``depth: 20``), or None."""
    depth_pt: float | None = None
    """Depth of the picture as a length (``depth: 60mm``), in points, or None."""
    focus: tuple[float, float] = (0.5, 0.5)
    """The point kept when the picture is cropped (``focus: [x, y]``, 0-1 from the top left)."""

    @property
    def aspect(self) -> float:
        """Height over width."""
        return self.height_px / self.width_px


@dataclass(frozen=True)
class Block:
    """One block of body text (a paragraph, crosshead or pull quote) as HTML."""

    tag: str
    """``p``, ``h2`` (crosshead), ``blockquote`` (pull quote), ``ul`` ..."""
    html: str
    """The block's inner HTML (escaped, inline markup only)."""
    text: str
    """The block's plain text, for checks."""


@dataclass(frozen=True)
class Article:
    """One article, ready for the composer."""

    slug: str
    path: Path
    headline: str
    kicker: str | None
    standfirst: str | None
    byline: str | None
    section: str | None
    kind: str
    jumphead: str
    sample: bool
    photos: tuple[Photo, ...]
    blocks: tuple[Block, ...]

    @property
    def text(self) -> str:
        """The body's plain text, paragraphs separated by blank lines."""
        return "\n\n".join(b.text for b in self.blocks)


PLACEHOLDER = "Copy for this slot goes here: replace this line with the story.\n"
"""The body ``layout new`` writes for each slot of a new issue (with ``sample: true``)."""


def is_placeholder(article: Article) -> bool:
    """Whether ``article`` is still the placeholder ``layout new`` wrote."""
    return article.sample and article.text.strip() == PLACEHOLDER.strip()


def load_articles(folder: Path, slugs: tuple[str, ...], cache: Store | None = None) -> dict[str, Article]:
    """Read every article in ``slugs`` from ``folder/articles``; report every problem at once.

    With ``cache`` (the build cache), an article whose Markdown was converted before is read back
    from there, and a photo checked before is not decoded again."""
    problems: list[Problem] = []
    articles: dict[str, Article] = {}
    bodies = _BodyCache(cache)
    glyphs = house_codepoints(folder.parent.parent)
    for slug in slugs:
        try:
            articles[slug] = _loaded(folder, slug, bodies, glyphs)
        except InputError as error:
            problems.extend(error.problems or (Problem(display_path(folder / "articles" / f"{slug}.md"),
                                                       "", error.message),))
    collect(problems, f"{len(problems)} problem(s) in the articles of {folder.name}")
    bodies.save()
    return articles


_LOADED: dict[tuple, tuple[Article, tuple]] = {}
"""Articles this process read, by their file's path and stamp (and their folders' and the glyphs
they were checked against), with their photos' stamps: a process that composes again (the compose
server, ``layout watch``) reads again only the articles that changed (reading, checking and
converting 64 articles took 0.03 s of a 0.3 s recompose)."""
LOADED_MAX = 1024
"""Articles remembered at most (a 64-page issue has some 256); beyond, the oldest are forgotten."""


def _loaded(folder: Path, slug: str, bodies: _BodyCache, glyphs: frozenset[int] | None) -> Article:
    """``load_article``, or the article this process read before from the same file (``_LOADED``)."""
    now = time.time_ns()
    path = folder / "articles" / f"{slug}.md"
    stamps = (stamp(path, now), stamp(path.parent, now), stamp(folder, now))
    key = (str(path), stamps, glyphs)
    known = _LOADED.get(key) if None not in stamps else None
    if known is not None and all(stamp(Path(photo), now) == held for photo, held in known[1]):
        return known[0]
    article = load_article(folder, slug, bodies, glyphs)
    photos = tuple((str(photo.path), stamp(photo.path, now)) for photo in article.photos)
    if None not in stamps and all(held is not None for _, held in photos):
        if len(_LOADED) >= LOADED_MAX:
            del _LOADED[next(iter(_LOADED))]
        _LOADED[key] = (article, photos)
    return article


class _BodyCache:
    """Article bodies and inline text converted from Markdown, kept in the build cache: one entry an
    article, keyed by the article file's text (and, through the store's salt, Markdown's version and
    this code)."""

    def __init__(self, store: Store | None) -> None:
        self.store = store
        self.key: str | None = None
        self.known: dict[str, object] = {}
        self.changed = False

    def article(self, text: str) -> None:
        """Start on the article whose file holds ``text`` (keeping what the one before converted)."""
        self.save()
        self.known, self.key = {}, None
        if self.store is None:
            return
        self.key = self.store.key("article", CONVERTER, repr(SMARTY), text)
        try:  # sealed (see base/cache.py): a damaged entry reads as missing
            known = json.loads(self.store.get("article", self.key) or b"{}")
        except ValueError:
            known = {}
        self.known = known if isinstance(known, dict) else {}

    def blocks(self, body: str) -> tuple[Block, ...]:
        """The blocks of ``body``, converted now or before."""
        key = "body " + body
        if key not in self.known:
            self.known[key] = [[b.tag, b.html, b.text] for b in _convert_body(body)]
            self.changed = True
        return tuple(Block(*row) for row in self.known[key])  # type: ignore[attr-defined]

    def smarten(self, text: str | None) -> str | None:
        """``smarten(text)``, converted now or before."""
        if not text:
            return None
        key = "inline " + text
        if key not in self.known:
            self.known[key] = smarten(text)
            self.changed = True
        return self.known[key]  # type: ignore[return-value]

    def save(self) -> None:
        """Keep what was converted for the current article."""
        if self.store is not None and self.key is not None and self.changed:
            self.store.put("article", self.key, json.dumps(self.known).encode())
        self.changed = False


def load_article(folder: Path, slug: str, bodies: _BodyCache | None = None,
                 glyphs: frozenset[int] | None | Literal[True] = True) -> Article:
    """Read one article and check its front matter, body and photos (and that every character is in
    ``glyphs``, by default the house fonts' characters)."""
    path = folder / "articles" / f"{slug}.md"
    shown = display_path(path)
    if not path.resolve().is_relative_to(folder.resolve()):
        raise InputError(f"{shown}: outside the issue folder", (Problem(
            shown, "", f"is a link to {path.resolve()}, outside the issue folder",
            f"copy the article into {display_path(folder / 'articles')}/ instead of linking to it"),))
    if glyphs is True:
        glyphs = house_codepoints(folder.parent.parent)
    text = read_text(path, shown)
    if bodies is not None:
        bodies.article(text)
    problems = check_copy(uncommented(text), shown, glyphs)
    if problems:
        raise InputError(f"{shown}: characters that cannot be printed", tuple(problems))
    front_text, body, body_line = split_front_matter(text, shown)
    check = Checker(shown, glyphs=glyphs)
    front = check.mapping(parse_yaml(front_text, shown, first_line=2, copy_keys=COPY_KEYS), "front matter",
                          FRONT_KEYS)
    headline = check.text(front.get("headline"), "headline", required=True, max_words=MAX_HEAD_WORDS)
    fields = {k: check.text(front.get(k), k, max_words=MAX_TEXT_WORDS if k == "standfirst" else MAX_HEAD_WORDS)
              for k in ("kicker", "standfirst", "byline", "section", "jumphead")}
    kind = front.get("kind", "news")
    if kind is None:
        check.add("kind", "is empty", f"write one of {', '.join(KINDS)} after 'kind:', or remove the line (news)")
    elif kind not in KINDS:
        check.add("kind", f"unknown kind {shorten(kind)}"
                  f"{did_you_mean(kind.lower(), KINDS) if isinstance(kind, str) else ''}",
                  f"use one of {', '.join(KINDS)}")
    sample = front.get("sample", False)
    if not isinstance(sample, bool):
        check.add("sample", "expected yes or no", "write sample: true for sample copy")
    if not isinstance(front.get("regular", False), bool):  # a standing column, kept by `layout new`
        check.add("regular", "expected yes or no", "write regular: true for a column that runs every week")
    bodies = bodies or _BodyCache(None)
    photos = _photos(check, front.get("images"), folder, bodies.smarten, bodies.store)
    blocks = _body(check, body, body_line, bodies)
    collect(check.problems, f"{shown}: the article has problems")
    head = headline or ""
    smart = bodies.smarten
    return Article(slug, path, smart(head) or "", smart(fields["kicker"]), smart(fields["standfirst"]),
                   smart(fields["byline"]), fields["section"], str(kind),
                   smart(fields["jumphead"]) or _short(smart(head) or ""), bool(sample), photos, blocks)


def split_front_matter(text: str, shown: str) -> tuple[str, str, int]:
    """Return (front matter, body, line number where the body starts)."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), 0)  # blank lines above are harmless
    if start >= len(lines) or lines[start].strip() != "---":
        first = lines[start].strip() if start < len(lines) else ""
        seen = (f" (line {start + 1} is {shorten(first, 40)}{_FENCE_HINT if _FENCE_LIKE.fullmatch(first) else ''})"
                if first else " (the file is empty)")
        raise InputError(f"{shown}: no front matter", (Problem(
            shown, f"line {start + 1}", "the article must start with a '---' line, its front matter, and another "
            f"'---'{seen}", "add at the top:\n      ---\n      headline: Your headline\n      ---"),))
    for index, line in enumerate(lines[start + 1:], start=start + 1):
        if line.rstrip() == "---":  # at the margin: an indented '---' is part of a value (standfirst: |)
            return ("\n" * start + "\n".join(lines[start + 1:index]), "\n".join(lines[index + 1:]), index + 2)
    near = next((i for i, line in enumerate(lines[start + 1:], start=start + 1)
                 if _FENCE_LIKE.fullmatch(line.strip()) or line.strip() in ("...", "---")), None)
    hint = ""
    if near is not None:
        hint = (f" (line {near + 1} is indented: the closing '---' starts at the left margin)"
                if lines[near].strip() == "---" else
                f" (line {near + 1} is {shorten(lines[near].strip(), 20)}{_FENCE_HINT})")
    raise InputError(f"{shown}: front matter not closed", (Problem(
        shown, f"line {start + 1}", "the front matter opened with '---' is never closed" + hint,
        "add a line of exactly three hyphens '---' after the last front-matter key"),))


_FENCE_LIKE = re.compile(r"-{4,}|-{1,2}|[\u2013\u2014\u2015\u2012]+[-\u2013\u2014]*|\.{3}")
_FENCE_HINT = ": front matter starts and ends with exactly three hyphens (a word processor turns '---' into a dash)"


@functools.cache
def _markdown(body: bool) -> markdown.Markdown:
    """One Markdown converter a process (making one costs more than converting a headline)."""
    # The extension itself, not its name: a name is looked up among the installed packages' entry
    # points, which took 0.02 s of every run that converts anything.
    # Raw HTML was refused before; code (indented blocks, `backticks`) is not newspaper type: a
    # tab-indented paragraph pasted from Word is a paragraph. Links and images are handled before
    # conversion (their text printed, their targets dropped), so no <a> or <img> is ever made;
    # reference definitions would swallow a line of copy, so they are copy too.
    md = markdown.Markdown(extensions=[SmartyExtension(substitutions=SMARTY)])
    md.preprocessors.deregister("html_block")
    for name in ("html", "backtick", "link", "image_link", "image_reference", "reference",
                 "short_reference", "short_image_ref", "autolink", "automail"):
        if name in md.inlinePatterns:
            md.inlinePatterns.deregister(name)
    # Numbered lines print as typed: Markdown would renumber them from 1 ("3. Pay" becoming "1.").
    for name in ("code", "reference", "olist"):
        md.parser.blockprocessors.deregister(name)
    # A crosshead needs a space after its '#'s: "#MeToo" starting a line stays text, and so does a
    # closing '#' that is not set off by a space ("C#").
    md.parser.blockprocessors["hashheader"].RE = re.compile(  # type: ignore[attr-defined]  # HashHeaderProcessor's
        r"(?:^|\n)(?P<level>#{1,6})[ \t]+(?P<header>(?:\\.|[^\\\n])*?)(?:[ \t]+#+)?[ \t]*(?:\n|$)")
    if not body:  # a headline, caption ...: one run of text, never a list, heading or quote
        for name in [p for p in md.parser.blockprocessors._priority]:  # type: ignore[attr-defined]  # (private)
            if name.name not in ("empty", "paragraph"):
                md.parser.blockprocessors.deregister(name.name)
    return md


def _convert(text: str, body: bool = False) -> str:
    md = _markdown(body)
    try:
        return xml_entities(md.convert(text))
    finally:
        md.reset()


def smarten(text: str) -> str:
    """Return ``text`` (entities already decoded) with typographic quotes, dashes and ellipses."""
    return _plain(ET.fromstring(f"<div>{_convert(unlink(text).replace('&', '&amp;'))}</div>")).strip()


def _short(headline: str) -> str:
    """A jump head: the headline's first three words."""
    return " ".join(headline.split()[:3])


def _photos(check: Checker, value: Any, folder: Path, smart: Callable[[str], str | None],
            cache: Store | None = None) -> tuple[Photo, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        check.add("images", "expected a list", "write each image as '- file: images/name.jpg'")
        return ()
    if len(value) > MAX_PHOTOS:
        check.add("images", f"lists {len(value)} photos; an article has at most {MAX_PHOTOS}",
                  "keep the photos that run with the story; make a picture story of several articles")
        return ()
    photos = []
    for index, raw in enumerate(value):
        key = f"images[{index}]"
        item = check.mapping(raw, key, IMAGE_KEYS)
        name = check.text(item.get("file"), f"{key}.file", required=True)
        caption = check.text(item.get("caption"), f"{key}.caption", max_words=MAX_TEXT_WORDS) or ""
        credit = check.text(item.get("credit"), f"{key}.credit", max_words=MAX_HEAD_WORDS) or ""
        if name:
            photo = _photo(check, f"{key}.file", folder, name, smart(caption) or "", credit, cache)
            if photo:
                photos.append(_photo_size(check, key, item, photo))
    return tuple(photos)


_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]+:/|file:|data:|//)")


def _photo_not_found(folder: Path, name: str, path: Path) -> tuple[str, str]:
    """Message and fix for an image name that names no image file: say what is there, or what was meant."""
    shown = shorten(name, 80)
    if "\\" in name:
        return (f"image {shown} not found: its name has a backslash '\\'",
                f"write folders with forward slashes: file: {name.replace(chr(92), '/')}")
    try:
        if path.is_dir():
            return f"{shown} is a folder, not an image", "give the image's file name, e.g. file: images/picket.jpg"
        if path.exists():
            return f"{shown} is not an ordinary file (a pipe, device or socket)", "save the photo as a file in images/"
        near = [p for base in (path.parent, folder / "images") if base.is_dir() for p in base.iterdir()
                if p.name.lower() == path.name.lower() and p.is_file()]
    except OSError:
        near = []
    if near:
        meant = near[0].relative_to(folder).as_posix()
        return (f"image {shown} not found; there is {meant!r} (names are exact, capitals included)",
                f"write file: {meant}")
    return f"image {shown} not found", f"put it at {display_path(path)} or correct the path"


def _photo_size(check: Checker, key: str, item: dict, photo: Photo) -> Photo:
    """The picture's ``columns:``, ``depth:`` (body lines or a length) and ``focus:`` ([x, y], 0 to 1)."""
    from dataclasses import replace

    from ..base.units import parse_length

    columns = depth_lines = depth_pt = None
    focus = (0.5, 0.5)
    if "columns" in item:
        columns = check.integer(item["columns"], f"{key}.columns", 1, 12)
    value = item.get("depth")
    if value is not None:
        if isinstance(value, int) and not isinstance(value, bool):
            depth_lines = check.integer(value, f"{key}.depth", 3, 200)
        else:
            try:
                depth_pt = parse_length(value)
            except ValueError:
                depth_pt = None
            if depth_pt is None or depth_pt < 20:
                check.add(f"{key}.depth", f"{value!r} is not a picture depth",
                          "give body lines (20) or a length of at least 7mm (60mm)")
                depth_pt = None
    raw = item.get("focus")
    if raw is not None:
        if (isinstance(raw, list) and len(raw) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in raw)):
            focus = (float(raw[0]), float(raw[1]))
        else:
            check.add(f"{key}.focus", f"{raw!r} is not a focus point",
                      "give the point to keep as [x, y], each from 0 to 1 from the top left, e.g. focus: [0.5, 0.3]")
    return replace(photo, columns=columns, depth_lines=depth_lines, depth_pt=depth_pt, focus=focus)


def _photo(check: Checker, key: str, folder: Path, name: str, caption: str, credit: str,
           cache: Store | None = None) -> Photo | None:
    if _URL.match(name):
        check.add(key, f"{shorten(name, 80)} is a web address or URL: layout never fetches an image",
                  "save the photo in the issue's images/ folder and give its name, e.g. file: images/picket.jpg")
        return None
    try:
        path = (folder / name).resolve()
        outside = not path.is_relative_to(folder.resolve())
        found = not outside and path.is_file()
    except (OSError, RuntimeError):  # a name too long for the file system, a loop of links
        check.add(key, f"{shorten(name)} is not a file name that can be read", "give the image a short, plain name")
        return None
    if outside:
        check.add(key, f"{shorten(name, 80)} is outside the issue folder",
                  "put the image in the issue's images/ folder")
        return None
    if not found:
        check.add(key, *_photo_not_found(folder, name, path))
        return None
    from ..composing.images import PhotoProblem, inspect  # decoded and checked in full: see composing/images.py

    try:
        checked = inspect(path, cache)
    except PhotoProblem as problem:
        check.add(key, f"photo {shorten(name, 80)} {problem.message}", problem.fix)
        return None
    return Photo(path, caption, credit, checked.width, checked.height, checked.mode)


_IMAGE = re.compile(r"!\[[^\]\n]*\][ \t]*[(\[]")
_LINK = re.compile(r"(?<![\\!])\[([^\[\]\n]*)\]"  # [text] then (target "title"): the text is kept
                   r"\((?:[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\)")
_AUTOLINK = re.compile(r"<((?:[A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*)|(?:[^<>\s@]+@[^<>\s@]+))>")
_QUOTE = re.compile(r"^ {0,3}((?:>[ \t]?)+)")
_ITEM = re.compile(r"^([ \t]*)(?:[*+-]|\d{1,9}[.)])(?:[ \t]|$)")


def unlink(body: str) -> str:
    """``body`` with Markdown links and autolinks replaced by their text: nothing in a body ever
    becomes a link (no annotation or action reaches a PDF). Linear: one regular expression each."""
    if "[" in body:
        body = _LINK.sub(lambda m: m[1], body)
    if "<" in body:
        body = _AUTOLINK.sub(lambda m: m[1], body)
    return body


def _depth_problem(body: str, first_line: int) -> tuple[int, int] | None:
    """(line, depth) of the first line nested deeper than MAX_DEPTH in quotes and lists, or None."""
    for number, line in enumerate(body.split("\n"), start=first_line):
        quote = _QUOTE.match(line)
        depth = quote[1].count(">") if quote else 0
        rest = line[quote.end():] if quote else line
        item = _ITEM.match(rest)
        if item:
            depth += len(item[1].expandtabs(4)) // 4 + 1
        if depth > MAX_DEPTH:
            return number, depth
    return None


def _body(check: Checker, body: str, first_line: int, bodies: _BodyCache) -> tuple[Block, ...]:
    image = _IMAGE.search(body)
    if image:
        line = first_line + body.count("\n", 0, image.start())
        check.add(f"line {line}", "has an inline image ('![...](...)'), which is not printed",
                  "put photos in the front matter under 'images:'")
    words = len(body.split())
    if words > MAX_WORDS:
        check.add("body", f"the article is {words:,} words long; the most an article may have is {MAX_WORDS:,}",
                  "cut it, or split it into several articles")
        return ()
    deep = _depth_problem(body, first_line)
    if deep:
        check.add(f"line {deep[0]}", f"quotes and lists are nested {deep[1]} deep here; the most is {MAX_DEPTH}",
                  "remove the extra '>' marks or the indentation before the list items")
        return ()
    lines = sum(-(-len(" ".join(paragraph.split())) // LINE_CHARS) for paragraph in re.split(r"\n[ \t]*\n", body))
    if lines > MAX_LINES:
        check.add("body", f"the article needs about {lines:,} lines of a column ({words:,} words); a story is set "
                  f"in one piece of at most about {MAX_LINES:,} lines",
                  "cut it, or split it into several articles (a long list of one-line paragraphs counts a line each)")
        return ()
    if image:
        return ()
    try:
        blocks = bodies.blocks(unlink(body))
    except RecursionError:
        check.add("body", "the Markdown is nested too deeply to read", "remove the indentation and '>' marks")
        return ()
    except ET.ParseError as error:  # not expected: every entity and tag was dealt with before
        check.add("body", f"the Markdown could not be read ({error})", "simplify the markup around that place")
        return ()
    if blocks and not any(b.tag == "p" and b.text for b in blocks):
        check.add(f"line {first_line}", "the article has no body text: only crossheads, quotes or lists",
                  "write at least one ordinary paragraph of the story below the front matter")
    elif not blocks:
        check.add(f"line {first_line}", "the article has no body text",
                  "write the story below the closing '---' of the front matter")
    return tuple(blocks)


BLOCK_TAGS = ("p", "h2", "blockquote", "ul", "ol")
INLINE_TAGS = ("p", "em", "strong", "br", "li", "ul", "ol", "blockquote")
"""Elements a block may hold; any other (none is expected) is replaced by its text."""


def _convert_body(body: str) -> list[Block]:
    """The body's blocks: paragraphs, crossheads (any heading), pull quotes, lists."""
    root = ET.fromstring(f"<div>{_convert(body, body=True)}</div>")
    blocks = []
    for element in root:
        if element.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            element.tag = "h2"
        if element.tag == "hr":
            continue
        if element.tag not in BLOCK_TAGS:
            element.tag = "p"
        _only_inline(element)
        _mark_addresses(element)
        text = _plain(element).strip()
        if text:  # a paragraph of no-break spaces (Word pastes "&nbsp;" between paragraphs) sets nothing
            blocks.append(Block(element.tag, _inner_html(element), text))
    return blocks


def _only_inline(block: ET.Element) -> None:
    """Replace, inside ``block``, every element that is not plain typography by its text (iterative)."""
    stack = [block]
    while stack:
        parent = stack.pop()
        for child in list(parent):
            if child.tag not in INLINE_TAGS:
                child.tag, child.attrib = "span", {}
            child.attrib.clear()
            stack.append(child)


ADDRESS = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>]*[^\s<>.,;:!?'\")\]\u2019\u201d]"
                     r"|[\w.+-]*\w@\w[\w-]*(?:\.[\w-]+)*\.[A-Za-z]{2,}")
"""A web or mail address in copy (less the punctuation after it)."""


def _mark_addresses(block: ET.Element) -> None:
    """Each web or mail address in ``block``'s text in a ``<span class="address">``, which is never
    hyphenated (``newspaper.css``): a hyphen added to an address changes it (“organ-iser@...”). It
    still breaks where the line breaker may break it (after a slash, before a full stop...)."""
    stack = [block]
    while stack:
        parent = stack.pop()
        children = list(parent)
        stack += children
        if parent.text and ADDRESS.search(parent.text):
            parent.text, made = _addressed(parent.text)
            for index, span in enumerate(made):
                parent.insert(index, span)
        for child in children:
            if child.tail and ADDRESS.search(child.tail):
                child.tail, made = _addressed(child.tail)
                at = list(parent).index(child) + 1
                for index, span in enumerate(made):
                    parent.insert(at + index, span)


def _addressed(text: str) -> tuple[str, list[ET.Element]]:
    """``text`` split at its addresses: the text before the first, and a span for each (its tail the
    text up to the next)."""
    spans: list[ET.Element] = []
    head, at = "", 0
    for match in ADDRESS.finditer(text):
        before = text[at:match.start()]
        if spans:
            spans[-1].tail = before
        else:
            head = before
        span = ET.Element("span", {"class": "address"})
        span.text = match[0]
        spans.append(span)
        at = match.end()
    spans[-1].tail = text[at:]
    return head, spans


def _inner_html(element: ET.Element) -> str:
    text = _escape(element.text or "")
    parts = [text] + [ET.tostring(child, encoding="unicode", method="html") for child in element]
    return "".join(parts).strip()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(element: ET.Element) -> str:
    return "".join(element.itertext())
