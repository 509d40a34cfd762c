"""Reading source files (YAML, Markdown) with errors that name the file, the line and the fix."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError, Problem
from .normalise import (
    BAD,
    MAX_FILE_BYTES,
    MAX_PROBLEMS,
    TAG,
    bad_character,
    decode_entities,
    describe,
    normalise,
    shorten,
)


def display_path(path: Path, root: Path | None = None) -> str:
    """Return ``path`` as production staff would type it: relative to ``root`` or the cwd."""
    for base in (root, Path.cwd()):
        if base is None:
            continue
        for form in (path.absolute, path.resolve):  # as named first: a link is shown where it is, not its target
            try:
                return str(form().relative_to(base.resolve()))
            except (ValueError, OSError, RuntimeError):
                continue
    return str(path)


def read_text(path: Path, shown: str) -> str:
    """Return the text of ``path`` as UTF-8 with Unix line endings, normalised (NFC, space variants),
    or raise an InputError naming every control or direction-changing character by line and column."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{shown}: too large", (Problem(
                shown, "", f"the file is {size:,} bytes; the most layout reads is {MAX_FILE_BYTES:,}",
                "split it, or check that it is the file you meant (copy, not data or an export)"),))
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{shown}: file not found", (Problem(shown, "", "file not found",
                         "create it, or correct the name that points at it"),)) from None
    except IsADirectoryError:
        raise InputError(f"{shown}: is a folder", (Problem(shown, "", "is a folder, not a file",
                         "put the file there, or correct the name that points at it"),)) from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot be read ({exc.strerror})", (Problem(
            shown, "", f"cannot be read: {exc.strerror}", "check the file's permissions"),)) from None
    save = "save the file as UTF-8 (in most editors: Save As, Encoding: UTF-8)"
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(raw) >= 8 and raw[:200].count(0) * 3 >= min(len(raw), 200)):
        raise InputError(f"{shown}: UTF-16 text", (Problem(
            shown, "line 1", "the file is saved as UTF-16 (what Word and Notepad call 'Unicode'), not UTF-8", save),))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        meant = bytes([raw[exc.start]]).decode("cp1252", "replace")
        guess = (f" (in Windows-1252 or Latin-1, the encoding it was probably saved in, it is '{meant}')"
                 if meant.isprintable() and meant != "\ufffd" and raw[exc.start] >= 0x80 else "")
        raise InputError(
            f"{shown}: not UTF-8 text",
            (Problem(shown, f"line {line}", f"byte 0x{raw[exc.start]:02x} is not UTF-8{guess}", save),),
        ) from None
    text = normalise(text.replace("\r\n", "\n").replace("\r", "\n"))
    if BAD.search(text):
        problems = []
        for number, row in enumerate(text.split("\n"), start=1):
            for match in BAD.finditer(row):
                message, fix = bad_character(match[0])
                problems.append(Problem(shown, f"line {number}, column {match.start() + 1}", message, fix))
        more = len(problems) - MAX_PROBLEMS
        problems = problems[:MAX_PROBLEMS] + ([Problem(shown, "", f"... and {more} more like these",
                                                         "delete them all")] if more > 0 else [])
        raise InputError(f"{shown}: invisible control or direction characters", tuple(problems))
    return text


def _yaml_loader() -> Any:  # a loader class: libyaml's or PyYAML's, which share no base class
    """libyaml's safe loader where PyYAML was built with it (ten times faster), else the pure-Python
    one; dates stay text (the manifest checks them, so 2099-04-31 is an input error, not a crash)."""
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type]
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in base.yaml_implicit_resolvers.items()}
    return Loader


class Number:
    """Mixin of the numbers YAML reads: they keep the text they were written as, so that a number
    used as copy prints as typed (``headline: 0123`` is not 83, ``kicker: 3.10`` not 3.1, ``1:30``
    not 90: YAML 1.1 reads octal, drops trailing zeros and counts in sixties)."""

    source: str

    def __reduce__(self):  # pickled (to a worker) as a plain number
        return (type(self).__mro__[2], (type(self).__mro__[2](self),))


