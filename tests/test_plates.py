"""Printer output: PDF/X plates per page and a preflight that fails loudly, from the PDFs themselves."""

from __future__ import annotations

import json
import math
import shutil
import subprocess

import pikepdf
import pytest
from factory import body, copy_project, make_project, simple_issue, write_article, write_manifest
from fontTools.ttLib import TTFont
from pdftext import metadata_once
from PIL import Image
from pypdf import PdfReader

from layout.build import Project, compose_issue
from layout.errors import PreflightError
from layout.press.paint import read_paint

MM = 72 / 25.4


def _compose(root):
    return compose_issue(Project(root), "test-issue")


def _failing(root) -> list[str]:
    with pytest.raises(PreflightError) as caught:
        _compose(root)
    assert (root / "build" / "test-issue" / "plates-draft").is_dir()
    assert not (root / "build" / "test-issue" / "plates").exists()
    return [f"{p.key}: {p.message}" for p in caught.value.problems]


def _two_pages(root, paper=None):
    issue = make_project(root, paper=paper)
    write_article(issue, "one", body(250, seed=1), headline="First page story")
    write_article(issue, "two", body(250, seed=2), headline="Second page story")
    write_manifest(issue, {"pages": [{"page": 1, "template": "front", "articles": [{"slug": "one"}]},
                                     {"page": 2, "template": "back", "articles": [{"slug": "two"}]}]})
    return issue


@pytest.fixture(scope="module")
def two_pages(tmp_path_factory):
    """The two-page issue with the default paper, composed once for the tests that read its plates
    (read it, never change it: copy it first): (project root, BuildResult)."""
    root = tmp_path_factory.mktemp("two-pages")
    _two_pages(root)
    return root, _compose(root)


def test_one_pdfx_plate_per_page_with_boxes_intent_and_metadata(two_pages):
    root, result = two_pages
    plates = root / "build" / "test-issue" / "plates"
    assert result.plates == plates
    names = sorted(p.name for p in plates.glob("*.pdf"))
    assert names == ["test-issue-p01.pdf", "test-issue-p02.pdf", "test-issue.pdf"]
    for number in (1, 2):
        reader = PdfReader(plates / f"test-issue-p{number:02d}.pdf")
        assert reader.pdf_header == "%PDF-1.4"
        (page,) = reader.pages
        trim = [float(v) for v in page.trimbox]
        assert (trim[2] - trim[0], trim[3] - trim[1]) == pytest.approx((280 * MM, 430 * MM), abs=0.01)
        assert [float(v) for v in page.mediabox] == pytest.approx(trim, abs=0.01)  # no bleed by default
        info = reader.metadata
        assert info["/GTS_PDFXVersion"] == "PDF/X-1a:2003"
        assert info.title == f"New Worker No. 1, Friday 1 April 2022, page {number}"
        assert info["/CreationDate"] == "D:20220401000000Z"
        (intent,) = reader.trailer["/Root"]["/OutputIntents"]
        intent = intent.get_object()
        assert intent["/S"] == "/GTS_PDFX" and intent["/OutputConditionIdentifier"] == "WAN-IFRAnewspaper26v5"
        xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
        assert "<layout:inputsSHA256>" in xmp and f"<layout:page>{number}</layout:page>" in xmp
    report = json.loads((root / "build" / "test-issue" / "preflight.json").read_text())
    assert report["passed"] and report["errors"] == 0
    # The type sizes read from the content streams agree with pypdf's text visitor.
    sizes = []

    def visit(text, cm, tm, font, size):  # noqa: ANN001, ANN202
        if text.strip() and size:
            sizes.append(size * math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3]))

    PdfReader(plates / "test-issue-p02.pdf").pages[0].extract_text(visitor_text=visit)
    smallest = read_paint(plates / "test-issue-p02.pdf").smallest_type
    assert smallest == pytest.approx(min(sizes)) == pytest.approx(7.0, abs=0.01)


