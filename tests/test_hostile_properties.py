"""Property-based tests over hostile copy: Markdown bodies, front matter and manifests built from
words and every kind of markup, entity, odd character and YAML type. The invariant: layout either
accepts the input and prints every word of it, in order, or refuses it with an InputError (exit 2)
that names the file; it never fails otherwise (no traceback, no exit 70) and never hangs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from factory import body, examples, two_story_issue, write_article, write_manifest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pdftext import letters
from typer.testing import CliRunner

from layout.cli import app
from layout.errors import InputError
from layout.reading.articles import load_article
from layout.reading.manifest import load_issue
from layout.reading.settings import load_settings

VOCABULARY = ("zorba", "quill", "mauve", "kestrel", "fjord", "yodel", "vortex", "jumbo", "pixel", "glyph")
"""Words found nowhere else on a test page, and not HTML entity names."""
DECORATIONS = (
    "*", "**", "_", "__", "`", "[", "]", "(", ")", "](http://example.com/x)", "<", ">", "&", "&nbsp;", "&eacute;",
    "&#233;", "&amp;", "&bogus;", "#", "# ", "## ", "> ", "- ", "* ", "1. ", "---", "***", "===", "\\", "!", "'", '"',
    "--", "...", "\t", "    ", "\u00a0", "\u2009", "\u200b", "\u00e9", "e\u0301", "<http://example.org/a>",
    "<a@example.org>", "[ref]: http://example.net/", "  \n", "\n", "\n\n", ":", "{", "}", "|", "~", "^", "%", "@",
)
"""Markup and odd characters layout must print (or read as markup) without losing a word."""
REFUSED = ("<br>", "</p>", "<!--", "&#0;", "&#x202E;", "\u202e", "\u2066", "\x0b", "\x1b", "\x92", "\U0001f600",
           "\u0645", "\u6f22", "\ue000", "![x](images/p.jpg)", "x" * 101)
"""Input that must always be refused with an error naming the file and line."""
SEPARATORS = (" ", " ", " ", "\n", "\n\n", "\t", "  ")

token = st.one_of(st.sampled_from(VOCABULARY), st.sampled_from(DECORATIONS))
bodies = st.lists(st.tuples(token, st.sampled_from(SEPARATORS)), min_size=1, max_size=40).map(
    lambda pairs: "".join(t + s for t, s in pairs))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**40, 10**40), st.floats(allow_nan=True),
                    st.lists(st.sampled_from(list("ab :-#&*!|>'\"%@`[]{},\n\t\\") + list(DECORATIONS + VOCABULARY)),
                             max_size=8).map("".join),
                    st.sampled_from(VOCABULARY))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(("a", "file", "caption", "slug", "page")), inner, max_size=3),
                      max_leaves=8)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    two_story_issue(root, (40, 60))
    return root


def _words(text: str) -> list[str]:
    """The vocabulary words of ``text``, in order (words glued to others by markup count too)."""
    return re.findall("|".join(VOCABULARY), letters(text))


def _in_order(words: list[str], text: str) -> bool:
    flat, at = letters(text), 0
    for word in words:
        at = flat.find(word, at)
        if at < 0:
            return False
        at += len(word)
    return True


def _load(root: Path, text: str):
    (root / "issues" / "test-issue" / "articles" / "story.md").write_text(text, encoding="utf-8")
    try:
        return load_article(root / "issues" / "test-issue", "story")
    except InputError as error:
        message = str(error)
        assert "story.md" in message and len(message) < 6000, message[:500]
        return None


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=bodies)
def test_any_markdown_body_is_printed_word_for_word_or_refused(project, text):
    article = _load(project, "---\nheadline: A story\n---\n" + text)
    if article is not None:
        printed = " ".join(b.text for b in article.blocks)
        assert _in_order(_words(_strip_targets(text)), printed), (text, printed)
        assert all("<a " not in b.html and "<img" not in b.html and "<code" not in b.html and "<pre" not in b.html
                   for b in article.blocks)


def _strip_targets(text: str) -> str:
    from layout.reading.articles import unlink
    return unlink(text)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=bodies, bad=st.sampled_from(REFUSED), where=st.floats(0, 1))
def test_a_body_with_anything_refusable_is_refused_naming_its_line(project, text, bad, where):
    at = int(len(text) * where)
    text = text[:at] + " " + bad + " " + text[at:]
    line = 4 + text[:at].count("\n")
    (project / "issues" / "test-issue" / "articles" / "story.md").write_text(
        "---\nheadline: A story\n---\n" + text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_article(project / "issues" / "test-issue", "story")
    assert f"story.md: line {line}" in str(caught.value), (text, str(caught.value))


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(("headline", "kicker", "standfirst", "byline", "section", "kind", "jumphead", "sample",
                            "images", "junk")), value=values)
def test_any_front_matter_value_is_accepted_or_refused(project, key, value):
    front = {"headline": "A story", key: value}
    text = "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\nText of the story.\n"
    article = _load(project, text)
    if article is not None and key == "headline" and isinstance(value, str):
        assert _in_order(_words(value), article.headline)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(front=st.lists(st.sampled_from(list("ab :-#&*!|>'\"%@`[]{},\n\t\\?") + ["headline", "images", "  ", "- "]),
                      max_size=40).map("".join))
def test_any_front_matter_text_is_read_or_refused_with_a_line(project, front):
    _load(project, "---\n" + front + "\n---\nText of the story.\n")


@settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(top=st.fixed_dictionaries({"date": st.one_of(st.just("2022-04-01"), values), "number": st.one_of(
    st.just(1), values)}, optional={"volume": values, "junk": values}),
    pages=st.one_of(values, st.lists(st.fixed_dictionaries({"page": st.one_of(st.integers(0, 3), values)}, optional={
        "template": st.one_of(st.sampled_from(("front", "inside", "back")), values),
        "articles": st.one_of(values, st.lists(st.one_of(st.sampled_from(("story", "other")), st.fixed_dictionaries(
            {}, optional={"slug": st.one_of(st.sampled_from(("story", "other", "cont-story")), values),
                          "continued": st.one_of(st.sampled_from(("story", "other")), values),
                          "columns": st.one_of(st.integers(-1, 7), values), "depth": values,
                          "jump": st.one_of(st.integers(0, 3), values)})), max_size=3))}), max_size=3)))
def test_any_manifest_is_read_or_refused(project, top, pages):
    issue = project / "issues" / "test-issue"
    path = issue / "issue.yaml"
    before = path.read_text()
    try:
        path.write_text(yaml.safe_dump({**top, "pages": pages}, allow_unicode=True))
        settings_ = load_settings(project / "issues" / "paper.yaml")
        try:
            load_issue(issue, settings_)
        except InputError as error:
            assert "issue.yaml" in str(error) and len(str(error)) < 8000
            assert not re.search(r"Input should|Field required|Extra inputs|cannot be read here", str(error)), \
                str(error)  # pydantic's English, or an error the input models do not word
    finally:
        path.write_text(before)


PAPER_KEYS = ("title", "columns", "trim", "trim.width", "margins", "margins.top", "gutter", "body", "body.size",
              "body.leading", "crop_marks", "pdfx", "ink_limit", "min_image_ppi", "photo_shadow", "min_type_size",
              "sample_imprint", "issn", "tracking", "glyph_scaling", "line_breaking", "volume", "junk", "size")


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(st.sampled_from(PAPER_KEYS), values, max_size=4))
def test_any_paper_settings_are_read_or_refused_in_plain_words(project, changes):
    path = project / "issues" / "paper.yaml"
    before = path.read_text()
    paper = yaml.safe_load(before)
    for key, value in changes.items():
        group, _, name = key.partition(".")
        if name:
            paper[group] = {**(paper.get(group) if isinstance(paper.get(group), dict) else {}), name: value}
        else:
            paper[key] = value
    try:
        path.write_text(yaml.safe_dump(paper, allow_unicode=True))
        try:
            load_settings(path)
        except InputError as error:
            assert "paper.yaml" in str(error) and len(str(error)) < 8000
            assert all(p.key and p.fix for p in error.problems if "belongs in the group" not in p.message), str(error)
            assert not re.search(r"Input should|Field required|Extra inputs|cannot be read here", str(error)), \
                str(error)
    finally:
        path.write_text(before)


@settings(max_examples=examples(6), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=bodies)
@example(text="zorba\n\nzorba zorba zorba mauve mauve ")  # a 3-line slot: pdftotext's reading order mixed its columns
def test_a_compose_of_any_body_exits_0_2_or_3_and_prints_every_word(project, text):
    """End to end, a few examples: the words reach the PDF, or the run fails cleanly. The text is read
    in the order the plate draws it (``pdftotext -raw``: the galley's rows, column after column), not
    pdftotext's guess at reading order, which mixes short columns with the story beside them."""
    (project / "issues" / "test-issue" / "articles" / "story.md").write_text(
        "---\nheadline: A story\n---\n" + text + "\n\n" + body(20, seed=4), encoding="utf-8")
    result = CliRunner().invoke(app, ["compose", "test-issue", "--root", str(project)], catch_exceptions=False)
    assert result.exit_code in (0, 2, 3), result.stderr
    assert "Traceback" not in result.stdout + result.stderr and "internal error" not in result.stderr
    if result.exit_code == 0:
        pdf = project / "build" / "test-issue" / "test-issue.pdf"
        printed = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                                 text=True, check=True).stdout
        assert _in_order(_words(_strip_targets(text)), printed), (text, printed)
    elif result.exit_code == 2:
        assert "story.md" in result.stderr


