"""Photos: decoded and checked before use, colour-managed into the press's grey, toned to the paper's
photo_highlight and photo_shadow, sharpened; measured from the plates' image data."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pikepdf
import pytest
import yaml
from factory import REPO, body, make_project, write_article, write_manifest
from PIL import Image, ImageCms, ImageDraw

from layout.build import Project, compose_issue
from layout.composing import images
from layout.press.paint import label_of
from layout.reading.articles import Photo
from layout.reading.settings import load_settings, press_profile

OUTPUT = REPO / "tests" / "output"  # git-ignored: pictures to look at
GS_ICC = sorted(Path("/usr/share/ghostscript").glob("*/iccprofiles"))
ADOBE_RGB = GS_ICC[0] / "a98.icc" if GS_ICC and (GS_ICC[0] / "a98.icc").is_file() else None
"""Ghostscript's Adobe RGB (1998)-compatible profile."""


def _scene(size: tuple[int, int] = (900, 600)) -> Image.Image:
    """An RGB test scene: a grey ramp with paper white and solid black at its ends, deep shadows
    (a black block with near-black detail), a sky blue and a saturated green."""
    width, height = size
    image = Image.new("RGB", size, (255, 255, 255))
    ramp = Image.linear_gradient("L").rotate(90, expand=True).resize((width, height // 3))
    image.paste(Image.merge("RGB", [ramp] * 3), (0, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height // 3, width // 2, height), fill=(0, 0, 0))  # deep shadow
    unit = width / 600
    for step in range(6):  # near-black detail a plain conversion prints solid
        draw.rectangle((unit * (10 + step * 40), height // 2, unit * (40 + step * 40), height // 2 + 60 * unit),
                       fill=(4 * step,) * 3)
    draw.rectangle((width // 2, height // 3, width, 2 * height // 3), fill=(90, 150, 220))
    draw.rectangle((width // 2, 2 * height // 3, width, height), fill=(0, 255, 0))
    return image


def _icc(path: Path) -> bytes:
    return path.read_bytes()


def _kinds(folder: Path) -> dict[str, str]:
    """Photos of every kind, written into ``folder``; name -> file."""
    folder.mkdir(parents=True, exist_ok=True)
    scene = _scene()
    made = {}
    scene.save(folder / "srgb.jpg", quality=92)
    made["srgb"] = "srgb.jpg"
    scene.convert("L").save(folder / "grey.jpg", quality=92)
    made["grey"] = "grey.jpg"
    if ADOBE_RGB is not None:
        scene.save(folder / "adobe.jpg", quality=92, icc_profile=_icc(ADOBE_RGB))
        made["adobe"] = "adobe.jpg"
    cmyk = press_profile("WAN-IFRAnewspaper26v5.icc")
    if cmyk is not None:
        transform = ImageCms.buildTransform(ImageCms.createProfile("sRGB"), str(cmyk), "RGB", "CMYK")
        ImageCms.applyTransform(scene, transform).save(folder / "cmyk.jpg", quality=92, icc_profile=_icc(cmyk))
        made["cmyk"] = "cmyk.jpg"
    deep = scene.convert("L").point(lambda v: v // 3)  # a dark photo: most of it near solid
    deep.save(folder / "deep.png")
    made["deep"] = "deep.png"
    sixteen = scene.convert("L").convert("I").point(lambda v: v * 257).convert("I;16")
    sixteen.save(folder / "sixteen.png")
    made["sixteen"] = "sixteen.png"
    scene.convert("P", palette=Image.Palette.ADAPTIVE).save(folder / "palette.png")
    made["palette"] = "palette.png"
    rgba = scene.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").rotate(90).resize(scene.size))  # transparent at the left
    rgba.save(folder / "alpha.png")
    made["alpha"] = "alpha.png"
    scene.save(folder / "tiff.tif")
    made["tiff"] = "tiff.tif"
    return made


@pytest.fixture(scope="module")
def photo_issue(tmp_path_factory) -> Path:
    """An issue of one page per two kinds of photo, composed."""
    root = tmp_path_factory.mktemp("photos")
    issue = make_project(root)
    kinds = _kinds(issue / "images")
    names = sorted(kinds)
    pages = []
    for number, pair in enumerate([names[i:i + 2] for i in range(0, len(names), 2)], start=1):
        slots = []
        for name in pair:
            write_article(issue, name, body(60, seed=number), headline=f"A {name} photo",
                          images=[{"file": f"images/{kinds[name]}", "caption": f"The {name} photo"}])
            slots.append({"slug": name, "columns": 2})
        pages.append({"page": number, "articles": slots})
    write_manifest(issue, {"pages": pages})
    compose_issue(Project(root), "test-issue")
    return root


def _plate_photos(root: Path) -> dict[str, tuple[Image.Image, tuple[float, float]]]:
    """Every photo on the plates, by its article: its pixels and lightest and darkest dot (percent),
    decoded from the image data in the PDF (not from the prepared files)."""
    found = {}
    for plate in sorted((root / "build" / "test-issue" / "plates").glob("test-issue-p*.pdf")):
        with pikepdf.open(plate) as pdf:
            for page in pdf.pages:
                for _, xobject in page.get_images(recursive=False).items():
                    label = label_of(xobject.read_raw_bytes())
                    picture = pikepdf.PdfImage(xobject).as_pil_image()
                    assert picture.mode == "L" and xobject.ColorSpace == "/DeviceGray"
                    low, high = picture.getextrema()
                    article = label.split("(article ")[1].rstrip(")")
                    found[article] = (picture, (100 * (1 - high / 255), 100 * (1 - low / 255)))
    return found


def test_every_kind_of_photo_keeps_its_tones_within_the_paper_range_on_the_plates(photo_issue):
    paper = load_settings(photo_issue / "issues" / "paper.yaml")
    photos = _plate_photos(photo_issue)
    kinds = set(_kinds(photo_issue / "scratch"))
    assert set(photos) == kinds
    for name, (_, (lightest, darkest)) in photos.items():
        assert darkest <= paper.photo_shadow, (name, darkest)
        assert lightest >= paper.photo_highlight, (name, lightest)
        # The range is used, not squashed: the scene runs from paper white to solid black.
        if name != "alpha":  # partly transparent everywhere: flattened, it has no black
            assert darkest >= paper.photo_shadow - 6, (name, darkest)
        if name != "deep":  # a dark photo keeps its lightest tone dark
            assert lightest <= paper.photo_highlight + 6, (name, lightest)


def test_sixteen_bit_palette_alpha_and_tiff_print_as_their_8_bit_rgb_original(photo_issue):
    photos = _plate_photos(photo_issue)
    reference = photos["srgb"][0]

    def mean(picture: Image.Image, box: tuple[float, float, float, float]) -> float:
        w, h = picture.size
        crop = picture.crop((int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)))
        return sum(crop.get_flattened_data()) / (crop.width * crop.height)

    ramp = (0.05, 0.05, 0.95, 0.25)
    for name in ("grey", "sixteen", "palette", "tiff"):
        assert photos[name][0].size == reference.size
        assert mean(photos[name][0], ramp) == pytest.approx(mean(reference, ramp), abs=6), name
    # 16-bit is scaled, not clipped (clipped, it printed white): its shadow block is dark.
    assert mean(photos["sixteen"][0], (0.1, 0.75, 0.4, 0.95)) < 60
    # Transparency is flattened on white paper: the transparent left edge prints as the highlight.
    alpha = photos["alpha"][0]
    assert mean(alpha, (0.0, 0.4, 0.03, 0.95)) > 225
    assert mean(photos["srgb"][0], (0.0, 0.4, 0.03, 0.95)) < 60  # the same place in the opaque photo


@pytest.mark.skipif(ADOBE_RGB is None, reason="Ghostscript's Adobe RGB profile is not installed")
def test_an_embedded_profile_is_honoured(photo_issue):
    photos = _plate_photos(photo_issue)
    w, h = photos["srgb"][0].size
    green = (int(0.8 * w), int(0.85 * h))
    # The same pixel values mean a different colour in Adobe RGB: its green is darker (Y 0.63 vs 0.72)
    # and prints darker; ignoring the profile, it would print the same as sRGB's.
    assert photos["adobe"][0].getpixel(green) < photos["srgb"][0].getpixel(green) - 4
    # Neutral greys mean nearly the same in both.
    ramp = (int(0.5 * w), int(0.15 * h))
    assert photos["adobe"][0].getpixel(ramp) == pytest.approx(photos["srgb"][0].getpixel(ramp), abs=4)
    if "cmyk" in photos:  # CMYK through its own profile prints what the RGB original did
        assert photos["cmyk"][0].getpixel(ramp) == pytest.approx(photos["srgb"][0].getpixel(ramp), abs=8)
        assert photos["cmyk"][0].getpixel((int(0.2 * w), int(0.9 * h))) < 60


def test_deep_shadows_keep_their_detail_instead_of_printing_solid(photo_issue):
    photos = _plate_photos(photo_issue)
    picture = photos["srgb"][0]
    w, h = picture.size
    # The black block and the near-black steps (levels 0-20) stay apart after preparation, and
    # none of them goes past photo_shadow (checked above): a plain convert("L") printed them all at
    # 92-100 % dot, solid on newsprint.
    first = picture.getpixel((int(25 / 600 * w), int(230 / 400 * h)))
    last = picture.getpixel((int(225 / 600 * w), int(230 / 400 * h)))
    assert last > first + 3


def test_a_rotated_portrait_is_placed_upright(tmp_path):
    issue = make_project(tmp_path)
    (issue / "images").mkdir()
    portrait = Image.new("L", (600, 1200), 255)
    ImageDraw.Draw(portrait).rectangle((0, 0, 600, 600), fill=0)  # upright: the top half dark
    landscape = portrait.rotate(90, expand=True)  # as a camera stores it: on its side...
    exif = landscape.getexif()
    exif[0x0112] = 6  # ...with "rotate 90 clockwise to view"
    landscape.save(issue / "images" / "portrait.jpg", exif=exif, quality=95)
    write_article(issue, "story", body(80), images=[{"file": "images/portrait.jpg", "caption": "Upright"}])
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "story", "columns": 1}]}]})
    compose_issue(Project(tmp_path), "test-issue")
    with pikepdf.open(tmp_path / "build" / "test-issue" / "plates" / "test-issue-p01.pdf") as pdf:
        (xobject,) = pdf.pages[0].get_images(recursive=False).values()
        picture = pikepdf.PdfImage(xobject).as_pil_image()
    # Placed as the tallest photo a slot takes (0.8 of its width: compose.MAX_PHOTO_ASPECT); read
    # as the landscape it is stored as, it was cut to half its width.
    assert picture.height / picture.width == pytest.approx(0.8, abs=0.01)
    top = picture.crop((0, 0, picture.width, 10))
    bottom = picture.crop((0, picture.height - 10, picture.width, picture.height))
    assert max(top.get_flattened_data()) < 100 < min(bottom.get_flattened_data())


def _truncated(path: Path) -> None:
    data = io.BytesIO()
    _scene().save(data, "JPEG", quality=90)
    path.write_bytes(data.getvalue()[: len(data.getvalue()) // 2])


def _eps(path: Path) -> None:
    path.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n0 0 moveto 100 100 lineto stroke\n"
                     b"showpage\n")


def _bad_profile(path: Path) -> None:
    _scene().save(path, quality=90, icc_profile=b"acsp-not-really-a-profile" * 8)


def _cmyk_profile_on_rgb(path: Path) -> None:
    _scene().save(path, quality=90, icc_profile=(GS_ICC[0] / "default_cmyk.icc").read_bytes())


def _gif(path: Path) -> None:
    _scene().save(path, "GIF")


def _bomb(path: Path) -> None:
    Image.new("1", (12000, 9000)).save(path)  # 108 million pixels in a few kB


BAD = {
    "truncated JPEG": ("cut.jpg", _truncated, "is truncated"),
    "EPS": ("drawing.jpg", _eps, "is an EPS/PostScript file: layout prints JPEG, PNG and TIFF photos only"),
    "GIF": ("anim.gif", _gif, "is a GIF: layout prints JPEG, PNG and TIFF photos only"),
    "damaged profile": ("profile.jpg", _bad_profile, "has an embedded ICC colour profile that is damaged"),
    "too many pixels": ("bomb.png", _bomb, "is too large (12000 x 9000 px)"),
}
if GS_ICC:
    BAD["profile of another colour space"] = ("mixed.jpg", _cmyk_profile_on_rgb,
                                              "is RGB but its embedded ICC profile is for CMYK colour")


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_photo_that_cannot_be_printed_is_refused_naming_the_photo_and_article(tmp_path, run_cli, case,
                                                                                  monkeypatch):
    name, make, expected = BAD[case]
    issue = make_project(tmp_path)
    (issue / "images").mkdir()
    make(issue / "images" / name)
    write_article(issue, "story", body(80), images=[{"file": f"images/{name}", "caption": "A photo"}])
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "story", "columns": 2}]}]})

    def no_ghostscript(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("Ghostscript was run on a photo")

    monkeypatch.setattr("subprocess.Popen", no_ghostscript)
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 2, err
    assert f"articles/story.md: images[0].file: photo 'images/{name}' {expected}" in err, err
    assert "Traceback" not in err and not (tmp_path / "build" / "test-issue" / "plates").exists()


def test_a_photo_checked_before_is_checked_again_when_its_bytes_change(tmp_path, run_cli):
    issue = make_project(tmp_path)
    (issue / "images").mkdir()
    _scene().save(issue / "images" / "photo.jpg", quality=90)
    write_article(issue, "story", body(80), images=[{"file": "images/photo.jpg", "caption": "A photo"}])
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "story", "columns": 2}]}]})
    assert run_cli("compose", "test-issue", root=tmp_path)[0] == 0
    assert any((tmp_path / "build" / ".cache" / "photo-check").iterdir())  # its check is kept
    _truncated(issue / "images" / "photo.jpg")  # the same name, cut short
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 2 and "photo 'images/photo.jpg' is truncated" in err, err


