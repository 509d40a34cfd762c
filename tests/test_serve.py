"""``layout serve`` over plain HTTP: state, page images, rounds, errors, and what it refuses."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from factory import REPO, body, process_env, write_article
from PIL import Image
from servekit import recording_editor, request, serving, two_story_issue, wait_file, wait_state

from layout.commands.serve import bind_warning, events, slot_status


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One server on the two-story issue for the tests that only ask it things (its first round
    composed once): (project root, server)."""
    root = tmp_path_factory.mktemp("served")
    two_story_issue(root)
    with serving(root) as server:
        yield root, server


def test_state_lists_every_page_and_slot_with_its_box_and_status(served):
    root, server = served
    state = server.proofs.state
    fit = json.loads((root / "build" / "test-issue" / "fit.json").read_text())
    assert [p["number"] for p in state["pages"]] == [1]
    assert [s["slot_id"] for s in state["slots"]] == [s["slot_id"] for s in fit["slots"]] == ["story", "other"]
    for slot in state["slots"]:
        x, y, w, h = slot["box_frac"]
        assert 0 <= x < x + w <= 1 and 0 <= y < y + h <= 1
        assert slot["status"] == "fits" and slot["source"] == f"issues/test-issue/articles/{slot['slug']}.md"
    story, other = state["slots"]
    assert story["box_frac"][0] < other["box_frac"][0]  # three columns on the left, two on the right
    assert state["error"] is None and state["seconds"] > 0 and state["trigger"] == "start"

    code, page, headers = request(server, "GET", f"/page/{state['pages'][0]['key']}.png?dpi=50")
    assert code == 200 and headers["content-type"] == "image/png"
    small = Image.open(io.BytesIO(page))
    assert small.width == pytest.approx(state["pages"][0]["width"] * 50 / 72, abs=2)
    _, page, _ = request(server, "GET", f"/page/{state['pages'][0]['key']}.png?dpi=200")
    assert Image.open(io.BytesIO(page)).width == pytest.approx(small.width * 4, abs=4)
    assert request(server, "GET", f"/page/{state['pages'][0]['key']}.png?dpi=75")[0] == 400
    assert request(server, "GET", f"/page/{'0' * 64}.png?dpi=100")[0] == 404

    code, html, _ = request(server, "GET", "/")
    assert code == 200 and b"/static/app.js" in html
    code, script, headers = request(server, "GET", "/static/app.js")
    assert code == 200 and headers["content-type"].startswith("text/javascript") and b"EventSource" in script
    code, pdf, _ = request(server, "GET", "/files/test-issue.pdf")
    assert code == 200 and pdf.startswith(b"%PDF")
    assert request(server, "GET", "/files/proofs/p01.png")[0] == 200


def test_a_save_brings_a_new_round_with_the_changed_page_and_the_diff(tmp_path):
    """A save, then errors and their fix (``_an_error_is_shown_with_the_last_pages_and_a_fix_brings_them_back``):
    one server, one first round composed (once two tests, each with its own)."""
    issue = two_story_issue(tmp_path)
    manifest = (issue / "issue.yaml").read_text()
    with serving(tmp_path) as server:
        first = server.proofs.state
        stream = events(server.url)
        assert next(stream)["round"] == 1  # the stream starts with the current state
        write_article(issue, "story", body(150, seed=7), headline="A new headline")
        state = wait_state(server, lambda s: s["phase"] == "done" and s["changes"] and s["error"] is None)
        assert state["trigger"] == "story.md" and state["wrote"] and state["error"] is None
        assert state["pages"][0]["changed"] and state["pages"][0]["key"] != first["pages"][0]["key"]
        assert state["previous"]["pages"][0]["key"] == first["pages"][0]["key"]
        assert state["slots"][0]["headline"] == "A new headline"
        kinds = {(c["kind"], c["what"]) for c in state["changes"]}
        assert ("page changed", "p01") in kinds
        marked = [a for c in state["changes"] for a in c["areas"]]
        assert marked and all(a["page"] == 1 and 0 <= a["frac"][0] <= 1 for a in marked)
        # The previous round's page is still served, to compare.
        assert request(server, "GET", f"/page/{first['pages'][0]['key']}.png?dpi=50")[0] == 200
        # The stream tells the browser of the save, then of the round.
        phases = []
        for seen in stream:
            phases.append((seen["phase"], seen["round"]))
            if seen["round"] >= state["round"] and seen["phase"] == "done":
                break
        assert ("composing", 1) in phases and ("done", state["round"]) in phases
        _an_error_is_shown_with_the_last_pages_and_a_fix_brings_them_back(server, issue, manifest)


