"""Proofs people can look at: page PNGs, the flat plan, and the diff between two rounds."""

from __future__ import annotations

import copy
import io
import json

import pypdfium2
from factory import body, make_project, simple_issue, write_article, write_manifest
from PIL import Image, ImageChops

from layout.build import PLAN_SLOT_FIELDS, Project, compose_issue, plan_source
from layout.press.proofs import NEUTRAL, PLAN_GAP, PLAN_SCALE, PROOF_DPI, flat_plan, flat_plan_png, png_of

MM = 72 / 25.4


def test_every_compose_writes_page_proofs_and_a_flat_plan(tmp_path):
    simple_issue(tmp_path, {"alpha-story": 200, "beta-story": 150}, columns={"alpha-story": 3, "beta-story": 2})
    compose_issue(Project(tmp_path), "test-issue")
    proofs = tmp_path / "build" / "test-issue" / "proofs"
    with Image.open(proofs / "p01.png") as page:
        assert abs(page.size[0] - 280 * MM * 60 / 72) <= 1 and abs(page.size[1] - 430 * MM * 60 / 72) <= 1
        # A proof of a newspaper page has ink on it: the headline area is not blank.
        assert page.convert("L").crop((30, 40, 600, 120)).getextrema()[0] < 80
    assert (proofs / "flatplan.png").exists()


def test_flat_plan_labels_every_slot_in_its_box(tmp_path):
    long_slug = "beta-story-with-a-slug-far-too-long-for-its-box"
    simple_issue(tmp_path, {"alpha-story": 200, long_slug: 150, "gamma": 120},
                 columns={"alpha-story": 3, long_slug: 1, "gamma": 5})
    compose_issue(Project(tmp_path), "test-issue")
    fit = json.loads((tmp_path / "build" / "test-issue" / "fit.json").read_text())
    image, labels = flat_plan(fit, (280 * MM, 430 * MM), tmp_path / "fonts")
    assert sorted(label.slot_id for label in labels) == ["alpha-story", long_slug, "gamma"]
    slots = {s["slot_id"]: s for s in fit["slots"]}
    for label in labels:  # the whole slug is written inside its own box, however long it is
        x, _, w, _ = (v * PLAN_SCALE for v in slots[label.slot_id]["box"])
        left = PLAN_GAP + x
        assert left <= label.box[0] and label.box[2] <= left + w + 1, label
    grey = image.convert("L")
    for label in labels:
        x0, y0, x1, y1 = label.box
        assert grey.crop((x0, y0, x1, y1)).getextrema()[0] < 60, label  # the label's ink is there
    boxes = [label.box for label in labels]
    assert len(set(boxes)) == 3
    # What the flat plan is cached by (build.plan_source) is all it draws: any other field of the fit
    # report changed draws the same plan; one of those it draws changed draws another.
    drawn = flat_plan_png(fit, (280 * MM, 430 * MM), tmp_path / "fonts")
    for name in sorted({key for slot in fit["slots"] for key in slot} - set(PLAN_SLOT_FIELDS)):
        other = copy.deepcopy(fit)
        for slot in other["slots"]:
            slot[name] = {"changed": [slot.get(name)]}
        other.update({key: "changed" for key in fit if key not in ("slots", "pages")})
        assert plan_source(other) == plan_source(fit)
        assert flat_plan_png(other, (280 * MM, 430 * MM), tmp_path / "fonts") == drawn, name
    shorter = copy.deepcopy(fit)
    shorter["slots"][0]["short"] += 5
    assert plan_source(shorter) != plan_source(fit)
    assert flat_plan_png(shorter, (280 * MM, 430 * MM), tmp_path / "fonts") != drawn


def test_diff_names_the_reflowed_article_and_draws_the_changed_page(tmp_path, run_cli):
    issue = simple_issue(tmp_path, {"first": 200, "second": 150}, columns={"first": 3, "second": 2})
    compose_issue(Project(tmp_path), "test-issue")
    code, _, err = run_cli("diff", "test-issue", root=tmp_path)
    assert code == 2 and "there is no previous compose" in err
    write_article(issue, "second", body(230, seed=5))
    compose_issue(Project(tmp_path), "test-issue")
    code, out, _ = run_cli("diff", "test-issue", root=tmp_path)
    assert code == 0
    assert "reflowed      second:" in out
    assert "reflowed      first" not in out
    assert "page changed  p01" in out
    picture = tmp_path / "build" / "test-issue" / "diff" / "p01.png"
    with Image.open(picture) as image:
        red = [p for p in image.convert("RGB").get_flattened_data() if p[0] > 200 and p[1] < 40 and p[2] < 40]
    assert len(red) > 100  # the changed area is outlined in red


def test_a_page_in_black_alone_is_proofed_grey_and_a_page_with_colour_in_colour(tmp_path):
    """The proofs are grey PNGs where the page is printed in black alone (a third of the pixels to
    compress, half the file) and RGB where it carries a colour (a proof mark, the nameplate's red):
    the same pixels either way, within the few levels by which pdfium's drawing of a black-only grey
    is not neutral."""
    issue = make_project(tmp_path)
    for slug, seed in (("front-story", 1), ("inside-story", 2)):
        write_article(issue, slug, body(150, seed=seed))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "front-story", "columns": 5}]},
                                     {"page": 2, "articles": [{"slug": "inside-story", "columns": 5}]}]})
    compose_issue(Project(tmp_path), "test-issue")
    out = tmp_path / "build" / "test-issue"
    for number in (1, 2):  # both proofs carry marks (a short slot, the jump line): in colour
        with Image.open(out / "proofs" / f"p{number:02d}.png") as proof:
            assert proof.mode == "RGB" and _spread(proof) > NEUTRAL
    modes = {}
    for number in (1, 2):  # the plates as drawn for a proof, without marks
        plate = pypdfium2.PdfDocument((out / "plates" / f"test-issue-p{number:02d}.pdf").read_bytes())
        drawn = plate[0].render(scale=PROOF_DPI / 72).to_pil().convert("RGB")
        with Image.open(io.BytesIO(png_of(drawn))) as png:
            modes[number] = png.mode
            assert (png.mode == "L") == (_spread(drawn) <= NEUTRAL)
            difference = ImageChops.difference(png.convert("RGB"), drawn if png.mode == "RGB"
                                               else drawn.convert("L").convert("RGB"))
            assert difference.getbbox() is None, number  # pdfium's pixels, or their grey
            if png.mode == "L":
                assert ImageChops.difference(png.convert("RGB"), drawn).getbbox() is not None  # (not neutral)
                assert _spread(drawn) > 0
    assert modes == {1: "L", 2: "L"}  # both plates print in black alone
    with Image.open(io.BytesIO(png_of(Image.new("RGB", (40, 20), (120, 121, 124 + NEUTRAL - 4))))) as grey:
        assert grey.mode == "L"
    with Image.open(io.BytesIO(png_of(Image.new("RGB", (40, 20), (120, 121, 122 + NEUTRAL))))) as tinted:
        assert tinted.mode == "RGB" and tinted.getpixel((3, 3)) == (120, 121, 122 + NEUTRAL)


def _spread(image: Image.Image) -> int:
    """How far apart the channels of the image's most coloured pixel are."""
    rgb = image.convert("RGB")
    return max(int(ImageChops.difference(rgb.getchannel(a), rgb.getchannel(b)).getextrema()[1])
               for a, b in (("R", "G"), ("G", "B"), ("R", "B")))
