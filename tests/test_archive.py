"""The archive: a BagIt bag a national library would ingest (PDF/A-3b, METS with MODS, ALTO and an
image per page), that a rebuild gives byte for byte and that ``layout verify`` holds to account.

One small synthetic issue is composed and archived once for most tests (two pages, a photo, a story
jumped from page 1 to page 2, links in the copy); the sample issue is archived once at the end."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import bagit
import pdfplumber
import pikepdf
import pytest
from factory import REPO, add_photo, body, copy_project, make_project, process_env, write_article, write_manifest
from lxml import etree
from pdftext import drawing, flow_words, metadata_once
from PIL import Image
from pypdf import PdfReader

from layout.archive.alto import plate_words
from layout.archive.pdfa import check_pdfa
from layout.build import Project, compose_issue
from layout.commands.archive import archive_issue, check_contents
from layout.errors import InputError
from layout.reading.settings import load_settings

ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"
METS = {"m": "http://www.loc.gov/METS/", "mods": "http://www.loc.gov/mods/v3", "x": "http://www.w3.org/1999/xlink"}
SCHEMAS = REPO / "layout" / "archive" / "schemas"
SHARED_SCHEMAS = REPO.parent / "shared" / "schemas"
MM = 72 / 25.4
PAPER = {"issn": "1234-5679", "volume": 42}


def _issue(root):
    issue = make_project(root, paper=PAPER)
    write_article(issue, "lead", body(1100, seed=1), headline="Lead story", kicker="Unions",
                  images=[{"file": add_photo(issue), "caption": "Cranes at the docks", "credit": "Test"}])
    write_article(issue, "second", body(200, seed=2) + "\nSee [the site](http://example.com), [a file](file:///etc/passwd)"
                  " and [this](javascript:alert(1)).\n", headline="Second story")
    write_article(issue, "second-page", body(250, seed=3), headline="Back page")
    write_manifest(issue, {"pages": [
        {"page": 1, "template": "front",
         "articles": [{"slug": "lead", "columns": 3, "depth": 30, "jump": 2}, {"slug": "second", "columns": 2}]},
        {"page": 2, "template": "back",
         "articles": [{"continued": "lead", "columns": 2}, {"slug": "second-page", "columns": 3}]}]})
    return issue


@pytest.fixture(scope="module")
def archived(tmp_path_factory):
    """The synthetic issue, composed and archived once (under the usual umask)."""
    root = tmp_path_factory.mktemp("archived")
    _issue(root)
    mask = os.umask(0o022)
    try:
        compose_issue(Project(root), "test-issue")
        result = archive_issue(Project(root), "test-issue")
    finally:
        os.umask(mask)
    return root, result.path


def _schema(name):
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name), etree.XMLParser(no_network=True)))


def _alto_words(path):
    """(text, x0, top, x1, bottom) in points of every word of an ALTO file, a String and its HYP as one
    word as printed, read with lxml alone."""
    tree = etree.parse(str(path))
    assert tree.findtext(f"{ALTO}Description/{ALTO}MeasurementUnit") == "mm10"
    words = []
    for line in tree.iter(f"{ALTO}TextLine"):
        for element in line:
            x0, top = float(element.get("HPOS")) / 10 * MM, float(element.get("VPOS")) / 10 * MM
            x1 = x0 + float(element.get("WIDTH")) / 10 * MM
            if element.tag == f"{ALTO}HYP":
                text, a, t, _, b = words[-1]
                words[-1] = (text + element.get("CONTENT"), a, t, x1, b)
            elif element.tag == f"{ALTO}String":
                words.append((element.get("CONTENT"), x0, top, x1, top + float(element.get("HEIGHT")) / 10 * MM))
    return words


def _plate_words(plate):
    """pdfplumber's words of a plate, in the order it draws them, and sorted from its default reading;
    held here to layout's own reading (``plate_words``), to the last bit of every box, font and size,
    and every image's box."""
    with pdfplumber.open(plate) as pdf:
        page = pdf.pages[0]
        found = page.extract_words(use_text_flow=True, return_chars=True)
        flow = [(w["text"], w["x0"], w["top"], w["x1"], w["bottom"]) for w in found]
        default = sorted(w["text"] for w in page.extract_words())
        images = [(i["x0"], i["top"], i["x1"], i["bottom"]) for i in page.images]
    words, ours_images, _, _ = plate_words(plate.read_bytes())
    assert [(w.text, w.x0, w.top, w.x1, w.bottom, w.font, w.size) for w in words] == [
        (*f, w["chars"][0]["fontname"], w["chars"][0]["size"]) for f, w in zip(flow, found)]
    assert ours_images == images
    return flow, default, images


def test_bag_is_bagit_1_0_valid_dated_today_and_readable_by_others(archived):
    _, path = archived
    bag = bagit.Bag(str(path))
    assert bag.is_valid() and set(bag.algorithms) == {"sha256", "sha512"}
    assert (path / "bagit.txt").read_text().startswith("BagIt-Version: 1.0\n")
    assert bag.info["Bagging-Date"] == dt.datetime.now(dt.UTC).date().isoformat()
    for item in [path, *path.rglob("*")]:
        mode = stat.S_IMODE(item.stat().st_mode)
        assert mode == (0o755 if item.is_dir() else 0o644), (item, oct(mode))
    names = {str(p.relative_to(path / "data")) for p in (path / "data").rglob("*") if p.is_file()}
    assert names == {"test-issue-archive.pdf", "mets.xml", "metadata.json", "fit.json", "preflight.json",
                     *(f"{d}/test-issue-p0{n}.{e}" for n in (1, 2)
                       for d, e in (("pages", "pdf"), ("alto", "xml"), ("images", "tif")))}


def test_shipped_schemas_are_the_shared_ones():
    if not SHARED_SCHEMAS.is_dir():
        pytest.skip("../shared/schemas is not beside the repository")
    for name in ("alto-4-4.xsd", "mets-1-12-1.xsd", "xlink.xsd"):
        assert (SCHEMAS / name).read_bytes() == (SHARED_SCHEMAS / name).read_bytes(), name


def test_alto_and_mets_validate_against_their_schemas(archived):
    _, path = archived
    alto, mets = _schema("alto-4-4.xsd"), _schema("mets-1-12-1.xsd")
    for page in sorted((path / "data" / "alto").glob("*.xml")):
        alto.assertValid(etree.parse(str(page)))
    mets.assertValid(etree.parse(str(path / "data" / "mets.xml")))


def test_alto_words_are_the_plates_words_in_order_each_box_within_1mm(archived):
    root, path = archived
    for n in (1, 2):
        plate = root / "build" / "test-issue" / "plates" / f"test-issue-p0{n}.pdf"
        flow, default, images = _plate_words(plate)
        assert len(images) == (1 if n == 1 else 0)  # the lead's photo
        words = _alto_words(path / "data" / "alto" / f"test-issue-p0{n}.xml")
        assert len(words) > 300
        assert [w[0] for w in words] == [w[0] for w in flow]
        assert sorted(w[0] for w in words) == default
        worst = max(max(abs(a - b) for a, b in zip(w[1:], p[1:])) for w, p in zip(words, flow))
        assert worst < 1 * MM, f"page {n}: a box is {worst / MM:.2f} mm off"


