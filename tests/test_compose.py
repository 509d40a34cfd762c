"""The composer: text reaches the page, overset is caught and measured, jumps keep every word."""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys

import pdfplumber
import pytest
from factory import (
    add_photo,
    body,
    copy_project,
    make_project,
    process_env,
    simple_issue,
    write_article,
    write_manifest,
)
from pdftext import body_baselines, chars, letters, page_texts
from pypdf import PdfReader

from layout.build import Project, compose_issue, fit_issue
from layout.errors import OversetError

MM = 72 / 25.4


def _fit(root, issue_id="test-issue"):
    return json.loads((root / "build" / issue_id / "fit.json").read_text())


def _slot(fit, slot_id):
    return next(s for s in fit["slots"] if s["slot_id"] == slot_id)


def test_every_word_reaches_the_page_in_order(tmp_path):
    issue = simple_issue(tmp_path, {"lead": 400, "second": 200}, columns={"lead": 3, "second": 2})
    result = compose_issue(Project(tmp_path), "test-issue")
    (text,) = page_texts(result.issue_pdf)
    for slug in ("lead", "second"):
        source = (issue / "articles" / f"{slug}.md").read_text().split("---\n", 2)[2]
        assert letters(source) in letters(text)


def test_page_boxes_are_the_trim_and_fonts_are_embedded(tmp_path):
    simple_issue(tmp_path, {"story": 150})
    result = compose_issue(Project(tmp_path), "test-issue")
    page = PdfReader(result.issue_pdf).pages[0]
    trim = [float(v) for v in page.trimbox]
    assert trim[2] - trim[0] == pytest.approx(280 * MM, abs=0.01)
    assert trim[3] - trim[1] == pytest.approx(430 * MM, abs=0.01)
    resources = [page["/Resources"]]  # the page's own, and those of the forms its columns are drawn in
    resources += [x.get_object()["/Resources"] for x in page["/Resources"]["/XObject"].values()
                  if x.get_object()["/Subtype"] == "/Form"]
    names = set()
    for ref in (ref for r in resources for ref in r.get_object().get("/Font", {}).values()):
        font = ref.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, font["/BaseFont"]
        names.add(str(font["/BaseFont"]).split("+", 1)[1])
    assert "NW-Text" in names and all(n.startswith("NW-") for n in names), names  # NW-Text: the body


def test_overset_is_measured_in_lines_and_fails_the_run(tmp_path):
    # First learn how many lines each story takes in one column, then allot 10 lines too few / too many.
    simple_issue(tmp_path / "probe", {"long": 180, "short": 120}, columns={"long": 1, "short": 1})
    natural = {s.slug: s.used for s in fit_issue(Project(tmp_path / "probe"), "test-issue")[1].slots}  # (no plates)
    simple_issue(tmp_path, {"long": 180, "short": 120}, columns={"long": 1, "short": 1},
                 depth={"long": natural["long"] - 10, "short": natural["short"] + 10})
    with pytest.raises(OversetError) as caught:
        compose_issue(Project(tmp_path), "test-issue")
    fit = _fit(tmp_path)
    assert _slot(fit, "long")["over"] == pytest.approx(10, abs=1)
    assert _slot(fit, "short")["short"] == pytest.approx(10, abs=1)
    assert _slot(fit, "short")["over"] == 0
    assert fit["overset"] == ["long"]
    assert "page 1, first slot (long)" in str(caught.value) and "lines) over" in str(caught.value)
    assert (tmp_path / "build" / "test-issue" / "test-issue.pdf").exists()  # the proof is still written
    assert any(s.startswith("cut ") for s in _slot(fit, "long")["suggestions"])


