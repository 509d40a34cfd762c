"""Page planning (issue 16): pinned slots, sized photos, supplied adverts, warnings, and fit advice
that is true when applied."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from factory import (
    REPO,
    add_photo,
    apply_suggestion,
    body,
    make_project,
    write_article,
    write_manifest,
)

from layout.build import Project, compose_issue, fit_issue
from layout.composing.fit import holes
from layout.composing.grid import PIN_FOOT, Request, overlapping, place
from layout.errors import InputError, OversetError
from layout.reading.settings import load_settings

MM = 72 / 25.4
_spec = importlib.util.spec_from_file_location("make_ads", REPO / "issues" / "issue-2022-04-08" / "ads" / "make_ads.py")
make_ads = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_ads)


def _paper(root: Path):
    return load_settings(root / "issues" / "paper.yaml")


def _fits(root: Path, issue_id: str = "test-issue") -> dict:
    return json.loads((root / "build" / issue_id / "fit.json").read_text())


def _slot(fit: dict, slot_id: str) -> dict:
    return next(s for s in fit["slots"] if s["slot_id"] == slot_id)


def _advert(issue: Path, name: str, columns: int, depth_mm: float, **faults) -> str:
    (issue / "ads").mkdir(exist_ok=True)
    paper = _paper(issue.parent.parent)
    width = faults.pop("width", paper.span_width(columns))
    make_ads.make_advert(issue / "ads" / name, width, depth_mm * MM, "Co-op Bakery", "Bread by union labour",
                         ["12 High Street", "Open 7 till 3"], fonts=REPO / "fonts", **faults)
    return f"ads/{name}"


# ---- The grid ----------------------------------------------------------------------------------


def test_column_order_fills_around_a_pinned_slot():
    # A 2-column slot pinned at column 4 (index 3), line 10; the others go in column order around it.
    requests = [Request(3, 0, 20, 0), Request(2, 0, 30, 0, column=3, top=10), Request(2, 0, 5, 0),
                Request(2, 0, 5, 0)]
    placed = place(requests, 5, 100)
    assert (placed[1].column, placed[1].line) == (3, 10)
    assert (placed[0].column, placed[0].line) == (0, 0)
    assert (placed[2].column, placed[2].line, placed[2].depth) == (3, 0, 5)  # above the pin, cut to fit
    assert (placed[3].column, placed[3].line) == (0, 21)  # under the first: column 4 is taken
    assert not overlapping(placed)


def test_a_slot_above_a_foot_pin_is_cut_to_the_space_left_and_pins_may_not_overlap():
    placed = place([Request(2, 0, 0, 0), Request(2, 0, 20, 20, column=0, top=PIN_FOOT)], 5, 100)
    foot, story = placed[1], placed[0]
    assert (foot.line, foot.bottom) == (80, 100)
    assert (story.line, story.bottom) == (0, 79)  # depth: foot stops a rule's gap above the advert
    clash = place([Request(2, 0, 30, 0, column=0, top=0), Request(2, 0, 30, 0, column=1, top=10)], 5, 100)
    assert overlapping(clash) == [(0, 1)]


def test_space_above_slots_sunk_to_the_foot_in_column_order_stays_free_for_later_slots():
    # A 3-column and a 1-column advert sunk to the foot (top: foot, no column:), then a 1-column
    # story with depth: foot: it takes column 4 down to the advert there, not the foot below everything.
    placed = place([Request(3, 0, 40, 0), Request(3, 0, 14, 14, top=PIN_FOOT), Request(1, 0, 14, 14, top=PIN_FOOT),
                    Request(1, 0, 0, 0), Request(2, 0, 10, 10)], 4, 100)
    lead, wide, one, side, last = placed
    assert (wide.column, wide.bottom, one.column, one.bottom) == (0, 100, 3, 100)
    assert (side.column, side.line, side.bottom) == (3, 0, one.line - 1)  # ends a rule's gap above the advert
    assert (last.column, last.line) == (0, lead.bottom + 1) and last.bottom < wide.line  # above the sunk advert
    assert not [(a, b) for i, a in enumerate(placed) for b in placed[i + 1:] if a.overlaps(b)]
    # two foot adverts after a story: side by side on the foot, not the second stacked on the first
    story, left, right = place([Request(5, 0, 20, 20), Request(2, 0, 14, 14, top=PIN_FOOT),
                                Request(3, 0, 14, 14, top=PIN_FOOT)], 5, 100)
    assert (left.column, left.bottom, right.column, right.bottom) == (0, 100, 2, 100)


def test_a_pinned_top_on_the_front_page_counts_from_under_the_nameplate():
    # top: 8 on a page whose first free line is 15 (the nameplate): line 23, not the nameplate's foot
    # (where top: 0 sits: the two pins were the same place).
    placed = place([Request(3, 0, 20, 0), Request(2, 0, 10, 0, column=3, top=8), Request(2, 0, 10, 0, column=0, top=0)],
                   5, 100, 15)
    assert (placed[1].column, placed[1].line) == (3, 23)
    assert (placed[2].line, placed[0].line) == (15, 26)  # the column-order slot goes below the top: 0 pin


def test_overlapping_pins_are_an_input_error_naming_both_slots(tmp_path):
    issue = make_project(tmp_path)
    for slug in ("one", "two"):
        write_article(issue, slug, body(60, seed=1))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "one", "columns": 2, "column": 1, "top": 0, "depth": 30},
        {"slug": "two", "columns": 2, "column": 2, "top": 10, "depth": 30}]}]})
    with pytest.raises(InputError) as caught:
        compose_issue(Project(tmp_path), "test-issue")
    text = str(caught.value.problems)
    assert "page 1, second slot (two) overlaps page 1, first slot (one)" in text


def test_manifest_checks_pins_and_bookings(tmp_path, run_cli):
    issue = make_project(tmp_path)
    write_article(issue, "one", body(60, seed=1))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "one", "columns": 3, "column": 4},
        {"ad": "ads/missing.pdf", "columns": 2, "depth": "8cm"},
        {"ad": "ads/x.pdf", "columns": 2, "depth": 40}]}]})
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 2
    assert "page 1, first slot, column: a slot 3 column(s) wide cannot start in column 4 of 5" in err
    assert "advert 'ads/missing.pdf' not found" in err
    assert "page 1, third slot, depth: 40 is not a booked depth" in err and "depth: 10cm" in err


# ---- Photos, adverts and pins on the plate ------------------------------------------------------


def _planned_issue(tmp_path: Path, ad: dict | None = None) -> Path:
    issue = make_project(tmp_path)
    photo = add_photo(issue)
    write_article(issue, "lead", body(420, seed=2), images=[
        {"file": photo, "caption": "Dockers at the gates", "columns": 2, "depth": "40mm", "focus": [0.5, 0.2]}])
    write_article(issue, "second", body(150, seed=3), images=[{"file": photo, "depth": 18}])
    write_article(issue, "pinned", body(80, seed=4))
    slots = [{"slug": "lead", "columns": 3, "depth": 40},
             {"slug": "pinned", "columns": 2, "column": 4, "top": 0},
             {"slug": "second", "columns": 3}]
    slots.append(ad or {"ad": _advert(issue, "bakery.pdf", 2, 80), "columns": 2, "depth": "8cm",
                        "column": 4, "top": "foot"})
    write_manifest(issue, {"pages": [{"page": 1, "articles": slots}]})
    return issue


def test_photos_adverts_and_pins_are_placed_at_their_sizes(tmp_path):
    issue = _planned_issue(tmp_path)
    result = compose_issue(Project(tmp_path), "test-issue")
    paper = _paper(tmp_path)
    plate = tmp_path / "build" / "test-issue" / "plates" / "test-issue-p01.pdf"
    fit = _fits(tmp_path)
    assert not fit["overset"]
    with pdfplumber.open(plate) as pdf:
        page = pdf.pages[0]
        images = sorted(page.images, key=lambda i: i["top"])
        lead, second = images[0], images[1]
        # the lead's photo: 2 of its 3 columns, 40 mm deep, at the top of its body
        assert abs(lead["width"] - paper.span_width(2)) < 0.5 * MM
        assert abs(lead["height"] - 40 * MM) < 0.5 * MM
        assert abs(lead["x0"] - paper.column_x(0)) < 0.5 * MM
        # the second's: its slot's width, 18 body lines deep
        assert abs(second["width"] - paper.span_width(3)) < 0.5 * MM
        assert abs(second["height"] - 18 * paper.leading) < 0.5 * MM
        # the lead's text runs beside its photo (column 3) and below it (columns 1-2)
        words = [w for w in page.extract_words() if w["fontname"].endswith("NW-Text")] \
            if False else page.extract_words(extra_attrs=["fontname"])
        body_words = [w for w in words if "NW-Text" in w["fontname"]]
        beside = [w for w in body_words if w["x0"] > paper.column_x(2) - 1 and w["x1"] < paper.column_x(3)
                  and w["top"] < lead["bottom"]]
        below = [w for w in body_words if w["x1"] < paper.column_x(2) and w["top"] > lead["bottom"]
                 and w["top"] < lead["bottom"] + 100]
        assert beside and below
        assert not [w for w in body_words
                    if w["x1"] < paper.column_x(2) - 2 and lead["top"] < w["top"] < lead["bottom"]]
        # the advert: its own text, at the foot of columns 4-5, in the booked box
        ad_words = [w for w in words if "Ad-" in w["fontname"]]
        assert "Co-op" in " ".join(w["text"] for w in ad_words)
        foot = paper.margin_top + paper.grid_lines * paper.leading
        assert all(paper.column_x(3) - 1 < w["x0"] and w["bottom"] < foot + 1 and w["top"] > foot - 80 * MM
                   for w in ad_words)
        rects = [r for r in page.rects if r["x0"] >= paper.column_x(3) - 2 and r["top"] > foot - 80 * MM - 2]
        frame = max(rects, key=lambda r: r["width"] * r["height"])
        assert abs(frame["width"] - paper.span_width(2)) < 0.5 * MM + 1.5  # the advert's own 1.5 pt border
        assert abs(frame["bottom"] - foot) < 0.5 * MM + 1.5
    # the pinned slot sits where it was pinned: columns 4-5, at the top of the type area
    pinned = _slot(fit, "pinned")
    assert abs(pinned["box"][0] - paper.column_x(3)) < 0.1 and abs(pinned["box"][1] - paper.margin_top) < 0.1
    # the advert's content stream is drawn unchanged, as a form, with its fonts
    source = pikepdf.open(issue / "ads" / "bakery.pdf")
    with pikepdf.open(plate) as pdf:
        forms = [x for x in pdf.pages[0].Resources.XObject.values() if x.get("/Subtype") == "/Form"]
        assert any(form.read_bytes() == source.pages[0].Contents.read_bytes() for form in forms)
        ad_form = next(form for form in forms if form.read_bytes() == source.pages[0].Contents.read_bytes())
        fonts = {str(f.BaseFont).split("+")[1] for f in ad_form.Resources.Font.values()}
        assert fonts == {str(f.BaseFont).split("+")[1] for f in source.pages[0].Resources.Font.values()}
    assert result.plates is not None and result.plates.name == "plates"  # preflight passed


def _rules_and_photos(plate: Path, paper) -> tuple[list[dict], list[dict]]:
    """The plate's drawn vertical rules (thin filled rects or lines more than two lines long) and its
    photos' boxes."""
    with pdfplumber.open(plate) as pdf:
        page = pdf.pages[0]
        rules = [r for r in page.rects + page.lines
                 if r["width"] <= 1.5 and r["height"] > 2 * paper.leading]
        return rules, list(page.images)


