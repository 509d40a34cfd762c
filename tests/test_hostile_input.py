"""Hostile and careless input, by class: every one is either printed faithfully or refused with an
error naming the file, the line (and column) or key, and the fix; never a traceback, a hang or a
system font; nothing outside the issue reaches a PDF."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pdfplumber
import pytest
import yaml
from factory import (
    TWO_STORIES,
    body,
    dump_yaml,
    load_yaml,
    make_project,
    two_story_issue,
    write_article,
    write_manifest,
)
from pdftext import letters
from pypdf import PdfReader


def _issue(root: Path) -> Path:
    return two_story_issue(root, (120, 100))


def _story(issue: Path, text: str) -> None:
    (issue / "articles" / "story.md").write_text(text, encoding="utf-8")


def _save_later(issue: Path, text: str) -> None:
    """Save the story as an editor does (a hidden file renamed over it) with a modification time a
    second after the old one's: a new modification time even on a coarse clock, without waiting for
    one."""
    path = issue / "articles" / "story.md"
    later = path.stat().st_mtime_ns + 1_000_000_000
    saving = path.with_name(".story.md.saving")  # a hidden file: not a source the watch reads
    saving.write_text(text, encoding="utf-8")
    os.utime(saving, ns=(later, later))
    os.replace(saving, path)


def _compose(run_cli, root: Path) -> tuple[int, str]:
    code, out, err = run_cli("compose", "test-issue", root=root)
    assert "Traceback" not in out + err and "internal error" not in err, err
    return code, err


def _pdf(root: Path) -> Path:
    return root / "build" / "test-issue" / "test-issue.pdf"


def _text(root: Path) -> str:
    # poppler, not pypdf (which reads some of WeasyPrint's CID font subsets as UTF-16 garbage) nor
    # pdfplumber (which reads across the columns): a story's text in reading order
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(_pdf(root)), "-"], capture_output=True, text=True,
                          check=True).stdout


def _in_order(copy: str, text: str) -> bool:
    """Every word of ``copy`` is in ``text``, in order (other text, such as the folio, may come between)."""
    flat, at = letters(text), 0
    for word in copy.split():
        found = flat.find(letters(word), at)
        if found < 0:
            return False
        at = found + len(letters(word))
    return True


def _fonts(pdf: Path) -> set[str]:
    names = set()
    for page in PdfReader(pdf).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return names


# ---- entities, NBSP and other spaces, Unicode normal form -------------------------------------

def test_entities_are_decoded_everywhere(tmp_path, run_cli):
    issue = _issue(tmp_path)
    (issue / "images").mkdir()
    from PIL import Image
    Image.new("L", (1200, 800), 128).save(issue / "images" / "p.jpg")
    _story(issue, "---\nheadline: Caf&eacute;&nbsp;workers strike\nbyline: By Zo&euml; Smith\n"
           "images:\n  - file: images/p.jpg\n    caption: The picket&nbsp;line at caf&#233; gates\n---\n"
           "Staff at the caf&eacute; walked out&nbsp;today &#8212; with &lsquo;support&rsquo; "
           "from AT&amp;T &amp;eacute; workers and R&D teams.\n\n" + body(60, seed=3))
    code, err = _compose(run_cli, tmp_path)
    assert code == 0, err
    text = _text(tmp_path)
    flat = re.sub(r"\s+", " ", text)
    assert "Café workers strike" in flat.replace("\u00a0", " ")
    assert "zoë smith" in flat.lower() and "café gates" in flat
    assert "café walked out" in flat.replace("\u00a0", " ")
    assert "\u2014" in text and "\u2018support\u2019" in text
    assert "AT&T &eacute; workers and R&D" in flat  # &amp;eacute; is the text "&eacute;", decoded once
    assert "&nbsp;" not in text and "&#" not in text


def test_web_and_mail_addresses_are_marked_never_to_be_hyphenated_and_what_follows_them_is_not(tmp_path):
    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: A story\n---\nSee https://www.example.org/a-b?x=1&y=2. Or mail "
                  "*organiser@example-union.org.uk*, (www.nw.org.uk/news/x), \u201cuser.name@x.co\u201d; "
                  "e.g. 3.5 and a@b, or C# and and/or.\n")
    from layout.reading.articles import load_article
    block = load_article(issue, "story").blocks[0]
    assert re.findall(r'<span class="address">(.*?)</span>', block.html) == [
        "https://www.example.org/a-b?x=1&amp;y=2", "organiser@example-union.org.uk", "www.nw.org.uk/news/x",
        "user.name@x.co"]
    assert block.text.startswith("See https://www.example.org/a-b?x=1&y=2. Or mail organiser@")  # the text as it was


def test_paragraphs_of_no_break_spaces_set_nothing(tmp_path, run_cli):
    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: A story\n---\nPara one is here.\n\n&nbsp;\n\n\u00a0\n\nPara two is here.\n")
    from layout.reading.articles import load_article
    assert [b.text for b in load_article(issue, "story").blocks] == ["Para one is here.", "Para two is here."]
    code, err = _compose(run_cli, tmp_path)
    assert code == 0, err
    assert _in_order("Para one is here. Para two is here.", _text(tmp_path))


@pytest.mark.parametrize("entity", ["&#0;", "&#x0;", "&#27;", "&#xD800;", "&#1114112;", "&#x202E;"])
def test_an_entity_for_no_printable_character_is_refused_with_its_line_and_column(tmp_path, run_cli, entity):
    issue = _issue(tmp_path)
    _story(issue, f"---\nheadline: A story\n---\nFirst line.\nNull {entity} here.\n")
    code, err = _compose(run_cli, tmp_path)
    assert code == 2
    assert f"story.md: line 5, column 6: the entity {entity} stands for no printable character" in err


def test_an_entity_in_a_headline_for_a_control_character_is_refused(tmp_path, run_cli):
    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: Bad &#0; head\n---\nText of the story.\n")
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "story.md: line 2, column 15: the entity &#0;" in err


def test_space_variants_keep_their_meaning_and_unicode_is_nfc(tmp_path, run_cli):
    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: Cafe\u0301\u202fnews\n---\n"
           "Prices rose 10\u2009per\u2002cent\u200b at the\u00a0docks\u3000today, said Jose\u0301.\n\n" + body(40))
    code, err = _compose(run_cli, tmp_path)
    assert code == 0, err
    text = _text(tmp_path).replace("\u00a0", " ")
    assert "Café news" in text and "José" in text
    assert re.search(r"10 per cent at the docks today", re.sub(r"\s+", " ", text))


# ---- raw HTML, links, images, code ------------------------------------------------------------

@pytest.mark.parametrize(("place", "text", "where"), [
    ("headline", "---\nheadline: A<br>story\n---\nText.\n", "line 2, column 12: raw HTML '<br>'"),
    ("body", "---\nheadline: A story\n---\nText <b>bold</b> here.\n", "line 4, column 6: raw HTML '<b>'"),
    ("comment", "---\nheadline: A story\n---\nText.\n\n<!-- hidden note -->\n", "line 6, column 1: raw HTML '<!--'"),
    ("caption", "---\nheadline: A story\nstandfirst: <script>x</script>\n---\nText.\n",
     "line 3, column 13: raw HTML '<script>'"),
    ("escaped tag", "---\nheadline: A story\nkicker: \"\\x3cb\\x3e\"\n---\nText.\n", "kicker: raw HTML '<b>'"),
])
def test_raw_html_is_refused_everywhere_with_file_and_line(tmp_path, run_cli, place, text, where):
    issue = _issue(tmp_path)
    _story(issue, text)
    code, err = _compose(run_cli, tmp_path)
    assert code == 2
    assert f"story.md: {where}" in err, err


def test_raw_html_in_the_paper_settings_is_refused(tmp_path, run_cli):
    _issue(tmp_path)
    path = tmp_path / "issues" / "paper.yaml"
    path.write_text(path.read_text() + "imprint: Printed by <i>Us</i>\n")
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "paper.yaml: line" in err and "raw HTML '<i>'" in err


def test_links_print_their_text_and_no_link_reaches_the_pdf(tmp_path, run_cli):
    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: A story\n---\nRead [the report](http://example.com/r \"title\") or "
           "[this](javascript:alert(1)) or [that](file:///etc/passwd), see <http://example.org/x> "
           "and write to <news@example.org>.\n\n[ref]: http://example.net/\n\n" + body(40))
    code, err = _compose(run_cli, tmp_path)
    assert code == 0, err
    flat = re.sub(r"\s+", " ", _text(tmp_path))
    assert "Read the report or this or that, see http://example.org/x and write to news@example.org." in flat
    assert "[ref]: http://example.net/" in flat  # a reference definition is copy, never swallowed
    assert "javascript" not in flat and "/etc/passwd" not in flat
    raw = _pdf(tmp_path).read_bytes()
    for page in PdfReader(_pdf(tmp_path)).pages:
        assert "/Annots" not in page
    assert b"/URI" not in raw and b"/JavaScript" not in raw and b"/Launch" not in raw


@pytest.mark.parametrize("image", ["![a photo](images/p.jpg)", "![a photo][p]", "![a photo] (x.png)"])
def test_an_inline_image_is_refused_with_its_line(tmp_path, run_cli, image):
    issue = _issue(tmp_path)
    _story(issue, f"---\nheadline: A story\n---\nText.\n\nMore {image} text.\n")
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "story.md: line 6: has an inline image" in err and "under 'images:'" in err


def test_indentation_and_backticks_never_make_code(tmp_path, run_cli):
    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: A story\n---\nFirst paragraph of the story goes here.\n\n"
           "\tA tab-indented paragraph pasted from Word, long enough to run over several lines of the "
           "column without being clipped anywhere at all.\n\n        Eight spaces before this one too.\n\n"
           "Run `make all` now.\n\n#MeToo began it, and 3. was the third point, in C#.\n")
    code, err = _compose(run_cli, tmp_path)
    assert code == 0, err
    flat = re.sub(r"\s+", " ", _text(tmp_path))
    assert _in_order("A tab-indented paragraph pasted from Word, long enough to run over several lines of the "
                     "column without being clipped anywhere at all.", flat)
    assert "Eight spaces before this one too." in flat and "Run `make all` now." in flat
    assert "#MeToo began it, and 3. was the third point, in C#." in flat
    assert not any("Mono" in f or "Courier" in f for f in _fonts(_pdf(tmp_path))), _fonts(_pdf(tmp_path))


# ---- characters: controls, bidi, glyphs, fonts -------------------------------------------------

@pytest.mark.parametrize(("char", "name"), [
    ("\u202e", "direction-changing character U+202E"), ("\u2066", "direction-changing character U+2066"),
    ("\u200f", "direction-changing character U+200F"), ("\x1b", "control character U+001B"),
    ("\x92", "control character U+0092"), ("\x00", "control character U+0000"),
])
def test_control_and_bidi_characters_are_refused_with_line_and_column(tmp_path, run_cli, char, name):
    issue = _issue(tmp_path)
    _story(issue, f"---\nheadline: A story\n---\nOne line.\nTwo {char}lines.\n")
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and f"story.md: line 5, column 5: contains the {name}" in err
    if char == "\x92":
        assert "probably a '\u2019' from Windows-1252" in err


def test_a_bidi_override_written_as_a_yaml_escape_is_refused_by_key(tmp_path, run_cli):
    issue = _issue(tmp_path)
    _story(issue, '---\nheadline: "A \\u202Estory"\n---\nText.\n')
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "story.md: headline: contains the direction-changing character U+202E" in err


@pytest.mark.parametrize(("text", "code_point"), [
    ("\u0645\u0631\u062d\u0628\u0627", "U+0645 ARABIC LETTER MEEM"), ("\U0001f600", "U+1F600 GRINNING FACE"),
    ("\u6f22\u5b57", "U+6F22 CJK UNIFIED IDEOGRAPH-6F22"), ("\ue000", "U+E000"),
])
def test_a_character_the_house_fonts_lack_is_refused_naming_it(tmp_path, run_cli, text, code_point):
    issue = _issue(tmp_path)
    _story(issue, f"---\nheadline: A story\n---\nGreeting: {text} there.\n")
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "story.md: line 4, column 11: the character" in err and code_point in err
    assert "is not in the paper's fonts" in err


def test_glyphs_are_checked_in_headlines_escapes_entities_and_paper_settings(tmp_path, run_cli):
    issue = _issue(tmp_path)
    _story(issue, '---\nheadline: "Smile \\U0001F600"\n---\nText.\n')
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "story.md: headline: the character '\U0001f600' (U+1F600 GRINNING FACE)" in err
    _story(issue, '---\nheadline: A story\nkicker: Hi &#x1F600;\n---\nText.\n')
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "story.md: line 3, column 12: the entity &#x1F600; stands for" in err
    _story(issue, "---\nheadline: A story\n---\nText of it.\n")
    path = tmp_path / "issues" / "paper.yaml"
    path.write_text(path.read_text() + "tagline: \u05e9\u05dc\u05d5\u05dd\n", encoding="utf-8")
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "paper.yaml: line" in err and "U+05E9 HEBREW LETTER SHIN" in err


def test_weasyprint_sees_no_system_font(tmp_path):
    """The second layer: even text the input checks would refuse never falls back to a system font."""
    import layout  # noqa: F401  (confines fontconfig when imported)
    from layout.rendering.engine import render

    conf = Path(os.environ["FONTCONFIG_FILE"])
    assert "<include" not in conf.read_text() and "/usr/share/fonts" not in conf.read_text()
    html = ('<html><body><p style="font-family: sans-serif">Hello \u0645\u0631\u062d\u0628\u0627 \U0001f600 '
            '\u6f22\u5b57 \u05e9\u05dc\u05d5\u05dd</p><p style="font-family: DejaVu Sans">x</p></body></html>')
    pdf = tmp_path / "x.pdf"
    render(html, tmp_path, (tmp_path,), []).write_pdf(pdf)
    fonts = _fonts(pdf)
    assert fonts and all(name.startswith("PT") for name in fonts), fonts


# ---- paths ------------------------------------------------------------------------------------

def test_a_symlinked_article_outside_the_issue_is_refused(tmp_path, run_cli):
    issue = _issue(tmp_path)
    outside = tmp_path / "elsewhere.md"
    outside.write_text("---\nheadline: Secret\n---\nSecret words.\n")
    (issue / "articles" / "story.md").unlink()
    (issue / "articles" / "story.md").symlink_to(outside)
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and 'page 1, first slot, slug: article "story" is a link to' in err
    assert "outside the issue folder" in err and not _pdf(tmp_path).exists()


def test_a_symlinked_image_outside_the_issue_is_refused(tmp_path, run_cli):
    issue = _issue(tmp_path)
    from PIL import Image
    Image.new("L", (800, 600), 100).save(tmp_path / "outside.jpg")
    (issue / "images").mkdir()
    (issue / "images" / "p.jpg").symlink_to(tmp_path / "outside.jpg")
    write_article(issue, "story", body(80), headline="A story", images=[{"file": "images/p.jpg"}])
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "images[0].file: 'images/p.jpg' is outside the issue folder" in err


def test_a_symlinked_issue_manifest_or_paper_settings_outside_the_project_is_refused(tmp_path, run_cli):
    issue = _issue(tmp_path)
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    (elsewhere / "issue.yaml").write_text((issue / "issue.yaml").read_text())
    (issue / "issue.yaml").unlink()
    (issue / "issue.yaml").symlink_to(elsewhere / "issue.yaml")
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "issue.yaml is outside the project" in err and "is a link to" in err
    (issue / "issue.yaml").unlink()
    (issue / "issue.yaml").write_text((elsewhere / "issue.yaml").read_text())
    paper = tmp_path / "issues" / "paper.yaml"
    (elsewhere / "paper.yaml").write_text(paper.read_text())
    paper.unlink()
    paper.symlink_to(elsewhere / "paper.yaml")
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "paper.yaml is outside the project" in err


def test_links_in_a_headline_print_their_text(tmp_path, run_cli):
    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: See [the vote](http://example.com/) now\n---\n" + body(40))
    code, err = _compose(run_cli, tmp_path)
    assert code == 0, err
    assert "See the vote now" in re.sub(r"\s+", " ", _text(tmp_path))


@pytest.mark.parametrize(("change", "message"), [
    ({"columns": 12, "trim": {"width": "210pt", "height": "430mm"}}, "columns: 12 columns on a type area"),
    ({"margins": {"top": "150pt", "bottom": "150pt", "inside": "12mm", "outside": "12mm"},
      "trim": {"width": "280mm", "height": "300pt"}}, "trim.height: the margins leave room for 0 body lines"),
])
def test_paper_settings_that_leave_no_room_are_refused(tmp_path, run_cli, change, message):
    _issue(tmp_path)
    path = tmp_path / "issues" / "paper.yaml"
    data = yaml.safe_load(path.read_text())
    data.update(change)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and f"paper.yaml: {message}" in err, err


@pytest.mark.parametrize("slug", ["cont-other", "other-b1", "gal-other", "story-from-0-3"])
def test_a_slug_shaped_like_a_part_of_a_page_is_refused(tmp_path, run_cli, slug):
    issue = _issue(tmp_path)
    write_article(issue, slug, body(40), headline="Clash")
    data = yaml.safe_load((issue / "issue.yaml").read_text())
    data["pages"][0]["articles"].append({"slug": slug, "columns": 1})
    (issue / "issue.yaml").write_text(yaml.safe_dump(data))
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and f'page 1, third slot, slug: "{slug}" is not allowed as an article name' in err


# ---- bounded work -----------------------------------------------------------------------------

@pytest.mark.parametrize(("shape", "line"), [
    ("> " * 200 + "deep quote\n", 6),
    ("".join("    " * i + "- item\n" for i in range(1000 // 4)), 14),
    ("".join("> " * min(i, 9) + "text\n" for i in range(12)), 15),
])
def test_deep_nesting_is_refused_with_its_line(tmp_path, run_cli, shape, line):
    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: A story\n---\nText first.\n\n" + shape)
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and f"story.md: line {line}: quotes and lists are nested" in err and "the most is 8" in err


def test_nesting_within_the_limit_is_printed(tmp_path, run_cli):
    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: A story\n---\nText first.\n\n> > > three deep\n\n- one\n    - two\n\n"
           + body(30))
    code, err = _compose(run_cli, tmp_path)
    assert code == 0, err
    flat = re.sub(r"\s+", " ", _text(tmp_path))
    assert "three deep" in flat and "one" in flat and "two" in flat


def test_a_word_longer_than_any_line_is_refused_at_once(tmp_path, run_cli):
    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: A story\n---\nSome text " + "abcdefghij" * 1000 + " more.\n")
    started = time.monotonic()
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "story.md: line 4, column 11: a word of 10000 characters ('abcdefghij" in err
    assert "(the limit is 100)" in err and len(err) < 2000
    assert time.monotonic() - started < 60  # not a speed target: it ran for over 10 minutes before


def test_a_word_wider_than_its_column_breaks_instead_of_being_clipped(tmp_path, run_cli):
    issue = _issue(tmp_path)
    number = "1234567890" * 7  # no hyphenation point, no break opportunity: wider than a column
    data = yaml.safe_load((issue / "issue.yaml").read_text())
    data["pages"][0]["articles"][0]["columns"] = 1
    (issue / "issue.yaml").write_text(yaml.safe_dump(data))
    _story(issue, f"---\nheadline: A{number}\n---\nThe code is {number} and more words after it.\n\n" + body(30))
    code, err = _compose(run_cli, tmp_path)
    assert code == 0, err
    text = _text(tmp_path)
    assert letters(f"The code is {number} and more words after it") in letters(text)
    assert letters(f"A{number}") in letters(text)
    with pdfplumber.open(_pdf(tmp_path)) as pdf:
        page = pdf.pages[0]
        digits = [c for c in page.chars if c["text"].isdigit() and c["top"] > 60]
        assert max(c["x1"] for c in digits) < page.width / 2  # all within the story's one column, left half


def test_a_long_link_target_is_not_a_long_word(tmp_path, run_cli):
    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: A story\n---\nSee [the page](http://example.com/" + "a" * 300 + ").\n\n"
           + body(30))
    code, err = _compose(run_cli, tmp_path)
    assert code == 0, err


def test_an_article_too_long_to_print_is_refused(tmp_path, run_cli):
    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: A story\n---\n" + "word " * 20_001 + "\n")
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "story.md: body: the article is 20,001 words long; the most an article may have" in err


def test_a_file_too_large_is_refused_unread(tmp_path, run_cli):
    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: A story\n---\n" + ("word " * 100 + "\n\n") * 5000)
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "story.md: the file is" in err and "the most layout reads is 2,000,000" in err


def test_too_many_pages_are_refused(tmp_path, run_cli):
    issue = _issue(tmp_path)
    write_manifest(issue, {"pages": [{"page": n, "articles": []} for n in range(1, 201)]})
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "pages: lists 200 pages; an issue has at most 96" in err


# ---- YAML: aliases, dates, types, plain words -------------------------------------------------

def test_a_yaml_alias_bomb_is_refused_quickly_and_briefly(tmp_path, run_cli):
    issue = _issue(tmp_path)
    lines = ["date: 2022-04-01", "number: 1", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    (issue / "issue.yaml").write_text("\n".join(lines) + "\npages: [{page: 1, articles: [story]}]\n")
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "issue.yaml: line 3: YAML anchors and aliases ('&name', '*name') are not used" in err
    assert len(err) < 2000


def test_an_alias_in_front_matter_is_refused(tmp_path, run_cli):
    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: &h A story\nkicker: *h\n---\nText.\n")
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "story.md: line 2: YAML anchors and aliases" in err


@pytest.mark.parametrize(("date", "message"), [
    ("2099-04-31", "2099-04-31 is not a date: April 2099 has 30 days"),
    ("2023-02-29", "2023-02-29 is not a date: February 2023 has 28 days"),
    ("2022-13-01", "2022-13-01 is not a date: there is no month 13"),
    ("0000-01-01", "0000-01-01 is not a date: there is no year 0"),
])
def test_an_impossible_date_is_an_input_error(tmp_path, run_cli, date, message):
    issue = _issue(tmp_path)
    text = (issue / "issue.yaml").read_text()
    (issue / "issue.yaml").write_text(re.sub(r"date: .*", f"date: {date}", text))
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and f"issue.yaml: date: {message}" in err and "YYYY-MM-DD" in err


def test_a_key_given_twice_is_refused(tmp_path, run_cli):
    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: First\nbyline: Us\nheadline: Second\n---\nText.\n")
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "story.md: line 4: the key 'headline' is given twice (first on line 2)" in err


@pytest.mark.parametrize(("text", "line", "words"), [
    ("date: 2022-04-01\nnumber: 1\npages:\n  - page: 1\n   articles: [x]\n", 5,
     "this line is indented differently from the ones before it"),
    ("date: 2022-04-01\nnumber: 1\npages:\n\t- page: 1\n", 4, "a tab character: YAML lines are indented with spaces"),
    ('date: 2022-04-01\nnumber: "1\npages: []\n', 2, "a quote opened on this line is never closed"),
    ("date: 2022-04-01\nnumber: 1\nvolume: @1\n", 3, "a value starts with a character YAML reserves"),
    ("date: 2022-04-01\nnumber: 1: 2\n", 2, "a second ': ' on this line"),
])
def test_yaml_errors_are_explained_in_plain_words_with_the_line(tmp_path, run_cli, text, line, words):
    issue = _issue(tmp_path)
    (issue / "issue.yaml").write_text(text)
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and f"issue.yaml: line {line}: YAML syntax error: {words}" in err, err
    shown = text.split("\n")[line - 1]
    assert f"{line} | {shown}" in err


@pytest.fixture(scope="module")
def typed(tmp_path_factory):
    """One project (``_issue``) for the 144 cases of the YAML-type test, and the bytes of its files as
    made: each case writes them back before its own edit (and writes its story whole), so that it reads
    what a project of its own would hold, without making one (a tenth of its time) for each."""
    root = tmp_path_factory.mktemp("typed")
    issue = _issue(root)
    files = (root / "issues" / "paper.yaml", issue / "issue.yaml", issue / "articles" / "story.md")
    return root, {path: path.read_bytes() for path in files}


@pytest.mark.parametrize("value", [["a", "list"], {"a": "map"}, 12, True, None, "x" * 100_000, 1e308, -5])
@pytest.mark.parametrize("where", ["headline", "kicker", "kind", "sample", "images", "images.caption",
                                   "manifest.number", "manifest.date", "manifest.pages", "manifest.template",
                                   "manifest.columns", "manifest.depth", "manifest.slug", "paper.columns",
                                   "paper.trim", "paper.body.size", "paper.title", "paper.pdfx"])
def test_any_yaml_type_anywhere_is_an_input_error_or_fine(typed, where, value):
    from layout.errors import InputError
    from layout.reading.articles import load_article
    from layout.reading.manifest import load_issue
    from layout.reading.settings import load_settings

    tmp_path, as_made = typed
    for path, data in as_made.items():  # the module's project as _issue made it: this case's edit below
        path.write_bytes(data)
    issue = tmp_path / "issues" / "test-issue"
    paper_path = tmp_path / "issues" / "paper.yaml"
    manifest = load_yaml((issue / "issue.yaml").read_text())
    front: dict = {"headline": "A story"}
    if where.startswith("paper."):
        paper = load_yaml(paper_path.read_text())
        keys = where.split(".")[1:]
        (paper.setdefault(keys[0], {}) if len(keys) > 1 else paper)[keys[-1]] = value
        paper_path.write_text(dump_yaml(paper))
    elif where.startswith("manifest."):
        key = where.split(".")[1]
        target = {"number": manifest, "date": manifest, "pages": manifest, "template": manifest["pages"][0]}.get(
            key, manifest["pages"][0]["articles"][0])
        target[key] = value
        (issue / "issue.yaml").write_text(dump_yaml(manifest))
    elif where == "images.caption":
        front["images"] = [{"file": "images/none.jpg", "caption": value}]
    else:
        front[where] = value
    write_article(issue, "story", body(30), **front)
    try:
        settings = load_settings(paper_path)
        load_issue(issue, settings)
        load_article(issue, "story")
    except InputError as error:
        message = str(error)
        assert "x" * 200 not in message and len(message) < 3000, message[:300]


# ---- watch ------------------------------------------------------------------------------------

def test_watch_survives_bad_input_and_bugs_and_recomposes_after_the_fix(tmp_path, monkeypatch):
    from layout.build import Project
    from layout.commands import watch as watch_module

    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: A&nbsp;story <br>\n---\nCaf&eacute; &#0; text.\n")
    lines: list[str] = []
    real = watch_module.compose_issue
    calls = []

    def flaky(*args, **kwargs):  # the second compose meets a bug in layout
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("a bug")
        return real(*args, **kwargs)

    monkeypatch.setattr(watch_module, "compose_issue", flaky)
    thread = threading.Thread(target=watch_module.watch, args=(Project(tmp_path), "test-issue", lines.append,
                                                               0.1, 3))
    thread.start()
    for _ in range(600):
        if lines:
            break
        time.sleep(0.05)
    _save_later(issue, "---\nheadline: Still <br> bad\n---\nText.\n")
    for _ in range(600):
        if len(calls) >= 2:
            break
        time.sleep(0.05)
    _save_later(issue, "---\nheadline: Fixed story\n---\n" + body(60))
    thread.join(timeout=120)
    assert not thread.is_alive()
    said = "\n".join(lines)
    assert "start: error:" in said and "line 2, column 24: raw HTML '<br>'" in said
    assert "internal error: RuntimeError: a bug" in said and "still watching" in said
    assert "waiting for the next save" in said
    assert "story.md: 1 pages composed" in lines[-1]
    assert "Fixed story" in _text(tmp_path)


def test_too_many_photos_are_refused(tmp_path):
    from layout.errors import InputError
    from layout.reading.articles import load_article

    issue = _issue(tmp_path)
    write_article(issue, "story", body(30), headline="A story",
                  images=[{"file": f"images/p{i}.jpg"} for i in range(500)])
    with pytest.raises(InputError) as caught:
        load_article(issue, "story")
    assert "images: lists 500 photos; an article has at most 12" in str(caught.value)
    assert len(str(caught.value)) < 1000  # one problem, not one a photo


@pytest.mark.parametrize(("text", "words"), [
    ("a: \x01\n", "a character YAML does not accept"),
    ("a: !!foo x\n", "'!' at the start of a value is a YAML tag"),
    ('a: "x\\q"\n', "a backslash inside double quotes starts an escape"),
    ("a: 1\n---\nb: 2\n", "a second '---' line"),
    ("? [a, b]\n: 1\n", "a key is a list or a mapping"),
    ("a: [" * 20 + "\n", "nested more than 12 levels deep"),
])
def test_more_yaml_errors_in_plain_words(text, words):
    from layout.errors import InputError
    from layout.reading.sources import parse_yaml

    with pytest.raises(InputError) as caught:
        parse_yaml(text, "x.yaml")
    assert words in str(caught.value), str(caught.value)


def test_a_front_matter_comment_needs_no_glyphs_but_a_value_does(tmp_path, run_cli):
    issue = _issue(tmp_path)
    _story(issue, "---\n# notes \U0001f600 \u0645\u0631\u062d\u0628\u0627 <b>\nheadline: A story\n---\n" + body(40))
    code, err = _compose(run_cli, tmp_path)
    assert code == 0, err
    _story(issue, "---\nheadline: |\n  # not a comment \U0001f600\n---\n" + body(40))
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "story.md: headline: the character" in err and "U+1F600" in err


def test_a_body_of_only_lists_or_quotes_says_so(tmp_path, run_cli):
    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: A story\n---\n- one\n- two\n\n> a quote\n")
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "story.md: line 4: the article has no body text: only crossheads, quotes or lists" in err


# ---- red-team round (issue 13): classes found by an independent hostile-input run ---------------

def test_numbers_used_as_copy_print_as_typed_and_odd_numbers_are_refused(tmp_path, run_cli):
    """YAML 1.1 reads 0123 as octal 83, 3.10 as 3.1, 1:30 as 90 and 1_000 as 1000: copy prints as
    typed, and a number field written that way is refused instead of silently changed."""
    issue = _issue(tmp_path)
    (issue / "images").mkdir()
    from PIL import Image
    Image.new("L", (1200, 800), 128).save(issue / "images" / "p.jpg")
    _story(issue, "---\nheadline: 0123\nkicker: 1:30\nstandfirst: 3.10\nbyline: 1_000\n"
           "images:\n  - file: images/p.jpg\n    caption: 0x1F\n---\n" + body(60, seed=3))
    code, err = _compose(run_cli, tmp_path)
    assert code == 0, err
    flat = re.sub(r"\s+", " ", _text(tmp_path))
    for typed in ("0123", "1:30", "3.10", "1_000", "0x1F"):
        assert typed in flat, typed
    write_manifest(issue, {**TWO_STORIES, "number": 1})
    (issue / "issue.yaml").write_text((issue / "issue.yaml").read_text().replace("number: 1", "number: 0123"))
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "issue.yaml: number: '0123' is read by YAML as 83" in err and "number: 123" in err


def test_a_comment_that_cuts_copy_short_is_refused_with_its_line(tmp_path, run_cli):
    from layout.errors import InputError
    from layout.reading.sources import parse_yaml

    copy = frozenset(("headline", "caption"))
    for text, line in (("headline: We are #1\n", 2), ("headline: We are\n  #1 again\nkind: news\n", 3),
                       ("images:\n  - file: x.jpg\n    caption: Pickets #2\n", 4)):
        with pytest.raises(InputError) as caught:
            parse_yaml(text, "story.md", first_line=2, copy_keys=copy)
        assert f"story.md: line {line}: a '#' after a space starts a YAML comment" in str(caught.value)
        assert "put the whole value in quotes" in str(caught.value)
    # comments on keys that are not copy, quoted values and block scalars are fine
    assert parse_yaml("headline: 'We #1' # ok\nkind: news  # default\nx: |\n  # kept\n", "s", copy_keys=copy) == {
        "headline": "We #1", "kind": "news", "x": "# kept\n"}
    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: We are #1\n---\n" + body(40))
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "story.md: line 2: a '#' after a space starts a YAML comment" in err


@pytest.mark.parametrize("text, words", [
    ("\u2014\nheadline: A story\n\u2014\nText.\n", "line 1 is '\u2014': front matter starts"),
    ("----\nheadline: A story\n----\nText.\n", "line 1 is '----'"),
    ("---\nheadline: A story\n\u2013\nText.\n", "is never closed (line 3 is '\u2013'"),
    ("", "the file is empty"),
])
def test_front_matter_fences_a_word_processor_made_are_explained(tmp_path, text, words):
    from layout.errors import InputError
    from layout.reading.articles import load_article

    issue = _issue(tmp_path)
    _story(issue, text)
    with pytest.raises(InputError) as caught:
        load_article(issue, "story", glyphs=None)
    assert words in str(caught.value) and "story.md: line" in str(caught.value)


def test_blank_lines_above_the_front_matter_are_harmless(tmp_path):
    from layout.errors import InputError
    from layout.reading.articles import load_article

    issue = _issue(tmp_path)
    _story(issue, "\n\n---\nheadline: A story\n---\nText of it.\n")
    assert load_article(issue, "story", glyphs=None).headline == "A story"
    _story(issue, "\n---\nheadline: A\nheadline: B\n---\nText.\n")
    with pytest.raises(InputError) as caught:  # YAML line numbers still count from the top of the file
        load_article(issue, "story", glyphs=None)
    assert "story.md: line 4: the key 'headline' is given twice (first on line 3)" in str(caught.value)


def test_a_slug_that_names_no_article_file_says_what_is_there(tmp_path, run_cli):
    issue = _issue(tmp_path)
    articles = issue / "articles"
    (articles / "dir.md").mkdir()
    os.mkfifo(articles / "pipe.md")
    (articles / "Big.md").write_text("---\nheadline: X\n---\nText.\n")
    (articles / "third.markdown").write_text("---\nheadline: X\n---\nText.\n")
    slots = [{"slug": s, "columns": 1} for s in ("story", "dir", "pipe", "big", "third")]
    write_manifest(issue, {"pages": [{"page": 1, "articles": slots + [{"slug": "other", "depth": 20.5}]}]})
    code, err = _compose(run_cli, tmp_path)
    assert code == 2
    assert "/articles/dir.md is a folder, not an article file" in err
    assert "/articles/pipe.md is not an ordinary file" in err
    assert "slot, slug: no article \"big\": there is 'Big.md'" in err and "rename 'Big.md' to big.md" in err
    assert "slot, slug: no article \"third\": there is 'third.markdown'" in err
    assert "sixth slot, depth: 20.5 is not a whole number of lines" in err
    assert 'did you mean "dir"' not in err


def test_an_issue_folder_without_a_manifest_says_so(tmp_path, run_cli):
    issue = _issue(tmp_path)
    (issue / "issue.yaml").unlink()
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "test-issue/issue.yaml: the issue folder has no manifest: issue.yaml is missing" in err
    (issue / "issue.yaml").mkdir()
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "issue.yaml is a folder, not a file" in err and "did you mean" not in err


def test_an_image_name_that_names_no_image_says_what_was_meant(tmp_path, run_cli):
    issue = _issue(tmp_path)
    (issue / "images").mkdir()
    from PIL import Image
    Image.new("L", (1200, 800), 128).save(issue / "images" / "p.jpg")
    os.mkfifo(issue / "images" / "f.jpg")
    names = ["http://example.org/x.jpg", "file:///etc/passwd", "images", "images/P.JPG", "images\\\\p.jpg",
             "p.jpg", "images/f.jpg"]
    _story(issue, "---\nheadline: A story\nimages:\n" + "".join(f"  - file: \"{n}\"\n" for n in names)
           + "---\n" + body(40))
    code, err = _compose(run_cli, tmp_path)
    assert code == 2
    assert "images[0].file: 'http://example.org/x.jpg' is a web address or URL: layout never fetches" in err
    assert "images[1].file: 'file:///etc/passwd' is a web address" in err
    assert "images[2].file: 'images' is a folder, not an image" in err
    assert "images[3].file: image 'images/P.JPG' not found; there is 'images/p.jpg'" in err
    assert "images[4].file:" in err and "fix: write folders with forward slashes: file: images/p.jpg" in err
    assert "images[5].file: image 'p.jpg' not found; there is 'images/p.jpg'" in err
    assert "images[6].file: 'images/f.jpg' is not an ordinary file" in err


def test_paper_lengths_need_their_unit_and_the_ppi_limits_their_order(tmp_path, run_cli):
    settings = yaml.safe_load((Path(__file__).parent.parent / "issues" / "paper.yaml").read_text())
    settings["trim"]["width"] = 280
    settings["body"]["size"] = 9
    settings.update(min_image_ppi=500, max_image_ppi=400, pdfx="X-1A")
    issue = _issue(tmp_path)
    make_project(tmp_path, paper=settings)
    code, err = _compose(run_cli, tmp_path)
    assert code == 2
    assert "paper.yaml: trim.width: 280 has no unit" in err and "280mm or 280pt" in err
    assert "paper.yaml: body.size: 9 has no unit" in err
    assert "paper.yaml: min_image_ppi: 500 is more than max_image_ppi (400)" in err
    assert "pdfx: unknown PDF/X variant 'X-1A' (did you mean \"x-1a\"?)" in err
    assert issue.exists()


def test_an_article_longer_than_one_galley_is_refused_while_reading(tmp_path, run_cli):
    """The limits agree with what compose can set: a story is set in one piece of about 1,300 lines."""
    from layout.errors import InputError
    from layout.reading.articles import MAX_WORDS, load_article

    issue = _issue(tmp_path)
    for text, words in (("word " * (MAX_WORDS + 1), f"the article is {MAX_WORDS + 1:,} words long"),
                        ("\n\n".join(f"Para {i}." for i in range(1500)), "the article needs about 1,500 lines")):
        _story(issue, "---\nheadline: A story\n---\n" + text + "\n")
        with pytest.raises(InputError) as caught:
            load_article(issue, "story", glyphs=None)
        assert f"story.md: body: {words}" in str(caught.value), str(caught.value)
    _story(issue, "---\nheadline: A story\n---\n" + body(5000, seed=4) + "\n")
    assert len(load_article(issue, "story", glyphs=None).blocks) > 50


def test_thousands_of_problems_are_listed_briefly(tmp_path):
    from layout.errors import MAX_LISTED, InputError
    from layout.reading.articles import load_article

    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: A story\n" + "".join(f"key{i}: v\n" for i in range(3000)) + "---\nText.\n")
    with pytest.raises(InputError) as caught:
        load_article(issue, "story", glyphs=None)
    assert len(caught.value.problems) == MAX_LISTED + 1
    assert "... and 2,960 more problems" in str(caught.value)


def test_a_story_pasted_into_the_headline_is_refused_by_key(tmp_path):
    from layout.errors import InputError
    from layout.reading.articles import MAX_HEAD_WORDS, load_article

    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: " + "word " * 3000 + "\nimages:\n  - file: images/x.jpg\n    caption: "
           + "cap " * 500 + "\n---\nText.\n")
    with pytest.raises(InputError) as caught:
        load_article(issue, "story", glyphs=None)
    text = str(caught.value)
    assert f"story.md: headline: is 3,000 words long; a headline has at most {MAX_HEAD_WORDS}" in text
    assert "story.md: images[0].caption: is 500 words long" in text and "closing '---'" in text


@pytest.mark.parametrize("raw, words", [
    ("---\nheadline: A story\n---\nCaf\u00e9 staff.\n".encode("cp1252"),
     "line 4: byte 0xe9 is not UTF-8 (in Windows-1252 or Latin-1, the encoding it was probably saved in, it is 'é')"),
    ("---\nheadline: A story\n---\nText.\n".encode("utf-16"), "line 1: the file is saved as UTF-16"),
    ("---\nheadline: A story\n---\nText.\n".encode("utf-16-le"), "line 1: the file is saved as UTF-16"),
])
def test_a_file_in_another_encoding_is_named_for_what_it_is(tmp_path, raw, words):
    from layout.errors import InputError
    from layout.reading.articles import load_article

    issue = _issue(tmp_path)
    (issue / "articles" / "story.md").write_bytes(raw)
    with pytest.raises(InputError) as caught:
        load_article(issue, "story", glyphs=None)
    assert f"story.md: {words}" in str(caught.value) and "save the file as UTF-8" in str(caught.value)
    assert len(caught.value.problems) == 1


def test_a_right_key_in_curly_quotes_or_behind_a_no_break_space_is_named_so(tmp_path):
    from layout.errors import InputError
    from layout.reading.articles import load_article

    issue = _issue(tmp_path)
    for dressed in ("\u201cheadline\u201d", "\u00a0headline"):
        _story(issue, f"---\n{dressed}: A story\n---\nText.\n")
        with pytest.raises(InputError) as caught:
            load_article(issue, "story", glyphs=None)
        assert 'it is "headline" with quotes or invisible spaces around it' in str(caught.value)
        assert "retype it as headline:" in str(caught.value)


def test_a_link_is_shown_where_it_is_not_where_it_points(tmp_path, run_cli):
    issue = _issue(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    shutil.move(issue / "articles", elsewhere)
    os.symlink(elsewhere, issue / "articles")
    (issue / "issue.yaml").write_text((issue / "issue.yaml").read_text().replace("- page: 1\n",
                                                                                "- page: 1\n  template:\n"))
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "outside the issue folder" in err
    assert "copy the article into" in err and "test-issue/articles/ instead of linking" in err
    assert "into elsewhere" not in err and "/elsewhere/ instead" not in err
    assert "template: is empty" in err


def test_an_indented_dash_line_in_a_value_does_not_end_the_front_matter(tmp_path):
    from layout.errors import InputError
    from layout.reading.articles import load_article

    issue = _issue(tmp_path)
    _story(issue, "---\nheadline: A story\nstandfirst: |\n  Before\n  ---\n  After\n---\nBody text.\n")
    article = load_article(issue, "story", glyphs=None)
    assert "Before" in article.standfirst and "After" in article.standfirst and article.text == "Body text."
    _story(issue, "---\nheadline: A story\n ---\nBody text.\n")
    with pytest.raises(InputError) as caught:
        load_article(issue, "story", glyphs=None)
    assert "never closed (line 3 is indented: the closing '---' starts at the left margin)" in str(caught.value)


def test_an_issue_given_as_a_path_is_named_by_its_name(tmp_path, run_cli):
    _issue(tmp_path)
    for given in ("test-issue/", "issues/test-issue"):
        code, out, err = run_cli("fit", given, root=tmp_path)
        assert code == 2 and 'give the issue\'s name "test-issue", not a path to it' in err
        assert "layout compose test-issue" in err
    code, out, err = run_cli("fit", "../../etc", root=tmp_path)
    assert code == 2 and "lower-case letters, digits and hyphens" in err and "create" not in err


def test_photo_file_names_with_spaces_accents_and_signs_print(tmp_path, run_cli):
    from PIL import Image

    issue = _issue(tmp_path)
    (issue / "images").mkdir()
    names = ["my photo.jpg", "caf\u00e9.jpg", "a%20b.jpg", "a#b?.jpg", "a'b\".jpg", "(1) a&b.jpg"]
    for shade, name in enumerate(names):
        Image.new("L", (1200, 800), 60 + 20 * shade).save(issue / "images" / name, "JPEG")
    _story(issue, "---\nheadline: A story\nimages:\n" + "".join(
        f"  - file: {yaml.safe_dump('images/' + n).splitlines()[0]}\n    caption: Photo {i}\n"
        for i, n in enumerate(names[:3])) + "---\n" + body(60, seed=3))
    write_article(issue, "other", body(60, seed=4), headline="Another story", images=[
        {"file": f"images/{n}", "caption": f"Picture {i}"} for i, n in enumerate(names[3:])])
    code, err = _compose(run_cli, tmp_path)
    assert code in (0, 3), err
    assert len(subprocess.run(["pdfimages", "-list", str(_pdf(tmp_path))], capture_output=True, text=True,
                              check=True).stdout.splitlines()) - 2 == len(names)


def test_a_group_key_at_the_top_and_a_quoted_number_say_where_they_go(tmp_path, run_cli):
    from layout.errors import InputError
    from layout.reading.settings import load_settings

    issue = _issue(tmp_path)
    paper = tmp_path / "issues" / "paper.yaml"
    paper.write_text(paper.read_text() + "size: 9pt\n")
    with pytest.raises(InputError) as caught:
        load_settings(paper)
    assert 'paper.yaml: size: "size" belongs in the group "body:"' in str(caught.value)
    assert "indent it under 'body:'" in str(caught.value)
    make_project(tmp_path)
    (issue / "issue.yaml").write_text((issue / "issue.yaml").read_text().replace("columns: 3", "columns: '3'"))
    code, err = _compose(run_cli, tmp_path)
    assert code == 2 and "first slot, columns: expected a whole number, found text '3'" in err
    assert "fix: remove the quotes: columns: 3" in err
