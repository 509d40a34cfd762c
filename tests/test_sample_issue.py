"""The sample issue, end to end: golden page text, the seed lead word for word, grid, boxes, fonts.

The golden text in tests/golden/ is the normalised text of each page. After an intended change to
the composer, the stylesheet or the sample copy, regenerate it with
``UPDATE_GOLDEN=1 python -m pytest tests/test_sample_issue.py`` and review the diff.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from factory import REPO, one_pass_pdf
from pdftext import body_baselines, letters, page_texts, same_places, word_places
from pypdf import PdfReader

from layout.press.paint import read_paint, rendered_inks
from layout.reading.articles import split_front_matter

ISSUE = "issue-2022-04-01"
GOLDEN = Path(__file__).parent / "golden" / ISSUE
SEED = Path(__file__).parent / "golden" / "seed-lead-2022-04-01.txt"
"""A copy of ../shared/seed/new-worker-2022-04-01-lead.txt, the lead as the paper ran it."""
SHARED_SEED = REPO.parent / "shared" / "seed" / "new-worker-2022-04-01-lead.txt"
MM = 72 / 25.4


@pytest.fixture
def sample(composed_sample):
    """A copy of the sample issue, composed once for the session (conftest.py): read it only."""
    return composed_sample


def _normalise(text: str) -> str:
    return "\n".join(re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if line.strip()) + "\n"


def test_golden_page_text(sample):
    _, result = sample
    texts = [_normalise(t) for t in page_texts(result.issue_pdf)]
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for old in GOLDEN.glob("p*.txt"):
            old.unlink()
        for number, text in enumerate(texts, start=1):
            (GOLDEN / f"p{number:02d}.txt").write_text(text, encoding="utf-8")
    golden = sorted(GOLDEN.glob("p*.txt"))
    assert [p.name for p in golden] == [f"p{n:02d}.txt" for n in range(1, len(texts) + 1)]
    for path, text in zip(golden, texts):
        assert text == path.read_text(encoding="utf-8"), f"{path.name} differs from the golden text"


def test_composes_four_tabloid_pages_with_no_overset_or_holes(sample):
    root, result = sample
    reader = PdfReader(result.issue_pdf)
    assert len(reader.pages) == 4
    for page in reader.pages:
        box = [float(v) for v in page.trimbox]
        assert (box[2] - box[0], box[3] - box[1]) == pytest.approx((280 * MM, 430 * MM), abs=0.01)
    assert result.composition.overset == ()
    assert not result.composition.notes, result.composition.notes  # no warnings: sample copy is what staff copy
    assert all(s.short <= 2 for s in result.composition.slots), [
        (s.slot_id, s.short) for s in result.composition.slots if s.short > 2]


def test_the_seed_copy_is_the_shared_seed():
    if SHARED_SEED.exists():  # beside the repository on developers' machines and in CI
        assert SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_the_seed_article_is_the_seed_word_for_word():
    paragraphs = [p.strip() for p in SEED.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    article = (REPO / "issues" / ISSUE / "articles" / "russians-goodwill-gesture.md").read_text(encoding="utf-8")
    front, body, _ = split_front_matter(article, "lead")
    assert f"headline: {paragraphs[2]}" in front and f"byline: {paragraphs[3]}" in front
    assert body.strip().split("\n\n") == paragraphs[4:]


def test_the_seed_lead_runs_word_for_word_and_jumps_to_page_3(sample):
    _, result = sample
    paragraphs = [p.strip() for p in SEED.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    headline, byline, body = paragraphs[2], paragraphs[3], paragraphs[4:]
    texts = page_texts(result.issue_pdf)
    front, inside = letters(texts[0]), letters(texts[2])
    assert letters("New Worker") in front and letters(paragraphs[1]) in front  # nameplate and tagline
    assert letters(headline) in front and letters(byline) in front
    story = letters(" ".join(body))
    cut = max(i for i in range(len(story) + 1) if story[:i] in front)
    assert cut > len(story) // 2, "most of the lead belongs on the front page"
    assert story[cut:] in inside, "the rest of the lead continues on page 3"
    assert "Continued on page 3" in texts[0] and "Continued from page 1" in texts[2]


def test_every_article_is_on_the_page_in_full(sample):
    root, result = sample
    texts = [letters(t) for t in page_texts(result.issue_pdf)]
    issue = root / "issues" / ISSUE
    for page in result.issue.pages:
        for slot in page.slots:
            if slot.continued:
                continue
            _, body, _ = split_front_matter((issue / "articles" / f"{slot.slug}.md").read_text(), slot.slug)
            source = letters(re.sub(r"^#+ |^> |\*", "", body, flags=re.M))
            pages = [texts[page.number - 1]] + ([texts[slot.jump - 1]] if slot.jump else [])
            if slot.jump:
                cut = max(i for i in range(len(source) + 1) if source[:i] in pages[0])
                assert source[cut:] in pages[1], slot.slug
            else:
                assert source in pages[0], slot.slug


def test_baselines_align_across_every_column_of_every_page(sample):
    _, result = sample
    for number, baselines in enumerate(body_baselines(result.issue_pdf), start=1):
        assert len(baselines) > 50, number
        offsets = [((y - baselines[0]) / 10.5) % 1 for y in baselines]
        worst = max(min(o, 1 - o) * 10.5 for o in offsets)
        assert worst < 0.5, f"page {number}: a body line is {worst:.2f} pt off the grid"


def test_fonts_are_the_papers_and_all_embedded(sample):
    _, result = sample
    reader = PdfReader(result.issue_pdf)
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            name = str(font["/BaseFont"])
            assert re.match(r"^/[A-Z]{6}\+NW-", name), name  # subset of one of our faces
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, name


def test_every_page_sets_every_word_where_css_multicolumn_layout_would(sample):
    """The plates are drawn from galleys; WeasyPrint's own multi-column layout of the same composition
    (the one-pass HTML) must put every word of every page in the same place."""
    root, result = sample
    multicol = one_pass_pdf(root, ISSUE)
    ours, theirs = word_places(result.issue_pdf.read_bytes()), word_places(multicol)
    assert len(ours) == len(theirs) == 4
    for number, (page, reference) in enumerate(zip(ours, theirs), start=1):
        assert sum(len(xs) for xs in page.values()) > 900, number
        assert same_places(page, reference), f"page {number}"


def test_each_font_subset_has_a_name_of_its_own(sample):
    """Two different subsets of one font (a page's and a galley's) never share a tagged name."""
    root, _ = sample
    programs: dict[str, set[str]] = {}
    for plate in sorted((root / "build" / ISSUE / "plates").glob(f"{ISSUE}-p*.pdf")):
        page = PdfReader(plate).pages[0]
        forms = [x.get_object() for x in page["/Resources"]["/XObject"].values()]
        resources = [page["/Resources"]] + [x["/Resources"] for x in forms if x["/Subtype"] == "/Form"]
        for ref in (ref for r in resources for ref in r.get_object().get("/Font", {}).values()):
            font = ref.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            data = descriptor["/FontFile2"].get_object().get_data()
            assert str(descriptor["/FontName"]) == str(font["/BaseFont"])
            programs.setdefault(str(font["/BaseFont"]), set()).add(hashlib.sha256(data).hexdigest())
    assert len(programs) > 10
    assert all(len(found) == 1 for found in programs.values()), programs


def test_preflight_reads_the_plates_as_ghostscript_and_poppler_do(sample):
    """Ink, image resolution and type read from the plates' objects agree with Ghostscript's CMYK
    rendering and poppler's image list: the nameplate's red is the darkest ink (200%)."""
    root, _ = sample
    plates = sorted((root / "build" / ISSUE / "plates").glob(f"{ISSUE}-p*.pdf"))
    assert len(plates) == 4
    rendered = rendered_inks(plates) if shutil.which("gs") else [None] * len(plates)
    for plate, ink in zip(plates, rendered):
        paint = read_paint(plate)
        assert paint.ink is not None and paint.rgb == ()
        if ink is not None:
            assert paint.ink == pytest.approx(ink, abs=1.0)
        listed = subprocess.run(["pdfimages", "-list", str(plate)], capture_output=True, text=True, check=True)
        ppis = [min(float(row.split()[12]), float(row.split()[13])) for row in listed.stdout.splitlines()[2:]]
        assert [round(ppi) for _, ppi in paint.images] == pytest.approx(ppis, abs=1)
    assert read_paint(plates[0]).ink == pytest.approx(200) and read_paint(plates[0]).images


def test_the_sample_photos_keep_to_the_paper_tone_range_measured_from_the_plates(sample):
    """Every photo on the plates, decoded from the PDF's own image data (poppler's pdfimages, not
    layout's reader): no dot darker than photo_shadow, none lighter than photo_highlight."""
    from PIL import Image

    from layout.reading.settings import load_settings

    root, _ = sample
    paper = load_settings(root / "issues" / "paper.yaml")
    out = root / "pdfimages"
    out.mkdir()
    for plate in sorted((root / "build" / ISSUE / "plates").glob(f"{ISSUE}-p*.pdf")):
        subprocess.run(["pdfimages", "-all", str(plate), str(out / plate.stem)], check=True)
    pictures = sorted(out.iterdir())
    assert len(pictures) == 7  # the sample's seven photos
    for picture in pictures:
        with Image.open(picture) as image:
            assert image.mode == "L"
            darkest, lightest = image.getextrema()
        assert 100 * (1 - darkest / 255) <= paper.photo_shadow, picture.name
        assert 100 * (1 - lightest / 255) >= paper.photo_highlight, picture.name


def test_every_sample_plate_passes_the_independent_pdfx_checklist(sample):
    """tests/pdfx_checklist.py (ISO 15930-4, written apart from preflight) on each plate and the
    whole issue."""
    from pdfx_checklist import check

    root, _ = sample
    plates = sorted((root / "build" / ISSUE / "plates").glob(f"{ISSUE}*.pdf"))
    assert len(plates) == 5
    for plate in plates:
        assert check(plate) == [], plate.name
