"""Proofs people can look at: page PNGs, the flat plan, and the diff between two rounds."""

from __future__ import annotations

import copy
import json

from factory import body, simple_issue, write_article
from PIL import Image

from layout.build import PLAN_SLOT_FIELDS, Project, compose_issue, plan_source
from layout.press.proofs import PLAN_GAP, PLAN_SCALE, flat_plan, flat_plan_png

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
