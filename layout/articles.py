"""Stage 2: read articles (YAML front matter + Markdown) and turn their bodies into HTML blocks."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import markdown
from markdown.extensions.smarty import SmartyExtension
from PIL import Image, UnidentifiedImageError

from .cache import code_digest, read_sealed, write_sealed
from .errors import InputError, Problem, collect
from .sources import Checker, display_path, parse_yaml, read_text

FRONT_KEYS = ("headline", "kicker", "standfirst", "byline", "section", "kind", "jumphead",
              "sample", "images")
IMAGE_KEYS = ("file", "caption", "credit")
KINDS = ("news", "editorial", "brief", "advert")
MAX_IMAGE_PIXELS = 100_000_000
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


def load_articles(folder: Path, slugs: tuple[str, ...], cache: Path | None = None) -> dict[str, Article]:
    """Read every article in ``slugs`` from ``folder/articles``; report every problem at once.

    With ``cache``, a body whose Markdown was converted before is read back from there."""
    problems: list[Problem] = []
    articles: dict[str, Article] = {}
    bodies = _BodyCache(cache)
    for slug in slugs:
        try:
            articles[slug] = load_article(folder, slug, bodies)
        except InputError as error:
            problems.extend(error.problems or (Problem(display_path(folder / "articles" / f"{slug}.md"),
                                                       "", error.message),))
    collect(problems, f"{len(problems)} problem(s) in the articles of {folder.name}")
    bodies.save()
    return articles


class _BodyCache:
    """Article bodies converted from Markdown, by the hash of their text (one JSON file an issue)."""

    def __init__(self, folder: Path | None) -> None:
        self.path = folder / "bodies.json" if folder is not None else None
        self.known: dict[str, list] = {}
        self.used: dict[str, list] = {}
        if self.path is not None:  # sealed (see cache.py): a damaged file reads as empty
            try:
                self.known = json.loads(read_sealed(self.path) or b"{}")
            except ValueError:
                self.known = {}
            if not isinstance(self.known, dict):
                self.known = {}
        self.loaded = set(self.known)

    def blocks(self, body: str) -> tuple[Block, ...]:
        """The blocks of ``body``, converted now or before."""
        key = hashlib.sha256(f"{markdown.__version__} {code_digest()} {SMARTY} {body}".encode()).hexdigest()
        if key not in self.known:
            self.known[key] = [[b.tag, b.html, b.text] for b in _convert_body(body)]
        self.used[key] = self.known[key]
        return tuple(Block(*row) for row in self.known[key])

    def smarten(self, text: str | None) -> str | None:
        """``smarten(text)``, converted now or before."""
        if not text:
            return None
        key = hashlib.sha256(f"{markdown.__version__} {code_digest()} {SMARTY} inline {text}".encode()).hexdigest()
        if key not in self.known:
            self.known[key] = smarten(text)
        self.used[key] = self.known[key]
        return self.used[key]

    def save(self) -> None:
        """Keep the bodies of this run (those of older runs are dropped)."""
        if self.path is not None and self.used.keys() != self.loaded:
            write_sealed(self.path, json.dumps(self.used).encode())


def load_article(folder: Path, slug: str, bodies: _BodyCache | None = None) -> Article:
    """Read one article and check its front matter, body and photos."""
    path = folder / "articles" / f"{slug}.md"
    shown = display_path(path)
    front_text, body, body_line = split_front_matter(read_text(path, shown), shown)
    check = Checker(shown)
    front = check.mapping(parse_yaml(front_text, shown, first_line=2), "front matter", FRONT_KEYS)
    headline = check.text(front.get("headline"), "headline", required=True)
    fields = {k: check.text(front.get(k), k) for k in ("kicker", "standfirst", "byline", "section", "jumphead")}
    kind = front.get("kind", "news")
    if kind not in KINDS:
        check.add("kind", f"unknown kind {kind!r}", f"use one of {', '.join(KINDS)}")
    sample = front.get("sample", False)
    if not isinstance(sample, bool):
        check.add("sample", "expected yes or no", "write sample: true for sample copy")
    bodies = bodies or _BodyCache(None)
    photos = _photos(check, front.get("images"), folder, bodies.smarten)
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
    if not lines or lines[0].strip() != "---":
        raise InputError(f"{shown}: no front matter", (Problem(
            shown, "line 1", "the article must start with a '---' line, its front matter, and another '---'",
            "add at the top:\n      ---\n      headline: Your headline\n      ---"),))
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1:]), index + 2
    raise InputError(f"{shown}: front matter not closed", (Problem(
        shown, "line 1", "the front matter opened with '---' is never closed",
        "add a '---' line after the last front-matter key"),))


@functools.cache
def _markdown(body: bool) -> markdown.Markdown:
    """One Markdown converter a process (making one costs more than converting a headline)."""
    # The extension itself, not its name: a name is looked up among the installed packages' entry
    # points, which took 0.02 s of every run that converts anything.
    md = markdown.Markdown(extensions=[SmartyExtension(substitutions=SMARTY)])
    if body:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
    return md


def _convert(text: str, body: bool = False) -> str:
    md = _markdown(body)
    try:
        return md.convert(text)
    finally:
        md.reset()


def smarten(text: str) -> str:
    """Return ``text`` with typographic quotes, dashes and ellipses."""
    return _plain(ET.fromstring(f"<div>{_convert(text)}</div>")).strip()


def _short(headline: str) -> str:
    """A jump head: the headline's first three words."""
    return " ".join(headline.split()[:3])


