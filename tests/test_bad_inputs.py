"""A catalogue of bad input: each case gets a clear message naming the file, the key and the fix,
and its exit code; none shows a traceback; nothing already produced is destroyed."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from factory import body, two_story_issue, write_article, write_manifest
from pdftext import page_texts
from PIL import Image


def _good(root: Path) -> Path:
    return two_story_issue(root, (150, 100))


def _manifest_text(text: str) -> Callable[[Path], None]:
    return lambda issue: (issue / "issue.yaml").write_text(text)


def _manifest(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(issue: Path) -> None:
        data = yaml.safe_load((issue / "issue.yaml").read_text())
        change(data)
        (issue / "issue.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return apply


def _article_text(text: str | bytes, slug: str = "story") -> Callable[[Path], None]:
    def apply(issue: Path) -> None:
        path = issue / "articles" / f"{slug}.md"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return apply


def _with_image(make: Callable[[Path], None], name: str = "images/photo.jpg") -> Callable[[Path], None]:
    def apply(issue: Path) -> None:
        (issue / "images").mkdir(exist_ok=True)
        make(issue / name)
        write_article(issue, "story", body(150, seed=1), headline="A story",
                      images=[{"file": name, "caption": "A caption"}])
    return apply


def _huge_png(path: Path) -> None:
    """A 20000 x 20000 PNG of a few hundred bytes: the size is in the header, the pixels compress."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = zlib.compress(b"\0" * 2501 * 200, 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def _paper(change: dict) -> Callable[[Path], None]:
    def apply(issue: Path) -> None:
        path = issue.parent / "paper.yaml"
        data = yaml.safe_load(path.read_text())
        data.update(change)
        path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return apply


def _css(extra: str) -> Callable[[Path], None]:
    def apply(issue: Path) -> None:
        with open(issue.parent.parent / "stylesheets" / "newspaper.css", "a") as css:
            css.write("\n" + extra + "\n")
    return apply


