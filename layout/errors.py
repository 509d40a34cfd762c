"""Errors: one hierarchy, turned into exit codes only in ``cli.py``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, phrased so production staff can fix it."""

    file: str
    """The file at fault, as the user would type it (relative to the project)."""
    key: str
    """Where in the file: a key path such as ``pages[2].articles[1].columns``, or a line."""
    message: str
    """What is wrong."""
    fix: str = ""
    """What to do about it."""

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        text = f"{where}: {self.message}"
        return f"{text}\n    fix: {self.fix}" if self.fix else text


class LayoutError(Exception):
    """Base of every error ``layout`` reports to its users (never a traceback)."""

    exit_code = 1

    def __init__(self, message: str, problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(message, problems)  # both in args: the error survives pickling from a worker
        self.message = message
        self.problems = problems

    def __str__(self) -> str:
        lines = [self.message]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class InputError(LayoutError):
    """The manifest, an article, an image or the paper settings are wrong."""

    exit_code = 2


class OversetError(LayoutError):
    """Copy did not fit its space: the proof was written, but the run fails."""

    exit_code = 3


class RenderError(LayoutError):
    """WeasyPrint reported a problem (strict mode) or could not lay the pages out."""

    exit_code = 4


class PreflightError(LayoutError):
    """The plates would be rejected by a printer."""

    exit_code = 5


class ArchiveError(LayoutError):
    """An archive is unreadable or its checksums no longer match."""

    exit_code = 7


class BusyError(LayoutError):
    """Another ``layout`` run is working on the same issue."""

    exit_code = 6


MAX_LISTED = 40
"""Problems listed in one error: past that, one line says how many more (3,000 unknown keys in a
pasted file are one mistake, not 3,000 lines to read)."""


def collect(problems: list[Problem], message: str) -> None:
    """Raise one InputError carrying every problem found, if there are any."""
    if len(problems) > MAX_LISTED:
        more = len(problems) - MAX_LISTED
        problems = problems[:MAX_LISTED] + [Problem(problems[MAX_LISTED].file, "", f"... and {more:,} more problems",
                                                    "fix the ones above, then run again to see the rest")]
    if problems:
        raise InputError(message, tuple(problems))
