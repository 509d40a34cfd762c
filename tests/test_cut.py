"""Stage 3d: cutting a story for a jump keeps every word, at a line, with its markup."""

from layout.composing.cut import Cut, cut_point, slice_blocks, split_html
from layout.composing.measure import Line
from layout.reading.articles import Block

BLOCKS = (
    Block("p", "One two three four five six seven eight.", "One two three four five six seven eight."),
    Block("p", "Alpha <em>beta gamma</em> delta epsilon-zeta eta.", "Alpha beta gamma delta epsilon-zeta eta."),
    Block("h2", "A crosshead", "A crosshead"),
    Block("p", "Last words here.", "Last words here."),
)


def _line(block: int, text: str, column: int) -> Line:
    return Line(f"s-b{block}", text, column, 0.0, 1.0)


def test_nothing_overset_means_no_cut():
    lines = (_line(0, "One two three", 0), _line(0, "four five", 1))
    assert cut_point(lines, 2, BLOCKS, Cut(0), "s-b") is None


def test_cut_between_paragraphs():
    lines = (_line(0, "One two three four", 0), _line(0, "five six seven eight.", 0), _line(1, "Alpha beta", 1))
    assert cut_point(lines, 1, BLOCKS, Cut(0), "s-b") == Cut(1, 0)


def test_cut_inside_a_paragraph_after_the_fitted_words():
    lines = (_line(0, "One two three", 0), _line(0, "four five", 0), _line(0, "six seven eight.", 1))
    assert cut_point(lines, 1, BLOCKS, Cut(0), "s-b") == Cut(0, 5)


def test_a_word_hyphenated_across_the_cut_moves_over_whole():
    lines = (_line(1, "Alpha beta gamma delta ep-", 0), _line(1, "silon-zeta eta.", 1))
    assert cut_point(lines, 1, BLOCKS, Cut(0), "s-b") == Cut(1, 4)
    # A real hyphen at a line end is part of the word, not hyphenation: the cut follows it.
    lines = (_line(1, "Alpha beta gamma delta epsilon-", 0), _line(1, "zeta eta.", 1))
    assert cut_point(lines, 1, BLOCKS, Cut(0), "s-b") == Cut(1, 4)


def test_cut_counts_from_a_part_that_began_mid_paragraph():
    lines = (_line(0, "six seven", 0), _line(0, "eight.", 1))
    assert cut_point(lines, 1, BLOCKS, Cut(0, 5), "s-b") == Cut(0, 7)


def test_a_crosshead_is_never_split():
    lines = (_line(1, "eta.", 0), _line(2, "A crosshead", 1))
    assert cut_point(lines, 1, BLOCKS, Cut(0), "s-b") == Cut(2, 0)


def test_the_two_parts_make_up_the_story_exactly():
    cut = Cut(1, 2)
    first, _, ends_mid = slice_blocks(BLOCKS, Cut(0), cut)
    rest, starts_mid, _ = slice_blocks(BLOCKS, cut, None)
    assert ends_mid and starts_mid
    words = " ".join(b.text for b in first + rest).split()
    assert words == " ".join(b.text for b in BLOCKS).split()
    assert first[-1].html == "Alpha <em>beta</em>"
    assert rest[0].html == "<em>gamma</em> delta epsilon-zeta eta."


def test_split_html_keeps_markup_and_spacing():
    html = "The <em>quick brown</em> fox <strong>jumps</strong> over."
    assert split_html(html, 0, 2) == "The <em>quick</em>"
    assert split_html(html, 2, None) == "<em>brown</em> fox <strong>jumps</strong> over."
    assert split_html(html, 4, 5) == "<strong>jumps</strong>"
