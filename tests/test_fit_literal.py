"""The composer and its fit advice on literal galleys: ``compose.compose`` driven through its layout
seam by a stand-in typesetter (a fixed number of words a line, top matter of fixed height), so that
the fitting arithmetic and every suggestion are checked in milliseconds, with no WeasyPrint.

test_planning.py holds the same advice to the real typesetter (each suggestion applied as printed
and the issue composed again); this holds it to exact figures."""

from __future__ import annotations

import math
import re

import pytest
from factory import apply_suggestion, body, make_project, write_article, write_manifest

from layout.build import Project, read_sources
from layout.composing.compose import compose
from layout.composing.galley import Galley, GalleyLine
from layout.composing.jobs import PageResult

WORDS_A_LINE = 6
HEAD_LINES = 3
"""Top matter (headline, byline) the stand-in sets: three grid lines, and one more for a standfirst."""


def _typesetter(leading: float):
    """A stand-in for WeasyPrint: each paragraph set ``WORDS_A_LINE`` words a line (a column may
    start at any line), each top matter ``HEAD_LINES`` lines deep, pages given as measured."""

    def lay_out(sheets, pdf):
        results = []
        for views, _variant, _size in sheets:
            heights: dict[str, float] = {}
            galleys: dict[str, Galley] = {}
            for view in views:
                for item in view.slots:
                    if item.blocks:
                        lines, row = [], 0
                        for index, block in enumerate(item.blocks):
                            words = block.text.split()
                            for start in range(0, len(words), WORDS_A_LINE):
                                chunk = words[start:start + WORDS_A_LINE]
                                lines.append(GalleyLine(f"{item.slot_id}-b{item.first_block + index}",
                                                        " ".join(chunk), row, row * leading + 0.8 * leading,
                                                        len(chunk) / WORDS_A_LINE))
                                row += 1
                        galleys[item.slot_id] = Galley(item.slot_id, row, tuple(lines), tuple(range(1, row)),
                                                       width=item.column_width)
                    else:
                        standfirst = leading if item.article.standfirst else 0.0  # a line under the head
                        heights[f"mtop-{item.slot_id}"] = HEAD_LINES * leading + standfirst - 0.5
                        heights[f"topin-{item.slot_id}"] = HEAD_LINES * leading + standfirst - 0.5
                        heights[f"msf-{item.slot_id}"] = standfirst
            results.append(PageResult(heights, b"%PDF-1.4 stand-in" if pdf else None, (), galleys,
                                      {key: b"%PDF-1.4 stand-in" for key in galleys}))
        return results

    return lay_out


def _compose(root):
    sources = read_sources(Project(root), "test-issue")
    settings = sources.settings
    return compose(sources.issue, settings, sources.articles, _typesetter(settings.leading),
                   lambda photo, w, h: ""), settings


def _lines(words_by_paragraph: list[int]) -> int:
    return sum(math.ceil(n / WORDS_A_LINE) for n in words_by_paragraph)


def _paragraph_words(path) -> list[int]:
    text = path.read_text(encoding="utf-8").split("---\n", 2)[2]
    return [len(p.split()) for p in text.split("\n\n") if p.strip()]


@pytest.fixture
def advice(tmp_path):
    """One page: a story over a slot to the foot of the page, one over a slot of fixed depth, one
    short in one, and one that fits."""
    issue = make_project(tmp_path)
    write_article(issue, "long", body(1500, seed=5, paragraph=37), standfirst="A standfirst")  # last lines: 1 word
    write_article(issue, "fixed", body(150, seed=8, paragraph=50))
    write_article(issue, "short", body(60, seed=6, paragraph=30))
    write_article(issue, "fits", body(120, seed=7, paragraph=60))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "long", "columns": 2, "depth": "foot"},
        {"slug": "fixed", "columns": 1, "depth": 20},
        {"slug": "short", "columns": 1, "depth": 30},
        {"slug": "fits", "columns": 1, "depth": 20}]}]})
    return issue


def test_over_and_short_are_the_galleys_rows_against_the_slots_lines(advice):
    composition, settings = _compose(advice.parents[1])
    fits = {s.slot_id: s for s in composition.slots}
    rows = {slug: _lines(_paragraph_words(advice / "articles" / f"{slug}.md"))
            for slug in ("long", "fixed", "short", "fits")}
    body_lines = settings.grid_lines - HEAD_LINES - 1  # to the foot, under the head and standfirst
    assert fits["long"].depth == body_lines and fits["long"].over == rows["long"] - 2 * body_lines > 0
    assert fits["fixed"].available == 20 and fits["fixed"].over == rows["fixed"] - 20 > 0
    assert fits["short"].over == 0 and fits["short"].short == 30 - rows["short"] > 2
    assert fits["fits"].over == 0 and fits["fits"].short == 20 - rows["fits"]
    assert [s.slot_id for s in composition.overset] == ["long", "fixed"]
    assert f"({fits['fixed'].over} lines) over" in fits["fixed"].over_words


def test_every_suggestion_applied_as_printed_does_what_it_claims(advice):
    composition, _ = _compose(advice.parents[1])
    rows = [s for s in composition.slots if s.suggestions]
    assert {s.slot_id for s in rows} == {"long", "fixed", "short"}
    kinds = {x.split()[0] for s in rows for x in s.suggestions}
    assert kinds == {"cut", "cheap", "drop", "depth:", "add"}, kinds
    saved = {p: p.read_bytes() for p in advice.rglob("*") if p.is_file()}
    tried = 0
    for row in rows:
        for suggestion in row.suggestions:
            for path, data in saved.items():
                path.write_bytes(data)
            claim, amount = apply_suggestion(advice, {"slug": row.slug, "slot_id": row.slot_id}, suggestion)
            after, _ = _compose(advice.parents[1])
            fit = next(s for s in after.slots if s.slot_id == row.slot_id)
            before = {s.slot_id: s.over for s in composition.slots}
            assert all(s.over <= before[s.slot_id] for s in after.slots if s.slot_id != row.slot_id), suggestion
            if claim == "fits":
                assert fit.over == 0, (suggestion, fit)
                if amount is not None:
                    assert fit.short == amount, (suggestion, fit)  # exact: the stand-in sets as it measured
            elif claim == "over":
                assert fit.over == amount, (suggestion, fit)
            else:
                left = amount
                assert fit.over == 0 and abs(fit.short - left) <= 1, (suggestion, fit)
            tried += 1
    assert tried >= 5


def test_the_fewest_lines_cut_is_suggested_with_the_words_they_hold(advice):
    composition, _ = _compose(advice.parents[1])
    fixed = next(s for s in composition.slots if s.slot_id == "fixed")
    (cut,) = [x for x in fixed.suggestions if x.startswith("cut about ")]
    words, lines = (int(n) for n in re.match(r"cut about (\d+) words?, (\d+) lines?", cut).groups())
    assert lines == fixed.over  # a column may end at any line: the fewest rows are the overset ones
    last = _paragraph_words(advice / "articles" / "fixed.md")[-1]
    assert words <= lines * WORDS_A_LINE + last  # the words on those rows (the last one may be short)
