"""Reading source files (YAML, Markdown) with errors that name the file, the line and the fix."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError, Problem


def display_path(path: Path, root: Path | None = None) -> str:
    """Return ``path`` as production staff would type it: relative to ``root`` or the cwd."""
    for base in (root, Path.cwd()):
        if base is None:
            continue
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def read_text(path: Path, shown: str) -> str:
    """Return the text of ``path`` as UTF-8 with Unix line endings, or raise an InputError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{shown}: file not found", (Problem(shown, "", "file not found",
                         "create it, or correct the name that points at it"),)) from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{shown}: not UTF-8 text",
            (Problem(shown, f"line {line}", f"byte 0x{raw[exc.start]:02x} is not UTF-8",
                     "save the file as UTF-8 (in most editors: Save As, Encoding: UTF-8)"),),
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    control = _CONTROL.search(text)
    if control:
        line = text[: control.start()].count("\n") + 1
        raise InputError(f"{shown}: an invisible control character", (Problem(
            shown, f"line {line}", f"contains the control character U+{ord(control[0]):04X}, which cannot be printed",
            "delete it: it is invisible in most editors, and often comes from pasting out of a word processor"),))
    return text


SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it (ten times faster), else the pure-Python one."""


def parse_yaml(text: str, shown: str, first_line: int = 1) -> Any:
    """Parse YAML ``text`` from ``shown``; a syntax error names its line."""
    try:
        return yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + first_line}" if mark is not None else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(
            f"{shown}: broken YAML",
            (Problem(shown, line, f"YAML syntax error: {what}",
                     "check the indentation and quoting on that line; values containing ': ' "
                     "or starting with a quote need quotes around them"),),
        ) from None


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """Return ' (did you mean "x"?)' for the closest of ``choices``, or ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


@dataclass
class Checker:
    """Collects every problem in one file so they can all be reported in one run."""

    shown: str
    problems: list[Problem] = field(default_factory=list)

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
                where = f"{key}.{name}" if key else str(name)
                self.add(where, f'unknown key "{name}"{did_you_mean(str(name), allowed)}',
                         f"allowed keys here: {', '.join(allowed)}")
        return value

    def integer(self, value: Any, key: str, low: int, high: int | None = None) -> int | None:
        """Check ``value`` is a whole number in range; return it or None."""
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(key, f"expected a whole number, found {_kind(value)} {value!r}",
                     f"write a number such as {low}")
            return None
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
            self.add(key, f"{value} is out of range", f"use a number {bound}")
            return None
        return value

    def text(self, value: Any, key: str, required: bool = False) -> str | None:
        """Check ``value`` is a non-empty string (numbers are accepted as text)."""
        if value is None:
            if required:
                self.add(key, "is missing", f"add a line '{key.split('.')[-1]}: ...'")
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str) or not value.strip():
            self.add(key, f"expected text, found {_kind(value)}", "write it as plain text")
            return None
        control = _CONTROL.search(value)
        if control:
            self.add(key, f"contains the control character U+{ord(control[0]):04X}, which cannot be printed",
                     "remove the escape sequence (such as \\x1f) from the text")
            return None
        return value.strip()


def _kind(value: Any) -> str:
    """Name the YAML type of ``value`` for an error message."""
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "text", bool: "yes/no", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)
