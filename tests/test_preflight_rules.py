"""Preflight's rules, each against a good plate broken on purpose (with pikepdf): every test fails if
its rule is taken out, and the good plate passes the same rule."""

from __future__ import annotations

import io
import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from factory import add_photo, body, make_project, write_article, write_manifest
from PIL import Image

from layout.build import Project, compose_issue
from layout.errors import PreflightError
from layout.press.paint import PHOTO_COMMENT
from layout.press.preflight import Finding, check_issue, report_table
from layout.reading.settings import load_settings

PLATE = "test-issue-p01.pdf"


def _project(root: Path, paper: dict | None = None) -> Path:
    issue = make_project(root, paper=paper)
    photo = add_photo(issue)
    write_article(issue, "story", body(180, seed=4), headline="A story with a photo",
                  images=[{"file": photo, "caption": "The docks"}])
    write_article(issue, "other", body(120, seed=5), headline="Another story")
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "story", "columns": 3},
                                                              {"slug": "other", "columns": 2}]}]})
    compose_issue(Project(root), "test-issue")
    return root


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    return _project(tmp_path_factory.mktemp("good"))


@pytest.fixture(scope="module")
def marked(tmp_path_factory) -> Path:
    return _project(tmp_path_factory.mktemp("marked"), {"crop_marks": True, "bleed": "3mm"})


def _findings(root: Path, tmp_path: Path, change: Callable[[pikepdf.Pdf], None] | None = None) -> list[Finding]:
    """Preflight the project's first plate, changed by ``change`` first."""
    source = root / "build" / "test-issue" / "plates" / PLATE
    folder = tmp_path / "broken"
    folder.mkdir(exist_ok=True)
    target = folder / PLATE
    if change is None:
        shutil.copy(source, target)
    else:
        with pikepdf.open(source) as pdf:
            change(pdf)
            pdf.save(target, stream_decode_level=pikepdf.StreamDecodeLevel.none, compress_streams=False)  # as broken
    paper = load_settings(root / "issues" / "paper.yaml")
    fit = json.loads((root / "build" / "test-issue" / "fit.json").read_text())
    return check_issue([target], paper, fit)


def _failed(findings: list[Finding], check: str) -> list[str]:
    return [f.message for f in findings if f.check == check and not f.ok]


def _passes(root: Path, tmp_path: Path, check: str) -> None:
    findings = _findings(root, tmp_path)
    assert any(f.check == check and f.ok for f in findings), findings
    assert not _failed(findings, check)


def _slot_point(root: Path, slug: str) -> tuple[float, float]:
    """A point in the middle of ``slug``'s slot, in PDF coordinates of the plate."""
    fit = json.loads((root / "build" / "test-issue" / "fit.json").read_text())
    (slot,) = [s for s in fit["slots"] if s["slug"] == slug]
    x, y, width, height = slot["box"]
    with pikepdf.open(root / "build" / "test-issue" / "plates" / PLATE) as pdf:
        trim = [float(v) for v in pdf.pages[0].TrimBox]
    return trim[0] + x + width / 2, trim[3] - y - height / 2


def _add_content(pdf: pikepdf.Pdf, content: str) -> None:
    page = pdf.pages[0]
    page.contents_add(pdf.make_stream(content.encode()), prepend=False)


def _font(pdf: pikepdf.Pdf) -> str:
    return str(next(iter(pdf.pages[0].Resources.Font.keys())))


def test_the_good_plates_pass_every_rule(good, marked, tmp_path):
    for root in (good, marked):
        findings = _findings(root, tmp_path)
        assert [f for f in findings if not f.ok] == []
        checks = {f.check for f in findings}
        assert {"page boxes", "trapped", "actions", "type size", "hairlines", "photo tones", "image resolution",
                "imprint", "PDF/X", "total ink", "output intent", "PDF/X structure"} <= checks
    assert "registration marks" in {f.check for f in _findings(marked, tmp_path)}