def test_column_rules_run_beside_text_and_never_across_a_photo(tmp_path):
    """A photo 3 of its story's 5 columns wide (text beside and below it) and a photo as wide as its
    story: no rule between the story's columns crosses either photo or its caption, and the gutters
    below and beside the narrow photo are ruled."""
    issue = make_project(tmp_path)
    photo = add_photo(issue)
    write_article(issue, "lead", body(520, seed=5), images=[
        {"file": photo, "caption": "Dockers at the gates", "columns": 3, "depth": "60mm"}])
    write_article(issue, "second", body(260, seed=6), images=[{"file": photo, "caption": "The docks",
                                                                "depth": 14}])
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "lead", "columns": 5},
                                                             {"slug": "second", "columns": 3}]}]})
    result = compose_issue(Project(tmp_path), "test-issue")
    assert not result.composition.overset
    paper = _paper(tmp_path)
    rules, images = _rules_and_photos(result.plates / "test-issue-p01.pdf", paper)
    assert len(images) == 2
    caption = 2 * paper.leading  # the caption's lines under each photo
    for image in images:
        for rule in rules:
            inside = image["x0"] + 1 < rule["x0"] and rule["x1"] < image["x1"] - 1
            overlaps = rule["top"] < image["bottom"] + caption and rule["bottom"] > image["top"] + 1
            assert not (inside and overlaps), (image["x0"], image["top"], image["x1"], image["bottom"], rule)
    narrow = min(images, key=lambda i: i["width"])
    gutters = [paper.column_x(c) - paper.gutter / 2 for c in range(1, 5)]
    for x in gutters:  # every gutter of the lead is ruled beside its text
        assert [r for r in rules if abs((r["x0"] + r["x1"]) / 2 - x) < 1.5 and r["bottom"] > narrow["bottom"]], x
    # the gutters under the photo start below it; the one at its edge runs from the top of the body
    edge = [r for r in rules if abs((r["x0"] + r["x1"]) / 2 - gutters[2]) < 1.5]
    assert min(r["top"] for r in edge) < narrow["top"] + paper.leading