CASES = [
    # (id, break the issue, exit code, what the message must say)
    ("manifest broken yaml", _manifest_text("date: 2022-04-01\nnumber: 1\npages:\n  - page: 1\n   articles: [x]\n"),
     2, ["issue.yaml: line 5: YAML syntax error", "fix: check the indentation"]),
    ("manifest not a mapping", _manifest_text("- just\n- a list\n"), 2,
     ["issue.yaml: (top level): expected a mapping of keys, found a list"]),
    ("manifest unknown key", _manifest(lambda d: d.update(dat=1)), 2, ['unknown key "dat" (did you mean "date"?)']),
    ("date not a date", _manifest(lambda d: d.update(date="1st April")), 2,
     ["date: '1st April' is not a date", "YYYY-MM-DD"]),
    ("number missing", _manifest(lambda d: d.pop("number")), 2, ["number: is missing"]),
    ("no pages", _manifest(lambda d: d.update(pages=[])), 2, ["pages: is missing or empty"]),
    ("pages out of order", _manifest(lambda d: d["pages"].append({"page": 3, "articles": []})), 2,
     ["the second page listed, page: page 3 is listed in position 2", "no gaps or repeats"]),
    ("duplicate page", _manifest(lambda d: d["pages"].append({"page": 1, "articles": []})), 2,
     ["the second page listed, page: page 1 is listed in position 2"]),
    ("unknown template", _manifest(lambda d: d["pages"][0].update(template="frnt")), 2,
     ["the first page listed, template: unknown template 'frnt' (did you mean \"front\"?)"]),
    ("slot wider than page", _manifest(lambda d: d["pages"][0]["articles"][0].update(columns=7)), 2,
     ["page 1, first slot, columns: 7 is out of range", "use a number from 1 to 5"]),
    ("unknown slot key", _manifest(lambda d: d["pages"][0]["articles"][0].update(colums=2)), 2,
     ['page 1, first slot, colums: unknown key "colums" (did you mean "columns"?)']),
    ("slug with dot dot", _manifest(lambda d: d["pages"][0]["articles"][0].update(slug="../../etc/passwd")), 2,
     ["'../../etc/passwd' is not a valid article name", "lower-case letters, digits and hyphens"]),
    ("unknown slug", _manifest(lambda d: d["pages"][0]["articles"][0].update(slug="stroy")), 2,
     ['no article "stroy" (did you mean "story"?)']),
    ("article twice", _manifest(lambda d: d["pages"][0]["articles"][1].update(slug="story")), 2,
     ['page 1, second slot, slug: article "story" is already placed at page 1, first slot']),
    ("depth not a depth", _manifest(lambda d: d["pages"][0]["articles"][0].update(depth="lots")), 2,
     ["page 1, first slot, depth: 'lots' is not a depth"]),
    ("jump backwards", _manifest(lambda d: d["pages"][0]["articles"][0].update(jump=1)), 2,
     ["jumps to page 1, which is not after page 1"]),
    ("jump to missing page", _manifest(lambda d: d["pages"][0]["articles"][0].update(jump=4)), 2,
     ["page 4 does not exist (the issue has 1)"]),
    ("orphan continuation", _manifest(lambda d: d["pages"].append({"page": 2, "articles": [{"continued": "story"}]})),
     2, ['nothing jumps to this continuation of "story"']),
    ("front matter missing", _article_text("Just a story with no front matter.\n"), 2,
     ["story.md: line 1: the article must start with a '---' line"]),
    ("front matter not a mapping", _article_text("---\n- a\n- list\n---\nText.\n"), 2,
     ["story.md: front matter: expected a mapping of keys, found a list"]),
    ("front matter not closed", _article_text("---\nheadline: A story\nText.\n"), 2,
     ["story.md: line 1: the front matter opened with '---' is never closed"]),
    ("front matter broken yaml", _article_text("---\nheadline: A story\nbyline: by: someone\n---\nText.\n"), 2,
     ["story.md: line 3: YAML syntax error"]),
    ("headline missing", _article_text("---\nbyline: by us\n---\nText.\n"), 2,
     ["story.md: headline: is missing", "add a line 'headline: ...'"]),
    ("unknown front matter key", _article_text("---\nheadline: A story\nheadlin: typo\n---\nText.\n"), 2,
     ['story.md: front matter.headlin: unknown key "headlin" (did you mean "headline"?)']),
    ("unknown kind", _article_text("---\nheadline: A story\nkind: advertorial\n---\nText.\n"), 2,
     ["story.md: kind: unknown kind 'advertorial'"]),
    ("empty article", _article_text(""), 2, ["story.md: line 1: the article must start with a '---' line"]),
    ("only a headline", _article_text("---\nheadline: A story\n---\n"), 2,
     ["story.md: line 4: the article has no body text", "write the story below the closing '---'"]),
    ("only a crosshead", _article_text("---\nheadline: A story\n---\n## Just a crosshead\n"), 2,
     ["the article has no body text"]),
    ("not utf-8", _article_text("---\nheadline: Caf\xe9\n---\nText.\n".encode("latin-1")), 2,
     ["story.md: line 2: byte 0xe9 is not UTF-8", "save the file as UTF-8"]),
    ("control character", _article_text("---\nheadline: A story\n---\nPasted\x0btext.\n"), 2,
     ["story.md: line 4, column 7: contains the control character U+000B", "delete it"]),
    ("inline image", _article_text("---\nheadline: A story\n---\nText ![x](file:///etc/passwd) more.\n"), 2,
     ["story.md: line 4: has an inline image", "put photos in the front matter"]),
    ("missing image", lambda issue: write_article(issue, "story", body(100), images=[{"file": "images/none.jpg"}]),
     2, ["story.md: images[0].file: image 'images/none.jpg' not found"]),
    ("image not an image", _with_image(lambda p: p.write_text("this is not a JPEG")), 2,
     ["images[0].file: photo 'images/photo.jpg' is not an image layout can read", "export it again"]),
    ("huge image", _with_image(_huge_png, "images/huge.png"), 2,
     ["'images/huge.png' is too large (20000 x 20000 px)"]),
    ("image outside the issue",
     lambda issue: write_article(issue, "story", body(100), images=[{"file": "../paper.yaml"}]), 2,
      ["images[0].file: '../paper.yaml' is outside the issue folder"]),
    ("paper settings bad", _paper({"columns": 0, "trim": {"width": "big", "height": "430mm"}}), 2,
     ["paper.yaml: columns: 0 is out of range", "paper.yaml: trim.width: 'big' is not a length"]),
    ("font that is not a font", _css('@font-face { font-family: "Junk"; src: url(../fonts/junk.ttf); }\n'
                                     '.headline { font-family: "Junk"; }'), 4,
     ["font(s) could not be loaded: Junk", "point src: at a TrueType or OpenType file in fonts/"]),
    ("stylesheet reads the network", _css(".folio { background: url(http://example.com/x.png); }"), 2,
     ["refused to fetch http://example.com/x.png: layout never reads from the network"]),
    ("stylesheet reads /etc/passwd", _css(".folio { background: url(file:///etc/passwd); }"), 2,
     ["refused to read /etc/passwd: only files in the issue folder, fonts/ and stylesheets/ are used"]),
]