# -- page boxes ------------------------------------------------------------------------------


def test_a_plate_with_no_trimbox_fails(good, tmp_path):
    _passes(good, tmp_path, "page boxes")

    def drop(pdf: pikepdf.Pdf) -> None:
        del pdf.pages[0].obj["/TrimBox"]

    assert _failed(_findings(good, tmp_path, drop), "page boxes") == ["page 1: no TrimBox"]


def test_a_trimbox_outside_the_mediabox_or_beside_an_artbox_fails(good, tmp_path):
    def outside(pdf: pikepdf.Pdf) -> None:
        media = [float(v) for v in pdf.pages[0].MediaBox]
        pdf.pages[0].obj.MediaBox = pikepdf.Array([media[0] + 20, media[1] + 20, media[2] + 20, media[3] + 20])

    assert "page 1: the TrimBox reaches outside the MediaBox" in _failed(
        _findings(good, tmp_path, outside), "page boxes")

    def art(pdf: pikepdf.Pdf) -> None:
        pdf.pages[0].obj.ArtBox = pdf.pages[0].obj.TrimBox

    assert _failed(_findings(good, tmp_path, art), "page boxes") == [
        "page 1: both a TrimBox and an ArtBox (PDF/X allows one)"]


# -- /Trapped --------------------------------------------------------------------------------


def test_trapped_unknown_or_missing_fails(good, tmp_path):
    _passes(good, tmp_path, "trapped")

    def unknown(pdf: pikepdf.Pdf) -> None:
        pdf.trailer.Info.Trapped = pikepdf.Name.Unknown

    assert _failed(_findings(good, tmp_path, unknown), "trapped") == [
        "/Trapped is /Unknown in the document information: PDF/X asks True or False"]

    def missing(pdf: pikepdf.Pdf) -> None:
        del pdf.trailer.Info["/Trapped"]

    assert _failed(_findings(good, tmp_path, missing), "trapped") == [
        "/Trapped is missing in the document information: PDF/X asks True or False"]

    def disagree(pdf: pikepdf.Pdf) -> None:
        pdf.trailer.Info.Trapped = pikepdf.Name("/True")

    assert _failed(_findings(good, tmp_path, disagree), "trapped") == [
        "/Trapped is True in the document information but False in the XMP"]


# -- actions, JavaScript, links ----------------------------------------------------------------


ACTIONS = {
    "open action": (lambda pdf: setattr(pdf.Root, "OpenAction", pikepdf.Dictionary(
        S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))), "JavaScript (/JS)"),
    "page additional actions": (lambda pdf: setattr(pdf.pages[0].obj, "AA", pikepdf.Dictionary(
        O=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe")))),
        "an additional-actions dictionary (/AA)"),
    "javascript name tree": (lambda pdf: setattr(pdf.Root, "Names", pikepdf.Dictionary(
        JavaScript=pdf.make_indirect(pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("x"), pdf.make_indirect(
            pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("1")))]))))),
        "JavaScript (/JavaScript)"),
    "link annotation": (lambda pdf: setattr(pdf.pages[0].obj, "Annots", pikepdf.Array([pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[100, 100, 200, 120],
                           A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("http://example.com/")))
    )])), "page 1: a Link annotation (URI http://example.com/)"),
}


@pytest.mark.parametrize("case", sorted(ACTIONS))
def test_actions_javascript_and_links_fail(good, tmp_path, case):
    change, expected = ACTIONS[case]
    if case == "open action":
        _passes(good, tmp_path, "actions")
    assert expected in _failed(_findings(good, tmp_path, change), "actions")


# -- output intent and PDF/X structure ---------------------------------------------------------


def _display_profile(pdf: pikepdf.Pdf) -> None:
    from PIL import ImageCms

    data = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    pdf.Root.OutputIntents[0].DestOutputProfile = pdf.make_stream(data, N=3)