@pytest.mark.parametrize("fault, message", [
    ({"width": 90 * MM}, "its trim is 90.0 x 80.0 mm; the booking is 100.0 x 80.0 mm"),
    ({"rgb": True}, "RGB"),
    ({"embed_fonts": False}, "is not embedded"),
    ({"transparent": True}, "transparency in graphics state"),
    ({"small_type": True}, "has text set at 6.5 pt, below 7 pt"),  # the plates' own minimum, not a lower one
])
def test_faulty_adverts_are_refused_with_the_file_named(tmp_path, run_cli, fault, message):
    issue = make_project(tmp_path)
    write_article(issue, "story", body(100, seed=1))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "story", "columns": 3},
        {"ad": _advert(issue, "faulty.pdf", 2, 80, **fault), "columns": 2, "depth": "80mm", "top": "foot"}]}]})
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 2, err
    assert "issues/test-issue/ads/faulty.pdf" in err and message in err and "fix: ask" in err
    assert "Traceback" not in err


def test_an_advert_the_page_cannot_hold_is_over_not_shrunk(tmp_path):
    issue = make_project(tmp_path)
    write_article(issue, "story", body(200, seed=1))
    write_article(issue, "house", "## Join us\n\nWrite to the paper.\n", kind="advert")
    paper = _paper(tmp_path)
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "story", "columns": 5, "depth": paper.grid_lines - 20},
        {"slug": "house", "columns": 2, "depth": 30},
        {"ad": _advert(issue, "big.pdf", 2, 80), "columns": 2, "depth": "8cm"}]}]})
    with pytest.raises(OversetError) as caught:
        compose_issue(Project(tmp_path), "test-issue")
    fit = _fits(tmp_path)
    assert _slot(fit, "house")["over"] > 0  # its 30 lines were asked; the page had fewer
    assert _slot(fit, "ad-big")["over"] > 0
    assert "the advert is booked" in str(caught.value.problems)


