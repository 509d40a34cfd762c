"""Small synthetic issues for tests: a project folder with the real stylesheets and fonts."""

from __future__ import annotations

import copy
import functools
import os
import random
import shutil
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
WORDS = (
    "the union said workers would ballot on strike action after the employer offered a pay rise "
    "well below inflation while energy bills and rents climbed again this winter council tenants "
    "demanded repairs members voted overwhelmingly to reject the offer and called for talks"
).split()


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""libyaml's, where PyYAML has it (a tenth of the pure-Python ones' time; the same documents): the
tests write hundreds of project files."""


def dump_yaml(data: object, **options: object) -> str:
    """``yaml.safe_dump`` of ``data``, with libyaml's emitter where PyYAML has it."""
    return yaml.dump(data, Dumper=_DUMPER, **options)  # type: ignore[call-overload]


def load_yaml(text: str) -> object:
    """``yaml.safe_load`` of ``text``, with libyaml's parser where PyYAML has it."""
    return yaml.load(text, Loader=_LOADER)


THOROUGH = os.environ.get("LAYOUT_TESTS") == "thorough"
"""``LAYOUT_TESTS=thorough``: every compose through worker processes, files synced as a run syncs
them, and four times the examples each property test's own count says (README: Testing)."""


def examples(count: int) -> int:
    """How many examples a property test tries: a third of ``count`` (at least 2) in the default run,
    four times ``count`` with LAYOUT_TESTS=thorough. Hypothesis draws them afresh each run."""
    return count * 4 if THOROUGH else max(2, count // 3)


def process_env(**extra: str) -> dict[str, str]:
    """The environment for ``python -m layout`` started as a user starts it: this checkout's package,
    and the worker processes a user's run has (not the in-process runs of the tests: conftest.py)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if env.get("LAYOUT_WORKERS") == "1":
        del env["LAYOUT_WORKERS"]
    return {**env, **extra}


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
    path.write_text("---\n" + dump_yaml(meta, sort_keys=False, allow_unicode=True) + "---\n" + text,
                    encoding="utf-8")
    return path


def make_project(root: Path, manifest: dict | None = None, issue_id: str = "test-issue",
                 paper: dict | None = None) -> Path:
    """Create a project at ``root`` (paper.yaml, stylesheets, fonts) and an issue folder; return it."""
    (root / "issues").mkdir(parents=True, exist_ok=True)
    if not (root / "stylesheets").exists():
        shutil.copytree(REPO / "stylesheets", root / "stylesheets")
    if not (root / "fonts").exists():
        if THOROUGH:
            shutil.copytree(REPO / "fonts", root / "fonts")
        else:
            _linked_fonts(root / "fonts")
    settings = copy.deepcopy(_repo_paper())
    settings.update(paper or {})
    (root / "issues" / "paper.yaml").write_text(dump_yaml(settings, allow_unicode=True), encoding="utf-8")
    issue = root / "issues" / issue_id
    (issue / "articles").mkdir(parents=True, exist_ok=True)
    if manifest is not None:
        write_manifest(issue, manifest)
    return issue


@functools.cache
def _repo_paper() -> dict:
    """The repository's paper.yaml, read once a process (every project starts from it)."""
    settings = load_yaml((REPO / "issues" / "paper.yaml").read_text(encoding="utf-8"))
    assert isinstance(settings, dict)
    return settings


def copy_project(source: Path, target: Path) -> Path:
    """A copy of a project composed once for many tests (sources, build and caches, times kept), for
    a test that changes it. The cache's keys hold paths relative to the project only: a compose of
    the copy makes again only what its changes touch."""
    source, target = Path(source), Path(target)
    house = not THOROUGH and _FONTS and not (target / "fonts").exists() and _holds_house_fonts(source / "fonts")

    def fonts_aside(folder: str, names: list[str]) -> list[str]:  # the project's own fonts/ only
        return ["fonts"] if house and Path(folder) == source else []

    shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True, copy_function=_copy_or_link,
                    ignore=fonts_aside)
    if house:
        _linked_fonts(target / "fonts")
    return target


# ---- The house fonts, linked ---------------------------------------------------------------------

_FONTS: list[tuple[Path, dict[str, tuple[int, int, int]]]] = []
"""The repository's fonts as copied once this process, and each file's (inode, size, modification
time) then."""


_POOL: list[Path] = []
"""Folders of links to the house fonts made ahead (``_linked_fonts``), for the next projects."""