def _an_error_is_shown_with_the_last_pages_and_a_fix_brings_them_back(server, issue: Path, manifest: str) -> None:
    """(Part of the test above, on its server, whose last round wrote pages.)"""
    key, written = server.proofs.state["pages"][0]["key"], server.proofs.state["round"]
    (issue / "issue.yaml").write_text(manifest.replace("pages:", "pages: [\n  bad: : :"))
    # (What is waited for is the round's content, not its number: a save seen half written is a
    # round of its own.)
    state = wait_state(server, lambda s: s["phase"] == "done" and s["error"] is not None)
    assert state["error"]["kind"] == "InputError" and state["error"]["exit_code"] == 2
    assert any("issue.yaml" in p["file"] for p in state["error"]["problems"])
    assert any(p["open"] == "issues/test-issue/issue.yaml" for p in state["error"]["problems"])
    assert not state["wrote"] and state["pages"][0]["key"] == key and state["pages_round"] == written

    # Overset: the pages are written (with the marks), and the error says which story.
    (issue / "issue.yaml").write_text(manifest.replace("columns: 2", "columns: 2\n    depth: 8"))
    state = wait_state(server, lambda s: s["phase"] == "done" and s["error"] and s["error"]["kind"] != "InputError")
    assert state["error"]["kind"] == "OversetError" and state["wrote"] and state["pages_round"] == state["round"]
    other = next(s for s in state["slots"] if s["slug"] == "other")
    assert other["status"] == "over" and other["over"] > 0 and other["words_over"] > 0
    assert other["suggestions"]

    (issue / "issue.yaml").write_text(manifest)
    state = wait_state(server, lambda s: s["phase"] == "done" and s["error"] is None)
    assert state["error"] is None and state["wrote"] and {s["status"] for s in state["slots"]} == {"fits"}


OUTSIDE = [
    "/files/../issues/paper.yaml",
    "/files/%2e%2e/issues/paper.yaml",
    "/files/%2E%2E%2Fissues%2Fpaper.yaml",
    "/files/..%2f..%2fissues%2fpaper.yaml",
    "/files/proofs/..%2F..%2F..%2Fissues%2Fpaper.yaml",
    "/files/%252e%252e/%252e%252e/issues/paper.yaml",
    "/files//etc/passwd",
    "/files/%2Fetc%2Fpasswd",
    "/files/..\\..\\issues\\paper.yaml",
    "/files/.cache",
    "/files/.lock",
    "/files/leak.yaml",
    "/files/linked/paper.yaml",
    "/files/proofs/",
    "/files/proofs%00.png",
    "/static/../cli.py",
    "/static/%2e%2e/cli.py",
    "/../issues/paper.yaml",
    "/issues/test-issue/issue.yaml",
    "/page/..%2f..%2fissues.png",
]


def test_the_server_refuses_paths_outside_the_issues_outputs(served):
    root, server = served
    secret = (root / "issues" / "paper.yaml").read_bytes()
    out = root / "build" / "test-issue"
    (out / "leak.yaml").symlink_to(root / "issues" / "paper.yaml")
    (out / "linked").symlink_to(root / "issues", target_is_directory=True)
    for path in OUTSIDE:
        code, data, _ = request(server, "GET", path)
        assert code in (400, 403, 404), path
        assert secret not in data and b"root:" not in data, path
    assert request(server, "GET", "/files/fit.json")[0] == 200  # what it does serve


def test_only_the_editor_action_is_posted_with_its_origin_checked(served, tmp_path, monkeypatch):
    root, server = served
    editor, record = recording_editor(tmp_path)  # its record in this test's own folder
    port = server.server.port
    origin = {"Origin": f"http://127.0.0.1:{port}", "Content-Type": "application/json"}
    ask = json.dumps({"path": "issues/test-issue/articles/story.md"}).encode()
    assert request(server, "GET", "/", {"Host": f"evil.example:{port}"})[0] == 403  # DNS rebinding
    assert request(server, "PUT", "/files/fit.json", body_bytes=b"x")[0] == 405
    assert request(server, "DELETE", "/files/fit.json")[0] == 405
    assert request(server, "POST", "/files/fit.json", origin, b"{}")[0] == 405
    assert request(server, "POST", "/api/open", {"Content-Type": "application/json"}, ask)[0] == 403
    assert request(server, "POST", "/api/open", {**origin, "Origin": "http://evil.example"}, ask)[0] == 403
    assert request(server, "POST", "/api/open", {**origin, "Host": f"evil.example:{port}",
                                                 "Origin": f"http://evil.example:{port}"}, ask)[0] == 403
    assert request(server, "POST", "/api/open", {**origin, "Content-Type": "text/plain"}, ask)[0] == 415
    for outside in ("issues/paper.yaml", "issues/test-issue/../paper.yaml", "/etc/passwd",
                    "stylesheets/newspaper.css", "issues/test-issue/articles/nothing.md"):
        code, _, _ = request(server, "POST", "/api/open", origin, json.dumps({"path": outside}).encode())
        assert code == 403, outside
    assert not record.exists()

    monkeypatch.delenv("EDITOR", raising=False)
    code, data, _ = request(server, "POST", "/api/open", origin, ask)
    assert code == 200 and "$EDITOR is not set" in json.loads(data)["message"]
    monkeypatch.setenv("EDITOR", editor)
    code, data, _ = request(server, "POST", "/api/open", origin, ask)
    assert code == 200 and "opened in" in json.loads(data)["message"]
    assert wait_file(record) == str((root / "issues" / "test-issue" / "articles" / "story.md").resolve())