def test_pillow_never_runs_ghostscript():
    from PIL import EpsImagePlugin

    assert not EpsImagePlugin.has_ghostscript()
    with pytest.raises(images.PhotoProblem):
        images._open(Path(__file__))  # not an image: refused by the sniffing, not opened


def test_the_tone_curve_without_a_grey_profile_is_close_to_the_newsprint_profile():
    profile = press_profile("WAN-IFRAnewspaper26v5_gr.icc")
    if profile is None:
        pytest.skip("WAN-IFRAnewspaper26v5_gr.icc is not installed")
    ramp = Image.new("L", (256, 1))
    ramp.putdata(list(range(256)))
    transform = ImageCms.buildTransform(ImageCms.createProfile("LAB"), str(profile), "LAB", "L",
                                        ImageCms.Intent.RELATIVE_COLORIMETRIC)
    lab = Image.merge("LAB", [ramp, Image.new("L", (256, 1), 128), Image.new("L", (256, 1), 128)])
    by_profile = list(ImageCms.applyTransform(lab, transform).get_flattened_data())
    for level in range(0, 256, 16):
        curve = images.tone_curve(level / 255 * 100) * 100
        assert curve == pytest.approx(100 - by_profile[level] / 2.55, abs=1.5), level
    # It compensates the dot gain: a mid-grey (L* 56) asks a 50 % dot, where a plain conversion
    # asks 44 % for it... and newsprint's gain makes the plain one's 50 % print at L* 56, not 50.
    assert images.tone_curve(56.1) == pytest.approx(0.5)
    assert images.tone_curve(50) > 0.55


