"""``layout serve`` in a real browser: headless Chromium driven by selenium (Debian's chromium and
chromium-driver, installed by .ci/setup). Screenshots go to tests/output/serve/ (ignored by git)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from factory import body, copy_project, write_article
from servekit import recording_editor, serving, two_story_issue, wait_file

SHOTS = Path(__file__).parent / "output" / "serve"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1500,1000")


def _find(*names: str) -> str | None:
    return next((path for name in names if (path := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser():
    chromium, driver_path = _find("chromium", "chromium-browser"), _find("chromedriver")
    if not (chromium and driver_path):
        message = "Chromium and chromium-driver are needed (Debian packages chromium, chromium-driver: .ci/setup)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="layout-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def until(driver, script: str, timeout: float = 60, what: str = "", *args: object):
    """Poll ``script`` (JavaScript returning a value, given ``args``) until it is truthy; return the value."""
    end = time.monotonic() + timeout
    value = None
    while time.monotonic() < end:
        value = driver.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.1)
    state = driver.execute_script("return JSON.stringify((window.layoutProofs || {}).state || null)")
    raise AssertionError(f"timed out waiting for {what or script}; last value {value!r}; state {state[:600]}")


def shot(driver, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def all_shown(pages: int, round_number: int) -> str:
    """JavaScript: are ``pages`` pages on screen, each with its image of round ``round_number`` drawn?"""
    return f"""
      const figures = [...document.querySelectorAll('figure.page')];
      return figures.length === {pages} && figures.every((f) => f.dataset.round === '{round_number}'
        && f.querySelector('.sheet.current img') && f.querySelector('.sheet.current img').naturalWidth > 0);"""


def test_the_sample_issue_shows_every_page_and_slot(tmp_path, browser, monkeypatch, composed_sample):
    copy_project(composed_sample[0], tmp_path)  # composed once for the session: its first round is from the cache
    editor, record = recording_editor(tmp_path)
    monkeypatch.setenv("EDITOR", editor)
    with serving(tmp_path, "issue-2022-04-01") as server:
        fit = json.loads((tmp_path / "build" / "issue-2022-04-01" / "fit.json").read_text())
        pages = sorted({s["page"] for s in fit["slots"]})
        browser.get(server.url)
        until(browser, all_shown(len(pages), 1), 60, "every page drawn")
        shown = browser.execute_script(
            "return [...document.querySelectorAll('.sheet.current .slot')].map((s) => s.dataset.slot)")
        assert sorted(shown) == sorted(s["slot_id"] for s in fit["slots"])
        planned = browser.execute_script("return document.querySelectorAll('#plan .plan-slot').length")
        assert planned == len(fit["slots"])
        # Each slot's outline sits where the composer put it: its box, scaled to the drawn page.
        boxes = browser.execute_script("""
          return [...document.querySelectorAll('.sheet.current .slot')].map((s) => {
            const page = s.closest('.sheet').getBoundingClientRect(), box = s.getBoundingClientRect();
            return [s.dataset.slot, (box.left - page.left) / page.width, (box.width) / page.width];
          });""")
        width = server.proofs.state["pages"][0]["width"]
        for slot_id, left, span in boxes:
            slot = next(s for s in fit["slots"] if s["slot_id"] == slot_id)
            assert left == pytest.approx(slot["box"][0] / width, abs=0.01)
            assert span == pytest.approx(slot["box"][2] / width, abs=0.01)
        labels = browser.execute_script("return [...document.querySelectorAll('.slot .tag')].map((t) => t.textContent)")
        assert any("jumps to p3" in label for label in labels)
        shot(browser, "sample")

        # A click on a slot shows its numbers, suggestions and source; the button opens it in $EDITOR.
        browser.execute_script("document.querySelector('.slot[data-slot=\"nurses-reject-pay-offer\"]').click()")
        source = until(browser, "const d = document.getElementById('detail'); "
                       "return !d.hidden && document.getElementById('d-source').textContent", 10, "the details")
        assert source == "issues/issue-2022-04-01/articles/nurses-reject-pay-offer.md"
        assert "Nurses reject" in browser.execute_script("return document.getElementById('d-headline').textContent")
        browser.execute_script("document.getElementById('d-open').click()")
        assert wait_file(record).endswith("issues/issue-2022-04-01/articles/nurses-reject-pay-offer.md")
        until(browser, "return document.getElementById('d-message').textContent.includes('opened in')", 10)
        shot(browser, "sample-detail")

        # Press night: a paragraph more in that story oversets it; the page shows it, beside the round before.
        article = tmp_path / "issues" / "issue-2022-04-01" / "articles" / "nurses-reject-pay-offer.md"
        article.write_text(article.read_text() + "\n" + body(90, seed=3))
        tag = until(browser, "const s = document.querySelector('.slot.over[data-slot=\"nurses-reject-pay-offer\"]');"
                    "return s && s.textContent", 60, "the overset story")
        assert "lines over" in tag
        browser.execute_script("document.getElementById('compare').click()")
        until(browser, "const p = document.querySelector('#page-1 .sheet.previous img'); return p && p.naturalWidth"
              " && document.querySelectorAll('#page-1 .area').length >= 2", 30, "the previous round's page 1")
        assert "Overset" in browser.execute_script("return document.getElementById('error').textContent")
        shot(browser, "sample-overset-compare")


def test_a_saved_edit_updates_the_page_without_a_reload(tmp_path, browser):
    """A saved edit, then errors and their fix (``_errors_show_in_the_page_and_a_fix_restores_it``): one
    server, one first round composed (once two tests, each with its own)."""
    issue = two_story_issue(tmp_path)
    manifest = (issue / "issue.yaml").read_text()
    with serving(tmp_path) as server:
        browser.get(server.url)
        until(browser, all_shown(1, 1), 60, "the first round drawn")
        # Zooming in fetches a sharper image: the dpi follows the width shown.
        small = int(browser.execute_script("return document.querySelector('#page-1 .sheet.current').dataset.dpi"))
        browser.execute_script("document.getElementById('zoom-in').click(); document.getElementById('zoom-in').click();"
                               "document.getElementById('zoom-in').click(); document.getElementById('zoom-in').click()")
        sharp = until(browser, "const s = document.querySelector('#page-1 .sheet.current');"
                      "return Number(s.dataset.dpi) > arguments[0] && Number(s.dataset.dpi)", 30, "a sharper image",
                      small)
        width = browser.execute_script("return document.querySelector('#page-1 .sheet.current').clientWidth")
        assert sharp >= width / (server.proofs.state["pages"][0]["width"] / 72)  # at least a pixel a pixel
        browser.execute_script("document.getElementById('zoom-fit').click()")
        before = browser.execute_script(
            "window.__kept = 'same page'; return document.getElementById('page-1').dataset.key")
        write_article(issue, "story", body(200, seed=5), headline="Edited on press night")
        key = until(browser, "const f = document.getElementById('page-1'); "
                    "return f.dataset.round !== '1' && f.dataset.key", 60, "the next round on the page")
        assert key != before and key == server.proofs.state["pages"][0]["key"]
        assert browser.execute_script("return window.__kept") == "same page"  # no reload
        src = browser.execute_script("return document.querySelector('#page-1 .sheet.current img').src")
        assert f"/page/{key}.png" in src
        info = browser.execute_script("return document.getElementById('round-info').textContent")
        assert f"round {server.proofs.state['round']} (story.md) composed in" in info
        assert browser.execute_script("return document.querySelector('#page-1 .badge').hidden") is False

        # Compare: the previous round's page beside this one, the changed area marked on both.
        browser.execute_script("document.getElementById('compare').click()")
        until(browser, "const p = document.querySelector('#page-1 .sheet.previous'); "
              "return !p.hidden && p.querySelector('img') && p.querySelector('img').naturalWidth > 0", 30,
              "the previous page")
        old = browser.execute_script("return document.querySelector('#page-1 .sheet.previous').dataset.key")
        assert old == before
        until(browser, "return document.querySelectorAll('#page-1 .sheet.current .area').length > 0 && "
              "document.querySelectorAll('#page-1 .sheet.previous .area').length > 0", 30, "changed areas")
        changes = browser.execute_script("return document.getElementById('changes').textContent")
        assert "page changed p01" in changes and "story" in changes
        shot(browser, "compare")
        _errors_show_in_the_page_and_a_fix_restores_it(browser, server, issue, manifest)


def _errors_show_in_the_page_and_a_fix_restores_it(browser, server, issue: Path, manifest: str) -> None:
    """(Part of the test above, on its server, whose last round composed: the page loaded afresh.)"""
    browser.get(server.url)
    until(browser, all_shown(1, server.proofs.state["round"]), 60, "the last round drawn")
    (issue / "issue.yaml").write_text(manifest.replace("pages:", "pages: [\n  bad: : :"))
    text = until(browser, "const e = document.getElementById('error'); return !e.hidden && e.textContent",
                 60, "the error banner")
    assert "InputError" in text and "issue.yaml" in text and "YAML syntax error" in text
    # Not a blank screen: the last pages stay, said to be the last that composed.
    assert browser.execute_script("return document.querySelectorAll('figure.page img').length") == 1
    assert "the last that composed" in text
    assert "error" in browser.execute_script("return document.getElementById('status').className")
    shot(browser, "error")

    (issue / "issue.yaml").write_text(manifest.replace("columns: 2", "columns: 2\n    depth: 8"))
    tag = until(browser, "const s = document.querySelector('.slot.over[data-slot=\"other\"] .tag'); "
                "return s && s.textContent", 60, "the overset slot")
    assert "lines over" in tag and "words" in tag
    assert "overset" in browser.execute_script("return document.getElementById('error').textContent")
    assert "other" in browser.execute_script("return document.getElementById('todo').textContent")
    shot(browser, "overset")

    (issue / "issue.yaml").write_text(manifest)
    until(browser, "return document.getElementById('error').hidden && "
          "document.getElementById('status').textContent.includes('✓') && "
          "document.getElementById('page-1').dataset.round === String(window.layoutProofs.state.round)",
          60, "the fixed round")
    assert server.proofs.state["error"] is None
    assert browser.execute_script("return document.querySelectorAll('.slot.over').length") == 0


def test_an_issue_that_never_composed_shows_its_error_not_a_blank_page(tmp_path, browser):
    issue = two_story_issue(tmp_path)
    manifest = (issue / "issue.yaml").read_text()
    (issue / "issue.yaml").write_text(manifest.replace("slug: other", "slug: othre"))
    with serving(tmp_path) as server:
        assert server.proofs.state["error"] and not server.proofs.state["pages"]
        browser.get(server.url)
        text = until(browser, "const e = document.getElementById('error'); return !e.hidden && e.textContent",
                     30, "the error banner")
        assert 'no article "othre"' in text and 'did you mean "other"' in text
        empty = browser.execute_script("const e = document.getElementById('empty'); return !e.hidden && e.textContent")
        assert empty == "No pages yet: fix the error above and save."
        shot(browser, "never-composed")
        (issue / "issue.yaml").write_text(manifest)
        until(browser, "const img = document.querySelector('#page-1 .sheet.current img');"
              "return img && img.naturalWidth > 0 && document.querySelectorAll('.slot').length === 2",
              60, "the pages once fixed")
        assert browser.execute_script("return document.getElementById('error').hidden")
        assert browser.execute_script("return document.getElementById('empty').hidden")