def test_alto_blocks_are_grouped_by_article_with_roles_styles_hyphens_and_photos(archived):
    _, path = archived
    p1 = etree.parse(str(path / "data" / "alto" / "test-issue-p01.xml"))
    p2 = etree.parse(str(path / "data" / "alto" / "test-issue-p02.xml"))

    def text(block):
        return " ".join(s.get("CONTENT") for s in block.iter(f"{ALTO}String"))

    def blocks(tree, tags):
        return [b for b in tree.iter(f"{ALTO}TextBlock") if set(tags) <= set(b.get("TAGREFS").split())]

    assert [text(b) for b in blocks(p1, ["ART_lead", "ROLE_headline"])] == ["Lead story"]
    assert [text(b) for b in blocks(p1, ["ART_lead", "ROLE_kicker"])] == ["UNIONS"]
    assert [text(b) for b in blocks(p1, ["ART_lead", "ROLE_caption"])] == ["Cranes at the docks TEST"]
    assert [text(b) for b in blocks(p1, ["ART_second", "ROLE_headline"])] == ["Second story"]
    assert len(blocks(p1, ["ART_lead", "ROLE_body"])) == 3  # one block a column
    assert text(blocks(p1, ["ART_lead", "ROLE_jump"])[0]) == "Continued on page 2"
    assert text(blocks(p2, ["ART_lead", "ROLE_jump"])[0]) == "Continued from page 1"
    assert len(blocks(p2, ["ART_lead", "ROLE_body"])) == 2
    tags = {t.get("ID"): t for t in p1.iter(f"{ALTO}StructureTag")}
    assert tags["ART_lead"].get("LABEL") == "lead" and tags["ART_lead"].get("DESCRIPTION") == "Lead story"
    styles = {s.get("ID"): s for s in p1.iter(f"{ALTO}TextStyle")}
    head = next(iter(blocks(p1, ["ART_lead", "ROLE_headline"]))).find(f".//{ALTO}String")
    assert styles[head.get("STYLEREFS")].get("FONTSIZE") == "36"
    assert styles[head.get("STYLEREFS")].get("FONTFAMILY") == "NW Head"
    for block in blocks(p1, ["ROLE_headline"]) + blocks(p1, ["ROLE_caption"]):
        role = next(t for t in block.get("TAGREFS").split() if t.startswith("ROLE_"))[5:]
        assert f"PS_{role}" in block.get("STYLEREFS").split()
    assert {p.get("ID") for p in p1.iter(f"{ALTO}ParagraphStyle")} >= {"PS_headline", "PS_caption", "PS_body"}
    photos = [i for i in p1.iter(f"{ALTO}Illustration") if "ART_lead" in i.get("TAGREFS")]
    assert len(photos) == 1 and float(photos[0].get("WIDTH")) > 1000
    source = (path.parent.parent.parent / "issues" / "test-issue" / "articles" / "lead.md").read_text()
    hyphens = list(p1.iter(f"{ALTO}HYP"))
    strings = list(p1.iter(f"{ALTO}String"))
    assert hyphens
    for hyp in hyphens:
        first = hyp.getprevious()
        assert first.get("SUBS_TYPE") == "HypPart1" and first.get("SUBS_CONTENT").strip(".,").lower() in source.lower()
        assert not first.get("CONTENT").endswith("-")
        end = float(first.get("HPOS")) + float(first.get("WIDTH"))  # the word as printed, hyphen included
        assert abs(end - float(hyp.get("HPOS")) - float(hyp.get("WIDTH"))) < 0.2
        second = strings[strings.index(first) + 1]  # the next word printed: the head of the next line
        assert second.get("SUBS_TYPE") == "HypPart2" and second.get("SUBS_CONTENT") == first.get("SUBS_CONTENT")
        assert first.get("CONTENT") + second.get("CONTENT") == first.get("SUBS_CONTENT")


def test_page_images_are_greyscale_tiffs_at_300ppi_named_by_alto_and_mets(archived):
    _, path = archived
    for n in (1, 2):
        tiff = path / "data" / "images" / f"test-issue-p0{n}.tif"
        with Image.open(tiff) as image:
            assert image.format == "TIFF" and image.mode == "L"
            assert image.info["compression"] == "tiff_lzw"
            assert tuple(round(v) for v in image.info["dpi"]) == (300, 300)
            assert abs(image.size[0] - 280 / 25.4 * 300) <= 1 and abs(image.size[1] - 430 / 25.4 * 300) <= 1
            assert image.getextrema()[0] < 40  # there is black ink on it
        alto = etree.parse(str(path / "data" / "alto" / f"test-issue-p0{n}.xml"))
        assert alto.findtext(f".//{ALTO}sourceImageInformation/{ALTO}fileName") == f"../images/{tiff.name}"


def test_mets_describes_the_issue_its_pages_and_its_articles_across_pages(archived):
    _, path = archived
    mets = etree.parse(str(path / "data" / "mets.xml"))
    mods = mets.find(".//m:dmdSec[@ID='DMD_ISSUE']//mods:mods", METS)
    assert mods.findtext("mods:titleInfo/mods:title", namespaces=METS) == "New Worker"
    assert mods.findtext("mods:originInfo/mods:dateIssued", namespaces=METS) == "2022-04-01"
    assert mods.findtext("mods:identifier[@type='issn']", namespaces=METS) == "1234-5679"
    assert mods.findtext("mods:part/mods:detail[@type='issue']/mods:number", namespaces=METS) == "1"
    assert mods.findtext("mods:part/mods:detail[@type='volume']/mods:number", namespaces=METS) == "42"
    assert mods.findtext("mods:language/mods:languageTerm", namespaces=METS) == "eng"
    files = {f.get("ID"): f.find("m:FLocat", METS).get(f"{{{METS['x']}}}href")
             for f in mets.iter(f"{{{METS['m']}}}file")}
    pages = mets.findall(".//m:structMap[@TYPE='PHYSICAL']//m:div[@TYPE='page']", METS)
    assert len(pages) == 2
    for n, page in enumerate(pages, start=1):
        targets = sorted(files[a.get("FILEID")] for a in page.iter(f"{{{METS['m']}}}area"))
        assert targets == [f"alto/test-issue-p0{n}.xml", f"images/test-issue-p0{n}.tif", f"pages/test-issue-p0{n}.pdf"]
    for file in mets.iter(f"{{{METS['m']}}}file"):
        data = (path / "data" / files[file.get("ID")]).read_bytes()
        assert file.get("CHECKSUM") == hashlib.sha256(data).hexdigest() and int(file.get("SIZE")) == len(data)
    lead = mets.find(".//m:structMap[@TYPE='LOGICAL']//m:div[@ID='LOG_ART_lead']", METS)
    assert lead.get("TYPE") == "article" and lead.get("LABEL") == "Lead story"
    areas = [(files[a.get("FILEID")], a.get("BEGIN")) for a in lead.iter(f"{{{METS['m']}}}area")]
    assert {f for f, _ in areas} == {"alto/test-issue-p01.xml", "alto/test-issue-p02.xml"}  # the jump
    roles = []
    for href, block in areas:
        alto = etree.parse(str(path / "data" / href))
        found = [b for b in alto.iter() if b.get("ID") == block]
        assert len(found) == 1 and "ART_lead" in found[0].get("TAGREFS").split()
        roles.append((href[-6:-4], next(t[5:] for t in found[0].get("TAGREFS").split() if t.startswith("ROLE_"))))
    assert roles == [("01", r) for r in ("kicker", "headline", "photo", "caption", "body", "body", "body", "jump")] + [
        ("02", r) for r in ("jump", "headline", "body", "body")]  # the article's reading order, over the jump