def test_without_a_grey_profile_the_curve_still_keeps_the_range(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "grey_profile", lambda paper: None)
    paper = load_settings(REPO / "issues" / "paper.yaml")
    source = tmp_path / "scene.png"
    _scene().save(source)
    prepared = images.prepare(Photo(source, "", "", 900, 600, "RGB"), 300, 200, tmp_path / "out", paper, "story")
    assert prepared.tone.startswith("newsprint tone curve")
    with Image.open(prepared.path) as picture:
        low, high = picture.getextrema()
    assert 100 * (1 - low / 255) <= paper.photo_shadow and 100 * (1 - high / 255) >= paper.photo_highlight


def test_an_untagged_cmyk_photo_prints_right_with_or_without_a_cmyk_profile(tmp_path, monkeypatch):
    paper = load_settings(REPO / "issues" / "paper.yaml")
    source = tmp_path / "cmyk.jpg"
    black = Image.new("L", (400, 300), 0)
    ink = Image.new("L", (400, 300), 0)
    ink.paste(255, (0, 0, 200, 300))  # the left half solid K, the right half no ink
    Image.merge("CMYK", [black, black, black, ink]).save(source, quality=95)
    for profile in ("installed", None):
        if profile is None:
            monkeypatch.setattr(images, "cmyk_profile", lambda paper: None)
        prepared = images.prepare(Photo(source, "", "", 400, 300, "CMYK"), 150, 100, tmp_path / str(profile),
                                  paper, "story")
        with Image.open(prepared.path) as picture:
            left, right = picture.getpixel((20, 50)), picture.getpixel((picture.width - 20, 50))
        # Solid K prints near the shadow (K alone is a little lighter than the press's richest black).
        assert paper.photo_shadow - 8 <= 100 * (1 - left / 255) <= paper.photo_shadow, profile
        assert 100 * (1 - right / 255) == pytest.approx(paper.photo_highlight, abs=3), profile  # paper