def test_binding_beyond_this_machine_needs_the_flag_and_warns(tmp_path):
    assert bind_warning("127.0.0.1") is None and bind_warning("localhost") is None and bind_warning("::1") is None
    assert "anyone who can reach this machine" in bind_warning("0.0.0.0")
    two_story_issue(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "layout", "serve", "test-issue", "--root", str(tmp_path), "--port", "0",
         "--host", "0.0.0.0"], stderr=subprocess.PIPE, text=True,
        env=process_env())
    try:
        lines = [process.stderr.readline() for _ in range(3)]  # the warning, the address, the first round
        workers = [int(pid) for task in Path(f"/proc/{process.pid}/task").iterdir()
                   for pid in (task / "children").read_text().split()]
    finally:
        process.terminate()  # `kill` stops the server as Ctrl-C does
        process.wait(timeout=60)
    assert lines[0].startswith("warning: serving on 0.0.0.0")
    assert "serving test-issue at http://0.0.0.0:" in lines[1]
    assert "start: 1 pages composed" in lines[2]
    assert process.returncode == 0 and workers  # and its worker processes went with it:
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()
                and "zombie" not in Path(f"/proc/{pid}/status").read_text()]


def test_slot_status():
    base = {"over": 0, "short": 0, "column_short": [0, 0], "jump_to": None, "continued_from": None}
    assert slot_status(base) == "fits"
    assert slot_status({**base, "over": 3}) == "over"
    assert slot_status({**base, "short": 5, "column_short": [5, 0]}) == "hole"
    assert slot_status({**base, "short": 5, "column_short": [0, 5]}) == "short"
    assert slot_status({**base, "short": 1, "column_short": [0, 1]}) == "fits"
    assert slot_status({**base, "jump_to": 3}) == "jumped" and slot_status({**base, "continued_from": 1}) == "jumped"


def test_a_port_in_use_is_a_clear_error(tmp_path, run_cli):
    import socket

    two_story_issue(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code, _, err = run_cli("serve", "test-issue", "--port", str(taken.getsockname()[1]), root=tmp_path)
    assert code == 2 and "cannot listen on 127.0.0.1:" in err and "--port N" in err


def test_the_latency_script_times_saves_to_the_page(tmp_path, monkeypatch):
    from layout.commands import serve_bench

    issue = two_story_issue(tmp_path)
    original = (issue / "articles" / "story.md").read_text()
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # the server it starts imports this layout
    report = tmp_path / "latency.json"
    assert serve_bench.main(["test-issue", "--root", str(tmp_path), "--edits", "2", "--json", str(report),
                             "--settle", "0"]) == 0  # no pause before an edit: nothing here is timed
    summary = json.loads(report.read_text())
    assert summary["article"] == "story" and [e["edit"] for e in summary["edits"]] == [1, 2]
    for edit in summary["edits"]:
        assert 0 < edit["compose"] <= edit["announced"] <= edit["page"] and edit["pages_changed"] == [1]
        assert edit["error"] is None
    assert (issue / "articles" / "story.md").read_text() == original  # it edits a copy


def test_an_edit_inserts_a_number_in_the_first_sentence():
    from layout.commands.serve_bench import edited

    text = "---\nheadline: A\n---\nOne sentence. Two sentence. Three.\n"
    assert edited(text, 1001) == "---\nheadline: A\n---\nOne sentence. 1001 Two sentence. Three.\n"


def test_a_failed_preflight_is_shown_and_its_fix_clears_it(tmp_path):
    import yaml
    from factory import make_project, write_manifest

    issue = make_project(tmp_path, paper={"ink_limit": 150})  # the nameplate's red is M100 Y100: 200%
    write_article(issue, "story", body(150, seed=1))
    write_manifest(issue, {"pages": [{"page": 1, "template": "front", "articles": [{"slug": "story"}]}]})
    with serving(tmp_path) as server:
        state = server.proofs.state
        assert state["error"]["kind"] == "PreflightError" and state["error"]["exit_code"] == 5
        assert any(p["key"] == "total ink" for p in state["error"]["problems"])
        assert state["wrote"] and state["pages"]  # the pages are shown with it
        paper = tmp_path / "issues" / "paper.yaml"
        settings = yaml.safe_load(paper.read_text())
        paper.write_text(yaml.safe_dump({**settings, "ink_limit": 240}))
        state = wait_state(server, lambda s: s["phase"] == "done" and s["error"] is None)
        assert state["trigger"] == "paper.yaml" and state["wrote"]
