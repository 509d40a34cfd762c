"""The build cache's one store (layout/base/cache.py): keys made in one place, salted with the versions of
what shapes output, capped with least-recently-used eviction, safe for two runs at once."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from pathlib import Path

import pytest

import layout.base.cache
from layout.base.cache import (
    DEFAULT_SIZE,
    Store,
    cache_size,
    code_digest,
    pack,
    package_digest,
    portable,
    unpack,
    versions,
)
from layout.errors import InputError


def _aged(store: Store, kind: str, key: str, seconds_ago: float) -> None:
    """Make an entry look last used ``seconds_ago``."""
    when = time.time() - seconds_ago
    os.utime(store.path(kind, key), (when, when))


def test_a_key_is_made_of_the_kind_and_the_parts_bytes_never_paths(tmp_path):
    store = Store(tmp_path)
    assert store.key("page", "a", b"b") == Store(tmp_path).key("page", "a", b"b")
    assert store.key("page", "a", b"b") != store.key("plate", "a", b"b")  # the kind is in the key
    assert store.key("page", "ab", "c") != store.key("page", "a", "bc")  # parts do not run together
    with pytest.raises(TypeError, match="not PosixPath"):
        store.key("page", tmp_path)  # type: ignore[arg-type]


def test_an_entry_reads_back_whole_and_a_damaged_one_reads_as_missing(tmp_path):
    store = Store(tmp_path)
    key = store.key("page", "x")
    store.put_parts("page", key, [b'{"a": 1}', b"%PDF-1.7 one", b""])
    assert store.get_parts("page", key) == [b'{"a": 1}', b"%PDF-1.7 one", b""]
    path = store.path("page", key)
    path.write_bytes(path.read_bytes().replace(b"one", b"two"))
    assert store.get("page", key) is None and not path.exists()  # removed, to be made again
    other = store.key("page", "y")
    store.put("page", other, b"data")
    os.replace(store.path("page", other), path)  # an entry under another's name
    assert store.get("page", key) is None
    assert unpack(pack(b"", b"ab", b"c" * 300)) == [b"", b"ab", b"c" * 300]
    assert Store(None).get("page", key) is None  # a store of nothing keeps nothing
    Store(None).put("page", key, b"data")


@pytest.mark.parametrize("name", sorted(versions()))
def test_a_new_version_of_anything_that_shapes_output_is_a_miss(tmp_path, monkeypatch, name):
    store = Store(tmp_path)
    key = store.key("page", "same inputs")
    store.put("page", key, b"made by the old version")
    changed = {**versions(), name: versions()[name] + " (upgraded)"}
    monkeypatch.setattr(layout.base.cache, "versions", lambda: changed)
    upgraded = Store(tmp_path)
    assert upgraded.salt != store.salt
    assert upgraded.get("page", upgraded.key("page", "same inputs")) is None


def test_the_salt_holds_the_versions_of_the_libraries_and_programs_output_comes_from():
    found = versions()
    for name in ("layout", "weasyprint", "pydyf", "fonttools", "pillow", "pikepdf", "pyphen", "uharfbuzz",
                 "libpango-1.0.so.0", "libharfbuzz.so.0", "libfontconfig.so.1", "gs"):
        assert name in found, name
    assert found["weasyprint"] == "70.0"
    assert found["libpango-1.0.so.0"].startswith("libpango-1.0.so.0.")  # the file, named by its version
    assert found["layout"] == layout.base.cache.code_digest()


def test_the_code_digest_covers_every_module_of_every_subpackage_and_the_templates(tmp_path):
    package = Path(layout.base.cache.__file__).resolve().parents[1]
    assert code_digest() == package_digest(package)
    copy = tmp_path / "layout"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = package_digest(copy)
    assert before == code_digest()  # named by paths in the package, not by where it is
    for changed in ("reading/settings.py", "press/preflight.py", "composing/templates/slot.html.j2"):
        path = copy / changed
        original = path.read_bytes()
        path.write_bytes(original + b"\n# changed\n")
        assert package_digest(copy) != before, changed
        path.write_bytes(original)
    assert package_digest(copy) == before
    (copy / "reading" / "settings.py").rename(copy / "composing" / "settings.py")  # a module moved
    assert package_digest(copy) != before


def test_the_cap_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("LAYOUT_CACHE_SIZE", raising=False)
    assert cache_size() == DEFAULT_SIZE == 2 * 1024 ** 3
    assert cache_size("500M") == 500 * 1024 ** 2 and cache_size("1.5G") == 3 * 1024 ** 3 // 2
    assert cache_size("4096") == 4096 and cache_size("0") == 0 and cache_size("2GiB") == 2 * 1024 ** 3
    monkeypatch.setenv("LAYOUT_CACHE_SIZE", "300k")
    assert Store(None).size == 300 * 1024
    with pytest.raises(InputError) as caught:
        cache_size("lots")
    assert "LAYOUT_CACHE_SIZE" in str(caught.value) and "2G" in str(caught.value)


def test_the_cap_evicts_the_least_recently_used_first_never_what_this_run_used(tmp_path):
    old = Store(tmp_path, size=0)  # an earlier run, with no cap
    keys = [old.key("page", str(n)) for n in range(6)]
    for key in keys:
        old.put("page", key, b"x" * 1000)
    old.close()
    for age, key in zip((600, 500, 400, 300, 200, 100), keys):  # keys[0] used longest ago
        _aged(old, "page", key, age)
    run = Store(tmp_path, size=5000)  # this run: the store holds about 7.6 kB, over its cap
    assert run.get("page", keys[0]) is not None  # used by this run: kept, however old it was
    new = run.key("page", "new")
    run.put("page", new, b"y" * 1000)
    run.close()
    left = {key for key in [*keys, new] if run.path("page", key).exists()}
    assert left == {keys[0], keys[4], keys[5], new}  # the oldest unused went first, down to 90 % of the cap
    assert all(run.get("page", key) for key in left)


def test_a_run_over_the_cap_by_its_own_entries_keeps_them_all(tmp_path):
    run = Store(tmp_path, size=100)
    keys = [run.key("page", str(n)) for n in range(5)]
    for key in keys:
        run.put("page", key, b"z" * 1000)
    run.close()
    assert all(run.path("page", key).exists() for key in keys)


def test_the_store_counts_its_size_once_a_run_and_recounts_it_from_its_files(tmp_path):
    run = Store(tmp_path, size=10 ** 9)
    run.put("page", run.key("page", "a"), b"a" * 1000)
    run.close()
    counted = layout.base.cache.read_sealed(tmp_path / "index.json")
    assert counted is not None and b'"runs": 1' in counted
    assert sum(size for _, size, _ in run.entries()) == os.path.getsize(run.path("page", run.key("page", "a")))
    leftover = tmp_path / "page" / ".abc.part"  # a write a killed run left an hour ago
    leftover.write_bytes(b"half")
    os.utime(leftover, (time.time() - 7200, time.time() - 7200))
    run.entries()
    assert not leftover.exists()


def test_clean_cache_removes_the_store_and_keeps_the_outputs(tmp_path, run_cli):
    store = Store(tmp_path / "build" / ".cache")
    store.put("page", store.key("page", "a"), b"a" * 5000)
    old = tmp_path / "build" / "test-issue" / ".cache"  # where an earlier layout kept its cache
    old.mkdir(parents=True)
    (old / "bodies.json").write_bytes(b"{}")
    (tmp_path / "build" / "test-issue" / "test-issue.pdf").write_bytes(b"%PDF")
    code, out, err = run_cli("clean", "--cache", root=tmp_path)
    assert code == 0, err
    assert "removed the build cache" in out
    assert not (tmp_path / "build" / ".cache" / "page").exists() and not old.exists()
    assert (tmp_path / "build" / "test-issue" / "test-issue.pdf").exists()
    code, _, err = run_cli("clean", root=tmp_path)
    assert code == 2 and "--cache" in err


def _share(root: str, seed: int, rounds: int, failures) -> None:  # noqa: ANN001 - a queue
    """One of two processes using one small store at once: every entry read must be whole and the
    one its key names."""
    try:
        for round_ in range(rounds):
            store = Store(Path(root), size=30_000, salt_="test")  # a run
            for n in range(25):
                name = str((n * 7 + seed + round_) % 40)
                key = store.key("page", name)
                data = store.get("page", key)
                if data is not None and data != name.encode() * 500:
                    failures.put(f"{name}: {data[:20]!r}")
                store.put("page", key, name.encode() * 500)
            store.close()
    except Exception as error:  # noqa: BLE001 - reported to the test
        failures.put(repr(error))


def test_two_processes_sharing_the_store_never_read_a_wrong_or_partial_entry(tmp_path):
    context = multiprocessing.get_context("fork")
    failures = context.Queue()
    processes = [context.Process(target=_share, args=(str(tmp_path), seed, 12, failures)) for seed in (0, 3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert [p.exitcode for p in processes] == [0, 0]
    found = []
    while not failures.empty():
        found.append(failures.get())
    assert found == []
    store = Store(tmp_path, size=30_000, salt_="test")
    entries = store.entries()
    assert entries and sum(size for _, size, _ in entries) <= 30_000 * 1.5  # kept near its cap
    for _, _, path in entries:  # every entry left is whole
        assert layout.base.cache.read_sealed(path) is not None
    assert not list(tmp_path.glob("page/*.part"))


def test_a_cap_that_is_not_a_size_is_an_input_error_naming_the_variable(tmp_path, run_cli, monkeypatch):
    from factory import simple_issue

    simple_issue(tmp_path, {"story": 80})
    monkeypatch.setenv("LAYOUT_CACHE_SIZE", "two gigs")
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 2, err
    assert "LAYOUT_CACHE_SIZE='two gigs' is not a size" in err and "internal error" not in err


def test_a_cache_folder_that_is_a_link_is_replaced_never_written_through(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    root = tmp_path / "build" / ".cache"
    root.parent.mkdir()
    root.symlink_to(elsewhere)
    store = Store(root)
    store.put("page", store.key("page", "a"), b"data")
    assert not root.is_symlink() and root.is_dir() and list(elsewhere.iterdir()) == []


def _age_all(cache: Path, seconds: float = 30) -> None:
    """Make every entry of the store look used ``seconds`` ago (an earlier run)."""
    when = time.time() - seconds
    for path in cache.glob("*/*"):
        os.utime(path, (when, when))


def test_a_tiny_cap_evicts_what_the_last_run_did_not_use_and_a_compose_stays_right(tmp_path, monkeypatch):
    from factory import body, simple_issue, write_article

    from layout.build import Project, compose_issue
    from layout.reading import articles

    issue = simple_issue(tmp_path, {"story": 160, "other": 100}, columns={"story": 3, "other": 2})
    cache, plates = tmp_path / "build" / ".cache", tmp_path / "build" / "test-issue" / "plates"

    def compose():
        result = compose_issue(Project(tmp_path), "test-issue")
        return result, {p.name: p.read_bytes() for p in plates.glob("*.pdf")}

    monkeypatch.setenv("LAYOUT_CACHE_SIZE", "1")  # every entry over the cap but those a run uses
    first, clean = compose()
    assert first.laid_out >= 2
    kept = set(cache.glob("*/*"))
    _age_all(cache)
    # The articles as a fresh process finds them: read through their cache entries. (This process
    # remembers an article it read once its file is 0.1 s old, which on a loaded machine it was by
    # the first compose; the second then took it from memory, and its entry, unused, was evicted.)
    monkeypatch.setattr(articles, "_LOADED", {})
    again, same = compose()
    assert again.laid_out == 0 and same == clean  # all it needed was kept
    # it used every entry but the templates' and hyphenation patterns' (read only to lay a page out)
    lay_out_only = ("template", "hyphenation")
    assert {p for p in cache.glob("*/*") if p.parent.name not in lay_out_only} == \
        {p for p in kept if p.parent.name not in lay_out_only}
    _age_all(cache)
    original = (issue / "articles" / "other.md").read_bytes()
    write_article(issue, "other", body(90, seed=5))
    edited, _ = compose()
    assert edited.laid_out >= 1 and edited.cached >= 1  # the cache still saves what did not change
    gone = kept - set(cache.glob("*/*"))
    assert gone and {p.parent.name for p in gone} >= {"page", "plate", "article"}  # the old story's entries
    assert all(p.stat().st_mtime >= time.time() - 25 for p in cache.glob("*/*"))  # only what it used is left
    _age_all(cache)
    (issue / "articles" / "other.md").write_bytes(original)
    back, plates_back = compose()
    assert back.laid_out >= 1 and plates_back == clean  # made again, with the same bytes


def test_a_library_outside_the_usual_folders_is_known_by_the_version_it_reports(monkeypatch):
    monkeypatch.setattr(os.path, "exists", lambda path: False)
    assert layout.base.cache._library("libpango-1.0.so.0").startswith("version b'1.")
    assert layout.base.cache._library("libharfbuzz.so.0").startswith("version b'")
    assert layout.base.cache._library("libnothing-at-all.so.0") == "not found"


def test_images_holds_only_the_photos_the_last_compose_used(tmp_path):
    from factory import add_photo, body, simple_issue, write_article

    from layout.build import Project, compose_issue

    issue = simple_issue(tmp_path, {"story": 160, "other": 100}, columns={"story": 3, "other": 2})
    write_article(issue, "story", body(160), images=[{"file": add_photo(issue), "caption": "The docks"}])
    images = tmp_path / "build" / "test-issue" / "images"
    compose_issue(Project(tmp_path), "test-issue")
    used = set(images.glob("*.jpg"))
    (images / "docks-0123456789abcdef.jpg").write_bytes(b"a photo an earlier round placed at another size")
    compose_issue(Project(tmp_path), "test-issue")
    assert used and set(images.glob("*.jpg")) == used
    folder = tmp_path / "build" / ".cache" / "photo"
    kept = {layout.base.cache.unseal(p.name, p.read_bytes()) for p in folder.iterdir()}
    assert {p.read_bytes() for p in used} <= kept  # and the cache holds them


def test_an_entry_written_while_the_cache_is_cleared_is_written_whole(tmp_path, monkeypatch):
    store = Store(tmp_path)
    key = store.key("page", "a")
    real = os.replace

    def cleared_first(source, target):  # the kind's folder removed between the write and the rename
        if not hasattr(cleared_first, "done"):
            cleared_first.done = True
            store.clear()
        return real(source, target)

    monkeypatch.setattr(os, "replace", cleared_first)
    store.put("page", key, b"whole")
    assert store.get("page", key) == b"whole"


# ---- keys free of where the project is ----------------------------------------------------------

def test_portable_text_names_paths_in_the_project_relative_to_it(tmp_path):
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Named:
        path: Path
        parts: tuple

    a, b = tmp_path / "a", tmp_path / "elsewhere" / "b"
    icc = Path("/usr/share/color/icc/press.icc")

    def value(root: Path, name: str = "x.md") -> object:
        return Named(root / "issues" / name, (root, [icc, {"k": root / "fonts"}], 1.5, None, "a"))

    assert portable(value(a), a) == portable(value(b), b)  # copied or moved: the same text
    assert str(a) not in portable(value(a), a) and str(icc) in portable(value(a), a)  # outside: as it is
    assert portable(value(a), a) != portable(value(a, "y.md"), a)  # another file in it is another text
    assert str(tmp_path / "ab") in portable(tmp_path / "ab" / "x", a)  # a sibling sharing a prefix is outside
    assert portable((1, "1", b"1", [1], (1,)), a) == repr((1, "1", b"1", [1], (1,)))


def _entries(root: Path) -> set[str]:
    return {f"{p.parent.name}/{p.name}" for p in (root / "build" / ".cache").glob("*/*")}


def _outputs(root: Path) -> dict[str, bytes]:
    out = root / "build" / "test-issue"
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.suffix in (".pdf", ".png", ".json", ".sha256") and "previous" not in p.parts}


@pytest.fixture(scope="module")
def small_composed(tmp_path_factory):
    """A one-page issue of two stories, one with a photo, composed once: (root, result, outputs)."""
    from factory import add_photo, two_story_issue

    from layout.build import Project, compose_issue

    root = tmp_path_factory.mktemp("portable") / "project"
    issue = two_story_issue(root, words=(150, 110))
    story = issue / "articles" / "story.md"
    story.write_text(story.read_text().replace(
        "headline:", f"images:\n- file: {add_photo(issue)}\n  caption: Docks\nheadline:", 1))
    result = compose_issue(Project(root), "test-issue")
    return root, result, _outputs(root)


def test_a_copied_or_moved_project_makes_nothing_again_and_gives_the_same_bytes(small_composed, tmp_path):
    from factory import copy_project

    from layout.build import Project, compose_issue

    root, first, outputs = small_composed
    assert first.laid_out >= 2 and any(name.startswith("plates/") for name in outputs)
    copy = copy_project(root, tmp_path / "somewhere" / "else")
    made = _entries(copy)
    again = compose_issue(Project(copy), "test-issue")
    assert again.laid_out == 0 and again.cached >= first.laid_out  # every document from the cache
    assert _entries(copy) == made  # and nothing else made again: no page, plate, proof, photo or check
    assert _outputs(copy) == outputs  # byte for byte
    for data in outputs.values():  # nothing the outputs hold says where the project is
        assert str(root).encode() not in data and str(copy).encode() not in data
    moved = copy.rename(tmp_path / "moved")
    assert compose_issue(Project(moved), "test-issue").laid_out == 0 and _entries(moved) == made
    assert _outputs(moved) == outputs


def _restyle(root: Path) -> None:
    css = root / "stylesheets" / "newspaper.css"
    css.write_text(css.read_text().replace("color: device-cmyk(0 0 0 1)", "color: device-cmyk(0 0 0 0.9)", 1))


def _new_font(root: Path) -> None:
    from factory import replace_file

    replace_file(root / "fonts" / "PTF56F.ttf", root / "fonts" / "PTF55F.ttf")  # the body set in italic


def _retitle(root: Path) -> None:
    import yaml

    settings = root / "issues" / "paper.yaml"
    data = yaml.safe_load(settings.read_text(encoding="utf-8"))
    data["title"] = "New Workers"
    settings.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize("change", [_restyle, _new_font, _retitle], ids=["stylesheet", "font", "paper setting"])
def test_in_a_copied_project_what_changes_the_output_is_still_made_again(small_composed, tmp_path, change):
    from factory import copy_project

    from layout.build import Project, compose_issue

    root, first, outputs = small_composed
    copy = copy_project(root, tmp_path / "copy")
    change(copy)
    # In this process, which laid the first project out: a font of the same family, weight and
    # style but other bytes is loaded, not the first one's (see engine._font_config).
    again = compose_issue(Project(copy), "test-issue")
    assert again.laid_out >= 1  # laid out again, not read from the copy's cache
    plates = {name: data for name, data in _outputs(copy).items() if name.endswith(".pdf")}
    assert all(plates[name] != data for name, data in outputs.items() if name.endswith(".pdf"))


def test_an_entry_held_in_memory_is_read_again_once_its_file_changes(tmp_path, monkeypatch):
    """A process that composes again reads its entries from memory (``cache._hold``), but only while
    their files are the ones it read or wrote: damaged, replaced or removed since, they are read
    (and their seals checked) again; and it holds no more than ``HELD_BYTES``."""
    from layout.base import cache as cache_module

    monkeypatch.setattr(cache_module, "_holder", 0)  # as in a one-off compose
    store = cache_module.Store(tmp_path / "cache", salt_="test")
    key = store.key("kind", b"made of this")
    store.put("kind", key, b"the entry's bytes")
    path = store.path("kind", key)
    assert store.get("kind", key) == b"the entry's bytes"
    assert str(path) not in cache_module._HELD  # a one-off compose holds nothing
    cache_module.hold_entries()  # as layout watch, serve and the compose server do
    assert store.get("kind", key) == b"the entry's bytes"
    assert str(path) in cache_module._HELD
    assert store.get("kind", key) == b"the entry's bytes"  # from memory
    blob = bytearray(path.read_bytes())
    blob[2] ^= 0x20  # damaged on disk, the same size: its modification time tells
    path.write_bytes(bytes(blob))
    assert store.get("kind", key) is None and not path.exists()  # read again, failed its seal, removed
    store.put("kind", key, b"the entry's bytes")
    assert store.get("kind", key) == b"the entry's bytes" and str(path) in cache_module._HELD
    cache_module.write_sealed(path, b"made again")  # as another process replaces it: a new file
    assert store.get("kind", key) == b"made again"
    path.unlink()
    assert store.get("kind", key) is None
    monkeypatch.setattr(cache_module, "HELD_BYTES", 4096)
    for number in range(40):
        store.put("kind", store.key("kind", str(number)), bytes(300))
        store.get("kind", store.key("kind", str(number)))
    assert 0 < cache_module._held_bytes <= 4096


def test_a_seal_checked_once_is_not_hashed_again_while_its_file_is_unchanged(tmp_path, monkeypatch):
    """A process reads back the entries it wrote or checked (plates, proofs: tens of MB a recompose)
    without hashing their seals again (``cache._SEALED``), but only while each file has the inode, size
    and nanosecond modification time it had then: written over in place (even at once, in the same
    clock tick), replaced or cut short, it is checked again and a damaged one reads as missing."""
    from layout.base import cache as cache_module

    monkeypatch.setattr(cache_module, "_holder", 0)  # nothing held in memory: every get reads the file
    hashed: list[int] = []
    digest = cache_module._digest
    monkeypatch.setattr(cache_module, "_digest", lambda name, data: hashed.append(len(data)) or digest(name, data))
    store = cache_module.Store(tmp_path / "cache", salt_="test")
    key = store.key("plate", b"made of this")
    path = store.path("plate", key)
    store.put("plate", key, b"a plate's bytes" * 100)
    hashed.clear()
    assert store.get("plate", key) == b"a plate's bytes" * 100 and hashed == []  # written here: not hashed
    assert store.get("plate", key) == b"a plate's bytes" * 100 and hashed == []
    blob = bytearray(path.read_bytes())
    blob[3] ^= 0x20
    path.write_bytes(bytes(blob))  # damaged in place, the same size, at once
    assert store.get("plate", key) is None and hashed and not path.exists()
    store.put("plate", key, b"again")
    cache_module._SEALED.clear()  # as in another process (or one that has not read it yet)
    hashed.clear()
    assert store.get("plate", key) == b"again" and len(hashed) == 1  # checked once
    assert store.get("plate", key) == b"again" and len(hashed) == 1  # then trusted by its stamp
    cache_module.write_sealed(path, b"made by another process")  # a new file under the name
    hashed.clear()
    assert store.get("plate", key) == b"made by another process" and len(hashed) == 1
    with open(path, "r+b") as handle:  # cut short
        handle.truncate(10)
    assert store.get("plate", key) is None and not path.exists()


def test_a_plate_sized_entry_is_not_held_in_memory_but_its_seal_is_trusted(tmp_path, monkeypatch):
    """Held entries are the small ones a recompose reads back (documents, articles, checks, PNGs):
    a plate's (2 MB with its proof) would push them out of the 32 MB; its seal is still not hashed again."""
    from layout.base import cache as cache_module

    monkeypatch.setattr(cache_module, "_holder", os.getpid())
    store = cache_module.Store(tmp_path / "cache", salt_="test")
    small, large = store.key("page", "small"), store.key("plate", "large")
    store.put("page", small, b"s" * 1000)
    store.put("plate", large, b"p" * (cache_module.HELD_ENTRY + 1))
    assert store.get("page", small) == b"s" * 1000 and str(store.path("page", small)) in cache_module._HELD
    assert store.get("plate", large) == b"p" * (cache_module.HELD_ENTRY + 1)
    assert str(store.path("plate", large)) not in cache_module._HELD
    assert str(store.path("plate", large)) in cache_module._SEALED


