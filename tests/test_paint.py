"""What a plate paints, read from its objects: ink checked against Ghostscript's CMYK rendering, type
sizes against pypdf's text visitor, image resolutions against poppler's pdfimages."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pikepdf
import pytest
from factory import body, make_project, write_article, write_manifest
from PIL import Image

from layout.build import Project, compose_issue
from layout.errors import PreflightError
from layout.press.paint import object_ink, read_paint, rendered_inks

needs_gs = pytest.mark.skipif(shutil.which("gs") is None, reason="Ghostscript is not installed")
TRIM = (36, 36, 576, 756)  # a page of 612 x 792 pt with half an inch all round outside the trim


def _plate(tmp_path: Path, content: str, name: str = "plate.pdf", resources: dict | None = None,
           image: Image.Image | None = None, form: str | None = None) -> Path:
    """A one-page PDF drawing ``content`` (a form ``/Fm`` drawing ``form``, an image ``/Im``)."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(612, 792))
    page.obj.TrimBox = pikepdf.Array(TRIM)
    xobjects = {}
    if image is not None:
        data = io.BytesIO()
        image.save(data, "JPEG", quality=95)
        xobjects["/Im"] = pdf.make_stream(data.getvalue(), Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                                          Width=image.width, Height=image.height, BitsPerComponent=8,
                                          ColorSpace=pikepdf.Name.DeviceGray, Filter=pikepdf.Name.DCTDecode)
    if form is not None:
        xobjects["/Fm"] = pdf.make_stream(form.encode(), Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
                                          BBox=[-300, 0, 312, 792], Matrix=[1, 0, 0, 1, 300, 0])
    page.obj.Resources = pikepdf.Dictionary({"/XObject": pikepdf.Dictionary(xobjects), **(resources or {})})
    page.obj.Contents = pdf.make_stream(content.encode())
    path = tmp_path / name
    pdf.save(path)
    return path


CASES = {
    "black text area": ("0 0 0 1 k 100 100 200 200 re f", 100),
    "rich black over the limit": ("0.8 0.7 0.7 1 k 100 100 200 200 re f", 320),
    "grey": ("0.25 g 100 100 200 200 re f", 75),
    "the darkest of two, knocked out": ("0 1 1 0 k 100 100 200 200 re f 0 0 0 1 k 150 150 200 200 re f", 200),
    "a stroke in CMYK space": ("/DeviceCMYK CS 0.5 0.5 0 0.5 SCN 20 w 100 400 m 400 400 l S", 150),
    "marks outside the trim are not ink": ("1 1 1 1 K 0.25 w 0 20 m 30 20 l S 0 0 0 1 k 100 100 200 200 re f", 100),
    "a form moved into place": ("q /Fm Do Q", 180),
}


@needs_gs
@pytest.mark.parametrize("case", sorted(CASES))
def test_object_ink_is_what_ghostscript_renders(tmp_path, case):
    content, expected = CASES[case]
    path = _plate(tmp_path, content, form="0.5 0.5 0.8 0 k -290 100 200 200 re f")  # in the trim once moved
    assert object_ink(path) == pytest.approx(expected, abs=0.01)
    assert rendered_inks([path]) == [pytest.approx(expected, abs=1.0)]


@needs_gs
def test_a_grey_photo_is_as_dark_as_its_darkest_pixel(tmp_path):
    picture = Image.new("L", (300, 300), 200)
    picture.paste(51, (100, 100, 200, 200))  # a dark square, 80% grey
    path = _plate(tmp_path, "q 300 0 0 300 150 150 cm /Im Do Q", image=picture)
    assert object_ink(path) == pytest.approx(80, abs=1.5)
    assert rendered_inks([path])[0] == pytest.approx(80, abs=2.0)


@needs_gs
def test_overprint_is_left_to_ghostscript_which_adds_the_inks(tmp_path):
    state = {"/ExtGState": pikepdf.Dictionary({"/OP1": pikepdf.Dictionary(OP=True, op=True, OPM=1)})}
    path = _plate(tmp_path, "/OP1 gs 1 0 0 0 k 100 100 200 200 re f 0 0 0 1 k 150 150 200 200 re f",
                  resources=state)
    assert object_ink(path) is None  # inks add up under overprint: not readable from the objects
    assert rendered_inks([path])[0] == pytest.approx(200, abs=1.0)


def test_shadings_and_spot_colours_are_left_to_a_rendering(tmp_path):
    spot = {"/ColorSpace": pikepdf.Dictionary({"/CS0": pikepdf.Array([
        pikepdf.Name.Separation, pikepdf.Name("/PANTONE 485"), pikepdf.Name.DeviceCMYK, pikepdf.Dictionary(
            FunctionType=2, Domain=[0, 1], C0=[0, 0, 0, 0], C1=[0, 1, 1, 0], N=1)])})}
    assert object_ink(_plate(tmp_path, "/CS0 cs 1 scn 100 100 200 200 re f", "spot.pdf", spot)) is None
    assert object_ink(_plate(tmp_path, "/Sh0 sh", "shading.pdf")) is None


def test_a_plate_over_the_ink_limit_fails_preflight_naming_it(tmp_path):
    issue = make_project(tmp_path)
    css = tmp_path / "stylesheets" / "newspaper.css"
    css.write_text(css.read_text() + "\n.headline { color: device-cmyk(0.8 0.7 0.7 1); }\n")
    write_article(issue, "story", body(120, seed=3))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "story", "columns": 5, "depth": 30}]}]})
    with pytest.raises(PreflightError) as caught:
        compose_issue(Project(tmp_path), "test-issue")
    problems = [p for p in caught.value.problems if p.key == "total ink"]
    assert problems and problems[0].file == "test-issue-p01.pdf"
    assert "320% ink at the darkest point, over the 220% limit" in problems[0].message


def test_type_sizes_and_image_resolutions_follow_the_matrices(tmp_path):
    picture = Image.new("L", (300, 200), 128)
    content = ("q 0.75 0 0 0.75 0 0 cm BT /F1 12 Tf 1 0 0 1 100 700 Tm (Headline) Tj ET Q "  # 9 pt
               "BT /F1 10 Tf 0.5 0 0 0.5 100 600 Tm [(small) -250 (print)] TJ ET "  # 5 pt
               "BT /F1 4 Tf 100 500 Td () Tj ET "  # nothing shown: not counted
               "q 150 0 0 100 100 100 cm /Im Do Q")  # 300 x 200 px on 150 x 100 pt: 144 ppi
    paint = read_paint(_plate(tmp_path, content, image=picture))
    assert paint.smallest_type == pytest.approx(5.0)
    assert paint.images == ((1, pytest.approx(144.0)),)
    assert paint.ink == 100  # the text is black; the image only half as dark