def test_the_prepared_photo_follows_its_settings(tmp_path):
    source = tmp_path / "scene.png"
    _scene().save(source)
    photo = Photo(source, "", "", 900, 600, "RGB")
    paper = load_settings(REPO / "issues" / "paper.yaml")
    first = images.prepare(photo, 300, 200, tmp_path / "out", paper, "story")
    again = images.prepare(photo, 300, 200, tmp_path / "out", paper, "story")
    assert again.path == first.path
    from dataclasses import replace

    for change in ({"photo_shadow": 80.0}, {"photo_highlight": 5.0}, {"screen_ruling": 85.0},
                   {"max_image_ppi": 200}):
        other = images.prepare(photo, 300, 200, tmp_path / "out", replace(paper, **change), "story")
        assert other.path != first.path and other.path.read_bytes() != first.path.read_bytes(), change
    darker = images.prepare(photo, 300, 200, tmp_path / "out", replace(paper, photo_shadow=80.0), "story")
    with Image.open(darker.path) as picture:
        assert 100 * (1 - picture.getextrema()[0] / 255) <= 80


def test_before_and_after_picture(tmp_path):
    """Writes tests/output/photo-before-after.png: each kind of photo as the source, as a plain
    convert("L") would print on newsprint, and as prepared would print (both simulated through the
    newsprint grey profile, absolute colorimetric: paper tint and dot gain shown)."""
    profile = press_profile("WAN-IFRAnewspaper26v5_gr.icc")
    if profile is None:
        pytest.skip("WAN-IFRAnewspaper26v5_gr.icc is not installed")
    paper = load_settings(REPO / "issues" / "paper.yaml")
    printed = ImageCms.buildTransform(str(profile), ImageCms.createProfile("sRGB"), "L", "RGB",
                                      ImageCms.Intent.ABSOLUTE_COLORIMETRIC)
    kinds = _kinds(tmp_path / "src")
    rows = []
    for name in sorted(kinds):
        source = tmp_path / "src" / kinds[name]
        found = images.inspect(source)
        prepared = images.prepare(Photo(source, "", "", found.width, found.height, found.mode), 300, 200,
                                  tmp_path / "out", paper, name)
        with Image.open(source) as original:
            shown = images.upright(source)[0].convert("RGB").resize((300, 200))
            plain = original.convert("L").resize((300, 200))  # what layout did before
        with Image.open(prepared.path) as after:
            rows.append([shown, ImageCms.applyTransform(plain, printed),
                         ImageCms.applyTransform(after.resize((300, 200)), printed)])
    sheet = Image.new("RGB", (3 * 310, len(rows) * 210), "white")
    for y, row in enumerate(rows):
        for x, picture in enumerate(row):
            sheet.paste(picture, (x * 310, y * 210))
    OUTPUT.mkdir(exist_ok=True)
    sheet.save(OUTPUT / "photo-before-after.png")
    assert (OUTPUT / "photo-before-after.png").stat().st_size > 10_000