# ---- Nothing silently emptied ---------------------------------------------------------------


def test_warnings_name_the_slot_or_setting(tmp_path):
    issue = make_project(tmp_path)
    write_article(issue, "full", body(300, seed=1))
    write_article(issue, "squeezed", body(100, seed=2), kicker="NHS",
                  headline="Nurses reject the offer made on pay")
    paper = _paper(tmp_path)
    write_manifest(issue, {"pages": [
        {"page": 1, "articles": [{"slug": "full", "columns": 5, "depth": paper.grid_lines - 9},
                                 {"slug": "squeezed", "columns": 1, "jump": 2, "headline_lines": 1}]},
        {"page": 2, "articles": [{"continued": "squeezed", "columns": 5}]},
        {"page": 3, "articles": []}]})
    _, composition = fit_issue(Project(tmp_path), "test-issue")
    notes = "\n".join(composition.notes)
    assert "page 1, second slot (squeezed): the story gets no body lines on page 1" in notes
    assert "page 1, second slot (squeezed): the headline takes" in notes and "headline_lines: 1" in notes
    assert "the issue has 3 pages: a newspaper is printed in multiples of 4" in notes


def test_a_one_word_last_line_of_a_headline_is_reported(tmp_path):
    issue = make_project(tmp_path)
    write_article(issue, "widow", body(100, seed=1), headline="Workers across the whole region reject pay")
    write_article(issue, "clean", body(100, seed=2), headline="Workers reject pay")
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "widow", "columns": 1},
                                                              {"slug": "clean", "columns": 1}]}]})
    _, composition = fit_issue(Project(tmp_path), "test-issue")
    widows = [n for n in composition.notes if "last line is one word" in n]
    assert len(widows) == 1 and "(widow)" in widows[0] and "“pay”" in widows[0], composition.notes


# ---- Fit advice that is true when applied --------------------------------------------------------


def _check_added(suggestion: str, before, after, left: int) -> None:
    """'add about W words (L lines): then about N lines short': words are not lines, so the lines the
    words fill are 'about' L (within 25%, the room the estimate leaves), and nothing goes over."""
    claimed = before.short - left
    filled = before.short - after.short
    assert after.over == 0, (suggestion, after)
    assert abs(filled - claimed) <= max(2, round(0.25 * claimed)), (suggestion, filled, claimed)


def _advice_issue(root: Path) -> Path:
    issue = make_project(root)
    write_article(issue, "long", body(1900, seed=5), standfirst="A standfirst long enough to take two lines "
                  "across the slot, as standfirsts on a busy page do")
    write_article(issue, "short", body(120, seed=6))
    write_article(issue, "fixed", body(300, seed=8))
    write_article(issue, "tall", body(200, seed=7))
    write_article(issue, "jumper", body(900, seed=9))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "long", "columns": 3, "depth": "foot"},
        {"slug": "short", "columns": 2, "depth": 40},
        {"slug": "fixed", "columns": 2, "depth": 20},
        {"slug": "tall", "columns": 2, "depth": "foot"}]},
        {"page": 2, "articles": [{"slug": "jumper", "columns": 2, "depth": 30, "jump": 3}]},
        {"page": 3, "articles": [{"continued": "jumper", "columns": 2, "depth": 40}]}]})
    return issue