def test_a_files_bytes_are_remembered_by_one_stamp_while_it_is_unchanged_and_never_while_too_recent(tmp_path,
                                                                                                   monkeypatch):
    """``base.files.remembered`` (file_hash, the fonts' digest, stylesheets, ICC profiles, articles):
    a file rewritten at once with bytes of the same size (the same tick of the kernel's clock: the
    same times) is read again, and so is one given back its size and modification time (``cp -p``,
    ``rsync -t``: its change time and inode tell); an unchanged file is read once."""
    import hashlib

    from layout.base import files
    from layout.composing.linebreak import FONTS, fonts_stamp

    path = tmp_path / "photo.jpg"
    path.write_bytes(b"A" * 1000)
    assert files.file_hash(path) == hashlib.sha256(b"A" * 1000).hexdigest()
    path.write_bytes(b"B" * 1000)  # at once: too recent to tell by its stamp
    assert files.file_hash(path) == hashlib.sha256(b"B" * 1000).hexdigest()
    made: list[bytes] = []
    memo: dict = {}
    monkeypatch.setattr(files, "RACY_NS", 60_000_000_000)  # everything written within a minute is too recent
    assert [files.remembered(memo, path, made.append) for _ in range(2)] and len(made) == 2 and memo == {}
    monkeypatch.setattr(files, "RACY_NS", 0)  # nothing is: remembered at once
    for _ in range(3):
        files.remembered(memo, path, made.append)
    assert len(made) == 3 and len(memo) == 1
    # A house font replaced by other bytes of the same size, its modification time given back.
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    for name in set(FONTS.values()):
        shutil.copy2(Path(__file__).parents[1] / "fonts" / name, fonts / name)
    before = fonts_stamp(fonts)
    assert fonts_stamp(fonts) == before
    font = fonts / FONTS[(False, False)]
    times = os.stat(font)
    data = font.read_bytes()
    replacement = tmp_path / "replacement.ttf"
    replacement.write_bytes(data[:-4] + bytes(b ^ 1 for b in data[-4:]))  # the same size, other bytes
    os.utime(replacement, ns=(times.st_atime_ns, times.st_mtime_ns))
    os.replace(replacement, font)
    assert os.stat(font).st_size == times.st_size and os.stat(font).st_mtime_ns == times.st_mtime_ns
    assert fonts_stamp(fonts) != before
    files.remembered(memo, path, made.append)
    path.write_bytes(b"C" * 1000)
    files.remembered(memo, path, made.append)
    assert made[-1] == b"C" * 1000 and len(memo) == 1  # one entry a path: the older bytes' is gone