def _photos(check: Checker, value: Any, folder: Path, smart: Callable[[str], str | None]
            ) -> tuple[Photo, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        check.add("images", "expected a list", "write each image as '- file: images/name.jpg'")
        return ()
    photos = []
    for index, raw in enumerate(value):
        key = f"images[{index}]"
        item = check.mapping(raw, key, IMAGE_KEYS)
        name = check.text(item.get("file"), f"{key}.file", required=True)
        caption = check.text(item.get("caption"), f"{key}.caption") or ""
        credit = check.text(item.get("credit"), f"{key}.credit") or ""
        if name:
            photo = _photo(check, f"{key}.file", folder, name, smart(caption) or "", credit)
            if photo:
                photos.append(photo)
    return tuple(photos)


def _photo(check: Checker, key: str, folder: Path, name: str, caption: str, credit: str) -> Photo | None:
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()):
        check.add(key, f"{name!r} is outside the issue folder", "put the image in the issue's images/ folder")
        return None
    if not path.is_file():
        check.add(key, f"image {name!r} not found", f"put it at {display_path(path)} or correct the path")
        return None
    try:
        width, height, mode = _image_header(path)
    except (UnidentifiedImageError, SyntaxError, OSError, ValueError):
        check.add(key, f"{name!r} is not an image Pillow can read", "export it again as JPEG or PNG")
        return None
    if width * height > MAX_IMAGE_PIXELS:
        check.add(key, f"{name!r} is too large ({width} x {height} px)",
                  "resize it to at most about 5000 px on its long side (400 ppi at full page width)")
        return None
    return Photo(path, caption, credit, width, height, mode)


def _image_header(path: Path) -> tuple[int, int, str]:
    """Read an image's size and mode from its header (no pixels decoded), then verify the file."""
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # the size is checked by the caller
    try:
        with Image.open(path) as image:
            size, mode = image.size, image.mode
            if size[0] * size[1] <= MAX_IMAGE_PIXELS:
                image.verify()
        return size[0], size[1], mode
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _body(check: Checker, body: str, first_line: int, bodies: _BodyCache) -> tuple[Block, ...]:
    if re.search(r"!\[[^\]]*\]\(", body):
        check.add("body", "has an inline image", "put photos in the front matter under 'images:'")
    blocks = bodies.blocks(body)
    if not any(b.tag == "p" and b.text for b in blocks):
        check.add(f"line {first_line}", "the article has no body text",
                  "write the story below the closing '---' of the front matter")
    return tuple(blocks)


def _convert_body(body: str) -> list[Block]:
    """The body's blocks: paragraphs, crossheads (any heading), pull quotes, lists."""
    root = ET.fromstring(f"<div>{_convert(body, body=True)}</div>")
    blocks = []
    for element in root:
        if element.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            element.tag = "h2"
        if element.tag == "hr":
            continue
        blocks.append(Block(element.tag, _inner_html(element), _plain(element).strip()))
    return blocks


def _inner_html(element: ET.Element) -> str:
    text = _escape(element.text or "")
    parts = [text] + [ET.tostring(child, encoding="unicode", method="html") for child in element]
    return "".join(parts).strip()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(element: ET.Element) -> str:
    return "".join(element.itertext())
