"""The one function that runs the stages in order: settings, manifest, articles, compose, write."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .articles import load_articles
from .compose import Composition, compose, proof_pages
from .errors import OversetError, Problem, RenderError
from .fit import fit_json, fit_table
from .manifest import Issue, find_issue, load_issue
from .markup import PageView, issue_html, issue_meta
from .render import WEASYPRINT_VERSION, check_version, pdf_bytes, render, write_atomic
from .settings import PaperSettings, load_settings


@dataclass(frozen=True)
class Project:
    """Where the paper's files are: ``issues/``, ``stylesheets/``, ``fonts/`` and ``build/``."""

    root: Path

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


def fit_issue(project: Project, issue_id: str, progress: Progress = stderr_progress,
              strict: bool = False) -> tuple[PaperSettings, Issue, Composition, list[str]]:
    """Read and compose the issue without writing anything; return the composition and warnings."""
    check_version()
    progress(f"[1/4] reading {issue_id}: paper settings, manifest, articles")
    settings, issue, articles = load(project, issue_id)
    meta = issue_meta(issue, settings, WEASYPRINT_VERSION)
    sheets = [(project.stylesheets / "newspaper.css").as_uri()]
    allowed = (issue.folder, project.fonts, project.stylesheets)
    warnings: list[str] = []

    def renderer(pages: list[PageView], mode: str, sheet_height: float | None):
        html = issue_html(pages, issue, settings, meta, sheets, mode, sheet_height)
        return render(html, issue.folder, allowed, warnings)

    progress(f"[2/4] composing {len(issue.pages)} pages, {len(articles)} articles")
    composition = compose(issue, settings, articles, renderer, lambda photo, width, height: photo.path.as_uri())
    warnings = sorted(set(warnings))
    if strict and warnings:
        raise RenderError("WeasyPrint reported problems (strict mode)",
                          tuple(Problem("(layout)", "", w, "fix the stylesheet or source") for w in warnings))
    return settings, issue, composition, warnings


def issue_html_for(project: Project, settings: PaperSettings, issue: Issue, pages: list[PageView] | Composition,
                   mode: str = "print") -> str:
    """Return the HTML of composed ``pages`` (print or proof mode), as WeasyPrint lays it out."""
    views = list(pages.pages) if isinstance(pages, Composition) else pages
    return issue_html(views, issue, settings, issue_meta(issue, settings, WEASYPRINT_VERSION),
                      [(project.stylesheets / "newspaper.css").as_uri()], mode)


def compose_issue(project: Project, issue_id: str, progress: Progress = stderr_progress,
                  strict: bool = False) -> BuildResult:
    """Compose ``issue_id`` and write the issue PDF and fit report; fail on overset after writing."""
    started = time.monotonic()
    settings, issue, composition, warnings = fit_issue(project, issue_id, progress, strict)
    out = project.build(issue_id)
    progress(f"[3/4] writing {out.relative_to(project.root) if out.is_relative_to(project.root) else out}")
    pdf = out / f"{issue_id}.pdf"
    write_atomic(pdf, pdf_bytes(composition.document, None, warnings))
    report = out / "fit.json"
    write_atomic(report, fit_json(composition))
    proof = out / f"{issue_id}-proof.pdf"
    marked = proof_pages(composition, settings)
    if any(page.marks for page in marked):
        html = issue_html_for(project, settings, issue, marked, "proof")
        proof_doc = render(html, issue.folder, (issue.folder, project.fonts, project.stylesheets), [])
        write_atomic(proof, pdf_bytes(proof_doc, None, []))
    elif proof.exists():
        proof.unlink()
    progress("[4/4] fit report\n" + fit_table(composition))
    result = BuildResult(issue, composition, pdf, report, tuple(warnings), time.monotonic() - started,
                         (pdf, report))
    if composition.overset:
        raise OversetError(
            f"{len(composition.overset)} article(s) overset: the proof was written to {pdf}, "
            "but these do not fit",
            tuple(Problem(str(issue.manifest.relative_to(project.root)) if issue.manifest.is_relative_to(project.root)
                          else str(issue.manifest), f"page {s.page}: {s.slug}",
                          f"{s.over} line(s) over", "cut the copy, give the slot more depth or columns, "
                          "or jump it to a later page (jump: N)") for s in composition.overset))
    return result