def _linked_fonts(target: Path) -> None:
    """``target``, a project's ``fonts/``: links to every house font, made ahead in a batch and
    moved into place. A new link to a file changes the file's change time, and a file changed less
    than 0.1 s before layout looks at it is one whose bytes it must read again at every look
    (``files.stamp``: "racy"): linking the fonts for each project as it was made, each compose that
    followed hashed every font again 5-6 times (some 15 MB). Made 64 at a time, the links leave the
    fonts' change time alone for most projects; moving a folder changes nothing of its files."""
    house = _house_fonts()
    if not _POOL:
        spare = Path(tempfile.mkdtemp(prefix="pool-", dir=house.parent))
        for n in range(64):
            shutil.copytree(house, spare / str(n), copy_function=_link)
            _POOL.append(spare / str(n))
    folder = _POOL.pop()
    try:
        os.rename(folder, target)
    except OSError:  # another file system
        shutil.copytree(folder, target, copy_function=_link)


def _holds_house_fonts(fonts: Path) -> bool:
    """Whether a project's ``fonts/`` holds exactly the house fonts, linked (as ``make_project`` made it)."""
    try:
        found = {path.name: _state(path)[0] for path in fonts.iterdir()}
    except OSError:
        return False
    return found == {name: state[0] for name, state in _FONTS[0][1].items()}


def _house_fonts() -> Path:
    """A copy of the repository's fonts made once a process, whose files every project's ``fonts/``
    links to (hard links): the same bytes, without writing 3 MB for each of some 600 projects. A test
    must never write into a font of a project's (replace it: ``replace_file``); conftest fails a
    test that did (``changed_house_fonts``), and the next project gets a fresh copy."""
    if not _FONTS:
        import atexit

        _POOL.clear()  # links to the copy before (changed by a test), if any
        folder = Path(tempfile.mkdtemp(prefix="layout-test-fonts-")) / "fonts"
        shutil.copytree(REPO / "fonts", folder)
        atexit.register(shutil.rmtree, folder.parent, True)
        _FONTS.append((folder, {p.name: _state(p) for p in folder.iterdir()}))
    return _FONTS[0][0]


def _state(path: Path) -> tuple[int, int, int]:
    found = path.stat()
    return found.st_ino, found.st_size, found.st_mtime_ns


def changed_house_fonts() -> list[str]:
    """The house fonts' files written into since they were copied (by a test that wrote into a
    project's font instead of replacing it); after this, projects get a fresh copy."""
    if not _FONTS:
        return []
    folder, states = _FONTS[0]
    changed = [name for name, state in states.items() if _state(folder / name) != state]
    if changed:
        _FONTS.clear()
    return changed


