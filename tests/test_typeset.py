"""The paragraph breaker in the pipeline: the plates' lines are the breaker's lines, every word is in
order, the typographic figures of a small issue meet issue 15's goals, and ``fit: loose`` gains the
lines it promises."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pdftext import chars as read_chars

from layout.build import Project, compose_issue
from layout.composing import linebreak as lb
from layout.composing import typo
from tests.factory import REPO, body, make_project, write_article, write_manifest

ITALIC = ("The *Morning Star* reported that **branch secretaries** across the region had voted to "
          "ballot their members on strike action after the employer refused to reopen talks.\n\n")
TOTAL_FIT = {"line_breaking": "total-fit", "tracking": "2%", "glyph_scaling": "2%"}
"""The paper settings these tests compose with (the benchmark's): the breaker is opt-in (greedy is the default)."""
SAMPLE = REPO / "issues" / "issue-2022-04-01" / "articles"


def sample_body(slug: str) -> str:
    """The body of one of the sample issue's articles (real copy: the factory's word salad has few
    hyphenation points, which no breaker can set well at 48 mm)."""
    return SAMPLE.joinpath(f"{slug}.md").read_text(encoding="utf-8").split("---\n", 2)[2]


@pytest.fixture(scope="module")
def issue(tmp_path_factory):
    root = tmp_path_factory.mktemp("typeset")
    folder = make_project(root, paper=TOTAL_FIT)
    write_article(folder, "lead", ITALIC + sample_body("book-review-the-ragged-trousered"), headline="Lead story")
    write_article(folder, "second", sample_body("letters"), headline="Second story")
    write_article(folder, "third", sample_body("china-shanghai"), headline="Third story")
    write_manifest(folder, {"pages": [{"page": 1, "articles": [
        {"slug": "lead", "columns": 3}, {"slug": "second", "columns": 2}, {"slug": "third", "columns": 3}]}]})
    result = compose_issue(Project(root), "test-issue")
    assert not result.composition.overset
    return root, result


def _pdf_lines(pdf: bytes) -> list[str]:
    """The body lines of the plates, column by column, as pdfplumber reads them."""
    out = []
    for page in read_chars(pdf):  # pdfplumber's characters, read once for the same bytes
        chars = [c for c in page if "NW-Text" in c["fontname"] and abs(c["size"] - 9) < 0.05]
        columns: dict[int, list[dict]] = {}
        for c in chars:
            columns.setdefault(round((c["x0"] - 34.0) // 147.4), []).append(c)
        for column in sorted(columns):
            rows: dict[float, list[dict]] = {}
            for c in columns[column]:
                rows.setdefault(round(c["top"], 1), []).append(c)
            for _, row in sorted(rows.items()):
                row.sort(key=lambda c: c["x0"])
                text = row[0]["text"]
                for a, b in zip(row, row[1:]):
                    text += (" " if b["x0"] - a["x1"] > 0.7 and b["text"] != " " and a["text"] != " " else "") \
                        + b["text"]
                out.append(re.sub(r"\s+", " ", text).strip())
    return out


def joined(record: dict) -> list[str]:
    """A paragraph's words from its set lines: a hyphen the breaker inserted goes, a word broken
    after its own hyphen (city-/wide) is joined again."""
    text = ""
    for line, inserted in zip(record["text"], record["hyphens"]):
        text += line[:-1] if inserted else line if line.endswith("-") else line + " "
    return text.split()


def test_the_plates_set_exactly_the_breakers_lines(issue):
    root, result = issue
    galleys = result.composition.galleys
    chosen = []
    for key in ("lead", "second", "third"):
        galley = galleys[key][0]
        records = dict(galley.paragraphs)
        assert records, key
        set_lines = [x for x in galley.lines if x.block_id in records]
        assert sum(r["lines"] for r in records.values()) == len(set_lines)  # WeasyPrint broke nowhere else
        for line in set_lines:  # the galley's own line boxes hold the breaker's text, line for line
            k = [x for x in galley.lines if x.block_id == line.block_id].index(line)
            assert line.text == records[line.block_id]["text"][k]
        chosen += [t for r in records.values() for t in r["text"]]
    plates = _pdf_lines((root / "build" / "test-issue" / "test-issue.pdf").read_bytes())
    assert chosen and set(chosen) <= set(plates)  # crossheads and pull quotes are set by WeasyPrint itself
    assert sum(1 for line in plates if line in set(chosen)) >= len(chosen)


def test_every_word_is_on_the_plates_in_order_and_markup_survives(issue):
    root, result = issue
    pdf = (root / "build" / "test-issue" / "test-issue.pdf").read_bytes()
    for key in ("lead", "second", "third"):
        galley = result.composition.galleys[key][0]
        article = next(item.article for item in result.composition.pages[0].slots if item.slot_id == key)
        for block_id, record in galley.paragraphs:
            # every word, in order; a hyphen only where a word was broken
            assert joined(record) == article.blocks[int(block_id.rsplit("-b", 1)[1])].text.split(), block_id
    fonts = {c["fontname"].split("+")[-1] for c in read_chars(pdf)[0] if c["text"] in "MorningStar"}
    assert any("Italic" in f for f in fonts) and any("Bold" in f for f in fonts)


def test_the_figures_of_a_small_issue_meet_the_goals(issue):
    root, result = issue
    pdf = root / "build" / "test-issue" / "test-issue.pdf"
    natural = typo.natural_space(REPO / "fonts" / "PTF55F.ttf", 9.0)
    figures = typo.figures(typo.read_lines(pdf), natural, 10.5)
    assert figures.justified > 120
    assert figures.loose_share <= 0.15, figures.worst
    assert figures.median <= 1.45
    assert figures.rivers <= 10
    assert figures.past_edge == 0
    assert figures.ladders == 0
    # the breaker's own account (fit.json) tells the same story as the PDF
    fit = json.loads((root / "build" / "test-issue" / "fit.json").read_text())
    blocks = [s["typography"] for s in fit["slots"] if s["typography"]]
    assert sum(b["justified"] for b in blocks) == pytest.approx(figures.justified, abs=3)
    breaker = typo.figures(typo.composed_lines(result.composition, 10.5), natural, 10.5)
    assert breaker.median == pytest.approx(figures.median, abs=0.05)
    assert abs(breaker.loose_share - figures.loose_share) <= 0.03


def test_the_breakers_figures_are_worked_out_once_a_composition(issue):
    """The fit report asks for its slots' figures twice and the proofs for its lines: worked out once, for
    that composition only (another, even an equal copy, is worked out afresh)."""
    import dataclasses

    _, result = issue
    composition = result.composition
    lines = typo.composed_lines(composition, 10.5)
    assert typo.composed_lines(composition, 10.5) is lines
    figures = typo.slot_typography(composition)
    assert typo.slot_typography(composition) is figures and set(figures) == {"lead", "second", "third"}
    copy = dataclasses.replace(composition)
    again = typo.composed_lines(copy, 10.5)
    assert again is not lines and again == lines
    assert typo.composed_lines(composition, 10.5) is not lines  # one composition kept at a time
    assert typo.slot_typography(copy) == figures


def test_fit_loose_gains_the_lines_it_promises_and_a_hole_is_loosened_by_itself(tmp_path):
    folder = make_project(tmp_path, paper=TOTAL_FIT)
    write_article(folder, "short", sample_body("dockers-solidarity"), headline="Short of its depth")
    manifest = {"pages": [{"page": 1, "articles": [{"slug": "short", "columns": 3, "depth": 28}]}]}
    write_manifest(folder, manifest)
    plain = compose_issue(Project(tmp_path), "test-issue")
    before = plain.composition.slots[0]
    block = json.loads((tmp_path / "build" / "test-issue" / "fit.json").read_text())["slots"][0]["typography"]
    offered = block["longer"]
    assert 0 < before.short <= 2 and offered and not block["loosened"]  # short, but no hole: left alone
    manifest["pages"][0]["articles"][0]["fit"] = "loose"
    write_manifest(folder, manifest)
    loose = compose_issue(Project(tmp_path), "test-issue")
    after = loose.composition.slots[0]
    block = json.loads((tmp_path / "build" / "test-issue" / "fit.json").read_text())["slots"][0]["typography"]
    promised = min(before.short, len(offered))
    assert len(block["loosened"]) == promised
    assert after.used == before.used + promised  # each paragraph set a line longer: one more line
    assert after.short == before.short - promised
    blocks = loose.composition.pages[0].slots[0].article.blocks
    for block_id, record in loose.composition.galleys["short"][0].paragraphs:
        assert joined(record) == blocks[int(block_id.rsplit("-b", 1)[1])].text.split()  # no word changes
    # two lines deeper it has a hole (more than 2 lines short): total-fit loosens it by itself, by what
    # makes it no hole, as far as paragraphs can go a line longer with at most one more line wider than 2x
    records = dict(plain.composition.galleys["short"][0].paragraphs)
    eligible = [key for key, record in records.items() if record["longer"] and record["longer_loose"] <= 1]
    assert 0 < len(eligible) < len(offered)  # some longer settings would spoil the spacing: not taken
    del manifest["pages"][0]["articles"][0]["fit"]
    manifest["pages"][0]["articles"][0]["depth"] = 30
    write_manifest(folder, manifest)
    deeper = compose_issue(Project(tmp_path), "test-issue").composition.slots[0]
    block = json.loads((tmp_path / "build" / "test-issue" / "fit.json").read_text())["slots"][0]["typography"]
    hole = deeper.available - before.used
    assert hole > 2
    assert len(block["loosened"]) == min(hole - 2, len(eligible)) > 0
    assert set(block["loosened"]) <= set(eligible)
    assert deeper.used == before.used + len(block["loosened"])


def test_fit_must_be_loose(tmp_path, run_cli):
    folder = make_project(tmp_path, paper=TOTAL_FIT)
    write_article(folder, "story", body(100, seed=1))
    write_manifest(folder, {"pages": [{"page": 1, "articles": [{"slug": "story", "fit": "tight"}]}]})
    code, out, err = run_cli("fit", "test-issue", root=tmp_path)
    assert code == 2
    assert "unknown fit 'tight'" in out + err and "fit: loose" in out + err


@pytest.mark.parametrize(("key", "value", "said"), [
    ("tracking", "5%", ("tracking", "tracking: 2%")),
    ("glyph_scaling", "4%", ("glyph_scaling: '4%' is not a percentage from 0 to 3", "glyph_scaling: 2%")),
])
def test_tracking_and_glyph_scaling_are_percentages_up_to_three(tmp_path, run_cli, key, value, said):
    folder = make_project(tmp_path, paper={**TOTAL_FIT, key: value})
    write_article(folder, "story", body(100, seed=1))
    write_manifest(folder, {"pages": [{"page": 1, "articles": [{"slug": "story"}]}]})
    code, out, err = run_cli("fit", "test-issue", root=tmp_path)
    assert code == 2
    assert all(text in out + err for text in said)


def test_greedy_breaking_is_the_default_and_leaves_the_html_to_weasyprint(tmp_path):
    """Without ``line_breaking: total-fit`` nothing is marked for the breaker: WeasyPrint breaks the
    lines (main's output), and the fit report has no typography figures. WeasyPrint does not
    hyphenate an address either (``REAL_COPY``: it did, "organ-iser.branch...")."""
    folder = make_project(tmp_path)
    write_article(folder, "story", sample_body("letters") + "\n\n" + REAL_COPY, headline="A story")
    write_manifest(folder, {"pages": [{"page": 1, "articles": [{"slug": "story", "columns": 3}]}]})
    result = compose_issue(Project(tmp_path), "test-issue")
    galleys = result.composition.galleys
    assert galleys and all(not galley.paragraphs for galley, _ in galleys.values())
    fit = json.loads((tmp_path / "build" / "test-issue" / "fit.json").read_text())
    assert all("typography" not in slot for slot in fit["slots"])
    pdf = (tmp_path / "build" / "test-issue" / "test-issue.pdf").read_bytes()
    text = "".join(_pdf_lines(pdf)).replace(" ", "")
    assert ADDRESS in text and "organiser.branch.secretary@example-union.org.uk" in text
    assert re.search("-?".join(LONG_WORD), text)  # the copy around them is there, hyphenated or not


def test_fit_loose_needs_total_fit(tmp_path, run_cli):
    folder = make_project(tmp_path)
    write_article(folder, "story", body(100, seed=1))
    write_manifest(folder, {"pages": [{"page": 1, "articles": [{"slug": "story", "fit": "loose"}]}]})
    code, out, err = run_cli("fit", "test-issue", root=tmp_path)
    assert code == 2
    assert "issue.yaml" in out + err and "first slot, fit" in out + err and "needs the paragraph breaker" in out + err
    assert "line_breaking: total-fit" in out + err


def test_line_breaking_must_be_greedy_or_total_fit(tmp_path, run_cli):
    folder = make_project(tmp_path, paper={"line_breaking": "optimal"})
    write_article(folder, "story", body(100, seed=1))
    write_manifest(folder, {"pages": [{"page": 1, "articles": [{"slug": "story"}]}]})
    code, out, err = run_cli("fit", "test-issue", root=tmp_path)
    assert code == 2
    assert "line_breaking" in out + err and "'optimal'" in out + err and "total-fit" in out + err


def test_switching_line_breaking_recomposes_instead_of_reusing_the_cache(tmp_path):
    """``line_breaking`` is in the cache keys: the same issue composed greedy, then total-fit in the
    same build folder, is set by the breaker the second time (and its plates differ)."""
    import yaml

    folder = make_project(tmp_path)
    write_article(folder, "story", sample_body("letters"), headline="A story")
    write_manifest(folder, {"pages": [{"page": 1, "articles": [{"slug": "story", "columns": 3}]}]})
    greedy = compose_issue(Project(tmp_path), "test-issue")
    plate = tmp_path / "build" / "test-issue" / "plates" / "test-issue-p01.pdf"
    before = plate.read_bytes()
    assert all(not galley.paragraphs for galley, _ in greedy.composition.galleys.values())
    paper = tmp_path / "issues" / "paper.yaml"
    paper.write_text(yaml.safe_dump({**yaml.safe_load(paper.read_text()), "line_breaking": "total-fit"}))
    total_fit = compose_issue(Project(tmp_path), "test-issue")
    assert any(galley.paragraphs for galley, _ in total_fit.composition.galleys.values())
    assert plate.read_bytes() != before


ADDRESS = "https://www.example.org/news/2022/04/01/dockers-strike-at-felixstowe-and-liverpool?ref=front-page"
LONG_WORD = "pneumonoultramicroscopicsilicovolcanoconiosis"
REAL_COPY = (f"Readers may write to {ADDRESS} or to organiser.branch.secretary@example-union.org.uk about "
             f"{LONG_WORD}, or about Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch, a word no "
             "column holds.")
"""Copy as it comes (a web address and a mail address, and words wider than a column), set with no
word space on some lines: nothing but their letters to fill the measure."""


@pytest.mark.parametrize("scaling", ["0", "2%"])
def test_no_glyph_ends_past_its_column_and_an_editorial_is_set_to_its_measure(tmp_path, scaling):
    """Word salad (many letter-spaced, scaled and tight lines), real copy (``REAL_COPY``) and an
    editorial (padded frame): every line's last glyph ends within its column's geometric edge (the
    slot's box, its columns and gutters), a justified line with word spaces at most 0.25 pt short of it;
    the addresses are not hyphenated and the long word breaks where it may; the editorial's spaces in the
    PDF are the breaker's."""
    folder = make_project(tmp_path, paper={"line_breaking": "total-fit", "tracking": "2%", "glyph_scaling": scaling})
    write_article(folder, "salad", body(520, seed=3) + "\n\n" + REAL_COPY, headline="Word salad")
    write_article(folder, "leader", sample_body("editorial-cost-of-living"), headline="Leader", kind="editorial")
    write_manifest(folder, {"pages": [{"page": 1, "articles": [
        {"slug": "salad", "columns": 3}, {"slug": "leader", "columns": 2}]}]})
    result = compose_issue(Project(tmp_path), "test-issue")
    assert not result.composition.overset
    build = tmp_path / "build" / "test-issue"
    fit = json.loads((build / "fit.json").read_text())
    gutter = 4 / 25.4 * 72
    edges = {}  # slot -> its columns' right edges, from the slot's box
    for slot in fit["slots"]:
        x, _, width, _ = slot["box"]
        pad = 5.0 if slot["slug"] == "leader" else 0.0
        column = (width - 2 * pad - (slot["columns"] - 1) * gutter) / slot["columns"]
        edges[slot["slot_id"]] = [x + pad + k * (column + gutter) + column for k in range(slot["columns"])]
    boxes = [(s["slot_id"], s["page"], s["box"][0], s["box"][1], s["box"][0] + s["box"][2], s["box"][1] + s["box"][3])
             for s in fit["slots"]]
    lines = typo.assign_slots(typo.read_lines(build / "test-issue.pdf"), boxes)
    justified = [line for line in lines if line.justified and line.slot]
    assert len(justified) > 100
    tracked = sum(t["tracked_lines"] for t in (s["typography"] for s in fit["slots"]) if t)
    assert tracked > 30  # the salad needs letter-spacing: the lines this checks are there
    scaled = sum(t["scaled_lines"] for t in (s["typography"] for s in fit["slots"]) if t)
    assert scaled > 30 if scaling != "0" else scaled == 0  # and glyphs drawn 98-102 % wide, if allowed
    # The plates draw those lines' glyphs scaled (the galleys draw them unscaled: assemble scales them),
    # each line by one scale within the bound, and no other line.
    widths: dict[tuple[int, float, float], set[float]] = {}  # (page, top, its column's right edge): scales
    right_edges = sorted(e for found in edges.values() for e in found)
    for number, page in enumerate(read_chars(build / "test-issue.pdf")):
        for char in page:
            a, _, _, d, _, _ = char["matrix"]
            edge = next((e for e in right_edges if char["x0"] < e), 0.0)
            widths.setdefault((number, round(char["top"], 1), edge), set()).add(round(a / d, 4))
    drawn = {key: found for key, found in widths.items() if found != {1.0}}
    assert len(drawn) == scaled
    assert all(len(found) == 1 and 0.98 <= min(found) <= 1.02 for found in drawn.values())
    from layout.composing.fit import typography_notes

    said = [n for n in typography_notes(result.composition) if n.startswith("justification:")]
    assert len(said) == 1 and f" {tracked} letter-spaced" in said[0]
    assert f" {scaled} with their glyphs scaled" in said[0]  # the fit report says what justification took
    for line in justified:
        edge = min(edges[line.slot], key=lambda e: abs(e - line.x1))
        assert edge - (0.25 if line.gaps else 1.0) <= line.x1 <= edge, (line.text, round(line.x1 - edge, 3))
    for line in lines:  # ragged too: a piece of a long word, or an address, on a line of its own
        if line.slot:
            edge = min(e for e in edges[line.slot] if e > line.x0)
            assert line.x1 <= edge, (line.text, round(line.x1 - edge, 3))
    text = "".join(_pdf_lines((build / "test-issue.pdf").read_bytes())).replace(" ", "")
    assert ADDRESS in text and "organiser.branch.secretary@example-union.org.uk" in text  # never hyphenated
    broken = re.search("-?".join(LONG_WORD), text)
    assert broken and "-" in broken[0], "the long word is on the plates, broken"
    assert _hyphens(broken[0]) <= set(lb._hyphenator("en_GB", 2, 3).positions(LONG_WORD)), broken[0]
    natural = typo.natural_space(REPO / "fonts" / "PTF55F.ttf", 9.0)
    leader = typo.figures([line for line in lines if line.slot.startswith("leader")], natural, 10.5)
    record = next(s["typography"] for s in fit["slots"] if s["slot_id"] == "leader")
    assert leader.justified > 20
    assert leader.median == pytest.approx(record["median_ratio"], abs=0.08)  # 5 pt a line wider: 1.8 for 1.27


def _hyphens(broken: str) -> set[int]:
    """Where the hyphens of a broken word are, as positions in the whole word."""
    found, at = set(), 0
    for char in broken:
        if char == "-":
            found.add(at)
        else:
            at += 1
    return found


def test_a_hole_loosened_into_overset_is_undone(tmp_path, monkeypatch):
    """A slot whose shortfall is not all at its end (its first column ends early, before a crosshead
    kept with its text) overflows if its paragraphs are set as many lines longer as it is short: that
    loosening is undone (with any longer setting allowed, this slot was overset)."""
    from layout.composing import compose

    monkeypatch.setattr(compose, "AUTO_ADDED", 99)
    monkeypatch.setattr(compose, "AUTO_LOOSEST", 99.0)
    folder = make_project(tmp_path, paper=TOTAL_FIT)
    news = (REPO / "issues" / "issue-2022-04-08" / "articles" / "branch-news.md").read_text(encoding="utf-8")
    write_article(folder, "news", news.split("---\n", 2)[2], headline="Branch news")
    write_manifest(folder, {"pages": [{"page": 1, "articles": [{"slug": "news", "columns": 3, "depth": 34}]}]})
    result = compose_issue(Project(tmp_path), "test-issue")  # raised OversetError before
    slot = result.composition.slots[0]
    assert not result.composition.overset and slot.over == 0 and slot.short > 2
    block = json.loads((tmp_path / "build" / "test-issue" / "fit.json").read_text())["slots"][0]["typography"]
    assert len(block["longer"]) > 2 and not block["loosened"]  # offered, applied, undone
    blocks = result.composition.pages[0].slots[0].article.blocks
    for block_id, record in result.composition.galleys["news"][0].paragraphs:
        assert joined(record) == blocks[int(block_id.rsplit("-b", 1)[1])].text.split()


def test_the_proofs_mark_each_line_still_looser_than_2_5x_and_the_plates_none(tmp_path):
    """Issue 15's proof marks, measured from the PDFs: beside every justified line whose spaces on the
    plate are looser than 2.5x natural, an orange bar in the proof's gutter; beside no line under it;
    none on the issue PDF that goes to press. The marks are found without placing every line of the
    issue first (``typo.loose_lines``), and are the lines a full placement finds."""
    import copy

    import pdfplumber

    folder = make_project(tmp_path, paper=TOTAL_FIT)
    write_article(folder, "salad", body(420, seed=3), headline="Word salad")  # few hyphenation points
    write_manifest(folder, {"pages": [{"page": 1, "articles": [{"slug": "salad", "columns": 3}]}]})
    result = compose_issue(Project(tmp_path), "test-issue")
    build = tmp_path / "build" / "test-issue"
    natural = typo.natural_space(REPO / "fonts" / "PTF55F.ttf", 9.0)
    lines = [line for line in typo.read_lines(build / "test-issue.pdf") if line.justified]
    loose = [line for line in lines if line.ratio(natural) > 2.55]
    tight = [line for line in lines if line.ratio(natural) < 2.45]
    assert loose and len(tight) > 50  # the salad has lines of both: what this checks is there

    def bars(pdf: Path) -> list[dict]:
        with pdfplumber.open(pdf) as document:
            return [r for r in document.pages[0].rects
                    if tuple(round(c, 2) for c in r["non_stroking_color"] or ()) == (0.95, 0.55, 0.0)]

    marks = bars(build / "test-issue-proof.pdf")

    def marked(line: typo.MeasuredLine) -> bool:
        return any(abs(m["x0"] - (line.edge + 1.0)) < 0.5 and m["top"] < line.top < m["bottom"] for m in marks)

    assert all(marked(line) for line in loose), [line.text for line in loose if not marked(line)]
    assert not any(marked(line) for line in tight), [line.text for line in tight if marked(line)]
    assert len(marks) <= len(lines) - len(tight)
    assert bars(build / "test-issue.pdf") == []
    fresh = copy.copy(result.composition)  # nothing worked out for it yet
    first = typo.loose_lines(fresh, 10.5)
    typo.composed_lines(fresh, 10.5)
    assert typo.loose_lines(fresh, 10.5) == first
