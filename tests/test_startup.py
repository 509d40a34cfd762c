"""Start-up: WeasyPrint's C declarations prebuilt once (``rendering/weasyffi.py``) give the same plates; a
recompose whose pages are all cached never imports WeasyPrint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from factory import REPO, add_photo, copy_project, two_story_issue

SAMPLE = "issue-2022-04-01"  # composed once a session (conftest.composed_sample)

PROBE = ("import layout.rendering.engine as e, layout.rendering.weasyffi as w, weasyprint.text.fonts as f; "
         "print(w.is_prebuilt(e.weasyprint_ffi), f.ffi is e.weasyprint_ffi)")


def _env(cache: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(cache), **extra}


def _probe(cache: Path, **extra: str) -> str:
    return subprocess.run([sys.executable, "-c", PROBE], env=_env(cache, **extra), capture_output=True, text=True,
                          check=True).stdout.strip()


COMPOSE_PROBE = """
import atexit, sys
def said():
    if "weasyprint.text.fonts" not in sys.modules:  # then it would say what an import here gives
        return print("WeasyPrint was not imported")
    import layout.rendering.engine as e, layout.rendering.weasyffi as w, weasyprint.text.fonts as f
    print(w.is_prebuilt(e.weasyprint_ffi), f.ffi is e.weasyprint_ffi)
atexit.register(said)
sys.argv = ["layout", "compose", "test-issue", "--root", sys.argv[1]]
from layout.cli import main
main()
"""
"""``layout compose`` that says at its end what ``PROBE`` says of the FFI its compose used."""


def _plates(root: Path, cache: Path, **extra: str) -> tuple[str, dict[str, bytes]]:
    """What the compose's FFI was (``PROBE``'s answer), and the plates it made."""
    done = subprocess.run([sys.executable, "-c", COMPOSE_PROBE, str(root)], env=_env(cache, **extra),
                          capture_output=True, text=True, check=True)
    plates = root / "build" / "test-issue" / "plates"
    found = {path.name: path.read_bytes() for path in sorted(plates.glob("*.pdf"))}
    (root / "build").rename(root / f"build-{len(list(root.glob('build-*')))}")
    return done.stdout.splitlines()[-1], found


def test_a_prebuilt_ffi_gives_byte_identical_plates_to_weasyprints_own_and_a_damaged_one_is_made_again(tmp_path):
    """Five processes (once seven: two probes are now the composes' own answers, the same question
    asked at their end): LAYOUT_PREBUILT_FFI=0 gives WeasyPrint's own FFI and writes nothing; the
    first compose parses as usual (WeasyPrint's own FFI) and keeps the module; the second has the
    prebuilt one in every module of WeasyPrint, and its plates are the first's, byte for byte."""
    issue = two_story_issue(tmp_path / "project", words=(150, 110))
    photo = add_photo(issue)
    story = issue / "articles" / "story.md"
    front = f"images:\n- file: {photo}\n  caption: Docks\nheadline:"
    story.write_text(story.read_text().replace("headline:", front, 1))
    cache = tmp_path / "cache"
    assert _probe(cache, LAYOUT_PREBUILT_FFI="0") == "False True"  # WeasyPrint's own FFI, nothing written
    assert not cache.exists()
    said, own = _plates(tmp_path / "project", cache)
    assert said == "False True"  # the first process parses as usual, and keeps the module
    assert len(list((cache / "layout").glob("weasyprint_ffi_*.py"))) == 1
    assert len(list((cache / "layout").glob("icc-*.zlib"))) == 1  # the output profile, compressed once
    said, prebuilt = _plates(tmp_path / "project", cache)  # and the compressed profile read back
    assert said == "True True"  # every module of WeasyPrint has the prebuilt one
    assert len(own) == 2 and own == prebuilt  # the page's plate and the issue, byte for byte
    _a_damaged_prebuilt_ffi_is_not_used_and_is_made_again(cache)


def _a_damaged_prebuilt_ffi_is_not_used_and_is_made_again(cache: Path) -> None:
    """(Part of the test above, which has made the prebuilt module in ``cache``: one process fewer.)"""
    kept = next((cache / "layout").glob("weasyprint_ffi_*.py"))
    whole = kept.read_bytes()
    kept.write_bytes(whole.replace(b"_types = b'", b"_types = b'\\x00", 1))  # one byte more: the seal fails
    assert _probe(cache) == "False True"  # WeasyPrint's own, and the module written again
    assert kept.read_bytes() == whole
    assert _probe(cache) == "True True"


def test_the_output_profile_compressed_once_is_what_zlib_makes_of_it(tmp_path, monkeypatch):
    import zlib

    from layout.press import plates

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    profile = tmp_path / "press.icc"
    profile.write_bytes(bytes(range(256)) * 400)
    made = plates._profile_stream.__wrapped__(profile, "x")  # compressed, and kept
    kept = next((tmp_path / "layout").glob("icc-*.zlib"))
    assert made == (4, zlib.compress(profile.read_bytes(), 9))
    assert plates._profile_stream.__wrapped__(profile, "x") == made  # read back
    kept.write_bytes(kept.read_bytes()[:-10])  # damaged: made again
    assert plates._profile_stream.__wrapped__(profile, "x") == made and kept.stat().st_size > 100


CACHED_PROBE = """
import atexit, sys
atexit.register(lambda: print("imported:", *(name for name in ("layout.build", "layout.rendering.engine", "weasyprint",
                                                               "pypdf", "pypdfium2") if name in sys.modules)))
sys.argv = ["layout", "compose", sys.argv[1], "--root", sys.argv[2]]
from layout.cli import main
main()
"""


def test_a_recompose_whose_pages_are_all_cached_never_imports_weasyprint_pypdf_or_pdfium(composed_sample, tmp_path):
    # WeasyPrint's version is read from the installed distribution; the engine is imported only to lay
    # a page out, here or (before they fork) for workers that will: no page to lay out, no WeasyPrint.
    # pypdf finishes a plate and PDFium draws a proof: none to make, neither is imported.
    root = copy_project(composed_sample[0], tmp_path / "project")
    done = subprocess.run([sys.executable, "-c", CACHED_PROBE, SAMPLE, str(root)], capture_output=True, text=True,
                          env=_env(tmp_path / "cache", LAYOUT_SERVER="off"), timeout=120)
    assert done.returncode == 0, done.stderr
    assert "(0 pages laid out, " in done.stderr and "preflight: passed" in done.stderr  # nothing laid out
    assert done.stdout.splitlines()[-1] == "imported: layout.build"