def test_every_fit_suggestion_applied_as_printed_has_the_effect_it_claims(tmp_path):
    issue = _advice_issue(tmp_path / "base")
    _, composition = fit_issue(Project(tmp_path / "base"), "test-issue")
    rows = [s for s in composition.slots if s.suggestions]
    assert {s.slot_id for s in rows} >= {"long", "short", "fixed", "cont-jumper"}
    kinds = {x.split()[0] for s in rows for x in s.suggestions}
    assert kinds >= {"cut", "cheap", "drop", "depth:", "add"}, kinds
    long = next(s for s in rows if s.slot_id == "long")
    assert long.over_words.startswith("about ") and "words (" in long.over_words
    assert any(x.startswith("cut about ") for x in long.suggestions)
    tried = 0
    root = tmp_path / "base"
    saved = {p: p.read_bytes() for p in issue.rglob("*") if p.is_file()}
    for row in rows:
        for suggestion in row.suggestions:  # each applied alone, and undone before the next
            for path, data in saved.items():
                path.write_bytes(data)
            claim, amount = apply_suggestion(issue, {"slug": row.slug, "slot_id": row.slot_id}, suggestion)
            _, after = fit_issue(Project(root), "test-issue")
            fit = next(s for s in after.slots if s.slot_id == row.slot_id)
            others = {s.slot_id: s.over for s in after.slots if s.slot_id != row.slot_id}
            assert all(others[k] <= s.over for s in composition.slots if (k := s.slot_id) in others), suggestion
            if claim == "fits":
                assert fit.over == 0, (suggestion, fit)  # "then it fits": nothing over
                if amount is not None:  # "..., about N lines short"
                    assert abs(fit.short - amount) <= 2, (suggestion, fit)
            elif claim == "over":
                assert fit.over == amount, (suggestion, fit)
            else:
                _check_added(suggestion, row, fit, amount)
            tried += 1
    assert tried >= 4
    assert issue.exists()


def test_less_depth_is_not_suggested_when_it_only_moves_the_white_space_onto_the_page(tmp_path):
    """A short story taken to the foot (nothing below it): less depth would leave the same white
    space under it on the page, a hole the fit report lists, so only more copy is suggested; a short
    story with a foot story below it (which takes up the lines) still gets its depth suggestion."""
    issue = make_project(tmp_path)
    write_article(issue, "footed", body(150, seed=11))
    write_article(issue, "boxed", body(120, seed=12))
    write_article(issue, "below", body(500, seed=13))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "footed", "columns": 3, "depth": "foot"},
        {"slug": "boxed", "columns": 2, "depth": 40},
        {"slug": "below", "columns": 2, "depth": "foot"}]}]})
    _, composition = fit_issue(Project(tmp_path), "test-issue")
    footed = next(s for s in composition.slots if s.slot_id == "footed")
    boxed = next(s for s in composition.slots if s.slot_id == "boxed")
    assert footed.short > 20 and boxed.short > 20
    assert not [x for x in footed.suggestions if x.startswith("depth:")], footed.suggestions
    assert [x for x in footed.suggestions if x.startswith("add about")]
    assert [x for x in boxed.suggestions if x.startswith("depth:")], boxed.suggestions


# ---- layout new ------------------------------------------------------------------------------------


def test_new_issue_from_last_week(tmp_path, run_cli):
    issue = make_project(tmp_path, issue_id="issue-2022-04-01")
    write_article(issue, "story", body(100, seed=1), sample=True)
    write_article(issue, "real-news", body(100, seed=2))
    write_article(issue, "fund", "Give to the fund.\n", kind="advert", sample=True)
    write_article(issue, "contacts", "Write to the paper.\n", regular=True)
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "story", "columns": 3, "depth": "foot"}, {"slug": "real-news", "columns": 2},
        {"slug": "fund", "columns": 2, "depth": 10, "top": "foot"}, {"slug": "contacts", "columns": 1},
        {"ad": _advert(issue, "bakery.pdf", 2, 80), "columns": 2, "depth": "8cm", "column": 1, "top": "foot"}]}]})
    code, _, err = run_cli("new", "issue-2022-04-08", "--from", "issue-2022-04-01", root=tmp_path)
    assert code == 0, err
    new = tmp_path / "issues" / "issue-2022-04-08"
    manifest = (new / "issue.yaml").read_text()
    assert "date: 2022-04-08" in manifest and "number: 2" in manifest  # the factory's number is 1
    assert (new / "ads" / "bakery.pdf").read_bytes() == (issue / "ads" / "bakery.pdf").read_bytes()
    for kept in ("fund", "contacts"):
        assert (new / "articles" / f"{kept}.md").read_text() == (issue / "articles" / f"{kept}.md").read_text()
    for slug in ("story", "real-news"):
        text = (new / "articles" / f"{slug}.md").read_text()
        assert "headline: New headline" in text and "sample: true" in text and "Copy for this slot" in text
    _, composition = fit_issue(Project(tmp_path), "issue-2022-04-08")
    assert len(composition.slots) == 5
    # composing the new folder shows the plan: each placeholder is a warning naming its slot and file,
    # and gets no fit suggestions (a depth of 1 line would "fit" a placeholder: the fix is the story)
    placeholders = [n for n in composition.notes if "still the placeholder" in n]
    assert len(placeholders) == 2, composition.notes
    assert any("first slot (story)" in n and "articles/story.md" in n for n in placeholders)
    assert any("second slot (real-news)" in n and "articles/real-news.md" in n for n in placeholders)
    assert not [s for s in composition.slots if s.suggestions and s.slug in ("story", "real-news")]
    code, _, err = run_cli("new", "issue-2022-04-08", "--from", "issue-2022-04-01", root=tmp_path)
    assert code == 2 and "already exists" in err and "never overwrites" in err