def test_pdfas_pass_the_pdfa_rules_carry_sources_once_and_the_plates_as_sent(archived):
    root, path = archived
    pdfs = [path / "data" / "test-issue-archive.pdf", *sorted((path / "data" / "pages").glob("*.pdf"))]
    assert [p for p in (path / "data").rglob("*.pdf") if p not in pdfs] == []  # every PDF is a PDF/A
    for pdf in pdfs:
        assert check_pdfa(pdf) == [], pdf.name
        check = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True)
        assert check.returncode == 0 and "No syntax or stream encoding errors" in check.stdout, check.stdout
        with pikepdf.open(pdf) as doc:
            assert doc.pdf_version == "1.7" and doc.Root.OutputIntents[0].S == "/GTS_PDFA1"
            profile = doc.Root.OutputIntents[0].DestOutputProfile.read_bytes()
            assert profile[16:20] == b"CMYK" and "/Annots" not in doc.pages[0].obj
            for spec in doc.Root.AF:
                assert spec.AFRelationship == "/Source" and "/Subtype" in spec.EF.F
            # its Info and XMP written once, by pypdf after pikepdf's conversion: nothing left of the plate's
            assert metadata_once(doc, pdf.name) == "WeasyPrint 70.0, pikepdf, pypdf, layout PDF/A-3b"
    reader = PdfReader(pdfs[0])
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    issue = root / "issues" / "test-issue"
    sources = [root / "issues" / "paper.yaml", *sorted(p for p in issue.rglob("*") if p.is_file())]
    assert set(reader.attachments) == {str(p.relative_to(root / "issues")) for p in sources}
    for source in sources:
        assert reader.attachments[str(source.relative_to(root / "issues"))] == [source.read_bytes()]
    plate = root / "build" / "test-issue" / "plates" / "test-issue-p02.pdf"
    assert PdfReader(pdfs[2]).attachments == {"test-issue-p02.pdf": [plate.read_bytes()]}
    with pdfplumber.open(pdfs[1]) as page:
        assert not page.pages[0].hyperlinks and "the site" in page.pages[0].extract_text()


def _broken(source: Path, target: Path, change) -> Path:  # type: ignore[no-untyped-def]
    with pikepdf.open(source) as pdf:
        change(pdf)
        pdf.save(target, fix_metadata_version=False)  # keep the XMP as changed
    return target


def _rules(pdf: Path) -> set[str]:
    return {v.rule for v in check_pdfa(pdf)}


def _unattached(pdf) -> None:  # type: ignore[no-untyped-def]
    """An archived page without the plate it carries."""
    del pdf.Root.Names["/EmbeddedFiles"], pdf.Root["/AF"]


def _one_line(pdf) -> None:  # type: ignore[no-untyped-def]
    """An archived page without its plate, drawing only its first line of text, in that line's font."""
    _unattached(pdf)
    page = pdf.pages[0]
    program = pikepdf.parse_content_stream(page)
    start = next(i for i, (_, op) in enumerate(program) if str(op) == "BT")
    line = program[start:next(i for i in range(start, len(program)) if str(program[i][1]) == "ET") + 1]
    fonts = {str(operands[0]) for operands, op in line if str(op) == "Tf"}
    page.Contents = pdf.make_stream(pikepdf.unparse_content_stream(line))
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary({f: page.Resources.Font[f] for f in fonts}))
    assert len(fonts) == 1 and page.Resources.Font[fonts.pop()].Subtype == "/Type0"


def test_plate_words_are_pdfplumbers_where_qpdf_tokenises_and_where_pdfminer_must(archived, tmp_path):
    """``plate_words`` tokenises a content stream with qpdf (operands of every type, a name with an
    escape), but leaves to pdfminer's own parser what it might read otherwise (several streams, an
    inline image, a name beyond ASCII) and to pdfplumber itself a vertical font: each gives
    pdfplumber's words and image boxes, to the last bit."""
    _, path = archived
    line = _broken(path / "data" / "pages" / "test-issue-p01.pdf", tmp_path / "line.pdf", _one_line)

    def marked(pdf):  # one stream: a dictionary and an array among the operands, an image drawn
        page = pdf.pages[0]
        page.Resources.XObject = pikepdf.Dictionary(Im0=_image(pdf, 8))
        page.Contents = pdf.make_stream(b"/P <</MCID 0 /Lang (en)>> BDC [1 2] 0 d q 20 0 0 20 50 60 cm /Im0 Do Q "
                                        + page.Contents.read_bytes() + b" EMC")

    def font_name(pdf):
        return next(iter(pdf.pages[0].Resources.Font.keys()))

    def two_streams(pdf):
        pdf.pages[0].contents_add(pikepdf.Stream(pdf, b"BT %s 12 Tf 40 300 Td <00310048> Tj ET" % font_name(
            pdf).encode()))

    def inline_image(pdf):
        pdf.pages[0].Contents = pdf.make_stream(b"q 10 0 0 10 5 5 cm BI /W 1 /H 1 /CS /G /BPC 8 ID \x80 EI Q "
                                                + pdf.pages[0].Contents.read_bytes())

    def escaped(pdf, escape=b"#20"):  # a space (qpdf and pdfminer read the same name) or another byte
        name = font_name(pdf)
        page = pdf.pages[0]
        page.Resources.Font[N("/F" + escape.decode())] = page.Resources.Font[name]
        drawn = page.Contents.read_bytes()
        page.Contents = pdf.make_stream(drawn.replace(name.encode() + b" ", b"/F" + escape + b" ", 1))

    def beyond_ascii(pdf):
        escaped(pdf, b"#e9")

    def vertical(pdf):
        pdf.pages[0].Resources.Font[font_name(pdf)].Encoding = N("/Identity-V")

    for change in (None, marked, two_streams, inline_image, escaped, beyond_ascii, vertical):
        pdf = _broken(line, tmp_path / "read.pdf", change) if change else line
        with pdfplumber.open(pdf) as doc:
            found = doc.pages[0].extract_words(use_text_flow=True, return_chars=True)
            images = [(i["x0"], i["top"], i["x1"], i["bottom"]) for i in doc.pages[0].images]
        words, ours, _, _ = plate_words(pdf.read_bytes())
        assert len(found) >= 2 and len(images) == (change in (marked, inline_image)), change
        assert [(w.text, w.x0, w.top, w.x1, w.bottom, w.font, w.size) for w in words] == [
            (w["text"], w["x0"], w["top"], w["x1"], w["bottom"], w["chars"][0]["fontname"], w["chars"][0]["size"])
            for w in found] and ours == images, change


