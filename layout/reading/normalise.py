"""Copy as it reaches the composer: one normal form of Unicode, no invisible or direction-changing
characters, entities decoded, no raw HTML, and only characters the house fonts can print.

Every rule here is a class of input, not a case: a character is either normalised (space variants
to a space or a no-break space), refused with its file, line, column, code and name (controls,
bidi overrides, characters without a glyph in the house fonts), or passed through unchanged."""

from __future__ import annotations

import html
import html.entities
import re
import unicodedata
from pathlib import Path

from ..base.files import file_hash
from ..errors import Problem

MAX_FILE_BYTES = 2_000_000
"""A source file larger than this is refused unread (a tabloid issue's whole copy is ~300 KB)."""
MAX_WORD = 100
"""Characters in one word (no space or hyphen): a longer one is refused, never handed to WeasyPrint,
whose line breaker takes quadratic time over one long word (10,000 characters ran for 10 minutes)."""
MAX_PROBLEMS = 12
"""Problems reported for one file by the character checks (then one line saying how many more)."""

# Space variants keep their meaning: breaking ones become a space, non-breaking ones U+00A0 (which
# the house fonts have); invisible format characters that only mark break opportunities go.
_SPACES = {c: " " for c in (0x1680, *range(0x2000, 0x2007), 0x2008, 0x2009, 0x200A, 0x205F, 0x3000)}
_SPACES.update({0x2007: "\u00a0", 0x202F: "\u00a0"})
_SPACES.update({0x200B: "", 0x2060: "", 0xFEFF: ""})  # zero-width space, word joiner, BOM inside text
_SPACES.update({0x2010: "-"})  # HYPHEN: the fonts have only the hyphen-minus
_SPACES.update({0x2028: "\n", 0x2029: "\n"})  # line and paragraph separators: YAML counts them as lines
SPACE_TABLE = str.maketrans(_SPACES)

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
BAD = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\ufff9-\ufffb]")
"""Characters refused wherever they are: C0 and C1 controls (tab and newline aside), bidi marks,
embeddings, overrides and isolates (they reorder what the reader sees: "Trojan Source")."""

ENTITY = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,7}|[A-Za-z][A-Za-z0-9]{0,31});")
_STRAY_AMP = re.compile(r"&(?!(?:amp|lt|gt|quot|apos);)")
TAG = re.compile(r"<(?:/?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|!--|![A-Za-z\[]|\?[A-Za-z])")
"""Raw HTML: a start or end tag, a comment, a declaration or a processing instruction. Markdown's
autolinks (``<http://...>``, ``<name@example.com>``) are not tags: their name runs into ':' or '@'."""
_LINK_TARGET = re.compile(r"\]\([^()\s]*(?:\([^()\s]*\)[^()\s]*)*(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\)")
_LONG_WORD = re.compile(rf"[^\s\-\u00ad\u2013\u2014/]{{{MAX_WORD + 1},}}")