def test_plates_are_marked_stale_when_a_later_compose_does_not_replace_them(tmp_path):
    issue = make_project(tmp_path)
    write_article(issue, "story", body(120, seed=1))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "story", "columns": 2, "depth": 30}]}]})
    compose_issue(Project(tmp_path), "test-issue")
    plates = tmp_path / "build" / "test-issue" / "plates"
    assert (plates / "test-issue-p01.pdf").exists() and not (plates / "STALE.txt").exists()
    write_article(issue, "story", body(900, seed=1))  # now overset: the plates are not replaced
    with pytest.raises(OversetError) as caught:
        compose_issue(Project(tmp_path), "test-issue")
    assert "the issue PDF (" in str(caught.value) and "marked proof (" in str(caught.value)
    assert "Do not send them to the printer" in (plates / "STALE.txt").read_text()
    write_article(issue, "story", body(120, seed=1))
    compose_issue(Project(tmp_path), "test-issue")
    assert not (plates / "STALE.txt").exists()


def test_overset_is_blamed_on_the_slot_that_pushed_it_down(tmp_path):
    issue = make_project(tmp_path)
    paper = _paper(tmp_path)
    write_article(issue, "above", body(400, seed=1), headline="A long headline above the letters")
    write_article(issue, "letters", body(2600, seed=2))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "above", "columns": 5}, {"slug": "letters", "columns": 5, "depth": paper.grid_lines - 10}]}]})
    _, composition = fit_issue(Project(tmp_path), "test-issue")
    letters = next(s for s in composition.slots if s.slot_id == "letters")
    assert letters.over and letters.capped
    assert "pushed down by page 1, first slot (above) above it" in letters.over_words


# ---- The second sample issue -------------------------------------------------------------------


def test_second_sample_issue_composes_and_its_fit_advice_holds(tmp_path):
    """One compose of issues/issue-2022-04-08 (sized photos, four supplied adverts, pins), then every
    fit suggestion it prints applied as printed, one at a time, each undone before the next (the
    layout cache makes each try a matter of the edited story)."""
    for name in ("stylesheets", "fonts"):
        shutil.copytree(REPO / name, tmp_path / name)
    (tmp_path / "issues").mkdir()
    shutil.copy(REPO / "issues" / "paper.yaml", tmp_path / "issues" / "paper.yaml")
    issue = tmp_path / "issues" / "issue-2022-04-08"
    shutil.copytree(REPO / "issues" / "issue-2022-04-08", issue)
    result = compose_issue(Project(tmp_path), "issue-2022-04-08")
    assert result.plates is not None and result.plates.name == "plates"
    assert not result.composition.overset and not result.composition.notes
    # a sample is what staff copy from: its pages are full (no hole deeper than 2 lines, no slot short)
    assert holes(result.composition) == []
    assert all(s.short <= 2 for s in result.composition.slots), [
        (s.slot_id, s.short) for s in result.composition.slots if s.short > 2]
    paper = _paper(tmp_path)
    booked = {"ad-coop-bakery": (2, 80), "ad-trades-council": (3, 120), "ad-rising-tide-books": (3, 60),
              "ad-folk-festival": (2, 150)}
    for slot_id, (columns, depth) in booked.items():
        (piece,) = [a for page in result.composition.adverts for a in page if a.slot_id == slot_id]
        assert abs(piece.width - paper.span_width(columns)) < 0.01 and abs(piece.height - depth * MM) < 0.01
        assert abs(piece.y + piece.height - (paper.margin_top + paper.grid_lines * paper.leading)) < 0.5 * MM
    with pdfplumber.open(result.plates / "issue-2022-04-08-p02.pdf") as pdf:
        text = pdf.pages[0].extract_text()
    assert "Co-op Bakery" in text and "May Day in the Park" in text
    rows = [s for s in result.composition.slots if s.suggestions]
    saved = {p: p.read_bytes() for p in issue.rglob("*") if p.is_file()}
    for row in rows:
        for suggestion in row.suggestions:
            claim, amount = apply_suggestion(issue, {"slug": row.slug, "slot_id": row.slot_id}, suggestion)
            _, after = fit_issue(Project(tmp_path), "issue-2022-04-08")
            fit = next(s for s in after.slots if s.slot_id == row.slot_id)
            assert not [s for s in after.slots if s.over and s.slot_id != row.slot_id], suggestion
            if claim == "fits":
                assert fit.over == 0, (suggestion, fit)
                if amount is not None:
                    assert abs(fit.short - amount) <= 2, (suggestion, fit)
            elif claim == "over":
                assert fit.over == amount, (suggestion, fit)
            else:
                _check_added(suggestion, row, fit, amount)
            for path, data in saved.items():
                path.write_bytes(data)