class YamlInt(Number, int):
    """A whole number from YAML, with its source text."""


class YamlFloat(Number, float):
    """A number with a fraction from YAML, with its source text."""


def _number(kind: type, base: Any) -> Callable[[Any, yaml.Node], Any]:
    def construct(loader: Any, node: yaml.Node) -> Any:
        value = base(loader, node)
        number = kind(value)
        number.source = str(node.value)
        return number
    return construct


def source_text(value: Any) -> str:
    """``value`` as its YAML source wrote it (numbers), else ``str(value)``."""
    return value.source if isinstance(value, Number) else str(value)


SAFE_LOADER = _yaml_loader()
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
SAFE_LOADER.add_constructor("tag:yaml.org,2002:int", _number(YamlInt, SAFE_LOADER.construct_yaml_int))
SAFE_LOADER.add_constructor("tag:yaml.org,2002:float", _number(YamlFloat, SAFE_LOADER.construct_yaml_float))
MAX_YAML_DEPTH = 12
"""Nesting of YAML collections: a manifest needs four (pages, a page, its articles, a slot)."""
_YAML_SIMPLE = re.compile(r"[&*\[{]|^\s*(?:-\s+)*-\s+-", re.M)

# libyaml's messages in plain words: (its words, ours, the fix).
_INDENT = ("this line is indented differently from the ones before it",
           "check the indentation: line each key up exactly under the keys of its group (spaces, not tabs), "
           "and start list items with '- ' at the same place")
_QUOTE_FIX = "put the whole value in quotes, e.g. headline: \"Strike: the vote\""
_YAML_WORDS = (
    ("'\\t'", ("a tab character: YAML lines are indented with spaces only", "replace the tab with spaces")),
    ("tab character", ("a tab character: YAML lines are indented with spaces only", "replace the tab with spaces")),
    ("expected '-' indicator", _INDENT),
    ("expected <block end>", _INDENT),
    ("did not find expected key", _INDENT),
    ("mapping values are not allowed", ("a second ': ' on this line: YAML reads it as a new key", _QUOTE_FIX)),
    ("could not find expected ':'", ("this line is not 'key: value' (or a value runs on without its quotes)",
                                     "add ': ' after the key, or put the value in quotes")),
    ("end of stream", ("a quote opened on this line is never closed", "close the quote at the end of the value")),
    ("unknown escape", ("a backslash inside double quotes starts an escape YAML does not know",
                        "use single quotes around the value, or write \\\\ for a backslash")),
    ("cannot start any token", ("a value starts with a character YAML reserves (@ ` % ! & * | > or a quote)",
                                _QUOTE_FIX)),
    ("tag", ("'!' at the start of a value is a YAML tag", _QUOTE_FIX)),
    ("expected ',' or ']'", ("a list in [ ] is not closed properly", "close it with ], or quote the value")),
    ("expected ',' or '}'", ("a mapping in { } is not closed properly", "close it with }, or quote the value")),
    ("expected the node content", ("a value is missing or starts wrongly", _QUOTE_FIX)),
    ("block sequence entries are not allowed", ("a '- ' list item where a value was expected",
                                                "put the list on the lines below its key, indented")),
    ("unacceptable character", ("a character YAML does not accept", "delete it")),
    ("duplicate", ("a name is defined twice", "delete one of them")),
    ("another document", ("a second '---' line: YAML reads what follows as another document",
                          "remove that line (an article's front matter ends at its second '---')")),
    ("unhashable", ("a key is a list or a mapping", "keys are plain names, such as 'headline:'")),
)


def _yaml_line(text: str, line: int) -> str:
    lines = text.split("\n")
    shown = lines[line] if 0 <= line < len(lines) else ""
    return shown if len(shown) <= 80 else shown[:80] + "..."