def test_icc_profile_setting_is_confined_parsed_and_in_the_plates_key(tmp_path, run_cli):
    cmyk = press_profile("WAN-IFRAnewspaper26v5.icc")
    grey = press_profile("WAN-IFRAnewspaper26v5_gr.icc")
    if cmyk is None or grey is None:
        pytest.skip("Debian's icc-profiles is not installed")
    issue = make_project(tmp_path)
    write_article(issue, "story", body(100))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "story", "columns": 5}]}]})
    settings = tmp_path / "issues" / "paper.yaml"
    data = yaml.safe_load(settings.read_text())
    profiles = tmp_path / "issues" / "profiles"
    profiles.mkdir()
    (profiles / "display.icc").write_bytes((GS_ICC[0] / "srgb.icc").read_bytes())
    (profiles / "outside.icc").symlink_to(cmyk)
    for value, expected in (("/etc/passwd", "/etc/passwd is outside the project folder"),
                            ("profiles/outside.icc", "outside the project folder (symlinks are followed)"),
                            ("paper.yaml", "is not an ICC profile"),
                            ("profiles/display.icc", "not an output (printer) profile")):
        settings.write_text(yaml.safe_dump({**data, "icc_profile": value}))
        code, _, err = run_cli("compose", "test-issue", root=tmp_path)
        assert code == 2 and f"icc_profile: {value} " in err and expected in err, err

    def embedded() -> bytes:
        plate = tmp_path / "build" / "test-issue" / "plates" / "test-issue-p01.pdf"
        with pikepdf.open(plate) as pdf:
            return pdf.Root.OutputIntents[0].DestOutputProfile.read_bytes()

    shutil.copy(cmyk, profiles / "press.icc")
    settings.write_text(yaml.safe_dump({**data, "icc_profile": "profiles/press.icc"}))
    assert run_cli("compose", "test-issue", root=tmp_path)[0] == 0
    assert embedded() == cmyk.read_bytes()
    shutil.copy(grey, profiles / "press.icc")  # the same name, other bytes: the plates must follow
    assert run_cli("compose", "test-issue", root=tmp_path)[0] == 0
    assert embedded() == grey.read_bytes()
    settings.write_text(yaml.safe_dump({**data, "icc_profile": "none"}))
    assert run_cli("compose", "test-issue", root=tmp_path)[0] == 0
    plate = tmp_path / "build" / "test-issue" / "plates" / "test-issue-p01.pdf"
    with pikepdf.open(plate) as pdf:
        assert "/DestOutputProfile" not in pdf.Root.OutputIntents[0]
        assert pdf.Root.OutputIntents[0].OutputConditionIdentifier == "WAN-IFRAnewspaper26v5"


