"""The renderer's own parts: the hyphenation patterns it keeps, and galleys cached a story."""

from __future__ import annotations

import logging

import pyphen
import pytest
from factory import body, make_project, write_article, write_manifest

from layout.base.cache import Store
from layout.build import Project, compose_issue
from layout.rendering.engine import load_hyphenation

WORDS = ("internationalisation", "nationalisation", "shareholders", "spokesperson", "demonstration",
         "hyphenation", "Kremlin", "representatives")


@pytest.fixture
def fresh_patterns():
    """pyphen's cache without the English patterns (and put back afterwards)."""
    path = pyphen.LANGUAGES[pyphen.language_fallback("en-GB")]
    kept = pyphen.hdcache.pop(path, None)
    yield path
    pyphen.hdcache.pop(path, None)
    if kept is not None:
        pyphen.hdcache[path] = kept


def test_hyphenation_patterns_read_back_from_the_cache_hyphenate_as_pyphen_does(tmp_path, fresh_patterns):
    parsed = pyphen.HyphDict(fresh_patterns)
    load_hyphenation(Store(tmp_path))  # parses, and keeps a copy
    copies = list((tmp_path / "hyphenation").iterdir())
    assert len(copies) == 1
    pyphen.hdcache.pop(fresh_patterns)
    load_hyphenation(Store(tmp_path))  # reads the copy back
    loaded = pyphen.hdcache[fresh_patterns]
    assert loaded is not parsed and loaded.patterns == parsed.patterns and loaded.maxlen == parsed.maxlen
    dictionary = pyphen.Pyphen(lang="en_GB")
    assert dictionary.hd is loaded
    assert [dictionary.inserted(w) for w in WORDS] == [w for w in map(_parsed_inserted(parsed), WORDS)]
    assert dictionary.inserted("internationalisation").count("-") >= 4


def _parsed_inserted(parsed: pyphen.HyphDict):
    def inserted(word: str) -> str:
        points = [p for p in parsed.positions(word) if 2 <= p <= len(word) - 2]
        for point in reversed(points):
            word = word[:point] + "-" + word[point:]
        return word
    return inserted


def test_a_damaged_copy_of_the_patterns_is_parsed_again(tmp_path, fresh_patterns):
    load_hyphenation(Store(tmp_path))
    copy = next((tmp_path / "hyphenation").iterdir())
    copy.write_text('{"ab": [1, "x"]')  # cut short
    pyphen.hdcache.pop(fresh_patterns)
    load_hyphenation(Store(tmp_path))
    assert pyphen.hdcache[fresh_patterns].patterns == pyphen.HyphDict(fresh_patterns).patterns
    assert copy.read_text().startswith("{") and len(copy.read_bytes()) > 100_000  # written again, whole


def test_an_edit_sets_only_its_own_story_and_gives_the_bytes_of_a_clean_compose(tmp_path, caplog):
    issue = make_project(tmp_path)
    for number, slug in enumerate(("left", "middle", "right")):
        write_article(issue, slug, body(110, seed=number))
    write_manifest(issue, {"pages": [{"page": 1, "articles": [
        {"slug": slug, "columns": 2 if slug != "right" else 1, "depth": 40}
        for slug in ("left", "middle", "right")]}]})
    project = Project(tmp_path)
    compose_issue(project, "test-issue")
    write_article(issue, "middle", body(110, seed=7))
    caplog.set_level(logging.INFO, logger="layout")
    edited = compose_issue(project, "test-issue")
    # One document: the edited story's galley, set alone (its page is laid out without bodies).
    assert edited.laid_out == 1, caplog.messages[2]
    assert caplog.messages[2].endswith("(1 pages laid out, 6 from the cache)"), caplog.messages
    plate = (tmp_path / "build" / "test-issue" / "plates" / "test-issue-p01.pdf").read_bytes()
    clean = tmp_path / "clean"
    (tmp_path / "build").rename(clean)
    compose_issue(project, "test-issue")  # the three stories on one sheet
    assert (tmp_path / "build" / "test-issue" / "plates" / "test-issue-p01.pdf").read_bytes() == plate


def test_weasyprints_sized_arrays_are_the_same_arrays_with_their_type_parsed_once():
    # WeasyPrint's own (in-line) FFI, as it has when no prebuilt one is used (see rendering/weasyffi.py)
    import cffi

    from layout.rendering.engine import _one_type_an_array

    ffi = cffi.FFI()
    ffi.cdef("typedef uint32_t hb_codepoint_t;")
    _one_type_an_array(ffi)

    sized = ffi.new("hb_codepoint_t[5]", [5, 4, 3, 2, 1])
    assert list(sized) == [5, 4, 3, 2, 1] and ffi.sizeof(sized) == 5 * ffi.sizeof("hb_codepoint_t")
    assert list(ffi.new("hb_codepoint_t[4]", (7,))) == [7, 0, 0, 0]  # fewer items: its length, zero-filled
    assert ffi.sizeof(ffi.new("char[4]", b"abcd")) == 4  # bytes: as cffi does (no terminating zero)
    assert ffi.sizeof(ffi.new("hb_codepoint_t[3]")) == 3 * ffi.sizeof("hb_codepoint_t")  # no items
    parsed = len(ffi._parsed_types)
    for length in range(40, 60):  # what WeasyPrint's font subsetting asks for, a length at a time
        assert list(ffi.new(f"hb_codepoint_t[{length}]", list(range(length)))) == list(range(length))
    assert len(ffi._parsed_types) == parsed  # no new type string parsed (6 ms each)


def test_stylesheets_are_known_by_their_bytes_and_their_fonts_not_by_their_folder(tmp_path):
    """A stylesheet is parsed once a process for the same bytes and @font-face fonts wherever it is
    (a copied project); another font, a font missing or outside the readable folders, or a url()
    outside @font-face (fetched by the address the parse resolved) is another key."""
    from layout.rendering.engine import ConfinedFetcher, _sheet_key

    def project(name: str, css: str, font: bytes = b"font one") -> tuple[object, ConfinedFetcher]:
        root = tmp_path / name
        (root / "stylesheets").mkdir(parents=True)
        (root / "fonts").mkdir()
        (root / "fonts" / "a.ttf").write_bytes(font)
        sheet = root / "stylesheets" / "s.css"
        sheet.write_text(css)
        fetcher = ConfinedFetcher((root / "stylesheets", root / "fonts"))
        return _sheet_key(sheet, fetcher), fetcher

    faces = '@font-face { font-family: "A"; src: url(../fonts/a.ttf); }\np { color: black }\n'
    first, _ = project("one", faces)
    assert project("copy", faces)[0] == first  # the same bytes elsewhere
    assert project("font", faces, b"font two")[0] != first  # another font under the same name
    assert project("missing", faces.replace("a.ttf", "b.ttf"))[0] != first
    root = tmp_path / "outside"
    key, fetcher = project("outside", faces)
    assert key == first and _sheet_key(root / "stylesheets" / "s.css",
                                       ConfinedFetcher((root / "stylesheets",))) != first  # not readable
    image = faces + "body { background: url(../fonts/a.ttf) }\n"
    assert project("image-a", image)[0] != project("image-b", image)[0]  # known by its folder too
