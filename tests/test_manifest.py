"""Stage 1: manifest checks. Every problem is reported at once, with file, key path and fix."""

from __future__ import annotations

import pytest
from factory import make_project, write_article, write_manifest

from layout.errors import InputError
from layout.manifest import find_issue, load_issue
from layout.settings import load_settings


def _load(issue):
    settings = load_settings(issue.parent / "paper.yaml")
    return load_issue(issue, settings)


def _problems(issue) -> list[str]:
    with pytest.raises(InputError) as caught:
        _load(issue)
    return [f"{p.key}: {p.message}" for p in caught.value.problems]


def test_good_manifest_reads_pages_and_slots(tmp_path):
    issue = make_project(tmp_path)
    write_article(issue, "a", "Text.\n")
    write_article(issue, "b", "Text.\n")
    write_manifest(issue, {"pages": [{"page": 1, "template": "front", "articles": [
        {"slug": "a", "columns": 3, "depth": 40}, {"slug": "b", "columns": 2, "depth": "105pt"}]}]})
    read = _load(issue)
    assert read.number == 1 and str(read.date) == "2022-04-01"
    (page,) = read.pages
    assert page.template == "front"
    assert [(s.slug, s.columns, s.depth) for s in page.slots] == [("a", 3, 40), ("b", 2, 10)]


def test_every_problem_is_reported_in_one_run(tmp_path):
    issue = make_project(tmp_path)
    write_article(issue, "story", "Text.\n")
    write_manifest(issue, {"date": "not a date", "pages": [
        {"page": 1, "articles": [{"slug": "story", "columns": 9}, {"slug": "storey"}]},
        {"page": 3, "template": "frnt", "articles": [{"slug": "story", "colums": 2}]},
    ]})
    problems = _problems(issue)
    expected = [
        "date: 'not a date' is not a date",
        "page 1, first slot, columns: 9 is out of range",
        'page 1, second slot, slug: no article "storey" (did you mean "story"?)',
        "the second page listed, page: page 3 is listed in position 2",
        "the second page listed, template: unknown template 'frnt' (did you mean \"front\"?)",
        'page 2, first slot, colums: unknown key "colums" (did you mean "columns"?)',
        'page 2, first slot, slug: article "story" is already placed at page 1, first slot',
    ]
    assert sorted(problems) == sorted(expected)


def test_problem_message_names_file_and_fix(tmp_path):
    issue = make_project(tmp_path)
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "../etc/passwd"}]}]})
    with pytest.raises(InputError) as caught:
        _load(issue)
    text = str(caught.value)
    assert "issue.yaml: page 1, first slot, slug: '../etc/passwd' is not a valid article name" in text
    assert "fix: use lower-case letters, digits and hyphens only" in text


@pytest.mark.parametrize(("jump", "message"), [
    (1, "jumps to page 1, which is not after page 1"),
    (5, "page 5 does not exist (the issue has 2)"),
])
def test_bad_jumps(tmp_path, jump, message):
    issue = make_project(tmp_path)
    write_article(issue, "a", "Text.\n")
    write_manifest(issue, {"pages": [
        {"page": 1, "articles": [{"slug": "a", "jump": jump}]},
        {"page": 2, "articles": [{"continued": "a"}]}]})
    problems = _problems(issue)
    assert f"page 1, first slot, jump: {message}" in problems


def test_jump_without_continuation_and_orphan_continuation(tmp_path):
    issue = make_project(tmp_path)
    write_article(issue, "a", "Text.\n")
    write_article(issue, "b", "Text.\n")
    write_manifest(issue, {"pages": [
        {"page": 1, "articles": [{"slug": "a", "jump": 2}, {"slug": "b"}]},
        {"page": 2, "articles": [{"continued": "b"}]}]})
    problems = _problems(issue)
    assert 'page 1, first slot, jump: page 2 has no "continued: a" slot' in problems
    assert 'page 2, first slot, continued: nothing jumps to this continuation of "b"' in problems


def test_unknown_issue_lists_the_ones_that_exist(tmp_path):
    make_project(tmp_path, {"pages": []}, issue_id="issue-2022-04-01")
    with pytest.raises(InputError) as caught:
        find_issue(tmp_path / "issues", "issue-2022-04-02")
    text = str(caught.value)
    assert 'no issue "issue-2022-04-02"' in text and "issues that exist: issue-2022-04-01" in text