def test_overset_without_worker_processes_is_overset_in_a_fresh_process(tmp_path):
    # On one core (LAYOUT_WORKERS=1) nothing has loaded what the workers' errors are caught by: the
    # overset must still be an OversetError, not an AttributeError from the except clause.
    simple_issue(tmp_path, {"huge": 300}, columns={"huge": 1}, depth={"huge": 10})
    script = ("import sys\nfrom pathlib import Path\nfrom layout.build import Project, compose_issue\n"
              "from layout.errors import OversetError\n"
              "try:\n    compose_issue(Project(Path(sys.argv[1])), 'test-issue')\n"
              "except OversetError as e:\n    print('overset', e.exit_code)\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                          env=process_env(LAYOUT_WORKERS="1"))
    assert done.stdout == "overset 3\n", done.stderr[-2000:]


def test_overset_on_the_command_line(tmp_path, run_cli):
    simple_issue(tmp_path, {"huge": 600}, columns={"huge": 2}, depth={"huge": 30})
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 3
    assert "page 1, first slot (huge):" in err and "lines) over" in err
    assert "Traceback" not in err


def _jump_issue(root, continuation_page: int, pages: int = 3):
    issue = make_project(root)
    write_article(issue, "lead", body(900, seed=3), headline="The lead story jumps inside")
    for n in range(pages):
        write_article(issue, f"filler-{n}", body(150, seed=10 + n))
    layout = []
    for number in range(1, pages + 1):
        slots = [{"slug": f"filler-{number - 1}", "columns": 2}]
        if number == 1:
            slots.insert(0, {"slug": "lead", "columns": 3, "depth": 30, "jump": continuation_page})
        if number == continuation_page:
            slots.append({"continued": "lead", "columns": 3})
        layout.append({"page": number, "template": "front" if number == 1 else "inside", "articles": slots})
    write_manifest(issue, {"pages": layout})
    return issue


@pytest.fixture(scope="module")
def jumped(tmp_path_factory):
    """``_jump_issue(root, 2, pages=3)``, composed once for the tests that start from it (read it,
    never change it: copy it first): (project root, BuildResult of its first, cold compose)."""
    root = tmp_path_factory.mktemp("jumped")
    _jump_issue(root, 2, pages=3)
    return root, compose_issue(Project(root), "test-issue")


@pytest.mark.parametrize("target", [2, 3])
def test_jump_lines_follow_the_continuation(jumped, tmp_path, target):
    if target == 2:  # the module's issue, as composed
        root, result = jumped
        issue = root / "issues" / "test-issue"
    else:  # its copy, the continuation moved to page 3
        root = tmp_path
        issue = _jump_issue(copy_project(jumped[0], root), target)
        result = compose_issue(Project(root), "test-issue")
    texts = page_texts(result.issue_pdf)
    assert f"Continued on page {target}" in texts[0]
    assert "Continued from page 1" in texts[target - 1]
    others = [t for i, t in enumerate(texts) if i not in (0, target - 1)]
    assert not any("Continued" in t for t in others)
    # No word lost or repeated across the jump: the two parts make up the article exactly.
    source = letters((issue / "articles" / "lead.md").read_text().split("---\n", 2)[2])
    fit = _fit(root)
    assert _slot(fit, "lead")["jump_to"] == target and _slot(fit, "cont-lead")["continued_from"] == 1
    assert _slot(fit, "lead")["over"] == 0 and _slot(fit, "cont-lead")["over"] == 0
    first, rest = letters(texts[0]), letters(texts[target - 1])
    cut = next(i for i in range(len(source), 0, -1) if source[:i] in first)
    assert source[cut:] in rest
    assert cut > len(source) // 4  # a real share of the story stayed on the front page


def test_baselines_share_one_grid_across_columns_and_slots(tmp_path):
    issue = make_project(tmp_path)
    write_article(issue, "a", "## A crosshead\n\n" + body(300, seed=1), headline="Short head",
                  standfirst="A standfirst that takes a line or two under the headline")
    write_article(issue, "b", body(200, seed=2) + "\n> A pull quote in the middle of it\n\n" + body(150, seed=4),
                  headline="A much longer headline that wraps over two or three lines here", kicker="News")
    write_article(issue, "c", body(250, seed=5), headline="Third")
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "a", "columns": 3}, {"slug": "b", "columns": 2}, {"slug": "c", "columns": 5}]}]})
    result = compose_issue(Project(tmp_path), "test-issue")
    (baselines,) = body_baselines(result.issue_pdf)
    assert len(baselines) > 40
    leading = 10.5
    offsets = [((y - baselines[0]) / leading) % 1 for y in baselines]
    assert all(min(o, 1 - o) * leading < 0.5 for o in offsets), offsets


