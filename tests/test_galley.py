"""Galleys: each story is set once, and its rows are cut into columns as CSS multi-column layout would.

The reference is WeasyPrint itself: the one-pass HTML of the same composition (every body in a
fixed-height ``column-fill: auto`` frame) must put every word where the plates have it.
"""

from __future__ import annotations

import pdfplumber
import pytest
from factory import body, make_project, one_pass_pdf, write_article, write_manifest
from pdftext import CHAR_KEYS, letters, page_texts, plumbed_chars, same_places, word_places

from layout.build import Project, compose_issue, fit_issue
from layout.composing.galley import Galley, GalleyLine, fill, natural_depth


def _galley(rows: int, breaks: tuple[int, ...]) -> Galley:
    return Galley("s", rows, tuple(GalleyLine("s-b0", f"line {r}", r, r * 10.5 + 8, 1.0) for r in range(rows)),
                  breaks)


def test_columns_end_only_where_a_break_is_allowed():
    galley = _galley(12, (3, 5, 9))
    cut = fill(galley, 0, 3, 4)
    assert cut.ranges == ((0, 3), (3, 5), (5, 9)) and cut.next_row == 9 and cut.forced == 0
    assert fill(galley, 5, 2, 4).ranges == ((5, 9), (9, 12))


def test_a_block_deeper_than_the_frame_is_cut_and_counted_as_forced():
    cut = fill(_galley(10, ()), 0, 3, 4)
    assert cut.ranges == ((0, 4), (4, 8), (8, 10)) and cut.forced == 2


def test_natural_depth_is_balanced_and_avoids_forced_breaks():
    every = tuple(range(1, 10))
    assert natural_depth(_galley(10, every), 0, 3) == 4
    assert natural_depth(_galley(10, every), 4, 3) == 2
    # Only row 6 may start a column: depth 4 would fit only by breaking a kept block at row 4.
    assert natural_depth(_galley(10, (6,)), 0, 2) == 6
    assert natural_depth(_galley(10, ()), 0, 2) == 10  # one block kept together: one column, never split


CROSSHEADS = "\n\n".join([
    body(70, seed=1), "## Pay offer rejected", body(45, seed=2),
    "> “We will not be moved,” said the branch secretary.", body(80, seed=3), "## Ballot next week",
    body(30, seed=4), "## A second crosshead", body(90, seed=5),
    "> Members voted by nine to one to reject the offer made to them on Friday.", body(60, seed=6)])
SHORTER = "\n\n".join([
    body(40, seed=7), "## Pay offer rejected", "> “We will not be moved,” said the branch secretary.",
    body(40, seed=8), "## Ballot next week", body(50, seed=9),
    "> Members voted by nine to one to reject the offer made to them on Friday."])


@pytest.fixture(scope="module")
def ruled(tmp_path_factory):
    """One page of crossheads and pull quotes in frames of several depths and widths."""
    root = tmp_path_factory.mktemp("galley")
    issue = make_project(root)
    slots = []
    for slug, columns, depth, text in (("three", 3, 34, CROSSHEADS), ("two", 2, 56, CROSSHEADS),
                                       ("one", 1, 56, SHORTER)):
        write_article(issue, slug, text, headline=f"Story in {columns}")
        slots.append({"slug": slug, "columns": columns, "depth": depth})
    write_article(issue, "rest", body(200, seed=9), headline="Natural depth")
    slots.append({"slug": "rest", "columns": 2})
    write_manifest(issue, {"pages": [{"page": 1, "articles": slots}]})
    result = compose_issue(Project(root), "test-issue")
    assert not result.composition.overset
    return root


def test_plates_set_every_word_where_css_multicolumn_layout_would(ruled):
    multicol = one_pass_pdf(ruled, "test-issue")
    plates = (ruled / "build" / "test-issue" / "test-issue.pdf").read_bytes()
    ours, theirs = word_places(plates), word_places(multicol)
    assert sum(len(xs) for xs in ours[0].values()) > 800
    assert same_places(ours[0], theirs[0])


