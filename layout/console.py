"""What a command prints on stderr as it runs: each stage's line as the stage starts, and, on a
terminal only, a progress bar (rich) while a long stage counts its work.

The stages report to the ``layout`` logger (``stages.py``); ``stage_lines`` gives it this one handler
for as long as a command runs. Without it (tests, ``layout watch``, a program calling
``compose_issue``) a run prints nothing. Where stderr is not a terminal (CI logs, pipes, tests) no
bar is drawn and rich is not even imported: the lines are plain text, as the README shows them.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import Any

from .stages import LOG


class StageLines(logging.Handler):
    """Print every INFO record (stage lines, tables) on stderr as it is; with ``bar``, draw the
    records that count a stage's work (``stages.Meter``) as a progress bar, removed when the next
    line is printed."""

    def __init__(self, bar: bool = False) -> None:
        super().__init__(logging.DEBUG)
        self.bar = bar
        self._progress: Any = None
        self._task: Any = None

    def emit(self, record: logging.LogRecord) -> None:
        """Print ``record``, or move the bar."""
        try:
            if record.levelno >= logging.INFO:
                self._end_bar()
                print(record.getMessage(), file=sys.stderr, flush=True)
            elif self.bar and hasattr(record, "total"):
                self._show(record)
        except Exception:  # logging's own rule: a handler never raises
            self.handleError(record)

    def _show(self, record: logging.LogRecord) -> None:
        if self._progress is None and not record.total:  # type: ignore[attr-defined]  # nothing to count yet
            return
        if self._progress is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), console=Console(file=sys.stderr), transient=True)
            self._progress.start()
            self._task = self._progress.add_task(record.what, total=record.total)  # type: ignore[attr-defined]
        self._progress.update(self._task, completed=record.done, total=record.total)  # type: ignore[attr-defined]

    def _end_bar(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = self._task = None

    def close(self) -> None:
        """Remove the bar, if one is drawn."""
        self._end_bar()
        super().close()


@contextlib.contextmanager
def stage_lines(log: logging.Logger = LOG) -> Iterator[StageLines]:
    """Print the run's stage lines on stderr while the block runs (a bar too, if stderr is a terminal)."""
    bar = sys.stderr.isatty()
    handler = StageLines(bar)
    level = log.level
    log.setLevel(logging.DEBUG if bar else logging.INFO)
    log.addHandler(handler)
    try:
        yield handler
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        handler.close()