def _link(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copy2(source, target)


def _copy_or_link(source: str, target: str) -> None:
    """A project's file copied, or linked if it is one of the house fonts' (``_house_fonts``)."""
    if _FONTS and Path(source).parent.name == "fonts":
        name = Path(source).name
        state = _FONTS[0][1].get(name)
        if state is not None and _state(Path(source))[0] == state[0]:
            _link(source, target)
            return
    shutil.copy2(source, target)


def replace_file(source: Path, target: Path) -> None:
    """``target`` replaced by a copy of ``source`` (a new file: never written into, since a project's
    font may be a link to the house fonts shared by every project)."""
    part = target.with_name(f".{target.name}.part")
    shutil.copyfile(source, part)
    os.replace(part, target)


def add_photo(issue: Path, name: str = "docks.jpg") -> str:
    """Copy a photo of the sample issue into ``issue/images``; return its path as articles give it."""
    (issue / "images").mkdir(exist_ok=True)
    shutil.copy(REPO / "issues" / "issue-2022-04-01" / "images" / name, issue / "images" / name)
    return f"images/{name}"


def write_manifest(issue: Path, manifest: dict) -> None:
    """Write ``issue.yaml``."""
    data = {"date": "2022-04-01", "number": 1, **manifest}
    (issue / "issue.yaml").write_text(dump_yaml(data, sort_keys=False), encoding="utf-8")


TWO_STORIES = {"pages": [{"page": 1, "articles": [{"slug": "story", "columns": 3}, {"slug": "other", "columns": 2}]}]}
"""A page of two stories side by side: ``story`` 3 columns wide, ``other`` 2."""


def two_story_issue(root: Path, words: tuple[int, int] = (140, 120),
                    headlines: tuple[str, str] = ("A story", "Another story")) -> Path:
    """A one-page issue of two stories (``TWO_STORIES``) of ``words`` words each, which fit."""
    issue = make_project(root)
    write_article(issue, "story", body(words[0], seed=1), headline=headlines[0])
    write_article(issue, "other", body(words[1], seed=2), headline=headlines[1])
    write_manifest(issue, TWO_STORIES)
    return issue


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
    from layout.build import Project, fit_issue, issue_html_for
    from layout.rendering.engine import render
    from layout.run import readable

    session, composition = fit_issue(Project(root), issue_id)  # workers stopped
    allowed = tuple(Path(folder) for folder in readable(session.project, session.issue.folder, issue_id))
    return render(issue_html_for(session, composition), session.issue.folder, allowed, [],
                  session.images).write_pdf()


# ---- Applying the fit report's suggestions as an editor would -------------------------------------

_WORD = __import__("re").compile(r"(?<!\S)(?!(?:#+|>|[-*+]|\d+\.)(?:\s|$))\S+")
"""A word of Markdown body text (a crosshead's ``##``, a quote's ``>`` or a list's bullet is not one)."""


def _split_article(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    _, front, body_text = text.split("---\n", 2)
    return load_yaml(front), body_text  # type: ignore[return-value]


def _write_article_parts(path: Path, front: dict, body_text: str) -> None:
    path.write_text("---\n" + dump_yaml(front, sort_keys=False, allow_unicode=True) + "---\n" + body_text,
                    encoding="utf-8")


def cut_last_words(path: Path, count: int) -> None:
    """Cut the story's last ``count`` words (what 'cut about N words' asks)."""
    front, text = _split_article(path)
    words = list(_WORD.finditer(text))
    assert len(words) > count, f"{path.name} has only {len(words)} words"
    keep = text[:words[-count].start()].rstrip()
    _write_article_parts(path, front, keep.rstrip("#> \n") + "\n")


def cut_paragraph_end(path: Path, last_line: str, count: int) -> None:
    """Cut the last ``count`` words of the paragraph whose last printed line is ``last_line``."""
    front, text = _split_article(path)
    paragraphs = text.split("\n\n")
    squash = __import__("re").compile(r"[^0-9a-z]")
    target = squash.sub("", last_line.lower())
    index = next(i for i, p in enumerate(paragraphs) if squash.sub("", p.lower()).endswith(target))
    words = list(_WORD.finditer(paragraphs[index]))
    paragraphs[index] = paragraphs[index][:words[-count].start()].rstrip()
    _write_article_parts(path, front, "\n\n".join(paragraphs))


def add_words(path: Path, count: int) -> None:
    """Add ``count`` words of copy like the story's own (its words, in order, from its start) at its
    end, as a paragraph of its own."""
    front, text = _split_article(path)
    own = [w.strip("*_") for w in (m[0] for m in _WORD.finditer(text)) if w.strip("*_")]
    words = [own[i % len(own)] for i in range(count)]
    _write_article_parts(path, front, text.rstrip() + "\n\n" + " ".join(words).rstrip(".,;:") + ".\n")


def set_slot_key(issue: Path, slot_id: str, key: str, value: object) -> None:
    """Set ``key`` of the manifest slot ``slot_id`` (``cont-<slug>`` for a continuation)."""
    manifest = issue / "issue.yaml"
    data = load_yaml(manifest.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    for page in data["pages"]:
        for slot in page.get("articles") or []:
            name = f"cont-{slot['continued']}" if "continued" in slot else slot.get("slug")
            if name == slot_id:
                slot[key] = value
                manifest.write_text(dump_yaml(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
                return
    raise KeyError(slot_id)


def apply_suggestion(issue: Path, slot: dict, suggestion: str) -> tuple[str, int | None]:
    """Make the change ``suggestion`` (one line of the fit report for ``slot``, a fit.json row)
    describes, as printed; return what it claims: ("fits", None), ("over", N) or ("short", N)."""
    import re

    slug = slot["slug"]
    article = issue / "articles" / f"{slug}.md"
    if m := re.match(r"cut about (\d+) words?, \d+ lines?", suggestion):
        cut_last_words(article, int(m[1]))
    elif m := re.match(r"cheap cut: the paragraph whose last line is “(.+?)” \(after “…(.*?)”\): cut its last "
                       r"(\d+) words?", suggestion):
        cut_paragraph_end(article, m[2] + m[1], int(m[3]))
    elif suggestion.startswith("drop the standfirst"):
        front, text = _split_article(article)
        front.pop("standfirst")
        _write_article_parts(article, front, text)
    elif m := re.match(r"depth: (\d+) ", suggestion):
        set_slot_key(issue, slot["slot_id"], "depth", int(m[1]))
    elif m := re.match(r"add about (\d+) words?", suggestion):
        add_words(article, int(m[1]))
    else:
        raise AssertionError(f"a suggestion the test cannot apply: {suggestion!r}")
    claim = suggestion.rsplit(": ", 1)[1]
    if claim.startswith("then it fits"):
        return "fits", int(m[1]) if (m := re.search(r"about (\d+) lines short", claim)) else None
    if m := re.match(r"then (\d+) over", claim):
        return "over", int(m[1])
    if m := re.match(r"then about (\d+) lines short", claim):
        return "short", int(m[1])
    raise AssertionError(f"no effect claimed: {suggestion!r}")
