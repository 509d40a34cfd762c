"""The plates held to an independent PDF/X-1a:2003 checklist (tests/pdfx_checklist.py, from ISO
15930-4), on a synthetic issue with photos of every kind a hidden issue may bring; their tones
measured from the plates' image data; and the checklist itself shown to catch each kind of break."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from factory import body, make_project, write_article, write_manifest
from pdfx_checklist import RULES, check
from PIL import Image, ImageCms, ImageDraw

from layout.build import Project, compose_issue
from layout.outputs import check_issue_plates
from layout.press.paint import label_of
from layout.reading.settings import load_settings, press_profile

GS_ICC = sorted(Path("/usr/share/ghostscript").glob("*/iccprofiles"))
ADOBE_RGB = next((folder / "a98.icc" for folder in GS_ICC if (folder / "a98.icc").is_file()), None)


def _scene(size: tuple[int, int] = (960, 640), low: int = 0, high: int = 255) -> Image.Image:
    """A ramp from ``high`` to ``low`` over the top third, a block of ``low`` with near-``low``
    detail, a sky blue and a green."""
    width, height = size
    image = Image.new("RGB", size, (high,) * 3)
    ramp = Image.linear_gradient("L").rotate(90, expand=True).resize((width, height // 3))
    ramp = ramp.point(lambda v: low + (high - low) * v // 255)
    image.paste(Image.merge("RGB", [ramp] * 3), (0, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height // 3, width // 2, height), fill=(low,) * 3)
    for step in range(5):
        draw.rectangle((10 + step * 40, height // 2, 40 + step * 40, height // 2 + 40), fill=(low + 4 * step,) * 3)
    draw.rectangle((width // 2, height // 3, width, 2 * height // 3), fill=(90, 150, 220))
    draw.rectangle((width // 2, 2 * height // 3, width, height), fill=(0, 255, 0))
    return image


def _kinds(folder: Path) -> dict[str, str]:
    """Photos of every kind a hidden issue may bring; name -> file."""
    folder.mkdir(parents=True, exist_ok=True)
    scene, made = _scene(), {}

    def save(name: str, image: Image.Image, file: str, **options: object) -> None:
        image.save(folder / file, **options)
        made[name] = file

    save("srgb", scene, "srgb.jpg", quality=92)
    save("grey", scene.convert("L"), "grey.jpg", quality=92)
    if ADOBE_RGB is not None:
        save("adobe", scene, "adobe.jpg", quality=92, icc_profile=ADOBE_RGB.read_bytes())
    cmyk_profile = press_profile("WAN-IFRAnewspaper26v5.icc")
    if cmyk_profile is not None:
        transform = ImageCms.buildTransform(ImageCms.createProfile("sRGB"), str(cmyk_profile), "RGB", "CMYK")
        cmyk = ImageCms.applyTransform(scene, transform)
    else:
        cmyk = scene.convert("CMYK")
    # Pillow writes CMYK JPEGs as Photoshop does: inverted, with an Adobe APP14 marker.
    save("cmyk-adobe", cmyk, "cmyk.jpg", quality=92)
    save("deep", scene.convert("L").point(lambda v: v // 4), "deep.png")
    save("bright", _scene(low=170, high=255), "bright.jpg", quality=92)
    sixteen = scene.convert("L").convert("I").point(lambda v: v * 257).convert("I;16")
    save("sixteen-png", sixteen, "sixteen.png")
    save("sixteen-tiff", sixteen, "sixteen.tif")
    save("palette", scene.convert("P", palette=Image.Palette.ADAPTIVE), "palette.png")
    rgba = scene.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").rotate(90).resize(scene.size))
    save("rgba", rgba, "rgba.png")
    rotated = scene.rotate(90, expand=True)
    exif = rotated.getexif()
    exif[0x0112] = 6
    save("rotated", rotated, "rotated.jpg", exif=exif, quality=92)
    return made


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("pdfx")
    issue = make_project(root)
    kinds = _kinds(issue / "images")
    names = sorted(kinds)
    pages = []
    for number, start in enumerate(range(0, len(names), 3), start=1):
        slots = []
        for name in names[start:start + 3]:
            write_article(issue, name, body(50, seed=number), headline=f"A {name} photo",
                          images=[{"file": f"images/{kinds[name]}", "caption": f"The {name} photo"}])
            slots.append({"slug": name, "columns": 2 if len(slots) < 2 else 1})
        pages.append({"page": number, "articles": slots})
    write_manifest(issue, {"pages": pages})
    compose_issue(Project(root), "test-issue")  # raises if preflight fails
    return root, kinds


def _plates(root: Path) -> list[Path]:
    return sorted((root / "build" / "test-issue" / "plates").glob("test-issue*.pdf"))


def _plate_photos(root: Path) -> dict[str, Image.Image]:
    found = {}
    for plate in _plates(root):
        if plate.stem == "test-issue":
            continue
        with pikepdf.open(plate) as pdf:
            for page in pdf.pages:
                for _, xobject in page.get_images(recursive=False).items():
                    picture = pikepdf.PdfImage(xobject).as_pil_image()
                    assert xobject.ColorSpace == "/DeviceGray" and picture.mode == "L"
                    found[label_of(xobject.read_raw_bytes()).split("(article ")[1].rstrip(")")] = picture
    return found


def test_every_plate_passes_the_pdfx_1a_2003_checklist(photos):
    root, _ = photos
    plates = _plates(root)
    assert len(plates) >= 5  # four pages and the whole issue
    for plate in plates:
        assert check(plate) == [], plate.name


def test_every_kind_of_photo_keeps_the_paper_tone_range_measured_on_the_plates(photos):
    root, kinds = photos
    paper = load_settings(root / "issues" / "paper.yaml")
    found = _plate_photos(root)
    assert set(found) == set(kinds)
    for name, picture in found.items():
        low, high = picture.getextrema()
        lightest, darkest = 100 * (1 - high / 255), 100 * (1 - low / 255)
        assert darkest <= paper.photo_shadow, (name, darkest)
        assert lightest >= paper.photo_highlight, (name, lightest)


def test_cmyk_and_rotated_photos_print_like_the_srgb_original(photos):
    """An inverted (Adobe) CMYK JPEG read the wrong way round would keep the range but print a
    negative; a rotated one read without its EXIF tag would be cut on its side."""
    root, _ = photos
    found = _plate_photos(root)
    reference = found["srgb"]

    def shade(picture: Image.Image, box: tuple[float, float, float, float]) -> float:
        w, h = picture.size
        part = picture.crop((int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)))
        return sum(part.get_flattened_data()) / (part.width * part.height)

    dark, light = (0.05, 0.75, 0.45, 0.95), (0.92, 0.0, 1.0, 0.25)  # the shadow block, the ramp's white end
    assert shade(reference, dark) < 80 < 200 < shade(reference, light)
    for name in ("cmyk-adobe", "rotated"):
        picture = found[name]
        assert abs(picture.width / picture.height - reference.width / reference.height) < 0.02, name
        assert shade(picture, dark) < 80 < 200 < shade(picture, light), name


def test_preflight_passes_the_photo_plates(photos):
    root, _ = photos
    findings, _ = check_issue_plates(Project(root), "test-issue")
    assert findings and [f for f in findings if not f.ok] == []
    photo_checks = {f.check for f in findings if f.plate.endswith(".pdf")}
    assert len(photo_checks) >= 10, photo_checks


# ---- the checklist catches what it claims to ------------------------------------------------------

def _broken(root: Path, tmp_path: Path, change) -> Path:  # noqa: ANN001
    source = _plates(root)[0]
    target = tmp_path / "broken.pdf"
    with pikepdf.open(source) as pdf:
        change(pdf)
        pdf.save(target, min_version=pdf.pdf_version, stream_decode_level=pikepdf.StreamDecodeLevel.none,
                 compress_streams=False)  # as broken: qpdf would otherwise decode an LZW stream
    return target


def _xmp_conformance(pdf: pikepdf.Pdf) -> None:
    data = pdf.Root.Metadata.read_bytes().replace(
        b"<pdfx:GTS_PDFXVersion>", b"<pdfx:GTS_PDFXConformance>PDF/X-1a:2003</pdfx:GTS_PDFXConformance>"
                                   b"<pdfx:GTS_PDFXVersion>", 1)
    pdf.Root.Metadata.write(data)


def _rgb(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].contents_add(pdf.make_stream(b"q 1 0 0 rg 0 0 10 10 re f Q"))


def _soft_mask(pdf: pikepdf.Pdf) -> None:
    page = pdf.pages[0]
    page.Resources.ExtGState = page.Resources.get("/ExtGState", pikepdf.Dictionary())
    page.Resources.ExtGState.GSx = pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, ca=0.5)


def _no_trim(pdf: pikepdf.Pdf) -> None:
    del pdf.pages[0].obj["/TrimBox"]


def _unknown_trapped(pdf: pikepdf.Pdf) -> None:
    pdf.trailer.Info.Trapped = pikepdf.Name.Unknown


def _unembedded(pdf: pikepdf.Pdf) -> None:
    page = pdf.pages[0]
    page.Resources.Font.Fx = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica))


def _rgb_image(pdf: pikepdf.Pdf) -> None:
    (xobject,) = list(pdf.pages[0].get_images(recursive=False).values())[:1]
    buffer = io.BytesIO()
    Image.new("RGB", (int(xobject.Width), int(xobject.Height)), (200, 10, 10)).save(buffer, "JPEG")
    xobject.write(buffer.getvalue(), filter=pikepdf.Name.DCTDecode)
    xobject.ColorSpace = pikepdf.Name.DeviceRGB


def _javascript(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS="app.alert(1)"))


def _link(pdf: pikepdf.Pdf) -> None:
    box = pdf.pages[0].obj.TrimBox
    pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Square, Rect=pikepdf.Array([box[0] + 10, box[1] + 10,
                                                                                  box[0] + 50, box[1] + 50])))]))


def _two_versions(pdf: pikepdf.Pdf) -> None:
    pdf.trailer.Info.GTS_PDFXVersion = pikepdf.String("PDF/X-1:2001")


def _lzw(pdf: pikepdf.Pdf) -> None:
    form = pdf.make_stream(b"", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form, BBox=[0, 0, 1, 1])
    form.write(b"\x80\x0b\x60\x50\x22\x0c\x0c\x85\x01", filter=pikepdf.Name.LZWDecode)
    pdf.pages[0].Resources.XObject.Lzw = form


BREAKS = {
    "X25-xmp": _xmp_conformance, "X12-colour": _rgb, "X14-transparency": _soft_mask, "X10-page-boxes": _no_trim,
    "X07-trapped": _unknown_trapped, "X13-fonts": _unembedded, "X15-actions": _javascript,
    "X16-annotations": _link, "X04-pdfx-version": _two_versions, "X20-filters": _lzw,
}


@pytest.mark.parametrize("rule", sorted(BREAKS))
def test_the_checklist_fails_a_plate_broken_on_purpose(photos, tmp_path, rule):
    root, _ = photos
    assert rule in RULES
    found = check(_broken(root, tmp_path, BREAKS[rule]))
    assert rule in {r for r, _ in found}, found


def test_an_rgb_image_is_caught_by_colour(photos, tmp_path):
    root, _ = photos
    found = check(_broken(root, tmp_path, _rgb_image))
    assert [m for r, m in found if r == "X12-colour" and "DeviceRGB" in m], found


# ---- preflight fails what the checklist fails ---------------------------------------------------

def _resources(pdf: pikepdf.Pdf, key: str) -> pikepdf.Dictionary:
    resources = pdf.pages[0].Resources
    if key not in resources:
        resources[key] = pikepdf.Dictionary()
    return resources[key]


def _blend(pdf: pikepdf.Pdf) -> None:
    _resources(pdf, "/ExtGState").GSb = pikepdf.Dictionary(BM=pikepdf.Name.Multiply)
    pdf.pages[0].contents_add(pdf.make_stream(b"q /GSb gs Q"))


def _page_group(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].obj.Group = pikepdf.Dictionary(S=pikepdf.Name.Transparency, CS=pikepdf.Name.DeviceCMYK)


def _postscript_operator(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].contents_add(pdf.make_stream(b"(0 setgray) PS"))


def _optional_content(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OCProperties = pikepdf.Dictionary(OCGs=pikepdf.Array(), D=pikepdf.Dictionary())


def _separated(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].obj.SeparationInfo = pikepdf.Dictionary(Pages=pikepdf.Array([pdf.pages[0].obj]),
                                                         DeviceColorant=pikepdf.Name.Black)


def _inline_rgb_image(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].contents_add(pdf.make_stream(b"q 10 0 0 10 0 0 cm BI /W 1 /H 1 /CS /RGB /BPC 8 ID \xff\x00\x00 EI Q"))


def _no_title(pdf: pikepdf.Pdf) -> None:
    del pdf.trailer.Info["/Title"]


def _bad_date(pdf: pikepdf.Pdf) -> None:
    pdf.trailer.Info.ModDate = pikepdf.String("1 April 2022")


def _conformance(pdf: pikepdf.Pdf) -> None:
    pdf.trailer.Info.GTS_PDFXConformance = pikepdf.String("PDF/X-1a:2001")


def _jpeg2000(pdf: pikepdf.Pdf) -> None:
    (xobject,) = list(pdf.pages[0].get_images(recursive=False).values())[:1]
    xobject.Filter = pikepdf.Name.JPXDecode


CROSS = {  # break: (the checklist's rule, preflight's check)
    "xmp conformance": (_xmp_conformance, "X25-xmp", "PDF/X"),
    "2001 version": (_two_versions, "X04-pdfx-version", "PDF/X"),
    "2001 conformance key": (_conformance, "X04-pdfx-version", "PDF/X"),
    "no title": (_no_title, "X05-title", "PDF/X"),
    "bad date": (_bad_date, "X06-dates", "PDF/X"),
    "blend mode": (_blend, "X14-transparency", "transparency"),
    "page group": (_page_group, "X14-transparency", "PDF/X structure"),
    "PS operator": (_postscript_operator, "X17-postscript", "PDF/X structure"),
    "optional content": (_optional_content, "X23-optional-content", "PDF/X structure"),
    "separated": (_separated, "X26-separated", "PDF/X structure"),
    "inline RGB image": (_inline_rgb_image, "X12-colour", "colour"),
    "JPEG 2000": (_jpeg2000, "X20-filters", "PDF/X structure"),
}


@pytest.mark.parametrize("case", sorted(CROSS))
def test_preflight_fails_what_the_checklist_fails(photos, tmp_path, case):
    from layout.press.preflight import check_issue

    root, _ = photos
    change, rule, preflight_check = CROSS[case]
    broken = _broken(root, tmp_path, change)
    assert rule in {r for r, _ in check(broken)}
    plate = tmp_path / "test-issue-p01.pdf"  # named as a plate, for preflight's page numbers
    broken.rename(plate)
    paper = load_settings(root / "issues" / "paper.yaml")
    failed = {f.check for f in check_issue([plate], paper, None) if not f.ok}
    assert preflight_check in failed, failed