def _two_intents(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OutputIntents.append(pdf.Root.OutputIntents[0])


def _no_info(pdf: pikepdf.Pdf) -> None:
    del pdf.Root.OutputIntents[0]["/Info"]


def _wrong_n(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OutputIntents[0].DestOutputProfile.N = 3


INTENTS = {
    "a display profile": (_display_profile, "the output intent's profile is an ICC profile of class 'mntr', "
                                            "not an output (printer) profile"),
    "two intents": (_two_intents, "2 PDF/X output intents: PDF/X asks exactly one"),
    "no Info": (_no_info, "the output intent has no Info"),
    "wrong /N": (_wrong_n, "the output intent's profile says /N 3, its colour space has 4"),
}


@pytest.mark.parametrize("case", sorted(INTENTS))
def test_a_broken_output_intent_fails(good, tmp_path, case):
    if not load_settings(good / "issues" / "paper.yaml").icc_profile and case in ("a display profile", "wrong /N"):
        pytest.skip("no output profile installed: the plates carry none")
    _passes(good, tmp_path, "output intent")
    change, expected = INTENTS[case]
    assert _failed(_findings(good, tmp_path, change), "output intent") == [expected]


def _lzw(pdf: pikepdf.Pdf) -> None:
    stream = pdf.make_stream(b"")
    stream.write(b"\x80\x0b\x60\x50\x22\x0c\x0c\x85\x01", filter=pikepdf.Name.LZWDecode)  # already encoded
    pdf.pages[0].obj.Contents = stream


def _transfer(pdf: pikepdf.Pdf) -> None:
    resources = pdf.pages[0].Resources
    resources.ExtGState = pikepdf.Dictionary(TF=pikepdf.Dictionary(Type=pikepdf.Name.ExtGState,
                                                                    TR=pikepdf.Name.Identity))


def _postscript(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].Resources.XObject.PS = pdf.make_stream(b"0 0 moveto", Type=pikepdf.Name.XObject,
                                                          Subtype=pikepdf.Name.PS)


def _halftone(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].Resources.ExtGState = pikepdf.Dictionary(H=pikepdf.Dictionary(HT=pdf.make_stream(
        b"", HalftoneType=6, Width=2, Height=2)))


def _ps_operator(pdf: pikepdf.Pdf) -> None:
    # in a form drawn by the page: each content stream is read, not only the page's
    form = pdf.make_stream(b"q (setpagedevice) PS Q", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
                           BBox=[0, 0, 10, 10])
    pdf.pages[0].Resources.XObject.Ps = form
    pdf.pages[0].contents_add(pdf.make_stream(b"q /Ps Do Q"))


def _oc_marked(pdf: pikepdf.Pdf) -> None:
    # the page's content as an array of streams, the marked content in the last one
    pdf.pages[0].contents_add(pdf.make_stream(b"/OC /L1 BDC 0 0 1 1 re f EMC"))


STRUCTURE = {
    "PS operator": (_ps_operator, "PostScript in a content stream (the PS operator)"),
    "optional content": (_oc_marked, "optional content in a content stream (/OC marked content)"),
    "LZW": (_lzw, "LZW compression"),
    "transfer function": (_transfer, "a transfer function (TR)"),
    "PostScript": (_postscript, "a PostScript XObject"),
    "threshold halftone": (_halftone, "a named halftone or one of a type but 1 and 5"),
}


@pytest.mark.parametrize("case", sorted(STRUCTURE))
def test_what_pdfx_forbids_in_the_structure_fails(good, tmp_path, case):
    _passes(good, tmp_path, "PDF/X structure")
    change, expected = STRUCTURE[case]
    assert expected in _failed(_findings(good, tmp_path, change), "PDF/X structure")


def test_content_is_parsed_for_ps_and_marked_content_only_where_their_bytes_occur(good):
    from layout.press.preflight import _may_hold

    with pikepdf.open(good / "build" / "test-issue" / "plates" / PLATE) as pdf:
        page = pdf.pages[0]
        assert not _may_hold(page, (b"PS", b"BDC"))  # a plate as made: nothing to parse
        page.contents_add(pdf.make_stream(b"BT (UPS and downs) Tj ET"))  # the bytes, in a string: parsed
        assert _may_hold(page, (b"PS", b"BDC")) and not _may_hold(page, (b"BDC",))
        form = pdf.make_stream(b"/OC /L1 BDC EMC", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form)
        assert _may_hold(form, (b"PS", b"BDC"))


def test_an_encrypted_plate_fails(good, tmp_path):
    source = good / "build" / "test-issue" / "plates" / PLATE
    (tmp_path / "broken").mkdir()
    target = tmp_path / "broken" / PLATE
    with pikepdf.open(source) as pdf:
        pdf.save(target, encryption=pikepdf.Encryption(owner="secret", user="", R=4))
    paper = load_settings(good / "issues" / "paper.yaml")
    assert "the file is encrypted" in _failed(check_issue([target], paper, None), "PDF/X structure")


# -- the older rules, against a broken plate too ------------------------------------------------


def _transparent(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].Resources.ExtGState = pikepdf.Dictionary(GSa=pikepdf.Dictionary(ca=0.5))
    _add_content(pdf, "q /GSa gs 0 0 0 1 k 100 100 50 50 re f Q")


def _no_intent(pdf: pikepdf.Pdf) -> None:
    del pdf.Root["/OutputIntents"]


def _unembedded(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].Resources.Font.Helv = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                           BaseFont=pikepdf.Name.Helvetica)
    _add_content(pdf, "BT /Helv 12 Tf 100 100 Td (Helvetica) Tj ET")


def _rgb(pdf: pikepdf.Pdf) -> None:
    _add_content(pdf, "1 0 0 rg 100 100 50 50 re f")


def _rich_black(pdf: pikepdf.Pdf) -> None:
    _add_content(pdf, "0.6 0.6 0.6 1 k 200 200 50 50 re f")


OLDER = {
    "transparency": (_transparent, "transparency", "page 1: transparency in graphics state /GSa"),
    "no output intent": (_no_intent, "PDF/X", "no PDF/X OutputIntent"),
    "font not embedded": (_unembedded, "fonts", "page 1: font /Helvetica is not embedded"),
    "RGB colour": (_rgb, "colour", "page 1: RGB colour in the page content (rg)"),
    "ink over the limit": (_rich_black, "total ink", "280% ink at the darkest point, over the 220% limit"),
}


@pytest.mark.parametrize("case", sorted(OLDER))
def test_the_older_rules_fail_a_broken_plate(good, tmp_path, case):
    change, check, expected = OLDER[case]
    _passes(good, tmp_path, check)
    assert expected in _failed(_findings(good, tmp_path, change), check)


# -- type sizes, reversed type, hairlines ----------------------------------------------------------


def test_type_below_7pt_fails_naming_its_article(good, tmp_path):
    _passes(good, tmp_path, "type size")
    x, y = _slot_point(good, "other")

    def small(pdf: pikepdf.Pdf) -> None:
        _add_content(pdf, f"BT {_font(pdf)} 6.5 Tf 0 0 0 1 k {x:.1f} {y:.1f} Td (Small) Tj ET")

    assert _failed(_findings(good, tmp_path, small), "type size") == [
        "page 1, article other: text set at 6.5 pt, below 7 pt (1 run(s) of text)"]


def test_reversed_type_has_its_own_larger_minimum(good, tmp_path):
    x, y = _slot_point(good, "story")

    def white(size: float) -> Callable[[pikepdf.Pdf], None]:
        return lambda pdf: _add_content(pdf, f"0 0 0 1 k {x - 40:.1f} {y - 10:.1f} 120 30 re f "
                                             f"BT {_font(pdf)} {size} Tf 0 0 0 0 k {x:.1f} {y:.1f} Td (White) Tj ET")

    assert _failed(_findings(good, tmp_path, white(7.5)), "type size") == [
        "page 1, article story: reversed (white) type at 7.5 pt, below 8 pt (1 run(s) of text)"]
    assert not _failed(_findings(good, tmp_path, white(9)), "type size")

    def black(pdf: pikepdf.Pdf) -> None:  # 7.5 pt in black is fine
        _add_content(pdf, f"BT {_font(pdf)} 7.5 Tf 0 0 0 1 k {x:.1f} {y:.1f} Td (Black) Tj ET")

    assert not _failed(_findings(good, tmp_path, black), "type size")


def test_a_hairline_fails_naming_where_it_is(good, tmp_path):
    _passes(good, tmp_path, "hairlines")
    x, y = _slot_point(good, "other")

    def rule(width: float) -> Callable[[pikepdf.Pdf], None]:
        return lambda pdf: _add_content(pdf, f"q {width} w 0 0 0 1 K {x - 30:.1f} {y:.1f} m {x + 30:.1f} {y:.1f} "
                                             "l S Q")

    assert _failed(_findings(good, tmp_path, rule(0.1)), "hairlines") == [
        "page 1, article other: 1 stroke(s) 0.10 pt wide, thinner than 0.25 pt"]
    assert _failed(_findings(good, tmp_path, rule(0)), "hairlines")  # the device's thinnest line
    assert not _failed(_findings(good, tmp_path, rule(0.5)), "hairlines")

    def scaled(pdf: pikepdf.Pdf) -> None:  # 1 pt wide, drawn at a fifth of its size
        _add_content(pdf, f"q 0.2 0 0 0.2 {x:.1f} {y:.1f} cm 1 w 0 0 0 1 K 0 0 m 300 0 l S Q")

    assert _failed(_findings(good, tmp_path, scaled), "hairlines") == [
        "page 1, article other: 1 stroke(s) 0.20 pt wide, thinner than 0.25 pt"]


# -- registration marks ----------------------------------------------------------------------


def _without_marks(curves_only: bool) -> Callable[[pikepdf.Pdf], None]:
    def change(pdf: pikepdf.Pdf) -> None:
        page = pdf.pages[0]
        kept, skipping, path = [], False, []
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if op == "K" and [float(v) for v in operands] == [1, 1, 1, 1]:
                skipping = True
            elif op == "Q":
                skipping = False
            if skipping and op in ("m", "l", "c"):
                path.append((operands, operator))
                continue
            if skipping and op == "S":
                curved = any(str(o) == "c" for _, o in path)
                if not curves_only or curved:
                    path = []
                    continue
                kept.extend(path)
                path = []
            kept.append((operands, operator))
        page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(kept))
    return change