def normalise(text: str) -> str:
    """NFC, and space variants replaced by what they mean (newlines are kept, so line numbers hold)."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text.translate(SPACE_TABLE))
    return text


def shorten(value: object, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters: a message never quotes a huge value in full."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f"... ({len(value)} characters)"
    if isinstance(value, (list, dict, tuple, set)) and len(value) > 8:
        return f"a {type(value).__name__} of {len(value)} items"
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def describe(char: str) -> str:
    """``'é' (U+00E9 LATIN SMALL LETTER E WITH ACUTE)``; invisible characters are not quoted."""
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(ord(char), "a control character")
    shown = f"'{char}' " if char.isprintable() and not unicodedata.category(char).startswith("C") else ""
    return f"{shown}(U+{ord(char):04X} {name})"


_CONTROL_NAMES = {0: "NULL", 9: "TAB", 0x1B: "ESCAPE", 0x7F: "DELETE", 0x85: "NEXT LINE"}


def _bad_fix(char: str) -> str:
    code = ord(char)
    if 0x80 <= code <= 0x9F:
        try:
            meant = bytes([code]).decode("cp1252")
        except UnicodeDecodeError:
            meant = ""
        if meant:
            return (f"delete it; it is probably a '{meant}' from Windows-1252 text decoded wrongly: "
                    f"type '{meant}' instead")
    if unicodedata.category(char) == "Cf":
        return "delete it: it changes the direction in which text is shown, and prints nothing"
    return "delete it: it is invisible in most editors, and often comes from pasting out of a word processor"


def bad_character(char: str) -> tuple[str, str]:
    """Message and fix for a refused character."""
    kind = "direction-changing character" if unicodedata.category(char) == "Cf" else "control character"
    return f"contains the {kind} U+{ord(char):04X}, which cannot be printed", _bad_fix(char)


def decode_entity(match: re.Match[str]) -> str | None:
    """The text an entity stands for, or None if it stands for nothing printable (or nothing at all)."""
    body = match[1]
    if body[0] == "#":
        code = int(body[2:], 16) if body[1] in "xX" else int(body[1:])
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        # 128-159 as Windows-1252, as browsers read them; any other number is its character
        text = html._invalid_charrefs.get(code, chr(code)) if 0x80 <= code <= 0x9F else chr(code)  # type: ignore[attr-defined]
    else:
        text = html.entities.html5.get(body + ";")
        if text is None:
            return match[0]  # not an entity: an ampersand and some letters, printed as they are
    return None if BAD.search(text) else normalise(text)


def decode_entities(text: str) -> str:
    """``text`` with every HTML entity replaced by its characters (the checks refused bad ones)."""
    if "&" not in text:
        return text
    return ENTITY.sub(lambda m: decode_entity(m) or "\ufffd", text)


def xml_entities(markup: str) -> str:
    """Markdown's HTML output with every entity it passed through decoded, ready for an XML parser
    (which knows only ``&amp; &lt; &gt; &quot; &apos;``): one pass, so ``&amp;eacute;`` stays text."""
    if "&" not in markup:
        return markup

    def one(match: re.Match[str]) -> str:
        if match[1] in ("amp", "lt", "gt", "quot", "apos"):
            return match[0]
        text = decode_entity(match)
        if text is None:
            return "\ufffd"
        if text == match[0]:
            return "&amp;" + match[0][1:]
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    return _STRAY_AMP.sub("&amp;", ENTITY.sub(one, markup))  # what is left is an ampersand in the copy


_CODEPOINTS: dict[tuple[str, ...], frozenset[int] | None] = {}
"""The characters of a set of fonts, by the fonts' SHA-256s: read once a process for the same fonts,
wherever they are (every project copied or made for a test has its own ``fonts/``)."""


def _font_codepoints(files: list[Path]) -> frozenset[int] | None:
    key = tuple(file_hash(path) for path in files)  # (hashed once a process while a file is unchanged)
    if key not in _CODEPOINTS:
        _CODEPOINTS[key] = _read_codepoints(files)
    return _CODEPOINTS[key]


def _read_codepoints(files: list[Path]) -> frozenset[int] | None:
    from fontTools.ttLib import TTFont, TTLibError

    found: set[int] = set()
    for name in files:
        try:
            with TTFont(name, lazy=True) as font:
                found.update(font.getBestCmap() or {})
        except (TTLibError, OSError, AssertionError, KeyError, ValueError, TypeError, AttributeError):
            continue  # not a font: the stylesheet check reports it when the page is laid out
    return frozenset(found) if found else None


_FONT_URL = re.compile(r"@font-face\s*{[^}]*?url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", re.S)


def house_codepoints(root: Path) -> frozenset[int] | None:
    """Every character the fonts of the house stylesheets' @font-face rules can print (the union of
    their cmaps; all fonts in ``fonts/`` if the stylesheets name none). None if there are no fonts."""
    files: set[Path] = set()
    for sheet in sorted((root / "stylesheets").glob("*.css")):
        try:
            css = sheet.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for url in _FONT_URL.findall(css):
            try:
                path = (sheet.parent / url).resolve()
                if path.is_file() and path.is_relative_to((root / "fonts").resolve()):
                    files.add(path)
            except (OSError, RuntimeError, ValueError):
                continue  # the stylesheet check reports a font it cannot load
    if not files:
        try:
            files = {p for p in (root / "fonts").glob("*") if p.suffix.lower() in (".ttf", ".otf")}
        except OSError:
            return None
    readable = []
    for path in sorted(files):
        try:
            file_hash(path)
        except OSError:
            continue
        readable.append(path)
    return _font_codepoints(readable) if readable else None


def uncommented(text: str, yaml_only: bool = False) -> str:
    """``text`` with the YAML comment lines of its front matter (of all of it, with ``yaml_only``)
    blanked: they never print, so what they hold needs no glyph (controls were refused already)."""
    lines = text.split("\n")
    end = len(lines)
    if not yaml_only:
        start = next((i for i, line in enumerate(lines) if line.strip()), 0)
        end = next((i for i, line in enumerate(lines[start + 1:], start=start + 1) if line.rstrip() == "---"), 0)
    if not any(line.lstrip().startswith("#") for line in lines[:end]):
        return text
    return "\n".join("" if i < end and line.lstrip().startswith("#") else line for i, line in enumerate(lines))


_ALWAYS = frozenset(map(ord, "\n\t "))


def check_copy(text: str, shown: str, glyphs: frozenset[int] | None, prose: bool = True,
               first_line: int = 1) -> list[Problem]:
    """Every problem with the characters of ``text`` (a whole source file, normalised): entities that
    stand for nothing, raw HTML, characters without a glyph in the house fonts and, in ``prose``,
    words too long for any line. Each names its line and column; linear in the text."""
    found: list[tuple[int, int, Problem]] = []
    missing: dict[str, int] = {}
    allowed = glyphs | _ALWAYS if glyphs is not None else None
    more = 0

    def add(line: int, column: int, message: str, fix: str) -> None:
        nonlocal more
        if len(found) < MAX_PROBLEMS:
            found.append((line, column, Problem(shown, f"line {line}, column {column}", message, fix)))
        else:
            more += 1

    for number, line in enumerate(text.split("\n"), start=first_line):
        if not line:
            continue
        for match in BAD.finditer(line):
            add(number, match.start() + 1, *bad_character(match[0]))
        if "&" in line:
            for match in ENTITY.finditer(line):
                decoded = decode_entity(match)
                if decoded is None:
                    add(number, match.start() + 1, f"the entity {match[0]} stands for no printable character",
                        "delete it (entities such as &eacute; or &nbsp; are fine)")
                elif glyphs is not None and decoded != match[0]:
                    for char in decoded:
                        if ord(char) not in glyphs and char not in missing:
                            missing[char] = number
                            add(number, match.start() + 1, f"the entity {match[0]} stands for {describe(char)}, "
                                "which the paper's fonts cannot print", _glyph_fix(char))
        if "<" in line:
            for match in TAG.finditer(line):
                tag = match[0] if len(match[0]) <= 40 else match[0][:40] + "..."
                add(number, match.start() + 1, f"raw HTML '{tag}' is not allowed",
                    "delete the tag: write *italic* or **bold** for emphasis, and a blank line for a new "
                    "paragraph; to print the character '<' itself, write &lt;")
        if allowed is not None and not allowed.issuperset(map(ord, line)):
            for column, char in enumerate(line, start=1):
                if ord(char) in allowed or char in missing or BAD.match(char):
                    continue
                missing[char] = number
                add(number, column, f"the character {describe(char)} is not in the paper's fonts",
                    _glyph_fix(char))
        if prose and len(line) > MAX_WORD:
            masked = _LINK_TARGET.sub(lambda m: "]" + " " * (len(m[0]) - 1), line)  # link targets never print
            for match in _LONG_WORD.finditer(masked):
                add(number, match.start() + 1, f"a word of {len(match[0])} characters ({shorten(match[0], 30)}) "
                    f"is longer than any line can hold (the limit is {MAX_WORD})",
                    "break it with spaces or hyphens: pasted data, a long link or a missing space?")
    problems = [problem for _, _, problem in sorted(found, key=lambda item: item[:2])]
    if more:
        problems.append(Problem(shown, "", f"... and {more} more problem(s) like these",
                                "fix the ones above and run again"))
    return problems


def _glyph_fix(char: str) -> str:
    if unicodedata.category(char).startswith("Z") or char in "\u200c\u200d":
        return "replace it with an ordinary space (or delete it)"
    return ("replace it with a character the fonts have (the house fonts cover the Latin alphabets of Europe "
            "and Cyrillic, not Greek), or set it as an image")