def test_a_crosshead_never_ends_a_column_and_a_pull_quote_is_never_split(ruled):
    pdf = ruled / "build" / "test-issue" / "test-issue.pdf"
    with pdfplumber.open(pdf) as doc:
        words = doc.pages[0].extract_words(extra_attrs=["fontname", "size"])
        # the characters the tests' readers take (pdftext.plumbed_chars) are pdfplumber's own
        assert plumbed_chars(doc.pages[0]) == tuple({k: c[k] for k in CHAR_KEYS} for c in doc.pages[0].chars)
    body_words = [w for w in words if "NW-Text" in w["fontname"] and abs(w["size"] - 9) < 0.01]
    heads = [w for w in words if "NW-Sans-Bold" in w["fontname"] and w["text"] in ("Pay", "Ballot", "A")]
    assert len(heads) >= 6
    quotes = [w for w in words if "NW-Head" in w["fontname"] and abs(w["size"] - 15) < 0.01]
    for head in heads:  # text follows the crosshead in its own column: the next line, or a pull quote
        below = [w for w in body_words if abs(w["x0"] - head["x0"]) < 3 and 0 < w["bottom"] - head["bottom"] < 12]
        below += [w for w in quotes if abs(w["x0"] - head["x0"]) < 3 and 0 < w["bottom"] - head["bottom"] < 40]
        assert below, head
    for first, last in (("moved,”", "secretary."), ("Members", "Friday.")):
        starts = [w for w in quotes if w["text"] == first]
        assert starts, first
        for start in starts:  # the quote's last word is in the same column, a few lines below
            assert any(w["text"] == last and 0 <= w["bottom"] - start["bottom"] < 4 * 21
                       and w["x0"] - start["x0"] < 200 and w["x0"] >= start["x0"] - 150 for w in quotes), start


def _jumped(root, words: int, depth: int, **front: object):
    """A 3-column story of ``words`` words on page 1, ``depth`` lines deep, jumping to 2 columns on page 2
    (and a 300-word story beside it); return its text and the compose."""
    issue = make_project(root)
    text = body(words, seed=11)
    write_article(issue, "lead", text, headline="Lead", **front)
    write_article(issue, "other", body(300, seed=12), headline="Other")
    write_manifest(issue, {"pages": [
        {"page": 1, "articles": [{"slug": "lead", "columns": 3, "depth": depth, "jump": 2},
                                 {"slug": "other", "columns": 2}]},
        {"page": 2, "articles": [{"continued": "lead", "columns": 2}]}]})
    return text, compose_issue(Project(root), "test-issue")


def test_no_text_is_hidden_in_the_plates(tmp_path):
    """Each column draws only its own rows of the galley: every word is in the PDF once."""
    text, result = _jumped(tmp_path, 900, 40)
    pages = page_texts(result.issue_pdf)
    everything = letters("".join(pages))
    source = letters(text)
    assert everything.count(source[:200]) == 1 and everything.count(source[-200:]) == 1
    assert source[:200] in letters(pages[0]) and source[-200:] in letters(pages[1])
    body_letters = sum(len(letters(t)) for t in pages)
    assert body_letters < (len(source) + len(letters(body(300, seed=12)))) * 1.1  # "other": 300 words


def test_column_rules_only_beside_columns_with_text(tmp_path):
    issue = make_project(tmp_path)
    write_article(issue, "short", body(60, seed=3), headline="Short story")
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "short", "columns": 3, "depth": 40}]}]})
    result = compose_issue(Project(tmp_path), "test-issue")
    with pdfplumber.open(result.issue_pdf) as doc:
        rules = [r for r in doc.pages[0].rects if r["width"] < 1.5 and r["height"] > 100]
    assert rules == []  # all its text fits the first column: no rule beside the empty ones
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "short", "columns": 3}]}]})
    result = compose_issue(Project(tmp_path), "test-issue")
    with pdfplumber.open(result.issue_pdf) as doc:
        rules = [r for r in doc.pages[0].rects if r["width"] < 1.5 and r["height"] > 20]
    assert len(rules) == 2  # balanced over three columns: a rule in each gap