def test_the_new_paper_settings_are_checked_all_at_once(tmp_path, run_cli):
    issue = make_project(tmp_path, paper={"photo_highlight": 30, "photo_shadow": "dark", "screen_ruling": 10,
                                          "min_type_size": "7", "min_rule_width": "9pt",
                                          "sample_imprint": "maybe", "icc_profile": 12})
    write_article(issue, "story", body(100))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "story", "columns": 5}]}]})
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 2, err
    for expected in ("photo_highlight: expected a number from 0 to 20, found 30",
                     "photo_shadow: expected a number from 60 to 100, found 'dark'",
                     "screen_ruling: expected a number from 50 to 300, found 10",
                     "min_type_size:", "min_rule_width: 9pt is out of range",
                     "sample_imprint: expected error or warning, found 'maybe'",
                     "icc_profile: expected a file name, found 12"):
        assert expected in err, (expected, err)


def test_findings_on_a_later_page_name_that_page_and_its_article(photo_issue, tmp_path):
    """A plate of page 3 broken with small type in its first article's slot, and its photo
    swapped for a 72 ppi one: both findings name page 3 and the article."""
    import json

    from layout.press.paint import PHOTO_COMMENT
    from layout.press.preflight import check_issue

    plates = photo_issue / "build" / "test-issue" / "plates"
    fit = json.loads((photo_issue / "build" / "test-issue" / "fit.json").read_text())
    (slot,) = [s for s in fit["slots"] if s["page"] == 3 and s["slug"] == "grey"]
    x, y, width, height = slot["box"]
    target = tmp_path / "test-issue-p03.pdf"
    with pikepdf.open(plates / "test-issue-p03.pdf") as pdf:
        page = pdf.pages[0]
        trim = [float(v) for v in page.TrimBox]
        font = next(iter(page.Resources.Font.keys()))
        px, py = trim[0] + x + width / 2, trim[3] - y - height * 0.9
        page.contents_add(pdf.make_stream(f"BT {font} 5 Tf {px:.1f} {py:.1f} Td (tiny) Tj ET".encode()))
        for image in page.get_images(recursive=False).values():
            if "grey.jpg" in label_of(image.read_raw_bytes()):
                data = io.BytesIO()
                label = PHOTO_COMMENT + b"images/grey.jpg (article grey)"
                Image.new("L", (60, 40), 128).save(data, "JPEG", comment=label)
                image.write(data.getvalue(), filter=pikepdf.Name.DCTDecode)
                image.Width, image.Height = 60, 40
        pdf.save(target)
    findings = check_issue([target], load_settings(photo_issue / "issues" / "paper.yaml"), fit)
    failed = {(f.check, f.message.split(":")[0]) for f in findings if not f.ok}
    assert ("type size", "page 3, article grey") in failed, failed
    assert ("image resolution", "page 3") in failed
    assert any(f.check == "image resolution" and "photo images/grey.jpg (article grey)" in f.message
               for f in findings if not f.ok)


