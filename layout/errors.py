"""Errors: one hierarchy, turned into exit codes only in ``cli.py``."""

from __future__ import annotations

import errno
from dataclasses import dataclass

INTERRUPTED = "interrupted: outputs already written are intact"
"""What a command stopped by Ctrl-C says (exit code 130): every output is written atomically."""
TERMINATED = "terminated: outputs already written are intact"
"""What a command stopped by SIGTERM says (exit code 143)."""


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


class EnvironmentFault(LayoutError):
    """The machine, not the input nor layout: a folder that cannot be written, a full disk, a file
    that cannot be read (permissions), memory exhausted."""

    exit_code = 8


ENVIRONMENT_ERRNOS = {
    errno.EACCES: "permission denied", errno.EPERM: "operation not permitted",
    errno.ENOSPC: "no space left on the disk", errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only", errno.EIO: "input/output error (a failing disk?)",
    errno.EMFILE: "too many open files", errno.ENFILE: "too many open files on the system",
    errno.EFBIG: "file too large", errno.ENOMEM: "out of memory", errno.ENAMETOOLONG: "file name too long",
    errno.ELOOP: "too many levels of symbolic links", errno.ENOTDIR: "a path part is a file, not a folder",
    errno.EISDIR: "a folder is where a file should be", errno.EBUSY: "the file is busy",
    errno.ETXTBSY: "the file is busy", errno.ENOENT: "no such file or folder (removed while layout ran?)",
    errno.EEXIST: "a file is in the way", errno.ENOTEMPTY: "a folder is in the way",
    errno.ESTALE: "stale network file handle", errno.ENXIO: "no such device",
}
"""Errors of the system that are the machine's, with what they mean."""

_FIXES = {
    errno.EACCES: "give the user running layout permission to read and write it (ls -l shows who may)",
    errno.EPERM: "give the user running layout permission to read and write it (ls -l shows who may)",
    errno.ENOSPC: "free some disk space (df -h shows how much is left), then run again",
    errno.EDQUOT: "free some space within your quota, then run again",
    errno.EROFS: "run layout where the build/ folder can be written",
    errno.EMFILE: "close other programs, or raise the limit (ulimit -n), then run again",
    errno.ENOMEM: "close other programs, or compose on a machine with more memory",
    errno.EFBIG: "raise the limit on file sizes (ulimit -f) or free disk space, then run again",
    errno.EIO: "the disk may be failing: copy the project elsewhere and run again",
}


def is_environment(error: BaseException) -> bool:
    """Whether ``error`` is the machine's fault (see ``EnvironmentFault``), not a bug in layout."""
    return isinstance(error, MemoryError) or (isinstance(error, OSError) and error.errno in ENVIRONMENT_ERRNOS)


def environment_fault(error: BaseException) -> EnvironmentFault:
    """The ``EnvironmentFault`` for an ``OSError`` (or ``MemoryError``), naming the path."""
    if isinstance(error, MemoryError):
        return EnvironmentFault("out of memory", (Problem("(memory)", "", "the machine ran out of memory",
                                                          _FIXES[errno.ENOMEM]),))
    assert isinstance(error, OSError)
    what = ENVIRONMENT_ERRNOS.get(error.errno or 0, error.strerror or str(error))
    name = errno.errorcode.get(error.errno or 0, "")
    fix = _FIXES.get(error.errno or 0, "check the path, its permissions and the disk, then run again")
    if error.filename is None:  # raised where no path was given (a library's temporary file)
        return EnvironmentFault(f"a file could not be written or read: {what}" + (f" ({name})" if name else ""),
                                (Problem("(a temporary or output file)", "", what, fix),))
    path = error.filename
    target = f"{path} -> {error.filename2}" if error.filename2 else str(path)
    return EnvironmentFault(f"cannot use {target}: {what}" + (f" ({name})" if name else ""),
                            (Problem(str(path), "", what, fix),))


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