def test_a_wrapping_front_page_headline_is_never_clipped(tmp_path):
    # The front page sets a 5-column headline bigger than inside pages: it must be measured as such.
    issue = make_project(tmp_path)
    headline = "Russians makes goodwill gesture as talks resume in Istanbul"
    write_article(issue, "lead", body(300), headline=headline, byline="by our correspondent")
    write_manifest(issue, {"pages": [{"page": 1, "template": "front", "articles": [{"slug": "lead"}]}]})
    result = compose_issue(Project(tmp_path), "test-issue")
    (text,) = page_texts(result.issue_pdf)
    assert letters(headline) in letters(text)
    # Clipped text would still be in the content stream: check the geometry instead. The headline's
    # last word, the byline and the first body line must come in that order down the page.
    words = pdfplumber.utils.extract_words(list(chars(result.issue_pdf)[0]), extra_attrs=["fontname", "size"])
    (last_head,) = [w for w in words if w["text"] == "Istanbul"]
    (byline,) = [w for w in words if w["text"] == "CORRESPONDENT"]
    body_top = min(w["top"] for w in words if "NW-Text" in w["fontname"] and abs(w["size"] - 9) < 0.01)
    assert last_head["top"] + 0.7 * last_head["size"] < byline["top"]  # below the head's baseline area
    assert byline["bottom"] <= body_top


def test_proof_marks_overset_but_print_output_never_does(tmp_path):
    simple_issue(tmp_path, {"long": 600, "fine": 80}, columns={"long": 2, "fine": 3}, depth={"long": 20})
    with pytest.raises(OversetError):
        compose_issue(Project(tmp_path), "test-issue")
    out = tmp_path / "build" / "test-issue"
    over = _slot(_fit(tmp_path), "long")["over"]
    (proof,) = page_texts(out / "test-issue-proof.pdf")
    (printed,) = page_texts(out / "test-issue.pdf")
    assert f"OVERSET +{over} lines: long" in proof
    assert "OVERSET" not in printed and "HOLE" not in printed


def test_fit_command_prints_the_table_and_suggestions(tmp_path, run_cli):
    simple_issue(tmp_path, {"long": 600}, columns={"long": 2}, depth={"long": 20})
    code, out, _ = run_cli("fit", "test-issue", root=tmp_path)
    assert code == 3
    assert "p1    long" in out and "OVER +" in out
    assert "to fit p1 long" in out and "cut about " in out and ": then it fits" in out
    assert not (tmp_path / "build" / "test-issue" / "test-issue.pdf").exists()


def test_watch_recomposes_after_a_save(tmp_path):
    import threading
    import time

    from layout.commands.watch import watch

    issue = simple_issue(tmp_path, {"story": 120})
    lines: list[str] = []
    thread = threading.Thread(target=watch, args=(Project(tmp_path), "test-issue", lines.append, 0.1, 2))
    thread.start()
    for _ in range(300):
        if lines:
            break
        time.sleep(0.05)
    write_article(issue, "story", body(140, seed=9), headline="Edited headline")
    thread.join(timeout=60)
    assert len(lines) == 2 and "start: 1 pages composed" in lines[0]
    assert "story.md: 1 pages composed" in lines[1]
    # under each round's line, a line for each slot over or short, each hole and each warning
    assert "\n  warning: the issue has 1 pages: a newspaper is printed in multiples of 4 (add or remove pages " \
           "in pages: to make 4)" in lines[1]
    assert "Edited headline" in page_texts(tmp_path / "build" / "test-issue" / "test-issue.pdf")[0]
    # Called from a library, watch leaves the process a one-off compose again, holding nothing.
    from layout.base import cache
    from layout.rendering import workers

    assert not cache.holds_entries() and not cache._HELD and not workers._KEPT


def test_recompose_lays_out_only_the_pages_an_edit_touches(jumped, tmp_path):
    first = jumped[1]  # the module's issue's first compose; this test works on a copy
    issue = copy_project(jumped[0], tmp_path) / "issues" / "test-issue"
    assert first.laid_out >= 6  # 3 galley sheets + 3 pages at least
    again = compose_issue(Project(tmp_path), "test-issue")
    assert again.laid_out == 0  # nothing changed: every page from the cache
    write_article(issue, "filler-2", body(160, seed=99))  # only page 3 changes
    edited = compose_issue(Project(tmp_path), "test-issue")
    assert edited.laid_out in (1, 2, 3)  # filler-2's galley; page 3 if a placement moved (again if it regrew)
    assert page_texts(edited.issue_pdf)[:2] == page_texts(first.issue_pdf)[:2]
    squash = functools.partial(re.sub, r"[\s\-\u2010\u00ad]", "")  # spaces, and hyphens at line ends
    assert squash("".join(body(160, seed=99).split()[:8])) in squash(page_texts(edited.issue_pdf)[2])  # not stale
    # Moving the continuation re-lays the front page too: its jump line must follow.
    _jump_issue(tmp_path, 3, pages=3)
    moved = compose_issue(Project(tmp_path), "test-issue")
    texts = page_texts(moved.issue_pdf)
    assert "Continued on page 3" in texts[0] and "Continued from page 1" in texts[2]