def test_a_transform_used_again_or_by_threads_at_once_converts_as_a_new_one():
    """The press-grey transforms are made once a process and lent to one thread at a time
    (``images._transformed``): photos in sRGB and in Adobe RGB converted after others, or by eight
    threads at once, have the bytes of their conversion by a transform made for each alone."""
    import concurrent.futures

    if ADOBE_RGB is None:
        pytest.fail("Ghostscript's ICC profiles are not installed: .ci/setup installs them")
    paper = load_settings(REPO / "issues" / "paper.yaml")
    target = images.grey_profile(paper)
    assert target is not None, "the press's grey profile is installed by .ci/setup"
    adobe = ImageCms.ImageCmsProfile(str(ADOBE_RGB))
    photos = [(_scene((300 + 40 * n, 200 + 10 * n)), adobe if n % 2 else None) for n in range(8)]

    def alone(image: Image.Image, profile: ImageCms.ImageCmsProfile | None) -> bytes:
        transform = ImageCms.buildTransform(profile or images._srgb(), ImageCms.ImageCmsProfile(str(target)), "RGB",
                                            "L", ImageCms.Intent.PERCEPTUAL, ImageCms.Flags.BLACKPOINTCOMPENSATION)
        return ImageCms.applyTransform(image, transform).tobytes()

    wanted = [alone(*photo) for photo in photos]
    assert len(set(wanted)) == len(photos)
    for _ in range(2):  # the second round uses the transforms the first made
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            found = list(pool.map(lambda photo: images.to_press_grey(*photo, paper)[0].tobytes(), photos))
        assert found == wanted


def test_a_profile_replaced_under_the_same_name_is_read_again(tmp_path):
    """A long-lived process (``layout serve``, ``watch``) converts with the profile the file holds
    now: the CMYK profile a paper names, replaced by another under the same name, is read again."""
    import time

    if not GS_ICC:
        pytest.fail("Ghostscript's ICC profiles are not installed: .ci/setup installs them")
    path = tmp_path / "press.icc"
    first, second = (GS_ICC[0] / name for name in ("default_cmyk.icc", "ps_cmyk.icc"))
    assert first.read_bytes() != second.read_bytes()
    shutil.copyfile(first, path)
    time.sleep(0.15)  # no longer too recent to remember (files.RACY_NS)
    assert images._file_profile(path).tobytes() == ImageCms.ImageCmsProfile(str(first)).tobytes()
    assert images._file_profile(path) is images._file_profile(path)  # parsed once while unchanged
    shutil.copyfile(second, tmp_path / "new.icc")
    (tmp_path / "new.icc").replace(path)
    time.sleep(0.15)
    assert images._file_profile(path).tobytes() == ImageCms.ImageCmsProfile(str(second)).tobytes()
