"""The benchmark measures real runs: its synthetic issues fit, and its verdicts follow the figures."""

from __future__ import annotations

import json

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