def test_a_recompose_from_the_caches_gives_the_bytes_of_a_clean_compose(jumped, tmp_path):
    issue = copy_project(jumped[0], tmp_path) / "issues" / "test-issue"  # composed once (times kept)
    out = tmp_path / "build" / "test-issue"
    plates, proofs = out / "plates", out / "proofs"

    def outputs():
        return {p.name: p.read_bytes() for p in [*plates.glob("*.pdf"), *proofs.glob("*.png")]}

    before, fit = outputs(), (out / "fit.json").read_bytes()
    proof_p01 = (proofs / "p01.png").stat()
    write_article(issue, "filler-2", body(160, seed=99))  # page 3 only
    compose_issue(Project(tmp_path), "test-issue")
    after = outputs()
    assert (out / "fit.json").read_bytes() != fit  # so the flat plan is drawn again
    assert after["test-issue-p01.pdf"] == before["test-issue-p01.pdf"]  # a plate whose page did not change
    assert after["test-issue-p03.pdf"] != before["test-issue-p03.pdf"]
    assert after["p03.png"] != before["p03.png"] and after["flatplan.png"] != before["flatplan.png"]
    # An unchanged page's proof is not rendered or written again.
    assert (proofs / "p01.png").stat().st_mtime_ns == proof_p01.st_mtime_ns
    shutil.rmtree(tmp_path / "build")
    compose_issue(Project(tmp_path), "test-issue")
    assert outputs() == after


def test_a_new_version_of_what_shapes_output_makes_its_plates_again_with_the_same_bytes(tmp_path, monkeypatch):
    # The plates' identity (inputsSHA256, document IDs) is their sources'; what is cached by it is also
    # keyed by the versions of layout's own code and what it runs on (the cache's salt), so that
    # another version never publishes what an older one made.
    import layout.base.cache

    simple_issue(tmp_path, {"story": 160, "other": 120}, columns={"story": 3, "other": 2})
    out, cache = tmp_path / "build" / "test-issue", tmp_path / "build" / ".cache"
    first = compose_issue(Project(tmp_path), "test-issue")
    before = {p.name: p.read_bytes() for p in (out / "plates").glob("*.pdf")}
    kept = set((cache / "plate").iterdir())
    versions = {**layout.base.cache.versions(), "libpango-1.0.so.0": "libpango-1.0.so.0.5200.0"}  # Pango upgraded
    monkeypatch.setattr(layout.base.cache, "versions", lambda: versions)
    again = compose_issue(Project(tmp_path), "test-issue")
    made = set((cache / "plate").iterdir()) - kept
    assert kept and len(made) == len(kept)  # every plate made again, under keys of the new version
    assert again.laid_out == first.laid_out and again.cached == first.cached  # every page laid out again
    assert {p.name: p.read_bytes() for p in (out / "plates").glob("*.pdf")} == before


def test_a_slot_left_without_room_is_overset_not_dropped(tmp_path):
    issue = make_project(tmp_path)
    write_article(issue, "filler", body(200, seed=1))
    write_article(issue, "squeezed", body(120, seed=2))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "filler", "columns": 5, "depth": "foot"}, {"slug": "squeezed", "columns": 2}]}]})
    with pytest.raises(OversetError) as caught:
        compose_issue(Project(tmp_path), "test-issue")
    assert "squeezed" in str(caught.value)
    squeezed = _slot(_fit(tmp_path), "squeezed")
    assert squeezed["depth"] == 0 and squeezed["over"] > 10
    assert len(PdfReader(tmp_path / "build" / "test-issue" / "test-issue.pdf").pages) == 1


def test_captions_get_typographic_quotes_and_dashes_from_a_cold_or_cached_conversion(tmp_path):
    issue = make_project(tmp_path)
    photo = add_photo(issue)
    write_article(issue, "lead", body(220, seed=1), headline="Lead story",
                  images=[{"file": photo, "caption": "\"Docks\" -- the 'last' stand...", "credit": "T"}])
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "lead", "columns": 3}]}]})
    for _ in range(2):  # converted, then read back from the cache of conversions
        result = compose_issue(Project(tmp_path), "test-issue")
        assert "\u201cDocks\u201d \u2013 the \u2018last\u2019 stand\u2026" in page_texts(result.issue_pdf)[0]