def test_focus_picks_the_part_of_the_photo_kept_by_the_crop(tmp_path):
    from PIL import Image, ImageStat

    from layout.composing.images import prepare
    from layout.reading.articles import Photo
    from layout.reading.settings import load_settings

    source = tmp_path / "bands.png"
    image = Image.new("L", (400, 400), 255)
    image.paste(0, (0, 0, 400, 100))  # a black band along the top
    image.save(source)
    means = {}
    for focus in ((0.5, 0.0), (0.5, 1.0)):
        photo = Photo(source, "", "", 400, 400, "L", focus=focus)
        paper = load_settings(REPO / "issues" / "paper.yaml")
        prepared = prepare(photo, 200.0, 50.0, tmp_path / f"out-{focus[1]}", paper)  # a wide, shallow box
        with Image.open(prepared.path) as out:
            means[focus[1]] = ImageStat.Stat(out).mean[0]
    # The top kept (black: the photo_shadow dot), then the bottom (white: the photo_highlight dot).
    assert means[0.0] < 60 and means[1.0] > 215


def test_a_photo_wider_than_its_slot_is_an_input_error(tmp_path, run_cli):
    issue = make_project(tmp_path)
    photo = add_photo(issue)
    write_article(issue, "story", body(100, seed=1), images=[{"file": photo, "columns": 4}])
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "story", "columns": 2}]}]})
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 2 and "images[0].columns" in err and "is 4 columns wide but its slot" in err


def test_a_plain_weasyprint_advert_in_cmyk_is_accepted_and_its_plate_passes(tmp_path):
    # WeasyPrint declares two Lab colour spaces on every page and never uses them: not a fault.
    import weasyprint

    issue = make_project(tmp_path)
    write_article(issue, "story", body(100, seed=1))
    (issue / "ads").mkdir()
    html = (f"<style>@font-face {{ font-family: X; src: url({(REPO / 'fonts').as_uri()}/PTS55F.ttf) }}"
            "@page { size: 100mm 80mm; margin: 0 } body { margin: 0; font-family: X; color: device-cmyk(0 0 0 1) }"
            "div { border: 2pt solid device-cmyk(0 0 0 1); height: 70mm }</style><div>Plain advert</div>")
    (issue / "ads" / "plain.pdf").write_bytes(weasyprint.HTML(string=html).write_pdf())
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "story", "columns": 3}, {"ad": "ads/plain.pdf", "columns": 2, "depth": "8cm", "top": "foot"}]}]})
    result = compose_issue(Project(tmp_path), "test-issue")
    assert result.plates is not None and result.plates.name == "plates"
    with pdfplumber.open(result.plates / "test-issue-p01.pdf") as pdf:
        assert "Plain advert" in pdf.pages[0].extract_text()


def test_watch_summary_has_a_line_for_each_slot_over_or_short_and_each_hole(tmp_path):
    from layout.composing.fit import summary

    issue = make_project(tmp_path)
    write_article(issue, "over", body(900, seed=1))
    write_article(issue, "short", body(60, seed=2))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "over", "columns": 2, "depth": 20}, {"slug": "short", "columns": 2, "depth": 40}]}]})
    _, composition = fit_issue(Project(tmp_path), "test-issue")
    lines = summary(composition)
    assert any(line.startswith("  over: page 1, first slot (over): about ") and "lines) over" in line
               for line in lines), lines
    assert any(line.startswith("  short: page 1, second slot (short): ") for line in lines), lines
    assert any(line.startswith("  hole: p1: ") and "grid column 5" in line for line in lines), lines


