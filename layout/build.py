"""The one function that runs the stages in order: settings, manifest, articles, compose, write."""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from .articles import load_articles
from .compose import Composition, Sheet, compose, proof_pages
from .errors import OversetError, Problem, RenderError
from .fit import fit_json, fit_table
from .manifest import Issue, find_issue, load_issue
from .markup import PageView, issue_html, issue_meta
from .render import WEASYPRINT_VERSION, Job, PageRenderer, PageResult, check_version, write_atomic
from .settings import PaperSettings, load_settings


@dataclass(frozen=True)
class Project:
    """Where the paper's files are: ``issues/``, ``stylesheets/``, ``fonts/`` and ``build/``."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", self.root.resolve())

    @property
    def issues(self) -> Path:
        """Folder of issue folders (and ``paper.yaml``)."""
        return self.root / "issues"

    @property
    def stylesheets(self) -> Path:
        """The house stylesheets."""
        return self.root / "stylesheets"

    @property
    def fonts(self) -> Path:
        """The paper's fonts (the only fonts used)."""
        return self.root / "fonts"

    def build(self, issue_id: str) -> Path:
        """Output folder of one issue."""
        return self.root / "build" / issue_id


@dataclass(frozen=True)
class BuildResult:
    """What a compose produced."""

    issue: Issue
    composition: Composition
    issue_pdf: Path
    fit_report: Path
    warnings: tuple[str, ...]
    seconds: float
    outputs: tuple[Path, ...] = field(default=())
    laid_out: int = 0
    """Documents (pages and measuring sheets) WeasyPrint laid out in this run."""
    cached: int = 0
    """Documents taken from the per-page cache instead."""


Progress = Callable[[str], None]


def stderr_progress(message: str) -> None:
    """Print a stage line on stderr."""
    print(message, file=sys.stderr, flush=True)


def load(project: Project, issue_id: str) -> tuple[PaperSettings, Issue, dict]:
    """Read the paper settings, the issue's manifest and its articles (stages 0-2)."""
    settings = load_settings(project.issues / "paper.yaml")
    folder = find_issue(project.issues, issue_id)
    issue = load_issue(folder, settings)
    articles = load_articles(folder, issue.slugs)
    return settings, issue, articles


@dataclass
class Session:
    """One run's view of an issue: its sources, and the renderer that lays its pages out."""

    project: Project
    settings: PaperSettings
    issue: Issue
    articles: dict
    renderer: PageRenderer

    def lay_out(self, sheets: list[Sheet], pdf: bool) -> list[PageResult]:
        """Lay out documents of pages (see ``compose.Layouter``)."""
        meta = issue_meta(self.issue, self.settings, WEASYPRINT_VERSION)
        sheet_urls = [(self.project.stylesheets / "newspaper.css").as_uri()]
        allowed = tuple(str(p) for p in (self.issue.folder, self.project.fonts, self.project.stylesheets))
        jobs = [Job(issue_html(views, self.issue, self.settings, meta, sheet_urls, mode, height),
                    str(self.issue.folder), allowed, self.settings.leading, None, pdf)
                for views, mode, height in sheets]
        return self.renderer.run(jobs)


def open_session(project: Project, issue_id: str, workers: int | None = None) -> Session:
    """Read the paper settings, the manifest and the articles, and start a page renderer."""
    check_version()
    settings, issue, articles = load(project, issue_id)
    static = tuple(sorted(p for d in (project.stylesheets, project.fonts) for p in d.rglob("*") if p.is_file()))
    renderer = PageRenderer(project.build(issue_id) / ".cache", static, workers)
    return Session(project, settings, issue, articles, renderer)


def fit_issue(project: Project, issue_id: str, progress: Progress = stderr_progress,
              strict: bool = False) -> tuple[Session, Composition]:
    """Read and compose the issue; return the session and the composition (nothing is written but the cache)."""
    progress(f"[1/4] reading {issue_id}: paper settings, manifest, articles")
    session = open_session(project, issue_id)
    issue = session.issue
    progress(f"[2/4] composing {len(issue.pages)} pages, {len(session.articles)} articles "
             f"on {session.renderer.workers} cores")
    try:
        composition = compose(issue, session.settings, session.articles, session.lay_out,
                              lambda photo, width, height: photo.path.as_uri())
    finally:
        session.renderer.close()
    if strict and composition.warnings:
        raise RenderError("WeasyPrint reported problems (strict mode)", tuple(
            Problem("(layout)", "", w, "fix the stylesheet or source") for w in composition.warnings))
    return session, composition


def issue_html_for(session: Session, pages: list[PageView] | Composition, mode: str = "print") -> str:
    """Return the HTML of composed ``pages`` as one document (for the benchmark's naive baseline)."""
    views = list(pages.pages) if isinstance(pages, Composition) else pages
    return issue_html(views, session.issue, session.settings,
                      issue_meta(session.issue, session.settings, WEASYPRINT_VERSION),
                      [(session.project.stylesheets / "newspaper.css").as_uri()], mode)


def join_pages(pdfs: tuple[bytes, ...]) -> bytes:
    """Return one PDF of all the pages (each page keeps its own font subsets)."""
    writer = PdfWriter()
    for data in pdfs:
        writer.append(PdfReader(io.BytesIO(data)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def compose_issue(project: Project, issue_id: str, progress: Progress = stderr_progress,
                  strict: bool = False) -> BuildResult:
    """Compose ``issue_id`` and write the issue PDF and fit report; fail on overset after writing."""
    started = time.monotonic()
    session, composition = fit_issue(project, issue_id, progress, strict)
    issue, settings, warnings = session.issue, session.settings, list(composition.warnings)
    out = project.build(issue_id)
    progress(f"[3/4] writing {out.relative_to(project.root) if out.is_relative_to(project.root) else out}"
             f" ({session.renderer.misses} pages laid out, {session.renderer.hits} from the cache)")
    pdf = out / f"{issue_id}.pdf"
    write_atomic(pdf, join_pages(composition.page_pdfs))
    report = out / "fit.json"
    write_atomic(report, fit_json(composition))
    proof = out / f"{issue_id}-proof.pdf"
    marked = proof_pages(composition, settings)
    if any(page.marks for page in marked):
        results = session.lay_out([([page], "print", None) for page in marked], True)
        session.renderer.close()
        write_atomic(proof, join_pages(tuple(r.pdf or b"" for r in results)))
    elif proof.exists():
        proof.unlink()
    progress("[4/4] fit report\n" + fit_table(composition))
    result = BuildResult(issue, composition, pdf, report, tuple(warnings), time.monotonic() - started,
                         (pdf, report), session.renderer.misses, session.renderer.hits)
    if composition.overset:
        raise OversetError(
            f"{len(composition.overset)} article(s) overset: the proof was written to {pdf}, "
            "but these do not fit",
            tuple(Problem(str(issue.manifest.relative_to(project.root)) if issue.manifest.is_relative_to(project.root)
                          else str(issue.manifest), f"page {s.page}: {s.slug}",
                          f"{s.over} line(s) over", "cut the copy, give the slot more depth or columns, "
                          "or jump it to a later page (jump: N)") for s in composition.overset))
    return result
