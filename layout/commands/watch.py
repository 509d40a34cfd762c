"""``layout watch``: recompose an issue every time one of its sources is saved.

The rounds themselves (``rounds``) are shared with ``layout serve``, which shows each one in the
browser: both keep one set of warm worker processes from save to save."""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..base.files import stamp
from ..build import BuildResult, Project, compose_issue
from ..composing.fit import summary
from ..errors import LayoutError, environment_fault, is_environment
from ..rendering.workers import Workers, holding

SETTLE = 0.03
"""Seconds a change must stay as it is before it is composed (a file half written is not)."""
EDITOR_LEFTOVERS = ("~", ".swp", ".swx", ".tmp")
"""Endings of files editors write beside the one being saved (backups, swap files): never sources."""


def sources(project: Project, issue_id: str) -> Iterator[Path]:
    """Every file whose change should trigger a recompose."""
    yield project.issues / "paper.yaml"
    for folder in (project.issues / issue_id, project.stylesheets, project.fonts):
        yield from (p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")
                    and not p.name.endswith(EDITOR_LEFTOVERS))


def snapshot(project: Project, issue_id: str) -> dict[Path, tuple[int, ...]]:
    """The stamp of every source (``base.files.stamp``: a save that keeps a file's size and time, as
    ``cp -p`` or ``rsync -t`` does, still changes its inode or change time); a file or folder that
    cannot be read is skipped (the compose reports it)."""
    found: dict[Path, tuple[int, ...]] = {}
    try:
        for path in sources(project, issue_id):
            known = stamp(path, racy=False)
            if known is not None:
                found[path] = known
    except OSError:
        pass
    return found


@dataclass(frozen=True)
class Round:
    """One compose of a watched issue."""

    number: int
    """1 for the compose at start, then one more for each save."""
    changed: tuple[Path, ...]
    """The sources that changed since the round before (empty in the first round)."""
    result: BuildResult | None
    """What the compose produced, if it succeeded."""
    error: Exception | None
    """Why it failed: a ``LayoutError`` (bad input, overset, preflight), or, when the caller asked to
    keep going (``layout serve``), any other exception."""
    seconds: float
    finished: float
    """``time.time()`` when the round ended."""

    @property
    def trigger(self) -> str:
        """What started the round: ``start``, or the names of the files saved."""
        if self.number == 1:
            return "start"
        names = sorted(p.name for p in self.changed)
        return ", ".join(names[:3]) + (" ..." if len(names) > 3 else "")

    @property
    def status(self) -> str:
        """``N pages composed``, ``error: ...`` (bad input, overset, preflight) or ``internal error: ...``
        (a bug in layout, reported and watched past)."""
        if self.result is not None:
            return f"{len(self.result.issue.pages)} pages composed"
        if isinstance(self.error, LayoutError):
            return f"error: {self.error}"
        if self.error is not None and is_environment(self.error):  # the machine's: which path, and the fix
            return f"error: {environment_fault(self.error)}"
        error = self.error
        where = traceback.extract_tb(error.__traceback__)[-1] if error is not None and error.__traceback__ else None
        at = f" (at {Path(where.filename).name}:{where.lineno})" if where else ""
        return (f"internal error: {type(error).__name__}: {str(error)[:200]}{at}; this is a bug in layout: run "
                "`layout compose --debug` and report it; still watching")

    def line(self) -> str:
        """What ``layout watch`` prints for the round: the time on the first line, any problems below it,
        a line for each slot over or short, each hole and each warning, and, after a failed round, that
        it waits for the next save."""
        stamp = time.strftime("%H:%M:%S", time.localtime(self.finished))
        first, _, rest = self.status.partition("\n")
        text = f"[{stamp}] {self.trigger}: {first} in {self.seconds:.1f} s" + (f"\n{rest}" if rest else "")
        composition = self.result.composition if self.result is not None else getattr(self.error, "composition", None)
        if composition is not None:  # each slot over or short, each hole and warning: a line each
            text += "".join(f"\n{line}" for line in summary(composition))
        if self.result is None:
            text += "\nwaiting for the next save ..."
        return text


def rounds(project: Project, issue_id: str, workers: Workers, interval: float = 0.5, limit: int | None = None,
           stop: threading.Event | None = None, on_change: Callable[[tuple[Path, ...]], None] | None = None,
           keep_going: bool = False) -> Iterator[Round]:
    """Compose now and after every change, with ``workers`` kept warm; yield each round.

    ``limit`` ends after that many rounds (for tests), ``stop`` when it is set. ``on_change`` is
    called with the changed files as soon as a save is seen, before its compose starts.
    ``keep_going``: an exception that is not a ``LayoutError`` (a bug) is reported in the round
    instead of ending the rounds."""
    caught: tuple[type[Exception], ...] = (Exception,) if keep_going else (LayoutError, OSError, MemoryError)
    seen: dict[Path, tuple[int, ...]] = {}
    done = 0
    while (limit is None or done < limit) and not (stop is not None and stop.is_set()):
        current = snapshot(project, issue_id)
        if current != seen and seen:
            time.sleep(SETTLE)  # a save still being written (an editor writing in pieces) is let finish
            if snapshot(project, issue_id) != current:
                continue
        if current != seen:
            changed = tuple(sorted(set(current) ^ set(seen) | {p for p in current
                                                             if seen.get(p) not in (None, current[p])}))
            first = not seen
            seen = current
            if on_change is not None:
                on_change(() if first else changed)
            started = time.monotonic()
            result: BuildResult | None = None
            error: Exception | None = None
            try:
                result = compose_issue(project, issue_id, shared=workers)
            except caught as exc:
                error = exc
            done += 1
            yield Round(done, () if first else changed, result, error, time.monotonic() - started, time.time())
            continue  # look again at once: a save made during the compose is composed next
        if stop is not None:
            stop.wait(interval)
        else:
            time.sleep(interval)


def watch(project: Project, issue_id: str, say: Callable[[str], None], interval: float = 0.5,
          rounds_limit: int | None = None) -> None:
    """Compose now and after every change; ``rounds_limit`` limits the number of composes (for tests)."""
    workers = Workers()  # kept warm from save to save
    try:
        with holding():  # and the build cache's entries it reads back, while it watches
            for done in rounds(project, issue_id, workers, interval, rounds_limit, keep_going=True):
                say(done.line())
    finally:
        workers.close()