def _plain_yaml_error(exc: yaml.YAMLError) -> tuple[str, str]:
    words = f"{getattr(exc, 'context', '') or ''} {getattr(exc, 'problem', '') or exc}"
    for needle, (message, fix) in _YAML_WORDS:
        if needle in words:
            return message, fix
    what = (getattr(exc, "problem", None) or str(exc).splitlines()[0])[:120]
    return f"YAML could not read it ({what})", ("check the indentation and quoting on that line; values "
                                                "containing ': ' or starting with a quote need quotes around them")


def parse_yaml(text: str, shown: str, first_line: int = 1, copy_keys: frozenset[str] = frozenset()) -> Any:
    """Parse YAML ``text`` from ``shown``: a syntax error names its line and shows it, in plain words.

    Anchors and aliases are refused (an alias bomb expands to gigabytes), and so are repeated keys
    (YAML would keep the last silently) and nesting deeper than MAX_YAML_DEPTH. The unquoted value
    of a key in ``copy_keys`` (printed copy) followed by a ``#`` comment is refused: ``headline: We
    are #1`` would print "We are"."""
    def problem(line: int, message: str, fix: str) -> InputError:
        quoted = _yaml_line(text, line)
        where = f"line {line + first_line}"
        return InputError(f"{shown}: broken YAML", (Problem(
            shown, where, f"{message}\n      {line + first_line} | {quoted}" if quoted.strip() else message,
            fix),))

    try:
        if _YAML_SIMPLE.search(text):
            _check_yaml_tokens(text, problem)
        loader = SAFE_LOADER(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _check_yaml_keys(node, problem, first_line, text, copy_keys)
            return loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "end of stream" in str(exc.problem):  # where it was opened
            mark = exc.context_mark
        message, fix = _plain_yaml_error(exc)
        if mark is not None and "\t" in _yaml_line(text, mark.line)[: mark.column + 1]:
            message, fix = _YAML_WORDS[0][1]  # libyaml does not say which character it could not read
        if mark is None:
            raise InputError(f"{shown}: broken YAML", (Problem(shown, "", f"YAML syntax error: {message}",
                                                               fix),)) from None
        raise problem(mark.line, f"YAML syntax error: {message}", fix) from None
    except yaml.YAMLError as exc:
        message, fix = _plain_yaml_error(exc)
        raise InputError(f"{shown}: broken YAML", (Problem(shown, "", f"YAML syntax error: {message}",
                                                           fix),)) from None
    except RecursionError:
        raise InputError(f"{shown}: broken YAML", (Problem(
            shown, "", "nested too deeply", "a manifest needs at most four levels of indentation"),)) from None
    except (ValueError, OverflowError, TypeError) as exc:  # a value YAML's constructors refused
        what = "a number thousands of digits long" if "digits" in str(exc) else shorten(str(exc), 80)
        raise InputError(f"{shown}: broken YAML", (Problem(
            shown, "", f"a value YAML cannot read ({what})",
            "put values in quotes if they are meant as text"),)) from None


def _check_yaml_tokens(text: str, problem: Callable[[int, str, str], InputError]) -> None:
    """Refuse anchors, aliases and deep nesting before anything is built (linear in the text)."""
    depth = 0
    for token in yaml.scan(text, Loader=SAFE_LOADER):
        if isinstance(token, (yaml.AnchorToken, yaml.AliasToken)):
            raise problem(token.start_mark.line, "YAML anchors and aliases ('&name', '*name') are not used here",
                          "write each value out in full; to start a value with & or *, put it in quotes")
        if isinstance(token, (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken,
                              yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise problem(token.start_mark.line, f"nested more than {MAX_YAML_DEPTH} levels deep",
                              "a manifest needs at most four levels; check the indentation and brackets")
        elif isinstance(token, (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)):
            depth -= 1


def _comment_after(text: str, key: yaml.Node, value: yaml.Node) -> int | None:
    """The line (0-based) of a ``#`` comment that cuts the plain value of ``key`` short: on the
    value's own line, or on a line below indented as a continuation of it; else None."""
    if not isinstance(value, yaml.ScalarNode) or value.style or value.tag != "tag:yaml.org,2002:str" \
            and value.value:
        return None
    at, line = value.end_mark.index, value.end_mark.line
    end = text.find("\n", at)
    end = len(text) if end < 0 else end
    if text[at:end].lstrip(" \t").startswith("#"):
        return line
    for _ in range(50):  # the lines below, up to the next key (bounded: linear in the file)
        if end >= len(text):
            return None
        start, end = end + 1, text.find("\n", end + 1)
        end = len(text) if end < 0 else end
        following = text[start:end]
        line += 1
        stripped = following.lstrip(" ")
        if not stripped:
            continue
        if stripped.startswith("#") and len(following) - len(stripped) > key.start_mark.column:
            return line
        return None
    return None


def _check_yaml_keys(root: yaml.Node, problem: Callable[[int, str, str], InputError], first_line: int,
                     text: str = "", copy_keys: frozenset[str] = frozenset()) -> None:
    """Refuse a key given twice in one mapping (iterative: the nesting is bounded, but be safe), and
    a comment that cuts short the unquoted value of a key in ``copy_keys``."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[object, int] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else None
                if name is not None:
                    if name in seen:
                        raise problem(key.start_mark.line, f"the key '{shorten(name, 30)[1:-1]}' is given twice "
                                      f"(first on line {seen[name] + first_line})",
                                      "keep one of them: YAML would silently use only the last")
                    seen[name] = key.start_mark.line
                    if name in copy_keys:
                        line = _comment_after(text, key, value)
                        if line is not None:
                            raise problem(line, f"a '#' after a space starts a YAML comment, so the rest of "
                                          f"'{shorten(name, 30)[1:-1]}' would not be printed",
                                          f"put the whole value in quotes, e.g. {name}: \"We are #1\" (or move "
                                          "a note to a line of its own)")
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """Return ' (did you mean "x"?)' for the closest of ``choices``, or ''."""
    if len(word) > 64:  # difflib is quadratic: a long value is no typo of a short name
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


@dataclass
class Checker:
    """Collects every problem in one file so they can all be reported in one run."""

    shown: str
    problems: list[Problem] = field(default_factory=list)
    glyphs: frozenset[int] | None = None
    """The characters the house fonts can print (None: not checked)."""

    def add(self, key: str, message: str, fix: str = "") -> None:
        """Record one problem at ``key``."""
        self.problems.append(Problem(self.shown, key, message, fix))

    def mapping(self, value: Any, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        """Check ``value`` is a mapping with only ``allowed`` keys; return it (or {})."""
        if not isinstance(value, dict):
            self.add(key or "(top level)", f"expected a mapping of keys, found {_kind(value)}",
                     f"write it as 'key: value' lines; allowed keys: {', '.join(allowed)}")
            return {}
        for name in value:
            if str(name) not in allowed:
                short = shorten(str(name))[1:-1] if isinstance(name, str) else shorten(name)
                where = f"{key}.{short}" if key else short
                plain = str(name).strip(_KEY_DRESSING)
                if plain in allowed:  # Word's curly quotes or a no-break space around a right key
                    self.add(where, f'unknown key "{short}": it is "{plain}" with quotes or invisible spaces '
                             "around it", f"retype it as {plain}: (plain letters, indented with ordinary spaces)")
                    continue
                self.add(where, f'unknown key "{short}"{did_you_mean(str(name), allowed)}',
                         f"allowed keys here: {', '.join(allowed)}")
        return value

    def integer(self, value: Any, key: str, low: int, high: int | None = None) -> int | None:
        """Check ``value`` is a whole number in range; return it or None."""
        if isinstance(value, bool) or not isinstance(value, int):
            quoted = isinstance(value, str) and value.strip().lstrip("+-").isdigit()
            self.add(key, f"expected a whole number, found {_kind(value)} {shorten(value)}",
                     f"remove the quotes: {key.split('.')[-1]}: {str(value).strip()}" if quoted
                     else f"write a number such as {low}")
            return None
        written = source_text(value)
        if not _DECIMAL.fullmatch(written.strip()):  # YAML 1.1: 0123 is octal 83, 1:30 is 90, 0x1f 31
            self.add(key, f"{shorten(written)} is read by YAML as {value}, not as the number it looks like",
                     f"write the number in plain digits without leading zeros, e.g. {key.split('.')[-1]}: "
                     f"{written.strip().lstrip('0') or '0' if written.strip().isdigit() else low}")
            return None
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
            shown = str(value) if abs(value) < 10**30 else "a huge number"
            self.add(key, f"{shown} is out of range", f"use a number {bound}")
            return None
        return int(value)

    def text(self, value: Any, key: str, required: bool = False, max_words: int | None = None) -> str | None:
        """Check ``value`` is a non-empty string (numbers are accepted as text) of at most ``max_words``."""
        if max_words is not None and isinstance(value, str) and len(value.split()) > max_words:
            name = key.split(".")[-1]
            self.add(key, f"is {len(value.split()):,} words long; a {name} has at most {max_words}",
                     "shorten it (the story itself goes below the front matter's closing '---')")
            return None
        if value is None:
            if required:
                self.add(key, "is missing", f"add a line '{key.split('.')[-1]}: ...'")
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return source_text(value)  # as typed: 0123, 3.10 and 1:30 stay what they are
        if isinstance(value, str) and not value.strip():
            self.add(key, "is empty", f"write the text after '{key.split('.')[-1]}:', or remove the line")
            return None
        if not isinstance(value, str):
            self.add(key, f"expected text, found {_kind(value)}",
                     "put it in quotes (yes, no, on, off, true and false are read as yes/no otherwise)"
                     if isinstance(value, bool) else "write it as plain text")
            return None
        return self.copy(value, key)

    def copy(self, value: str, key: str) -> str | None:
        """``value`` as printable copy: entities decoded, normalised, and refused (None) if it holds
        raw HTML, an entity for nothing, a control or bidi character, or a character the fonts lack
        (those typed in the file were refused with their line already; these came from escapes)."""
        tag = TAG.search(value)
        if tag:
            self.add(key, f"raw HTML {shorten(tag[0], 30)} is not allowed",
                     "delete the tag (headlines break by themselves; write *italic* for emphasis)")
            return None
        text = normalise(decode_entities(value))
        bad = BAD.search(text) or ("\ufffd" in text and "\ufffd" not in value and "\ufffd")
        if bad:
            char = bad if isinstance(bad, str) else bad[0]
            self.add(key, bad_character(char)[0] if char != "\ufffd" else "an entity stands for no printable "
                     "character", "remove the escape or entity (such as \\x1f or &#0;) from the text")
            return None
        if self.glyphs is not None:
            missing = [c for c in dict.fromkeys(text) if ord(c) not in self.glyphs and c not in "\n\t "]
            if missing:
                self.add(key, f"the character {describe(missing[0])} is not in the paper's fonts"
                         + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
                         "replace it with a character the fonts have (European Latin letters and Cyrillic, not Greek)")
                return None
        return text.strip() or None


_KEY_DRESSING = " \t\u00a0\u2007\u202f\u200b\ufeff\"'\u201c\u201d\u2018\u2019\u00ab\u00bb"


def _kind(value: Any) -> str:
    """Name the YAML type of ``value`` for an error message."""
    if value is None:
        return "nothing"
    kinds = ((bool, "yes/no"), (int, "a number"), (float, "a number"), (str, "text"), (dict, "a mapping"),
             (list, "a list"), (bytes, "binary data"))  # isinstance: YAML's numbers are subclasses (YamlInt)
    return next((name for kind, name in kinds if isinstance(value, kind)), type(value).__name__)
