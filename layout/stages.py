"""The stage table: the five stages of a compose, in the order ``build.py`` runs them.

The stage lines a run prints (``[2/5] composing ...``), the first line of each stage's modules'
docstrings (``Stage 2 (composing): ...``) and the benchmark's stage times are all made from this
table (a test holds the docstrings to it). A stage says where it starts and ends as records of the
``layout`` logger (``running``): the command line prints the start as the stage line, the benchmark
reads the time from the end.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

LOG = logging.getLogger("layout")
"""The logger every stage reports to: nothing is printed unless a handler is given (``console.py``)."""


@dataclass(frozen=True)
class Stage:
    """One stage of a compose."""

    number: int
    name: str
    """As the stage line says it: ``[number/5] name ...``."""
    does: str
    modules: tuple[str, ...]
    """The modules that do it (each names the stage in its docstring's first line)."""

    def line(self, detail: str = "") -> str:
        """The stage line: ``[2/5] composing 4 pages, ...``."""
        return f"[{self.number}/{len(STAGES)}] {self.name}" + (f" {detail}" if detail else "")

    @property
    def label(self) -> str:
        """How a module's docstring names the stage: ``Stage 2 (composing)``."""
        return f"Stage {self.number} ({self.name})"


READ = Stage(1, "reading", "read the paper settings, the issue's manifest and its articles; check the supplied "
             "adverts", ("reading.settings", "reading.manifest", "reading.articles"))
COMPOSE = Stage(2, "composing", "fit the articles to each page's grid: set each story as a galley, cut it into "
                "columns and jumps, prepare the photos, lay the pages out with WeasyPrint on every core",
                ("composing.compose", "composing.grid", "composing.markup", "composing.galley", "composing.cut",
                 "composing.images", "rendering.engine"))
WRITE = Stage(3, "writing", "make the plates (PDF/X) from the pages and their galleys, join the issue PDF, write "
              "the proofs and the flat plan; the plates' checks start on the workers",
              ("press.plates", "press.assemble", "press.proofs"))
FIT = Stage(4, "fit report", "write fit.json and print what fitted, what is over or short, where text jumped",
            ("composing.fit",))
PREFLIGHT = Stage(5, "preflight", "check the plates from their PDFs (ink, type, fonts, boxes, every word in its "
                  "slot); publish them to plates/ if they pass, else to plates-draft/",
                  ("press.preflight", "press.paint"))
STAGES = (READ, COMPOSE, WRITE, FIT, PREFLIGHT)


@contextlib.contextmanager
def running(stage: Stage, detail: str = "", log: logging.Logger = LOG) -> Iterator[None]:
    """Report the start of ``stage`` (its stage line, an INFO record) and, if it ends without an error,
    its end (a DEBUG record whose ``seconds`` is how long it took). Both records carry ``stage``."""
    log.info(stage.line(detail), extra={"stage": stage.name})
    began = time.perf_counter()
    yield
    seconds = time.perf_counter() - began
    log.debug("%s took %.3f s", stage.name, seconds, extra={"stage": stage.name, "seconds": seconds})


class Meter:
    """Counts the work of a stage as it is done (documents laid out, say), for a progress bar: each
    count is a DEBUG record of the ``layout`` logger with ``stage``, ``done`` and ``total``."""

    def __init__(self, stage: Stage, what: str, log: logging.Logger = LOG) -> None:
        self.stage, self.what, self.log = stage, what, log
        self.done = self.total = 0

    def expect(self, count: int) -> None:
        """``count`` more items are under way."""
        self.total += count
        self._report()

    def tick(self) -> None:
        """One item is done."""
        self.done += 1
        self._report()

    def _report(self) -> None:
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("%s: %d of %d %s", self.stage.name, self.done, self.total, self.what,
                           extra={"stage": self.stage.name, "done": self.done, "total": self.total,
                                  "what": self.what})