def test_plates_with_crop_marks_draw_registration_marks_and_preflight_checks_them(marked, good, tmp_path):
    _passes(marked, tmp_path, "registration marks")
    assert not any(f.check == "registration marks" for f in _findings(good, tmp_path))  # no crop marks, no rule
    assert _failed(_findings(marked, tmp_path, _without_marks(curves_only=True)), "registration marks") == [
        "page 1: 0 registration target(s), at least 2 expected"]
    assert _failed(_findings(marked, tmp_path, _without_marks(curves_only=False)), "registration marks") == [
        "page 1: 0 crop mark line(s) in registration colour, 8 expected (two at each corner)",
        "page 1: 0 registration target(s), at least 2 expected"]


# -- photos ----------------------------------------------------------------------------------


def _replace_photo(level: int, labelled: bool = True) -> Callable[[pikepdf.Pdf], None]:
    """Put a flat photo of ``level`` (0 black .. 255 white) in place of the plate's photo, with the
    prepared photo's label or none (as an unprepared, too dark or too light photo would be)."""
    def change(pdf: pikepdf.Pdf) -> None:
        (image,) = pdf.pages[0].get_images(recursive=False).values()
        label = PHOTO_COMMENT + b"images/docks.jpg (article story)" if labelled else b"another program"
        data = io.BytesIO()
        Image.new("L", (int(image.Width), int(image.Height)), level).save(data, "JPEG", comment=label)
        image.write(data.getvalue(), filter=pikepdf.Name.DCTDecode)
    return change


