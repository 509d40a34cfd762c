"""Small synthetic issues for tests: a project folder with the real stylesheets and fonts."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
WORDS = (
    "the union said workers would ballot on strike action after the employer offered a pay rise "
    "well below inflation while energy bills and rents climbed again this winter council tenants "
    "demanded repairs members voted overwhelmingly to reject the offer and called for talks"
).split()


def sentence(rng: random.Random, n: int) -> str:
    """Return a sentence of ``n`` plausible words."""
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def body(words: int, seed: int = 0, paragraph: int = 45) -> str:
    """Return Markdown body text of about ``words`` words in paragraphs of about ``paragraph`` words."""
    rng = random.Random(seed)
    paragraphs, count = [], 0
    while count < words:
        n = min(paragraph, words - count)
        parts, left = [], n
        while left > 0:
            k = min(left, rng.randint(8, 18))
            parts.append(sentence(rng, k))
            left -= k
        paragraphs.append(" ".join(parts))
        count += n
    return "\n\n".join(paragraphs) + "\n"


def write_article(issue: Path, slug: str, text: str, headline: str | None = None, **front: object) -> Path:
    """Write ``articles/<slug>.md`` with front matter and ``text``."""
    meta = {"headline": headline or slug.replace("-", " ").capitalize(), **front}
    path = issue / "articles" / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n" + text,
                    encoding="utf-8")
    return path


def make_project(root: Path, manifest: dict | None = None, issue_id: str = "test-issue",
                 paper: dict | None = None) -> Path:
    """Create a project at ``root`` (paper.yaml, stylesheets, fonts) and an issue folder; return it."""
    (root / "issues").mkdir(parents=True, exist_ok=True)
    for name in ("stylesheets", "fonts"):
        if not (root / name).exists():
            shutil.copytree(REPO / name, root / name)
    settings = yaml.safe_load((REPO / "issues" / "paper.yaml").read_text(encoding="utf-8"))
    settings.update(paper or {})
    (root / "issues" / "paper.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    issue = root / "issues" / issue_id
    (issue / "articles").mkdir(parents=True, exist_ok=True)
    if manifest is not None:
        write_manifest(issue, manifest)
    return issue


def add_photo(issue: Path, name: str = "docks.jpg") -> str:
    """Copy a photo of the sample issue into ``issue/images``; return its path as articles give it."""
    (issue / "images").mkdir(exist_ok=True)
    shutil.copy(REPO / "issues" / "issue-2022-04-01" / "images" / name, issue / "images" / name)
    return f"images/{name}"


def write_manifest(issue: Path, manifest: dict) -> None:
    """Write ``issue.yaml``."""
    data = {"date": "2022-04-01", "number": 1, **manifest}
    (issue / "issue.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def simple_issue(root: Path, words: dict[str, int], columns: dict[str, int] | None = None,
                 depth: dict[str, int] | None = None) -> Path:
    """A one-page (inside template) issue with one slot per entry of ``words``."""
    columns, depth = columns or {}, depth or {}
    issue = make_project(root)
    slots = []
    for i, (slug, count) in enumerate(words.items()):
        write_article(issue, slug, body(count, seed=i))
        slot: dict = {"slug": slug, "columns": columns.get(slug, 5)}
        if slug in depth:
            slot["depth"] = depth[slug]
        slots.append(slot)
    write_manifest(issue, {"pages": [{"page": 1, "articles": slots}]})
    return issue


def one_pass_pdf(root: Path, issue_id: str = "test-issue") -> bytes:
    """The composed issue rendered the naive way: WeasyPrint's own multi-column layout of the final
    HTML (every body in its frame), to hold the galleys' plates against."""
    from layout.build import Project, _readable, fit_issue, issue_html_for
    from layout.render import render

    session, composition = fit_issue(Project(root), issue_id, progress=lambda m: None)  # workers stopped
    allowed = tuple(Path(folder) for folder in _readable(session.project, session.issue.folder, issue_id))
    return render(issue_html_for(session, composition), session.issue.folder, allowed, [],
                  session.images).write_pdf()