def _encrypt(path: Path, user: str) -> None:
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.save(path, encryption=pikepdf.Encryption(owner="owner", user=user))


@pytest.mark.parametrize("spoil, message", [
    (lambda p: _encrypt(p, "secret"), "is protected by a password"),
    (lambda p: _encrypt(p, ""), "is encrypted (security settings"),  # opens without a password: still refused
    (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "is damaged"),  # cut short in transfer
])
def test_encrypted_or_damaged_adverts_are_refused_not_a_crash(tmp_path, run_cli, spoil, message):
    issue = make_project(tmp_path)
    write_article(issue, "story", body(100, seed=1))
    ad = _advert(issue, "spoilt.pdf", 2, 80)
    spoil(issue / ad)
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "story", "columns": 3}, {"ad": ad, "columns": 2, "depth": "80mm", "top": "foot"}]}]})
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 2, err
    assert "issues/test-issue/ads/spoilt.pdf" in err and message in err and "fix: ask" in err


def test_a_pin_off_the_page_is_an_input_error_in_the_editors_terms(tmp_path, run_cli):
    issue = make_project(tmp_path)
    write_article(issue, "story", body(120, seed=1))
    lines = _paper(tmp_path).grid_lines
    for pin, message in [({"top": "500mm"}, f"page 1, first slot, top: '500mm' (134 lines) is off the page: the "
                                            f"type area has {lines} lines"),
                         ({"top": lines - 7, "depth": 30}, f"page 1, first slot, top: {lines - 7} with depth: 30 "
                                                          f"(lines) runs 23 line(s) off the foot"),
                         ({"top": lines - 10, "template": "front"}, f"top: {lines - 10} lines is off the page: the "
                                                                    "type area has 92 lines under the nameplate")]:
        template = pin.pop("template", "inside")
        write_manifest(issue, {"pages": [{"page": 1, "template": template, "articles": [
            {"slug": "story", "columns": 2, "column": 1, **pin}]}]})
        code, _, err = run_cli("compose", "test-issue", root=tmp_path)
        assert code == 2 and message in err and "Traceback" not in err, err


def test_a_narrow_photo_deeper_than_its_slot_is_held_by_the_slot_not_drawn_over_the_next(tmp_path):
    issue = make_project(tmp_path)
    photo = add_photo(issue)
    write_article(issue, "inset", body(120, seed=1), images=[{"file": photo, "columns": 2, "depth": "100mm"}])
    write_article(issue, "below", body(100, seed=2))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "inset", "columns": 3, "depth": 12}, {"slug": "below", "columns": 3}]}]})
    result = compose_issue(Project(tmp_path), "test-issue")
    paper = _paper(tmp_path)
    fit = _fits(tmp_path)
    lines = _slot(fit, "inset")["depth"]
    assert lines >= 100 * MM / paper.leading  # the slot holds its 100 mm photo, not the 12 lines asked
    assert any("(inset): its photo is" in n and f"give depth: {lines} or more" in n for n in fit["notes"])
    with pdfplumber.open(result.issue_pdf) as pdf:
        (image,) = pdf.pages[0].images
    assert abs(image["height"] - 100 * MM) < 0.5 * MM
    assert image["bottom"] <= _slot(fit, "below")["box"][1] + 0.5  # the next slot starts below it


def test_no_cut_of_the_whole_story_is_suggested_for_a_slot_the_page_has_no_room_for(tmp_path):
    issue = make_project(tmp_path)
    write_article(issue, "full", body(200, seed=1))
    write_article(issue, "squeezed", body(60, seed=2))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "full", "columns": 5, "depth": "foot"}, {"slug": "squeezed", "columns": 2}]}]})
    _, composition = fit_issue(Project(tmp_path), "test-issue")
    row = next(s for s in composition.slots if s.slot_id == "squeezed")
    assert row.over > 0
    assert not [x for x in row.suggestions if x.startswith("cut about")], row.suggestions


def test_a_slot_of_natural_depth_is_never_shallower_than_its_narrow_photo(tmp_path):
    # 60 words beside a 60 mm photo 2 of 3 columns wide: the text needs fewer lines than the photo.
    issue = make_project(tmp_path)
    photo = add_photo(issue)
    write_article(issue, "short", body(60, seed=1), images=[{"file": photo, "columns": 2, "depth": "60mm"}])
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "short", "columns": 3, "column": 1, "top": "foot"}]}]})
    _, composition = fit_issue(Project(tmp_path), "test-issue")
    (row,) = composition.slots
    lines = 60 * MM / _paper(tmp_path).leading
    assert row.depth >= lines and row.over == 0, row
    assert not [n for n in composition.notes if "its photo is" in n], composition.notes