def test_a_photo_darker_than_photo_shadow_or_lighter_than_photo_highlight_fails_naming_it(good, tmp_path):
    _passes(good, tmp_path, "photo tones")
    assert _failed(_findings(good, tmp_path, _replace_photo(5)), "photo tones") == [
        "page 1: photo images/docks.jpg (article story) has 98% dots, above photo_shadow 85% (they print solid)"]
    assert _failed(_findings(good, tmp_path, _replace_photo(255)), "photo tones") == [
        "page 1: photo images/docks.jpg (article story) has 0% dots, below photo_highlight 4% (newsprint loses them)"]
    # A photo put on the plate some other way is known by the article whose slot holds it.
    assert _failed(_findings(good, tmp_path, _replace_photo(5, labelled=False)), "photo tones") == [
        "page 1: an image in article story has 98% dots, above photo_shadow 85% (they print solid)"]


def test_a_low_resolution_photo_is_named_by_its_file_and_article(good, tmp_path):
    def shrink(pdf: pikepdf.Pdf) -> None:
        (image,) = pdf.pages[0].get_images(recursive=False).values()
        data = io.BytesIO()
        label = PHOTO_COMMENT + b"images/docks.jpg (article story)"
        Image.new("L", (100, 70), 128).save(data, "JPEG", comment=label)
        image.write(data.getvalue(), filter=pikepdf.Name.DCTDecode)
        image.Width, image.Height = 100, 70

    (message,) = _failed(_findings(good, tmp_path, shrink), "image resolution")
    assert message.startswith("page 1: photo images/docks.jpg (article story) prints at ")
    assert message.endswith("below 200 ppi")


