"""The stage table (layout/stages.py): the stage lines, the modules' docstrings and the records the
benchmark times stages by all follow it."""

from __future__ import annotations

import ast
import io
import logging
import re
import sys
from pathlib import Path

from factory import two_story_issue

from layout.build import Project, compose_issue
from layout.console import StageLines, stage_lines
from layout.stages import COMPOSE, STAGES, Meter, running

PACKAGE = Path(__file__).resolve().parent.parent / "layout"


def _first_line(module: str) -> str:
    tree = ast.parse((PACKAGE / f"{module.replace('.', '/')}.py").read_text(encoding="utf-8"))
    return (ast.get_docstring(tree) or "").splitlines()[0]


def test_every_module_that_names_a_stage_names_it_as_the_table_does():
    listed = {module: stage for stage in STAGES for module in stage.modules}
    for module, stage in listed.items():
        assert _first_line(module).startswith(stage.label + ": "), (module, _first_line(module), stage.label)
    for path in PACKAGE.rglob("*.py"):  # every module of every subpackage
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        line = _first_line(module)
        if re.match(r"Stage\b", line):  # a stage named but not listed, or under another number
            assert module in listed, (module, line)
    assert [stage.number for stage in STAGES] == list(range(1, len(STAGES) + 1))


def test_a_compose_prints_the_stage_lines_in_the_order_of_the_table_in_plain_text(tmp_path, run_cli):
    two_story_issue(tmp_path)
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("[")]
    assert [line.split(" ", 1)[0] for line in lines] == ["[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"]
    assert lines[0] == "[1/5] reading test-issue: paper settings, manifest, articles"
    assert re.fullmatch(r"\[2/5\] composing 1 pages, 2 articles on \d+ cores", lines[1])
    assert re.fullmatch(r"\[3/5\] writing build/test-issue \(\d+ pages laid out, 0 from the cache\)", lines[2])
    assert lines[3:] == ["[4/5] fit report", "[5/5] preflight"]
    assert "preflight: passed" in err and "\x1b[" not in err  # stderr is no terminal: no bar, no colour


def test_each_stage_reports_its_start_and_its_time_and_composing_counts_the_documents(tmp_path, caplog):
    two_story_issue(tmp_path)
    caplog.set_level(logging.DEBUG, logger="layout")
    result = compose_issue(Project(tmp_path), "test-issue")
    started = [r.stage for r in caplog.records if r.levelno == logging.INFO and hasattr(r, "stage")]
    timed = {r.stage: r.seconds for r in caplog.records if hasattr(r, "seconds")}
    assert started == [stage.name for stage in STAGES] and list(timed) == started  # what the benchmark reads
    assert all(seconds >= 0 for seconds in timed.values()) and sum(timed.values()) <= result.seconds
    counts = [(r.done, r.total) for r in caplog.records if hasattr(r, "total")]
    assert counts[-1] == (result.laid_out, result.laid_out) and result.laid_out > 0
    assert all(done <= total for done, total in counts)


def test_a_stage_that_fails_reports_no_time(caplog):
    caplog.set_level(logging.DEBUG, logger="layout")
    try:
        with running(COMPOSE, "1 pages"):
            raise ValueError("a bad page")
    except ValueError:
        pass
    assert [r.getMessage() for r in caplog.records] == ["[2/5] composing 1 pages"]


def test_the_stage_lines_handler_prints_lines_only_and_is_removed_after_the_command(capsys):
    log = logging.getLogger("layout")
    with stage_lines() as handler:
        assert isinstance(handler, StageLines) and not handler.bar  # pytest's stderr is no terminal
        meter = Meter(COMPOSE, "documents laid out")
        meter.expect(2)
        meter.tick()
        log.info("[9/9] a line")
    log.info("after the command")  # no handler: not printed
    assert capsys.readouterr().err == "[9/9] a line\n"
    assert handler not in log.handlers


def test_the_readme_shows_the_stage_table_as_it_is():
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^  \| (\d) \| `(\[\d/\d\] [^`]+)` \| [^|]+ \| ([^|]+) \|$", readme, re.M)
    assert [(int(n), line, re.findall(r"`([\w/]+)\.py`", modules)) for n, line, modules in rows] == [
        (stage.number, stage.line(), [module.replace(".", "/") for module in stage.modules]) for stage in STAGES]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_composing_stage_draws_a_bar_that_goes_before_the_next_line(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    log = logging.getLogger("layout")
    with stage_lines() as handler:
        assert handler.bar
        meter = Meter(COMPOSE, "documents laid out")
        meter.expect(0)  # nothing to count yet: no bar
        assert handler._progress is None
        meter.expect(2)
        meter.tick()
        assert handler._progress is not None  # drawn
        log.info("[3/5] writing")
        assert handler._progress is None  # removed before the line
    shown = terminal.getvalue()
    assert "documents laid out" in shown and "1/2" in shown
    assert shown.rstrip().endswith("[3/5] writing")