def _compose(root: Path):
    result = CliRunner().invoke(app, ["compose", "test-issue", "--root", str(root)], catch_exceptions=False)
    assert result.exit_code in (0, 2, 3), result.stderr
    assert "Traceback" not in result.stdout + result.stderr and "internal error" not in result.stderr
    return result


def _printed(root: Path) -> str:
    pdf = root / "build" / "test-issue" / "test-issue.pdf"
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


@settings(max_examples=examples(4), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(headline=st.lists(st.tuples(token, st.just(" ")), min_size=1, max_size=6).map(
    lambda pairs: "".join(t + s for t, s in pairs)), caption=values)
def test_a_compose_of_any_front_matter_exits_0_2_or_3_and_prints_the_headline(project, headline, caption):
    front = {"headline": headline.strip() or "x", "standfirst": caption}
    (project / "issues" / "test-issue" / "articles" / "story.md").write_text(
        "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n" + body(30, seed=6), encoding="utf-8")
    result = _compose(project)
    if result.exit_code == 0:
        assert _in_order(_words(_strip_targets(headline)), _printed(project))
    elif result.exit_code == 2:
        assert "story.md" in result.stderr


@settings(max_examples=examples(4), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(columns=st.one_of(st.integers(-1, 7), values), depth=st.one_of(st.integers(-5, 200), st.sampled_from(
    ("foot", "120mm", "3in", "0mm", "lots")), values), template=st.one_of(st.sampled_from(("front", "inside", "back")),
                                                                          values))
def test_a_compose_of_any_slot_exits_0_2_or_3(project, columns, depth, template):
    issue = project / "issues" / "test-issue"
    write_article(issue, "story", body(60, seed=7), headline="Zorba quill")
    before = (issue / "issue.yaml").read_text()
    try:
        write_manifest(issue, {"pages": [{"page": 1, "template": template, "articles": [
            {"slug": "story", "columns": columns, "depth": depth}, {"slug": "other", "columns": 2}]}]})
        result = _compose(project)
        if result.exit_code == 0:
            assert _in_order(["zorba", "quill"] + _words(body(60, seed=7)), _printed(project))
        elif result.exit_code == 2:
            assert "issue.yaml" in result.stderr
    finally:
        (issue / "issue.yaml").write_text(before)
