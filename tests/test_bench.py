"""The benchmark measures real runs: its synthetic issues fit, and its verdicts follow the figures."""

from __future__ import annotations

import json
import re
from pathlib import Path

from layout.bench import make_issue, table
from layout.build import Project, compose_issue


def test_synthetic_issue_composes_without_overset(tmp_path):
    issue_id = make_issue(tmp_path, 3)
    result = compose_issue(Project(tmp_path), issue_id)  # raises OversetError if not
    fit = json.loads(result.fit_report.read_text())
    assert fit["overset"] == [] and len(fit["slots"]) == 12
    assert result.plates is not None and result.plates.name == "plates"


def test_table_says_which_targets_are_met():
    row = {"pages": 16, "cold_vs_naive": 0.55, "recompose_vs_cold": 0.2, "watch_vs_cold": 0.1,
           "peak_mb": 100, "s_per_page": 1.0, "copy_accounting_vs_cold": 0.07}
    rows = [{**row, "pages": 8}, row, {**row, "pages": 64, "peak_mb": 500, "s_per_page": 1.5}]
    verdicts = [line for line in table(rows).splitlines() if line.startswith(("met", "NOT MET"))]
    assert verdicts == [
        "met      cold compose of 16 pages <= 0.6 x naive: 0.55",
        "NOT MET  recompose after one edit <= 0.15 x cold: 0.2",
        "met        (in a warm process, as layout watch): 0.1",
        "NOT MET  copy accounting <= 5% of a cold compose (its CPU time, serial): 0.07",
        "NOT MET  peak memory at 64 pages <= 400 MB: 500",
        "NOT MET  seconds a page flat, 8 to 64 pages (64/8 <= 1.1): 1.5",
    ]


def test_table_says_which_whole_process_targets_are_met():
    row = {"pages": 16, "cold_vs_naive": 0.55, "recompose_vs_cold": 0.1, "watch_vs_cold": 0.1,
           "peak_mb": 100, "s_per_page": 1.0, "copy_accounting_vs_cold": 0.04, "cold_vs_naive_process": 0.62,
           "recompose_vs_cold_process": 0.11, "help_process_s": 0.1, "help_vs_sample_cold": 0.04}
    verdicts = [line for line in table([row]).splitlines() if line.startswith(("met", "NOT MET"))]
    assert verdicts[-3:] == [
        "NOT MET  whole processes: cold compose of 16 pages <= 0.6 x naive: 0.62",
        "met      whole processes: recompose after one edit <= 0.12 x cold: 0.11",
        "met      whole processes: layout --help <= 0.1 x a cold compose of the sample issue: 0.04",
    ]


def test_the_naive_command_renders_the_composers_html_with_its_photos_named_by_file(tmp_path):
    from layout.bench import naive_command

    photos = tmp_path / "images"
    photos.mkdir()
    (photos / "photo-1.jpg").write_bytes(b"x")
    html = tmp_path / "issue.html"
    html.write_text('<img src="layout-photo:photo-1.jpg"><img src=\'layout-photo:photo-1.jpg\'>')
    command = naive_command(html, str(tmp_path) + "/", tmp_path / "out.pdf", photos)
    assert command[1:4] == ["-m", "weasyprint", "-u"] and command[-1] == str(tmp_path / "out.pdf")
    plain = Path(command[-2]).read_text()
    assert "layout-photo" not in plain and plain.count((photos / "photo-1.jpg").as_uri()) == 2


def test_total_fit_table_says_the_goal_against_both_naive_renders():
    from layout.bench import total_fit_table

    row = {"pages": "16 tf", "tf_cold_s": 5.0, "tf_cold_vs_naive_set": 0.58, "tf_cold_vs_naive_markers": 1.05,
           "tf_cold_vs_naive_set_process": 0.66, "tf_cold_vs_naive_markers_process": 1.1, "tf_cold_all_s": [5.0]}
    out = total_fit_table([row])
    assert "tf_cold_all_s" not in out and "tf_cold_s" in out
    assert [line for line in out.splitlines() if line.startswith(("met", "NOT MET"))] == [
        "met      total-fit cold compose of 16 pages <= 0.6 x the naive render of the set HTML, in one process: 0.58",
        "NOT MET  total-fit cold compose of 16 pages <= 0.6 x the naive render of the set HTML, whole processes: 0.66",
        "NOT MET  total-fit cold compose of 16 pages <= 0.6 x the naive render of the marked HTML (greedy lines), "
        "in one process: 1.05",
        "NOT MET  total-fit cold compose of 16 pages <= 0.6 x the naive render of the marked HTML (greedy lines), "
        "whole processes: 1.1",
    ]


def test_the_set_html_reference_has_the_breakers_lines_not_its_markers(tmp_path):
    """The naive reference for total-fit is the final HTML with its paragraphs set by the breaker (what
    WeasyPrint must draw to give total-fit's lines), made by the benchmark's SET script."""
    from layout.bench import REPO, SET, _child

    text = "Members voted overwhelmingly to reject the offer and called for national talks with the employers."
    marked = tmp_path / "marked.html"
    marked.write_text(f'<html><head></head><body><div class="frame total-fit"><p id="a-b0" class="first" '
                      f'data-lb="136.063 0.000 9.000 0.02 - 0 0.02">{text}</p></div></body></html>')
    out = tmp_path / "set.html"
    _child(SET + "\nprint('{}')", str(marked), str(out), str(REPO / "fonts"), str(REPO / "stylesheets"))
    html = out.read_text()
    assert "data-lb" not in html and 'data-id="a-b0" class="first set"' in html
    lines = re.findall(r'<span class="ln[^"]*">(.*?)</span>', html)
    assert len(lines) >= 3 and " ".join(lines).replace("- ", "") == text


def test_the_suite_benchmark_times_a_whole_test_run_and_says_whether_it_passed(tmp_path):
    """``--suite`` runs the test command as a process and reads its outcome: a suite with a failing
    test is never "met", however fast."""
    import sys

    from layout.bench import suite_bench, suite_table

    (tmp_path / "test_small.py").write_text("def test_one():\n    assert sum(range(10**5)) > 0\n")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "test_small.py"]
    row = suite_bench(1, command, tmp_path, calibration="pass")  # (the real one takes a second)
    (run,) = row["suite_runs"]
    assert run["exit"] == 0 and run["summary"].startswith("1 passed") and run["user_s"] > 0
    assert run["calibration_s"] > 0 and row["suite_fastest_s"] == run["wall_s"]
    assert suite_table(row).splitlines()[-1].startswith("met ")
    failing = [sys.executable, "-c", "print('1 failed, 2 passed in 0.01s'); raise SystemExit(1)"]
    failed = suite_bench(1, failing, tmp_path, calibration="pass")
    assert failed["suite_runs"][0]["exit"] == 1 and "1 failed" in failed["suite_runs"][0]["summary"]
    assert suite_table(failed).splitlines()[-1] == "NOT MET  the test suite passes: no run passed"
    slow = {"suite_runs": [{**run, "wall_s": 75.0}], "suite_fastest_s": 75.0}
    assert suite_table(slow).splitlines()[-1].startswith("NOT MET  the test suite")
