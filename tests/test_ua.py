"""The engine's user-agent stylesheet: WeasyPrint's own, with its universal pseudo-element rules kept
only where they can apply (engine.ua_stylesheet), drawing every document as WeasyPrint's does."""

from __future__ import annotations

import weasyprint
from weasyprint.html import UA_STYLESHEET

from layout.rendering import engine

LIST = ("<html lang='en'><body><p>Before</p><ol><li>One</li><li>Two <b>bold</b></li></ol>"
        "<ul><li>Dot</li></ul></body></html>")
CUSTOM = ("<html><head><style>p.item { display: list-item; list-style-type: decimal; margin-left: 2em }</style></head>"
          "<body><p class='item'>First</p><p class='item'>Second 123</p></body></html>")
FOOTNOTE = ("<html><head><style>@page { size: 300px 300px } span.fn { float: footnote }</style></head>"
            "<body><p>Text<span class='fn'>A footnote.</span> and more.</p></body></html>")
PLAIN = "<html><body><h1>Headline</h1><p>Only <i>text</i>, no lists.</p><q>quoted</q><br>after</body></html>"


def _boxes(document: weasyprint.Document) -> list[tuple]:
    """Every box of every page: its element and pseudo-element, place, size and the computed style
    that draws it (what a marker's ``white-space`` or a call's ``vertical-align`` came out as)."""
    out = []

    def walk(box) -> None:
        style = box.style
        out.append((type(box).__name__, box.element_tag, round(box.position_x, 3), round(box.position_y, 3),
                    round(box.width or 0, 3), round(box.height or 0, 3), getattr(box, "text", None),
                    style["white_space"], style["font_variant_numeric"], style["vertical_align"], style["font_size"],
                    style["text_transform"]))
        for child in getattr(box, "children", ()):
            walk(child)
    for page in document.pages:
        walk(page._page_box)
    return out


def _both(tmp_path, html: str) -> tuple[weasyprint.Document, weasyprint.Document]:
    ours = engine.render(html, tmp_path, (tmp_path,), [])
    theirs = weasyprint.HTML(string=html, base_url=str(tmp_path) + "/").render(font_config=ours.font_config)
    return ours, theirs


def test_what_each_document_needs_of_the_pseudo_element_rules_is_read_from_its_html_and_stylesheets():
    assert engine.pseudo_needed([LIST]) == frozenset()  # li is handled by the scoped ::marker
    assert engine.pseudo_needed([PLAIN, "p { color: red }"]) == frozenset()
    assert engine.pseudo_needed([CUSTOM]) == {"marker"}
    assert engine.pseudo_needed([PLAIN, "aside { DISPLAY: inline LIST-ITEM }"]) == {"marker"}
    assert engine.pseudo_needed([FOOTNOTE]) == {"footnote-call", "footnote-marker"}
    assert engine.pseudo_needed([PLAIN, "aside { position: note(side) }"]) == {"note-call", "note-marker",
                                                                              "note-callback"}
    assert engine.pseudo_needed(["<link rel=stylesheet href=x.css>" + PLAIN]) is None
    assert engine.pseudo_needed([PLAIN, "@import url(more.css);"]) is None


def test_the_scoped_sheet_tries_no_pseudo_element_rule_on_every_element_and_the_marker_on_li_only():
    sheet = engine.ua_stylesheet(frozenset())
    assert sheet is not None and sheet is not UA_STYLESHEET
    tried = [entry[3] for entry in sheet.matcher.other_selectors]
    assert not set(tried) & set(engine.UA_PSEUDO)
    assert "marker" in [entry[3] for entry in sheet.matcher.lower_local_name_selectors["li"]]
    # WeasyPrint's own sheet is left as it was: every rule still tried on every element there.
    assert set(engine.UA_PSEUDO) <= {entry[3] for entry in UA_STYLESHEET.matcher.other_selectors}
    assert "marker" not in [entry[3] for entry in UA_STYLESHEET.matcher.lower_local_name_selectors["li"]]
    needed = engine.ua_stylesheet(frozenset({"marker", "footnote-call", "footnote-marker"}))
    assert {entry[3] for entry in needed.matcher.other_selectors} & set(engine.UA_PSEUDO) == {
        "marker", "footnote-call", "footnote-marker"}


def test_documents_are_drawn_as_with_weasyprints_own_sheet_lists_markers_footnotes_and_all(tmp_path):
    for html in (LIST, CUSTOM, FOOTNOTE, PLAIN):
        ours, theirs = _both(tmp_path, html)
        assert _boxes(ours) == _boxes(theirs), html
        assert ours.write_pdf() == theirs.write_pdf(), html
    # What is compared is what the rules draw: the markers keep the sheet's white-space (an element's own
    # anonymous style would not), and the footnote call is numbered and smaller.
    markers = [box for box in _boxes(_both(tmp_path, CUSTOM)[0]) if box[:2] == ("TextBox", "p::marker")]
    assert len(markers) == 2 and "normal" not in {box[7] for box in markers}  # the parent p is "normal"
    assert any(box[1] == "span::footnote-call" and box[6] == "1" and box[10] < 16  # font-size: smaller
               for box in _boxes(_both(tmp_path, FOOTNOTE)[0]))
    assert [box for box in _boxes(_both(tmp_path, LIST)[0]) if box[1] == "li::marker"]