def test_the_pdfa_checker_fails_files_that_break_the_rules(archived, tmp_path):
    _, path = archived
    good = path / "data" / "pages" / "test-issue-p01.pdf"

    def interpolate(pdf):
        image = next(o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Image")
        image.Interpolate = True

    def srgb(pdf):
        icc = pikepdf.Stream(pdf, Path(next(Path("/usr/share/color/icc/ghostscript").glob("srgb.icc"))).read_bytes())
        icc.N = 3
        pdf.Root.OutputIntents[0].DestOutputProfile = icc

    def actions(pdf):
        pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
        pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 10, 10],
            A=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe"))))])

    def attachment(pdf):
        spec = pdf.Root.AF[0]
        del spec["/AFRelationship"]
        del spec.EF.F["/Subtype"]
        pdf.Root.AF = pikepdf.Array()

    def metadata(pdf):
        pdf.docinfo.Title = "Another title"
        xmp = pdf.Root.Metadata.read_bytes().replace(b"<pdfaid:part>3<", b"<pdfaid:part>2<")
        pdf.Root.Metadata.write(xmp.replace(b"xmlns:layout=", b"xmlns:other=\"urn:x\" other:x=\"1\" xmlns:layout="))

    def no_id(pdf):
        del pdf.trailer["/ID"]

    def notdef(pdf):
        page = pdf.pages[0]
        name = next(k for k, f in page.Resources.Font.items() if f.Subtype == "/Type0")
        page.contents_add(pikepdf.Stream(pdf, f"BT {name} 9 Tf 100 100 Td <0000> Tj ET".encode()))

    assert _rules(good) == set()
    assert "6.2.8-3" in _rules(_broken(good, tmp_path / "i.pdf", interpolate))
    assert {"6.2.4.3-3"} <= _rules(_broken(good, tmp_path / "c.pdf", srgb))
    assert {"6.5.1-1", "layout-links"} <= _rules(_broken(good, tmp_path / "a.pdf", actions))
    assert {"6.8-1", "6.8-3", "6.8-4"} <= _rules(_broken(good, tmp_path / "e.pdf", attachment))
    assert {"6.6.4-2", "layout-info", "6.6.2.3.1-1"} <= _rules(_broken(good, tmp_path / "m.pdf", metadata))
    assert _rules(_broken(good, tmp_path / "g.pdf", notdef)) == {"6.2.11.8-1"}

    def widths(pdf):
        font = next(o for o in pdf.objects
                    if isinstance(o, pikepdf.Dictionary) and o.get("/Subtype") == "/CIDFontType2")
        del font["/W"]  # every glyph now 1000 wide (the default), which the program's are not

    assert _rules(_broken(good, tmp_path / "w.pdf", widths)) == {"6.2.11.5-1"}
    with pikepdf.open(good) as pdf:  # qpdf always writes an /ID: take it out of the bytes
        out = io.BytesIO()
        pdf.save(out, static_id=True)
    data = out.getvalue()
    start = data.rindex(b"/ID [")
    stripped = data[:start] + b" " * (data.index(b"]", start) + 1 - start) + data[data.index(b"]", start) + 1:]
    assert "6.1.3-1" in {v.rule for v in check_pdfa(stripped)}
    assert "6.1.3-1" not in _rules(_broken(good, tmp_path / "n.pdf", no_id))  # qpdf put one back
    inline = pikepdf.new()
    inline.add_blank_page()
    inline.pages[0].obj.Contents = inline.make_stream(
        b"q 10 0 0 10 0 0 cm BI /W 1 /H 1 /CS /RGB /BPC 8 /I true ID \xff\x00\x00 EI Q")
    out = io.BytesIO()
    inline.save(out)
    assert {"6.2.3-1", "6.2.8-3", "6.2.4.3-2", "6.6.2.1-1"} <= {v.rule for v in check_pdfa(out.getvalue())}
    plates = sorted((path.parent.parent.parent / "build" / "test-issue" / "plates").glob("*-p01.pdf"))
    assert {"6.2.3-1", "6.2.8-3", "6.2.4.3-3"} <= _rules(plates[0])  # a PDF/X plate is no PDF/A


def test_without_the_newsprint_profile_the_pdfa_takes_ghostscripts_cmyk_profile_and_still_passes(
        archived, monkeypatch):
    import layout.archive.pdfa as pdfa

    root, _ = archived
    monkeypatch.setattr(pdfa, "NEWSPRINT_PROFILES", ("/nonexistent/WAN-IFRAnewspaper26v5.icc",))
    profile = pdfa.cmyk_profile()
    assert "ghostscript" in str(profile) and profile.read_bytes()[16:20] == b"CMYK"
    plate = (root / "build" / "test-issue" / "plates" / "test-issue-p01.pdf").read_bytes()
    made = pdfa.to_pdfa(plate, profile.read_bytes())
    assert pdfa.check_pdfa(made) == []
    with pikepdf.open(io.BytesIO(made)) as pdf:
        intent = pdf.Root.OutputIntents[0]
        assert intent.DestOutputProfile.read_bytes() == profile.read_bytes()
        assert str(intent.OutputConditionIdentifier) == pdfa.profile_description(profile.read_bytes()) != ""
    assert made == pdfa.to_pdfa(plate, profile.read_bytes())  # same plate, same bytes