def test_plates_read_cleanly_in_poppler_and_qpdf(two_pages):
    root, _ = two_pages
    plate = root / "build" / "test-issue" / "plates" / "test-issue-p01.pdf"
    if shutil.which("qpdf"):
        assert subprocess.run(["qpdf", "--check", str(plate)], capture_output=True).returncode == 0
    fonts = subprocess.run(["pdffonts", str(plate)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes yes " in row for row in rows), fonts


def test_bleed_and_crop_marks_are_settings(tmp_path):
    _two_pages(tmp_path, paper={"bleed": "3mm", "crop_marks": True})
    _compose(tmp_path)
    page = PdfReader(tmp_path / "build" / "test-issue" / "plates" / "test-issue-p01.pdf").pages[0]
    bleed = [float(v) for v in page.bleedbox]
    assert bleed[2] - bleed[0] == pytest.approx(286 * MM, abs=0.1)
    media = [float(v) for v in page.mediabox]
    assert media[2] - media[0] > bleed[2] - bleed[0] + 20 * MM  # room for the crop marks
    assert b"1 1 1 1 K" in page.get_contents().get_data()  # marks in registration colour


def test_pdfx4_is_a_setting(tmp_path):
    _two_pages(tmp_path, paper={"pdfx": "x-4"})
    _compose(tmp_path)
    reader = PdfReader(tmp_path / "build" / "test-issue" / "plates" / "test-issue-p01.pdf")
    assert reader.metadata["/GTS_PDFXVersion"] == "PDF/X-4"
    assert "uuid:" in reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()


def test_an_rgb_image_fails_preflight(tmp_path):
    issue = simple_issue(tmp_path, {"story": 150})
    Image.new("RGB", (300, 300), (200, 30, 30)).save(tmp_path / "stylesheets" / "logo.png")
    with open(tmp_path / "stylesheets" / "newspaper.css", "a") as css:
        css.write("\n.folio { background: url(logo.png) no-repeat; background-size: 20pt 20pt; }\n")
    assert issue.exists()
    problems = _failing(tmp_path)
    assert any(p.startswith("colour: page 1: image") and "is RGB" in p for p in problems), problems


def test_an_rgb_colour_in_a_stylesheet_fails_preflight(tmp_path):
    simple_issue(tmp_path, {"story": 150})
    with open(tmp_path / "stylesheets" / "newspaper.css", "a") as css:
        css.write("\n.headline { color: rgb(200, 0, 0); }\n")
    problems = _failing(tmp_path)
    assert "colour: page 1: RGB colour in the page content (rg)" in problems, problems


def test_a_72_ppi_photo_fails_preflight(tmp_path):
    issue = make_project(tmp_path)
    (issue / "images").mkdir()
    Image.effect_noise((300, 200), 50).save(issue / "images" / "small.jpg")
    write_article(issue, "story", body(200), images=[{"file": "images/small.jpg", "caption": "Too small"}])
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "story", "columns": 5}]}]})
    problems = _failing(tmp_path)
    # Named by the photo's file and its article, not by plate and page alone.
    assert problems == ["image resolution: page 1: photo images/small.jpg (article story) prints at 30 ppi, "
                        "below 200 ppi"], problems


def test_a_font_that_forbids_embedding_fails_preflight(tmp_path):
    simple_issue(tmp_path, {"story": 150})
    font = TTFont(tmp_path / "fonts" / "PTS55F.ttf")
    font["OS/2"].fsType = 2  # restricted licence embedding
    font.save(tmp_path / "fonts" / "restricted.ttf")
    with open(tmp_path / "stylesheets" / "newspaper.css", "a") as css:
        css.write('\n@font-face { font-family: "Restricted"; src: url(../fonts/restricted.ttf); }\n'
                  '.byline, .headline { font-family: "Restricted"; }\n')
    problems = _failing(tmp_path)
    assert any("licence forbids embedding" in p for p in problems), problems


def test_check_command_rechecks_existing_plates(two_pages, tmp_path, run_cli):
    copy_project(two_pages[0], tmp_path)  # composed once
    code, out, _ = run_cli("check", "test-issue", root=tmp_path)
    assert code == 0, out
    assert "preflight: passed" in out and "ok    fonts: every font embedded" in out
    code, _, err = run_cli("check", "no-such-issue", root=tmp_path)
    assert code == 2 and 'no issue "no-such-issue"' in err


def test_each_document_carries_its_metadata_once(two_pages):
    """A plate and the issue each hold one XMP packet and one document information dictionary (no
    packet of WeasyPrint's left beside ours, no second copy of the Info, nothing that nothing refers
    to), all saying the same producer: WeasyPrint, pikepdf (the drawing, the joining), pypdf (the
    finishing)."""
    root, _ = two_pages
    producers = set()
    paths = sorted((root / "build" / "test-issue" / "plates").glob("*.pdf"))
    assert len(paths) == 3
    for path in paths:
        with pikepdf.open(path) as pdf:
            producers.add(metadata_once(pdf, path.name))
    assert producers == {"WeasyPrint 70.0, pikepdf, pypdf"}