# -- imprint ---------------------------------------------------------------------------------


def test_the_sample_imprint_is_an_error_unless_the_paper_says_warning(tmp_path, caplog):
    root = tmp_path / "error"
    issue = make_project(root, paper={"sample_imprint": "error"})
    write_article(issue, "story", body(100))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "story", "columns": 5}]}]})
    with pytest.raises(PreflightError) as caught:
        compose_issue(Project(root), "test-issue")
    assert [(p.file, p.key) for p in caught.value.problems] == [("paper.yaml", "imprint")]
    assert "the imprint is the sample one" in caught.value.problems[0].message
    # The repository's paper.yaml says warning: the run passes and says so.
    root = tmp_path / "warning"
    issue = make_project(root)
    write_article(issue, "story", body(100))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "story", "columns": 5}]}]})
    caplog.set_level(logging.INFO, logger="layout")
    compose_issue(Project(root), "test-issue")
    assert any("warn  paper.yaml: imprint: the imprint is the sample one" in line for line in caplog.messages)
    # A real imprint passes quietly.
    root = tmp_path / "real"
    issue = make_project(root, paper={"sample_imprint": "error",
                                      "imprint": "Printed by Real Press Ltd, Leeds LS1 1AA."})
    write_article(issue, "story", body(100))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "story", "columns": 5}]}]})
    assert compose_issue(Project(root), "test-issue").plates.name == "plates"


# -- counts ----------------------------------------------------------------------------------


def test_the_report_adds_up_what_each_plate_counted():
    findings = [Finding(f"x-p0{n}.pdf", "image resolution", True, f"{count} image(s), all at least 200 ppi", count)
                for n, count in ((1, 2), (2, 1), (3, 0), (4, 4))]
    findings += [Finding(f"x-p0{n}.pdf", "total ink", True, f"at most {ink}% (limit 220%)")
                 for n, ink in ((1, 200), (2, 100), (3, 100), (4, 180))]
    table = report_table(findings)
    assert "ok    image resolution: 7 image(s), all at least 200 ppi, on 4 plates" in table
    assert "ok    total ink: at most 200% (limit 220%), on 4 plates" in table