def test_galley_breaks_follow_the_stylesheet_rules(tmp_path):
    """Read from WeasyPrint's boxes: orphans and widows (2), no break after a crosshead
    (break-after: avoid) and none inside a pull quote (break-inside: avoid)."""
    issue = make_project(tmp_path)
    long_quote = ("> The offer is a pay cut in all but name, and every member of this branch knows it: "
                  "we will ballot, we will win, and we will not be moved by threats from the board.")
    write_article(issue, "story", CROSSHEADS + "\n\n" + long_quote + "\n\n" + body(60, seed=10),
                  headline="Rules")
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "story", "columns": 3}]}]})
    session, composition = fit_issue(Project(tmp_path), "test-issue")
    session.renderer.close()
    galley, _ = composition.galleys["p1-story"] if "p1-story" in composition.galleys else \
        next(iter(composition.galleys.values()))
    tags = {f"{galley.slot_id}-b{i}": block.tag for i, block in enumerate(session.articles["story"].blocks)}
    blocks: dict[str, list[int]] = {}
    for line in galley.lines:
        blocks.setdefault(line.block_id, []).append(line.row)
    order = list(blocks)
    breaks = set(galley.breaks)
    checked = {"p": 0, "h2": 0, "blockquote": 0}
    for index, block_id in enumerate(order):
        rows, tag = blocks[block_id], tags[block_id]
        after_crosshead = index > 0 and tags[order[index - 1]] == "h2"
        if tag == "p" and len(rows) >= 4:
            assert (rows[0] in breaks) == (not after_crosshead and rows[0] > 0), block_id
            assert rows[1] not in breaks and rows[-1] not in breaks, block_id  # orphans, widows
            assert all(row in breaks for row in rows[2:-1]), block_id
            checked["p"] += 1
        elif tag == "h2":
            (row,) = rows
            assert row not in breaks and row + 1 not in breaks, block_id  # kept with what follows
            checked["h2"] += 1
        elif tag == "blockquote":
            inside = set(range(rows[0] + 1, rows[-1] + 2))
            assert not inside & breaks, block_id  # never split
            checked["blockquote"] += 1
    assert checked["p"] >= 4 and checked["h2"] == 3 and checked["blockquote"] == 3


def test_a_continuation_narrower_than_its_story_is_set_in_a_galley_of_its_own(tmp_path):
    """An editorial's frame is padded, so its columns are narrower in three columns than in two: the
    rest of the story is set again at the continuation's width, from the word where the jump cut it."""
    text, result = _jumped(tmp_path, 700, 30, kind="editorial")
    assert not result.composition.overset
    keys = sorted(result.composition.galleys)
    assert any("-from-" in key for key in keys), keys  # the continuation's own galley
    first, second = (letters(t) for t in page_texts(result.issue_pdf))
    source = letters(text)
    cut = max(k for k in range(0, len(source), 25) if source[:k] in first)
    cut = max(k for k in range(cut, min(cut + 25, len(source))) if source[:k] in first)
    assert 1000 < cut < len(source) - 1000
    assert source[cut:] in second  # every word in order: what page 1 does not hold, page 2 does
    multicol = one_pass_pdf(tmp_path, "test-issue")
    for ours, theirs in zip(word_places(result.issue_pdf.read_bytes()), word_places(multicol)):
        assert same_places(ours, theirs)


def test_a_story_longer_than_a_galley_sheet_is_named(tmp_path, run_cli):
    issue = make_project(tmp_path)
    write_article(issue, "endless", body(9500, seed=5), headline="Endless")
    write_manifest(issue, {"pages": [{"page": 1, "articles": [{"slug": "endless", "columns": 1}]}]})
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)  # refused while reading: too many words
    assert code == 2 and "endless.md: body: the article is 9,500 words long" in err, err
    # a body the reading estimate cannot see is long (it counts characters, a line each at least: 800
    # one-line pull quotes, each over two lines deep with its rules, some 1,700 lines): compose names it
    write_article(issue, "endless", "A paragraph.\n\n" + "\n\n".join(f"> Quote {i}." for i in range(800)),
                  headline="Endless")
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 2 and "longer than a galley sheet" in err and "articles/endless.md" in err, err
    assert "Traceback" not in err