def test_verify_catches_a_changed_byte_and_an_alto_that_no_longer_matches_its_page(archived, tmp_path, run_cli):
    _, original = archived
    path = tmp_path / "copy"
    shutil.copytree(original, path)
    code, out, _ = run_cli("verify", str(path))
    assert code == 0 and "valid" in out and "ALTO" in out and "PDF/A-3b" in out
    page = path / "data" / "pages" / "test-issue-p01.pdf"
    data = bytearray(page.read_bytes())
    data[len(data) // 2] ^= 0x01
    page.write_bytes(bytes(data))
    code, _, err = run_cli("verify", str(path))
    assert code == 7 and "has changed" in err and "test-issue-p01.pdf" in err
    shutil.copy2(original / "data" / "pages" / page.name, page)
    alto = path / "data" / "alto" / "test-issue-p02.xml"
    text = alto.read_text()
    alto.write_text(text.replace('CONTENT="Back"', 'CONTENT="Front"', 1))
    bagit.Bag(str(path)).save(manifests=True)  # the checksums agree again: the contents must not
    code, _, err = run_cli("verify", str(path))
    assert code == 7 and "test-issue-p02.xml" in err and "'Front'" in err and "'Back'" in err
    alto.write_text(text)
    mets = path / "data" / "mets.xml"
    mets.write_text(mets.read_text().replace('BEGIN="P2_TB0', 'BEGIN="P9_TB0', 1))
    bagit.Bag(str(path)).save(manifests=True)
    problems = check_contents(path / "data")
    assert [p.message for p in problems if "P9_TB0" in p.message] and all(
        "P9_TB0" in p.message for p in problems)
    alto.write_text(text.replace("<Layout>", "<Layout><Bogus/>", 1))
    bagit.Bag(str(path)).save(manifests=True)
    problems = check_contents(path / "data")
    assert any("ALTO 4.4" in p.message and "Bogus" in p.message for p in problems)


def test_issn_is_checked_and_volume_comes_from_the_paper(tmp_path):
    make_project(tmp_path, paper={"issn": "1234-5678", "volume": 0})
    with pytest.raises(InputError) as caught:
        load_settings(tmp_path / "issues" / "paper.yaml")
    lines = [f"{p.key}: {p.message}" for p in caught.value.problems]
    assert "issn: 1234-5678: the check digit should be 9, not 8" in lines
    assert any(line.startswith("volume: 0 is out of range") for line in lines)
    make_project(tmp_path, paper={"issn": "0317 8471", "volume": 3})
    settings = load_settings(tmp_path / "issues" / "paper.yaml")
    assert (settings.issn, settings.volume) == ("0317-8471", 3)
    make_project(tmp_path, paper={"issn": "2434-561X"})
    assert load_settings(tmp_path / "issues" / "paper.yaml").issn == "2434-561X"


def _payload(root) -> dict[str, str]:
    out = {}
    for path in sorted((root / "build").rglob("*.pdf")) + sorted((root / "archive").rglob("*")):
        if path.is_file() and ".cache" not in path.parts and path.name not in ("bag-info.txt", "tagmanifest-sha256.txt",
                                                                               "tagmanifest-sha512.txt"):
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _run(root, *args, clock=None, env=None):
    env = process_env(**(env or {}))
    command = [sys.executable, "-m", "layout", *args, "--root", str(root)]
    if clock:
        command = ["faketime", clock, *command]
    subprocess.run(command, check=True, capture_output=True, env=env)


def test_two_builds_in_separate_processes_and_clocks_give_identical_bytes(archived, tmp_path):
    if shutil.which("faketime") is None:
        pytest.fail("faketime is not installed: .ci/setup installs it")
    # The first build is the module's: this process, pages laid out in it (the tests' way, as on
    # one core). The second: a whole process as a user starts it (worker processes), another clock.
    first, second = archived[0], tmp_path / "b"
    _issue(second)
    _run(second, "compose", "test-issue", clock="2031-05-05 12:00:00")
    _run(second, "archive", "test-issue", clock="2031-05-05 12:00:00", env={"SOURCE_DATE_EPOCH": "1648771200"})
    hashes = _payload(first)
    assert any(name.endswith(".tif") for name in hashes) and any(name.endswith("mets.xml") for name in hashes)
    assert any("plates" in name for name in hashes)
    assert hashes == _payload(second)
    info = bagit.Bag(str(second / "archive" / "2022" / "test-issue")).info
    assert info["Bagging-Date"] == "2022-04-01"  # from SOURCE_DATE_EPOCH, not the (fake) clock


def test_a_changed_issue_becomes_a_new_revision_and_the_first_is_untouched(archived, tmp_path, run_cli):
    tmp_path = copy_project(archived[0], tmp_path / "project")  # composed and archived once
    issue = tmp_path / "issues" / "test-issue"
    first = tmp_path / archived[1].relative_to(archived[0])
    before = {p: p.read_bytes() for p in first.rglob("*") if p.is_file()}
    again = archive_issue(Project(tmp_path), "test-issue")
    assert not again.created and again.path == first
    write_article(issue, "second", body(210, seed=7), headline="Second story, corrected")
    with pytest.raises(Exception, match="older than its sources"):
        archive_issue(Project(tmp_path), "test-issue")
    compose_issue(Project(tmp_path), "test-issue")
    second = archive_issue(Project(tmp_path), "test-issue")
    assert second.created and second.path.name == "test-issue.r2"
    assert {p: p.read_bytes() for p in first.rglob("*") if p.is_file()} == before
    (second.path / "data" / "mets.xml").unlink()  # as an archive made before METS and ALTO were written
    bagit.Bag(str(second.path)).save(manifests=True)
    code, out, _ = run_cli("verify", str(second.path))
    assert code == 0 and "earlier layout" in out and "checksums checked only" in out
    third = archive_issue(Project(tmp_path), "test-issue")
    assert third.created and third.path.name == "test-issue.r3" and (third.path / "data" / "mets.xml").exists()


def test_the_sample_issue_archive_validates_and_its_alto_matches_its_plates(tmp_path, run_cli, composed_sample):
    issue = "issue-2022-04-01"
    copy_project(composed_sample[0], tmp_path)  # the sample composed once for the session
    path = archive_issue(Project(tmp_path), issue).path
    code, out, err = run_cli("verify", str(path))
    assert code == 0, err
    alto, mets = _schema("alto-4-4.xsd"), _schema("mets-1-12-1.xsd")
    mets.assertValid(etree.parse(str(path / "data" / "mets.xml")))
    plates = tmp_path / "build" / issue / "plates"
    # The plates' words, read from the issue's PDF, whose pages draw exactly what the plates draw
    # (held to it here): its words are read once a worker (the sample's tests read them too).
    joined = (plates / f"{issue}.pdf").read_bytes()
    with pikepdf.open(io.BytesIO(joined)) as whole:
        for n, page in enumerate(whole.pages, start=1):
            with pikepdf.open(plates / f"{issue}-p0{n}.pdf") as plate:
                assert drawing(plate.pages[0]) == drawing(page), f"the issue's page {n} is not plate {n}"
    for n, flow in enumerate(flow_words(joined), start=1):
        alto.assertValid(etree.parse(str(path / "data" / "alto" / f"{issue}-p0{n}.xml")))
        words = _alto_words(path / "data" / "alto" / f"{issue}-p0{n}.xml")
        assert [w[0] for w in words] == [w[0] for w in flow]
        assert max(max(abs(a - b) for a, b in zip(w[1:], p[1:])) for w, p in zip(words, flow)) < MM
    for pdf in [path / "data" / f"{issue}-archive.pdf", *sorted((path / "data" / "pages").glob("*.pdf"))]:
        assert check_pdfa(pdf) == [], pdf.name


def _with(pdf, **entries):  # type: ignore[no-untyped-def]
    """An indirect dictionary of ``entries`` in ``pdf``."""
    return pdf.make_indirect(pikepdf.Dictionary(**entries))


def _draw(pdf, content: bytes, **resources) -> None:  # type: ignore[no-untyped-def]
    """Append ``content`` to page 1, with ``resources`` (kind -> {name: object}) added to its own."""
    page = pdf.pages[0]
    for kind, items in resources.items():
        if "/" + kind not in page.Resources:
            page.Resources["/" + kind] = pikepdf.Dictionary()
        for name, value in items.items():
            page.Resources["/" + kind]["/" + name] = value
    page.contents_add(pikepdf.Stream(pdf, content))


def _form(pdf, content: bytes, **extra):  # type: ignore[no-untyped-def]
    form = pikepdf.Stream(pdf, content)
    form.Type, form.Subtype, form.BBox = pikepdf.Name.XObject, pikepdf.Name.Form, [0, 0, 10, 10]
    form.Resources = pikepdf.Dictionary()
    for key, value in extra.items():
        form["/" + key] = value
    return pdf.make_indirect(form)


def _icc(pdf, name: str, n: int):  # type: ignore[no-untyped-def]
    stream = pikepdf.Stream(pdf, next(Path("/usr/share/color/icc/ghostscript").glob(name)).read_bytes())
    stream.N = n
    return pdf.make_indirect(stream)


def _xmp(pdf, old: bytes, new: bytes) -> None:  # type: ignore[no-untyped-def]
    xmp = pdf.Root.Metadata.read_bytes()
    assert old in xmp
    pdf.Root.Metadata.write(xmp.replace(old, new, 1))


N = pikepdf.Name
BROKEN = {  # rule: how a PDF/A is broken to break it (and nothing else)
    "6.1.7.1-3": lambda pdf: pdf.pages[0].Contents.__setitem__("/FDecodeParms", pikepdf.Dictionary()),
    "6.1.13-1": lambda pdf: pdf.pages[0].obj.__setitem__("/LayoutBig", 2**31),
    "6.1.13-3": lambda pdf: pdf.pages[0].obj.__setitem__("/LayoutLong", pikepdf.String("x" * 32768)),
    "6.1.13-4": lambda pdf: pdf.pages[0].obj.__setitem__("/LayoutName", N("/" + "n" * 128)),
    "6.1.13-8": lambda pdf: _draw(pdf, b"q " * 29 + b"Q " * 29),
    "6.1.13-2": lambda pdf: _draw(pdf, b"1" + b"0" * 39 + b".5 w"),  # a line 10^39 wide
    "6.1.13-11": lambda pdf: pdf.pages[0].obj.__setitem__("/ArtBox", [0, 0, 2, 2]),
    "6.1.12-1": lambda pdf: pdf.Root.__setitem__("/Perms", pikepdf.Dictionary(Other=pikepdf.Dictionary())),
    "6.2.2-1": lambda pdf: _draw(pdf, b"1 2 frobnicate"),
    "6.2.3-3": lambda pdf: pdf.Root.OutputIntents.append(_with(
        pdf, Type=N.OutputIntent, S=N.GTS_PDFX, OutputConditionIdentifier=pikepdf.String("x"),
        DestOutputProfile=pdf.Root.OutputIntents[0].DestOutputProfile, DestOutputProfileRef=pikepdf.Dictionary())),
    "6.2.4.2-1": lambda pdf: _draw(pdf, b"/Lab cs 0.5 scn", ColorSpace={
        "Lab": pikepdf.Array([N.ICCBased, _with_bad_icc(pdf)])}),
    "6.2.4.3-2": lambda pdf: _draw(pdf, b"/s0 sh", Shading={"s0": _with(
        pdf, ShadingType=2, ColorSpace=N.DeviceRGB, Coords=[0, 0, 1, 0],
        Function=_with(pdf, FunctionType=2, Domain=[0, 1], C0=[0, 0, 0], C1=[1, 1, 1], N=1))}),
    "6.2.4.4-1": lambda pdf: _draw(pdf, b"/N0 cs 1 scn", ColorSpace={"N0": pikepdf.Array([
        N.DeviceN, [N.Spot], N.DeviceCMYK, _with(pdf, FunctionType=2, Domain=[0, 1], C0=[0, 0, 0, 0],
                                                  C1=[0, 1, 0, 0], N=1)])}),
    "6.2.4.4-2": lambda pdf: _draw(pdf, b"/S0 cs 1 scn /S1 cs 1 scn", ColorSpace={
        f"S{i}": pikepdf.Array([N.Separation, N.Red, N.DeviceCMYK, _with(
            pdf, FunctionType=2, Domain=[0, 1], C0=[0, 0, 0, 0], C1=[0, 1, i, 0], N=1)]) for i in (0, 1)}),
    "6.2.5-1": lambda pdf: _draw(pdf, b"/T0 gs", ExtGState={"T0": _with(pdf, Type=N.ExtGState, TR=N.Identity)}),
    "6.2.5-4": lambda pdf: _draw(pdf, b"/H0 gs", ExtGState={"H0": _with(pdf, Type=N.ExtGState, HT=pikepdf.Dictionary(
        Type=N.Halftone, HalftoneType=6))}),
    "6.2.6-1": lambda pdf: _draw(pdf, b"/Vivid ri"),
    "6.2.8-4": lambda pdf: _draw(pdf, b"/Im3 Do", XObject={"Im3": _image(pdf, 3)}),
    "6.2.9-2": lambda pdf: _draw(pdf, b"/F0 Do", XObject={"F0": _form(pdf, b"", Ref=pikepdf.Dictionary(
        F=pikepdf.String("other.pdf"), Page=0))}),
    "6.2.10-1": lambda pdf: _draw(pdf, b"/B0 gs", ExtGState={"B0": _with(pdf, Type=N.ExtGState, BM=N.Dodge)}),
    "6.2.11.2-6": lambda pdf: _simple_font(pdf, widths=3),
    "6.2.11.3.3-1": lambda pdf: next(f for f in _page_fonts(pdf) if f.Subtype == "/Type0").__setitem__(
        "/Encoding", N("/Layout-Private-H")),
    "6.2.11.4.1-1": lambda pdf: _simple_font(pdf, embedded=False),
    "6.2.11.6-3": lambda pdf: _simple_font(pdf),
    "6.2.11.5-1": lambda pdf: _simple_font(pdf, wider=20),
    "6.3.1-1": lambda pdf: _annotate(pdf, Subtype=N("/3D"), F=4, AP=pikepdf.Dictionary(N=_form(pdf, b""))),
    "6.3.2-2": lambda pdf: _annotate(pdf, Subtype=N.Square, F=6, AP=pikepdf.Dictionary(N=_form(pdf, b""))),
    "6.3.3-1": lambda pdf: _annotate(pdf, Subtype=N.Square, F=4),
    "6.3.3-2": lambda pdf: _annotate(pdf, Subtype=N.Square, F=4, AP=pikepdf.Dictionary(
        N=_form(pdf, b""), D=_form(pdf, b""))),
    "6.4.1-3": lambda pdf: pdf.Root.__setitem__("/AcroForm", pikepdf.Dictionary(Fields=[], NeedAppearances=True)),
    "6.4.2-1": lambda pdf: pdf.Root.__setitem__("/AcroForm", pikepdf.Dictionary(Fields=[], XFA=pikepdf.Array())),
    "6.4.2-2": lambda pdf: pdf.Root.__setitem__("/NeedsRendering", True),
    "6.5.1-1": lambda pdf: pdf.Root.__setitem__("/Outlines", _outline(pdf, pikepdf.Dictionary(
        S=N.Launch, F=pikepdf.String("calc.exe")))),
    "6.5.1-2": lambda pdf: pdf.Root.__setitem__("/OpenAction", pikepdf.Dictionary(S=N.Named, N=N.Print)),
    "6.5.2-2": lambda pdf: pdf.pages[0].obj.__setitem__("/AA", pikepdf.Dictionary()),
    "6.6.2.1-3": lambda pdf: _xmp(pdf, b'id="W5M0MpCehiHzreSzNTczkc9d"',
                                  b'id="W5M0MpCehiHzreSzNTczkc9d" encoding="UTF-8"'),
    "6.6.2.1-4": lambda pdf: _xmp(pdf, b"</x:xmpmeta>", b"</x:xmpmeta"),
    "6.6.2.3.1-1": lambda pdf: _xmp(pdf, b"<layout:page>", b"<layout:sheet>2</layout:sheet><layout:page>"),
    "6.6.2.3.1-2": lambda pdf: _xmp(pdf, b"<xmp:MetadataDate>2", b"<xmp:MetadataDate>on 2"),
    "6.6.2.3.3-9": lambda pdf: _xmp(pdf, b"<pdfaProperty:category>external", b"<pdfaProperty:category>outside"),
    "6.6.4-4": lambda pdf: _xmp(pdf, b"<pdfaid:part>3</pdfaid:part>",
                                b'<id:part xmlns:id="http://www.aiim.org/pdfa/ns/id/">3</id:part>'),
    "6.9-1": lambda pdf: pdf.Root.__setitem__("/OCProperties", pikepdf.Dictionary(OCGs=[], D=pikepdf.Dictionary())),
    "6.9-4": lambda pdf: pdf.Root.__setitem__("/OCProperties", pikepdf.Dictionary(OCGs=[], D=pikepdf.Dictionary(
        Name=pikepdf.String("d"), AS=[]))),
    "6.10-1": lambda pdf: pdf.Root.Names.__setitem__("/AlternatePresentations", pikepdf.Dictionary()),
    "6.11-1": lambda pdf: pdf.Root.__setitem__("/Requirements", pikepdf.Array()),
}


ALSO = {"6.2.11.6-3": {"6.2.11.6-4", "6.2.11.4.1-2"}}  # the symbolic font's program has no (3,0) or (1,0)
# cmap subtable (6.2.11.6-4), so its code maps to no glyph (6.2.11.4.1-2)


def _with_bad_icc(pdf):  # type: ignore[no-untyped-def]
    icc = bytearray(next(Path("/usr/share/color/icc/ghostscript").glob("lab.icc")).read_bytes())
    icc[12:16] = b"abst"  # an abstract profile is no input profile
    stream = pikepdf.Stream(pdf, bytes(icc))
    stream.N = 3
    return pdf.make_indirect(stream)


def _image(pdf, bits: int):  # type: ignore[no-untyped-def]
    image = pikepdf.Stream(pdf, b"\0" * 4)
    image.Type, image.Subtype, image.Width, image.Height = N.XObject, N.Image, 2, 2
    image.ColorSpace, image.BitsPerComponent = N.DeviceGray, bits
    return pdf.make_indirect(image)


def _page_fonts(pdf):  # type: ignore[no-untyped-def]
    return list(pdf.pages[0].Resources.Font.values())


def _simple_font(pdf, widths: int = 1, embedded: bool = True, wider: int = 0) -> None:  # type: ignore[no-untyped-def]
    """A simple TrueType font (from the program of one of the page's CID fonts) drawing one letter it
    has, with the program's width: symbolic and with an /Encoding (``widths`` 1), or not (with
    ``widths`` widths, LastChar - FirstChar + 1 being 1; or ``wider`` than the program says)."""
    from fontTools.ttLib import TTFont

    cid = next(f for f in _page_fonts(pdf) if f.Subtype == "/Type0").DescendantFonts[0]
    program = TTFont(io.BytesIO(cid.FontDescriptor.FontFile2.read_bytes()))
    code, glyph = next((c, g) for c, g in sorted(program.getBestCmap().items()) if 65 <= c < 91)
    width = round(program["hmtx"][glyph][0] * 1000 / program["head"].unitsPerEm)
    descriptor = pikepdf.Dictionary({k: v for k, v in cid.FontDescriptor.items()})
    descriptor.Flags = 4 if widths == 1 and not wider else 32  # symbolic (with an /Encoding: 6.2.11.6-3), or not
    if not embedded:
        del descriptor["/FontFile2"]
    font = _with(pdf, Type=N.Font, Subtype=N.TrueType, BaseFont=cid.BaseFont, FirstChar=code, LastChar=code,
                 Widths=[width + wider] * widths, FontDescriptor=pdf.make_indirect(descriptor),
                 **({"Encoding": N.WinAnsiEncoding} if embedded else {}))
    _draw(pdf, b"BT /TT0 9 Tf 100 100 Td <%02x> Tj ET" % code, Font={"TT0": font})


def _annotate(pdf, **entries) -> None:  # type: ignore[no-untyped-def]
    pdf.pages[0].obj.Annots = pikepdf.Array([_with(pdf, Type=N.Annot, Rect=[0, 0, 10, 10], **entries)])


def _outline(pdf, action):  # type: ignore[no-untyped-def]
    outlines = _with(pdf, Type=N.Outlines, Count=1)
    item = _with(pdf, Title=pikepdf.String("x"), Parent=outlines, A=action)
    outlines.First = outlines.Last = item
    return outlines


def test_the_pdfa_checker_fails_a_file_broken_for_each_of_veraPDFs_rules(archived, tmp_path):
    """veraPDF's PDF/A-3B profile, rule by rule: a file broken one way fails that rule (and no other)."""
    _, path = archived

    def unattached(pdf):  # the same page without the plate it carries
        del pdf.Root.Names["/EmbeddedFiles"], pdf.Root["/AF"]

    page = path / "data" / "pages" / "test-issue-p01.pdf"
    assert _rules(_broken(page, tmp_path / "whole.pdf", _unattached)) == set()
    good = _broken(page, tmp_path / "good.pdf", _one_line)  # lighter to break 50 ways
    assert _rules(good) == set()
    wrong = {}
    for rule, change in BROKEN.items():
        found = _rules(_broken(good, tmp_path / f"{rule}.pdf", change))
        if found != {rule, *ALSO.get(rule, ())}:
            wrong[rule] = found
    assert wrong == {}
    data = good.read_bytes()
    assert _rules(data + b"junk\n") == {"6.1.3-3"}  # data after %%EOF
    first = re.search(rb"\n(1 0 obj)\n", data)
    assert _rules(data[:first.start(1)] + b"1 0  obj" + data[first.end(1) + 1:]) >= {"6.1.9-1"}
    assert {v.rule for v in check_pdfa(data.replace(b"%PDF-1.7\n", b"%PDF-1.7 ", 1))} >= {"6.1.2-1"}
    length = re.search(rb"/Length (\d+)", data)
    shorter = data[:length.start(1)] + str(int(length[1]) - 5).encode().rjust(len(length[1])) + data[length.end(1):]
    assert "6.1.7.1-1" in {v.rule for v in check_pdfa(shorter)}  # a stream's /Length wrong
    assert _rules(_broken(good, tmp_path / "default.pdf", lambda pdf: _draw(  # DefaultRGB: RGB is device-independent
        pdf, b"0 0 1 rg 0 0 5 5 re f", ColorSpace={
            "DefaultRGB": pikepdf.Array([N.ICCBased, _icc(pdf, "srgb.icc", 3)])}))) == set()
    assert _rules(_broken(good, tmp_path / "group.pdf", lambda pdf: _draw(  # a soft mask's group in RGB
        pdf, b"/M0 gs", ExtGState={"M0": _with(pdf, Type=N.ExtGState, SMask=pikepdf.Dictionary(
            S=N.Luminosity, G=_form(pdf, b"", Group=pikepdf.Dictionary(S=N.Transparency, CS=N.DeviceRGB))))}))
    ) == {"6.2.4.3-2"}
    assert _rules(_broken(good, tmp_path / "ap.pdf", lambda pdf: _annotate(  # an appearance stream in RGB
        pdf, Subtype=N.Square, F=4, AP=pikepdf.Dictionary(N=_form(pdf, b"1 0 0 rg 0 0 5 5 re f"))))) == {"6.2.4.3-2"}


def test_a_configured_profile_the_output_intent_cannot_take_is_passed_over(tmp_path):
    from layout.archive.pdfa import cmyk_profile

    good = next(Path("/usr/share/color/icc/ghostscript").glob("default_cmyk.icc"))
    assert cmyk_profile(good) == good
    link = bytearray(good.read_bytes())
    link[12:16] = b"link"  # a device link profile: CMYK, but no output profile (6.2.3-1)
    (tmp_path / "link.icc").write_bytes(bytes(link))
    assert cmyk_profile(tmp_path / "link.icc") != tmp_path / "link.icc"
    assert cmyk_profile(tmp_path / "link.icc").read_bytes()[12:20] == b"prtrCMYK"


def test_metadata_of_images_is_held_to_the_xmp_rules_and_the_archive_keeps_none(archived, tmp_path):
    """veraPDF checks every XMP packet's properties, not only the catalog's: an advert's photo with
    Photoshop's XMP breaks 6.6.2.3.1-1, and to_pdfa drops such packets."""
    from layout.archive.pdfa import cmyk_profile, to_pdfa

    root, path = archived
    packet = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
              b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""'
              b' xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/" crs:Exposure="+0.50"/></rdf:RDF>'
              b'</x:xmpmeta><?xpacket end="r"?>')

    def photo_xmp(pdf):
        image = next(o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Image")
        xmp = pikepdf.Stream(pdf, packet)
        xmp.Type, xmp.Subtype = pikepdf.Name.Metadata, pikepdf.Name.XML
        image.Metadata = pdf.make_indirect(xmp)

    broken = _broken(path / "data" / "pages" / "test-issue-p01.pdf", tmp_path / "x.pdf", photo_xmp)
    assert [(v.rule, "crs:Exposure" in v.message) for v in check_pdfa(broken)] == [("6.6.2.3.1-1", True)]
    plate = _broken(root / "build" / "test-issue" / "plates" / "test-issue-p01.pdf", tmp_path / "p.pdf", photo_xmp)
    assert check_pdfa(to_pdfa(plate.read_bytes(), cmyk_profile().read_bytes())) == []


def test_archive_refuses_to_write_a_pdfa_that_breaks_a_rule(archived):
    from layout.commands.archive import _held_to_pdfa
    from layout.errors import ArchiveError

    root, path = archived
    good = (path / "data" / "pages" / "test-issue-p01.pdf").read_bytes()
    assert _held_to_pdfa("pages/test-issue-p01.pdf", good) == good
    with pytest.raises(ArchiveError) as caught:
        _held_to_pdfa("pages/test-issue-p01.pdf", (root / "build" / "test-issue" / "plates" /
                                                   "test-issue-p01.pdf").read_bytes())  # a PDF/X plate
    assert "nothing was archived" in str(caught.value)
    assert {"6.2.3-1", "6.2.8-3"} <= {p.key for p in caught.value.problems}


def test_cff_fonts_widths_and_glyphs_are_checked_against_their_program(archived, tmp_path):
    """A supplied advert may bring CFF fonts (FontFile3 /Type1C): their /Widths are held to the program's
    advances (6.2.11.5) and the glyphs shown to the program's glyphs (6.2.11.4.1-2)."""
    from fontTools.ttLib import TTFont

    otf = Path("/usr/share/fonts/opentype/urw-base35/NimbusSans-Regular.otf")
    if not otf.exists():
        pytest.skip("URW's base 35 fonts (with Ghostscript) are not installed")
    program = TTFont(otf).getTableData("CFF ")
    _, path = archived

    def cff(width: int, text: bytes):  # type: ignore[no-untyped-def]
        def change(pdf):  # type: ignore[no-untyped-def]
            stream = pikepdf.Stream(pdf, program)
            stream.Subtype = N.Type1C
            descriptor = _with(pdf, Type=N.FontDescriptor, FontName=N("/NimbusSans-Regular"), Flags=32,
                               FontBBox=[0, -300, 1000, 1000], ItalicAngle=0, Ascent=900, Descent=-300,
                               CapHeight=700, StemV=80, FontFile3=pdf.make_indirect(stream))
            font = _with(pdf, Type=N.Font, Subtype=N.Type1, BaseFont=N("/NimbusSans-Regular"), FirstChar=65,
                         LastChar=66, Widths=[width, 667], Encoding=N.WinAnsiEncoding, FontDescriptor=descriptor)
            _draw(pdf, b"BT /C0 9 Tf 100 100 Td (" + text + b") Tj ET", Font={"C0": font})
        return _rules(_broken(path / "data" / "pages" / "test-issue-p01.pdf", tmp_path / "cff.pdf", change))

    assert cff(667, b"AB") == set()  # Nimbus Sans's A and B are 667 wide
    assert cff(600, b"AB") == {"6.2.11.5-1"}
    assert cff(667, b"A\\201") == {"6.2.11.4.1-2"}  # code 129: no glyph in WinAnsi