@pytest.mark.parametrize(("name", "damage", "code", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_message(tmp_path, run_cli, name, damage, code, expected):
    issue = _good(tmp_path)
    (tmp_path / "fonts" / "junk.ttf").write_text("not a font")
    damage(issue)
    exit_code, out, err = run_cli("compose", "test-issue", root=tmp_path)
    assert exit_code == code, err
    for text in expected:
        assert text in err, f"{text!r} not in:\n{err}"
    assert "Traceback" not in out + err


def test_there_are_at_least_30_cases():
    assert len(CASES) >= 30


def test_an_issue_that_does_not_exist_lists_the_ones_that_do(tmp_path, run_cli):
    _good(tmp_path)
    code, _, err = run_cli("compose", "test-isue", root=tmp_path)
    assert code == 2
    assert 'no issue "test-isue" in issues/ (did you mean "test-issue"?)' in err or 'no issue "test-isue"' in err
    assert "issues that exist: test-issue" in err
    code, _, err = run_cli("compose", "../etc", root=tmp_path)
    assert code == 2 and 'no issue "../etc"' in err


def test_windows_line_endings_compose(tmp_path, run_cli):
    issue = _good(tmp_path)
    text = (issue / "articles" / "story.md").read_text().replace("\n", "\r\n")
    (issue / "articles" / "story.md").write_bytes(text.encode())
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 0, err
    assert "A story" in page_texts(tmp_path / "build" / "test-issue" / "test-issue.pdf")[0]


def test_a_ten_times_overset_article_fails_but_writes_the_proof(tmp_path, run_cli):
    issue = _good(tmp_path)
    write_article(issue, "other", body(2500, seed=3), headline="Far too long")
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": "story", "columns": 3}, {"slug": "other", "columns": 2, "depth": 20}]}]})
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 3
    assert "page 1, second slot (other):" in err and "lines) over" in err and "Traceback" not in err
    assert (tmp_path / "build" / "test-issue" / "test-issue-proof.pdf").exists()


def test_raw_html_is_refused_and_nothing_outside_the_issue_is_read(tmp_path, run_cli):
    issue = _good(tmp_path)
    write_article(issue, "story", '<link rel="attachment" href="file:///etc/hostname">\n\n'
                  '<img src="file:///etc/passwd">\n\n[a link](file:///etc/passwd) and '
                  '<iframe src="http://example.com/"></iframe>\n\n' + body(120), headline="A story")
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 2, err
    assert "story.md: line 4, column 1: raw HTML '<link rel=\"attachment\"" in err
    assert "story.md: line 6, column 1: raw HTML '<img src=\"file:///etc/passwd\">' is not allowed" in err
    assert "line 8, column 34: raw HTML '<iframe" in err and "line 8, column 68: raw HTML '</iframe>'" in err
    assert "to print the character '<' itself, write &lt;" in err
    assert not (tmp_path / "build" / "test-issue" / "test-issue.pdf").exists()


def test_a_bad_input_run_destroys_nothing(tmp_path, run_cli):
    issue = _good(tmp_path)
    assert run_cli("compose", "test-issue", root=tmp_path)[0] == 0
    out = tmp_path / "build" / "test-issue"
    before = {p: p.read_bytes() for p in out.rglob("*.pdf") if ".cache" not in p.parts}
    _manifest(lambda d: d.update(date="never"))(issue)
    assert run_cli("compose", "test-issue", root=tmp_path)[0] == 2
    assert {p: p.read_bytes() for p in out.rglob("*.pdf") if ".cache" not in p.parts} == before


def test_a_small_image_is_fine_and_colour_photos_become_grey(tmp_path, run_cli):
    issue = _good(tmp_path)
    _with_image(lambda p: Image.new("RGB", (1600, 1100), (200, 40, 40)).save(p))(issue)
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 0, err
