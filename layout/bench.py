"""Benchmark: compose synthetic issues of 8, 16 and 64 pages and compare with a naive WeasyPrint run.

Run ``python -m layout.bench`` (``--pages 8 16`` for a subset). Each measurement runs in a fresh
process so that peak memory (ru_maxrss of the process or of its largest page worker, whichever is
larger) is the compose's own. For each size: a cold compose (empty build folder) with the time of
its stages (layout, writing PDFs and proofs, preflight) and the documents WeasyPrint laid out; a
recompose in a new process after editing one article; a recompose in a warm process after a second
edit (what ``layout watch`` does on every save); and a naive one-pass WeasyPrint render of the same
final HTML. As whole processes (``python -m layout compose`` from the shell): cold, a recompose
after an edit as a user gets it (answered by the warm compose server the cold run left), and one
with the server off (``recompose_process_noserver_s``); the servers started are stopped at the end.
Results: a table and ``bench.json``. ``--total-fit`` (with ``--pages 16``): only total-fit's cold
compose (paper settings ``TOTAL_FIT``), in one process and as whole processes, against the naive
render of the final HTML with its paragraphs set by the breaker (what WeasyPrint must draw to give
total-fit's lines: issue 15's reference) and of the final HTML as the default run renders it (its
paragraphs' markers left for WeasyPrint to set greedily).
Each measurement is made ``--repeat`` times (3), interleaved: times are the fastest of each (on a shared
machine noise only ever adds time), ratios the median of each round's ratios (its runs follow one
another, so the machine's slow and fast spells cancel).
Targets (issue 6): cold compose <= 0.6 x naive; recompose after one edit <= 0.15 x cold;
peak memory <= 400 MB at 64 pages; seconds per page flat from 8 to 64 pages. Issue 13: copy
accounting (its CPU time over all plates, one after the other) <= 5% of a cold compose.
``--suite``: only the test suite, the README's test command run as a whole process from the checkout
(``--repeat`` times), with each run's CPU and the machine's speed just before it (issue 14: under 60 s).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote

import yaml

REPO = Path(__file__).resolve().parent.parent
VOCABULARY = (
    "the a of to and in that for on with as was by at from workers union government council pay strike "
    "ballot members energy prices housing rents wages employers inflation tenants demanded offer talks "
    "national local public services hospital teachers nurses railway dockers postal solidarity campaign "
    "international peace conference committee resolution movement organisation struggle economic crisis "
    "profits shareholders privatisation nationalisation parliament minister spokesperson statement"
).split()

CHILD = r"""
import json, logging, resource, sys, time
from pathlib import Path
from layout.build import Project, compose_issue
from layout.errors import OversetError
from layout.stages import COMPOSE, FIT, LOG, PREFLIGHT, WRITE
from layout.rendering.workers import Workers
stages, overset = {}, False
class StageTimes(logging.Handler):  # each stage's time, from the record that ends it (stages.running)
    def emit(self, record):
        if hasattr(record, "seconds"):
            stages.setdefault(record.stage, record.seconds)  # the first compose's
LOG.setLevel(logging.DEBUG)
LOG.addHandler(StageTimes())
workers = Workers()  # what `layout watch` keeps from save to save
from layout.base.cache import hold_entries
hold_entries()  # as `layout watch` does
start = time.perf_counter()
def compose():
    global overset
    try:
        return compose_issue(Project(Path(sys.argv[1])), sys.argv[2], shared=workers)
    except OversetError:
        overset = True
result = compose()
seconds = time.perf_counter() - start
# What copy accounting costs: its CPU time over every plate, one after the other (in a compose it
# runs on the workers beside the other checks, so the compose waits for less than this).
from layout.press.accounting import account, copies_from_json
plates = Path(sys.argv[1]) / "build" / sys.argv[2] / "plates"
accounting = None
if (plates / "copy.json").exists():
    copies = copies_from_json((plates / "copy.json").read_bytes())
    began = time.process_time()
    for number, copy in enumerate(copies, start=1):
        account(plates / f"{sys.argv[2]}-p{number:02d}.pdf", copy)
    accounting = time.process_time() - began
warm = None
if len(sys.argv) > 3:  # then edit one article and compose again in this process, as `layout watch` does
    article = Path(sys.argv[3])
    article.write_text(article.read_text().replace("\n\n", "\n\nEdited again. ", 1))
    again = time.perf_counter()
    compose()
    warm = time.perf_counter() - again
workers.close()  # a worker's peak memory is counted once it has ended
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "overset": overset, "warm": warm,
                  "laid_out": result.laid_out if result else None, "cached": result.cached if result else None,
                  "layout_s": stages.get(COMPOSE.name, 0),
                  "write_s": stages.get(WRITE.name, 0) + stages.get(FIT.name, 0),
                  "preflight_s": stages.get(PREFLIGHT.name, 0), "accounting_s": accounting, "stages_s": stages}))
"""

NAIVE = r"""
import json, resource, sys, time
from pathlib import Path
import weasyprint
from weasyprint.urls import URLFetcher
html = Path(sys.argv[1]).read_text()
class Fetcher(URLFetcher):  # the prepared photos, as the composer names them (layout-photo:<file>)
    def fetch(self, url, headers=None):
        if url.startswith("layout-photo:"):
            url = (Path(sys.argv[4]) / url.split(":", 1)[1]).as_uri()
        return super().fetch(url, headers)
start = time.perf_counter()
weasyprint.HTML(string=html, base_url=sys.argv[2], url_fetcher=Fetcher()).write_pdf(sys.argv[3])
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

DUMP = r"""
import sys
from pathlib import Path
from layout.build import Project, fit_issue, issue_html_for
session, composition = fit_issue(Project(Path(sys.argv[1])), sys.argv[2])
Path(sys.argv[3]).write_text(issue_html_for(session, composition))
"""


def _paragraph(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(1, 3)):
        words = [rng.choice(VOCABULARY) for _ in range(rng.randint(10, 26))]
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


def _stories(number: int, photo_page: bool) -> tuple[tuple[int, int], ...]:
    """(columns, words) of a page's four stories: a 3- and a 2-column story above two more, sized so
    that the page fits as a real one must (a photo, or the front-page nameplate, leaves less room)."""
    if number == 1:
        return (3, 330), (2, 330), (3, 120), (2, 180)
    return (3, 230 if photo_page else 350), (2, 280), (3, 280), (2, 240)


def make_issue(root: Path, pages: int, seed: int = 1) -> str:
    """Write a synthetic issue of ``pages`` pages (4 stories a page, a photo on every other page)."""
    from PIL import Image, ImageFilter

    rng = random.Random(seed)
    shutil.copytree(REPO / "stylesheets", root / "stylesheets")
    shutil.copytree(REPO / "fonts", root / "fonts")
    (root / "issues").mkdir()
    shutil.copy(REPO / "issues" / "paper.yaml", root / "issues" / "paper.yaml")
    issue = root / "issues" / f"bench-{pages}"
    (issue / "articles").mkdir(parents=True)
    (issue / "images").mkdir()
    photo = Image.effect_noise((1200, 800), 60).filter(ImageFilter.GaussianBlur(3))
    photo.save(issue / "images" / "photo.jpg", quality=85)
    layout = []
    for number in range(1, pages + 1):
        slots = []
        photo_page = number % 2 == 1
        for k, (columns, words) in enumerate(_stories(number, photo_page)):
            slug = f"p{number}-s{k}"
            front = {"headline": " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(4, 8))).capitalize(),
                     "byline": "by a staff reporter", "sample": True}
            if k == 0 and photo_page:
                front["images"] = [{"file": "images/photo.jpg", "caption": "A synthetic photo", "credit": "Bench"}]
            paragraphs, count = [], 0
            while count < words:
                paragraphs.append(_paragraph(rng))
                count += len(paragraphs[-1].split())
            text = "---\n" + yaml.safe_dump(front) + "---\n" + "\n\n".join(paragraphs) + "\n"
            (issue / "articles" / f"{slug}.md").write_text(text)
            slots.append({"slug": slug, "columns": columns})
        layout.append({"page": number, "template": "front" if number == 1 else "inside", "articles": slots})
    (issue / "issue.yaml").write_text(yaml.safe_dump({"date": "2022-04-01", "number": 1, "pages": layout},
                                                     sort_keys=False))
    return issue.name


def _child(code: str, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


SERVER_LOG: list[Path] = []
"""The log the compose servers the benchmark starts write (their pids: ``stop_servers`` ends them)."""


def _shell_env(**extra: str) -> dict[str, str]:
    """The environment of a command typed in a shell: this checkout's ``layout`` first on the path;
    bytecode written and read as an installed package's is (``PYTHONDONTWRITEBYTECODE``, which a
    sandbox may set, made every process compile layout's modules again); the compose server on, as
    it is by default (``LAYOUT_SERVER`` unset), each server logging to ``SERVER_LOG`` and ending after
    two idle minutes if ``stop_servers`` is never reached."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONDONTWRITEBYTECODE", "LAYOUT_SERVER")}
    env.update({"PYTHONPATH": str(REPO), "LAYOUT_SERVER_IDLE": "120"})
    if SERVER_LOG:
        env["LAYOUT_SERVER_LOG"] = str(SERVER_LOG[0])
    return {**env, **extra}


def _process(command: list[str], cwd: Path, **env: str) -> float:
    """Seconds that ``command`` takes as a whole process, from its start to its exit, as a user
    running it from the shell in ``cwd`` waits (interpreter start-up and imports included). Its
    output is thrown away; a failure is an error of the benchmark."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=_shell_env(**env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   check=True)
    return time.perf_counter() - start


def stop_servers() -> int:
    """End the compose servers the benchmark started (SIGTERM to each pid in ``SERVER_LOG``); how many
    were still running."""
    if not SERVER_LOG or not SERVER_LOG[0].exists():
        return 0
    stopped = 0
    for pid in {int(m[1]) for m in re.finditer(r"layout server (\d+): serving", SERVER_LOG[0].read_text())}:
        try:
            os.kill(pid, signal.SIGTERM)
            stopped += 1
        except ProcessLookupError:
            continue
    return stopped


LAYOUT = [sys.executable, "-m", "layout"]
"""The ``layout`` command (``python -m layout`` runs what the ``layout`` script runs, ``cli.main``)."""


def naive_command(html: Path, base: str, pdf: Path, photos: Path) -> list[str]:
    """The naive one-pass render as a command: ``weasyprint`` on the final HTML, its prepared photos
    named by file (the composer's ``layout-photo:`` names, which the in-process run maps with a URL
    fetcher); written beside ``html``."""
    text = html.read_text()
    def named(match: re.Match[str]) -> str:  # as engine.ConfinedFetcher finds it
        name = match[1] if (photos / match[1]).is_file() else unquote(match[1])
        return (photos / name).as_uri()

    text = re.sub(r"layout-photo:([^\"')\s]+)", named, text)
    plain = html.with_suffix(".files.html")
    plain.write_text(text)
    return [sys.executable, "-m", "weasyprint", "-u", base, str(plain), str(pdf)]


def startup_bench(work: Path, repeat: int = 3) -> dict:
    """``layout --help`` and a cold compose of the sample issue, each as a whole process (issue 14:
    the first at most 0.1 x the second), ``repeat`` times interleaved; fastest of each, and the
    median of the rounds' ratios."""
    root = work / "sample"
    root.mkdir()
    for name in ("stylesheets", "fonts"):
        shutil.copytree(REPO / name, root / name)
    (root / "issues").mkdir()
    shutil.copy(REPO / "issues" / "paper.yaml", root / "issues" / "paper.yaml")
    shutil.copytree(REPO / "issues" / SAMPLE, root / "issues" / SAMPLE)
    _process([*LAYOUT, "--help"], root)  # once first: bytecode written, WeasyPrint's declarations prebuilt
    helps, colds = [], []
    for _ in range(repeat):
        shutil.rmtree(root / "build", ignore_errors=True)
        colds.append(_process([*LAYOUT, "compose", SAMPLE], root))
        helps.append(_process([*LAYOUT, "--help"], root))
    return {"help_process_s": round(min(helps), 3), "sample_cold_process_s": round(min(colds), 2),
            "help_vs_sample_cold": round(statistics.median(h / c for h, c in zip(helps, colds)), 3)}


def bench(pages: int, work: Path, repeat: int = 3) -> dict:
    """Measure one synthetic issue of ``pages`` pages: each measurement ``repeat`` times, interleaved
    (cold, recompose, naive, then again). Times are the fastest of each (a shared machine's noise
    only ever adds time); ratios are the median of the ratios of each round's runs."""
    root = work / f"p{pages}"
    root.mkdir()
    issue_id = make_issue(root, pages)
    article = root / "issues" / issue_id / "articles" / "p2-s1.md"
    html = work / f"p{pages}.html"
    colds, warms, naives = [], [], []
    cold_procs, recompose_procs, noserver_procs, naive_procs = [], [], [], []
    photos, base = root / "build" / issue_id / "images", str(root / "issues" / issue_id) + "/"
    for run in range(repeat):
        shutil.rmtree(root / "build", ignore_errors=True)
        colds.append(_child(CHILD, str(root), issue_id))
        article.write_text(article.read_text().replace("\n\n", "\n\nEdited. ", 1))
        warms.append(_child(CHILD, str(root), issue_id, str(article)))
        if run == 0:  # the final HTML, for the naive run
            _child(DUMP + "\nprint('{}')", str(root), issue_id, str(html))
            naive_cmd = naive_command(html, base, work / f"naive{pages}-process.pdf", photos)
            _process(naive_cmd, root)  # once first: bytecode written, as an installed WeasyPrint has it
        naives.append(_child(NAIVE, str(html), base, str(work / f"naive{pages}.pdf"), str(photos)))
        # The same, as whole processes started as a user starts them, one after the other: cold (the
        # build folder removed: a compose server left by the run before refuses, and the compose runs
        # in its own process, then becomes the server), recompose after an edit (answered by that
        # server, as a user's is), the same without the server (LAYOUT_SERVER=off), and the naive
        # render (which needs the cold run's photos).
        shutil.rmtree(root / "build", ignore_errors=True)
        cold_procs.append(_process([*LAYOUT, "compose", issue_id], root))
        article.write_text(article.read_text().replace("\n\n", "\n\nEdited. ", 1))
        recompose_procs.append(_process([*LAYOUT, "compose", issue_id], root))
        article.write_text(article.read_text().replace("\n\n", "\n\nEdited. ", 1))
        noserver_procs.append(_process([*LAYOUT, "compose", issue_id], root, LAYOUT_SERVER="off"))
        naive_procs.append(_process(naive_cmd, root))
    cold = min(colds, key=lambda r: r["seconds"])
    recompose = min(r["seconds"] for r in warms)
    watch = min(r["warm"] for r in warms)
    naive = min(r["seconds"] for r in naives)
    pdf = root / "build" / issue_id / f"{issue_id}.pdf"

    def paired(top: list[float], bottom: list[float]) -> float:
        """The median ratio of runs made one after the other: the machine's slow and fast spells,
        which last longer than a pair of runs, cancel out."""
        return round(statistics.median(a / b for a, b in zip(top, bottom)), 2)

    cold_all = [r["seconds"] for r in colds]
    return {
        "pages": pages, "cold_s": round(cold["seconds"], 2), "recompose_s": round(recompose, 2),
        "watch_recompose_s": round(watch, 2),
        "naive_s": round(naive, 2), "cold_vs_naive": paired(cold_all, [r["seconds"] for r in naives]),
        "recompose_vs_cold": paired([r["seconds"] for r in warms], cold_all),
        "watch_vs_cold": paired([r["warm"] for r in warms], cold_all),
        "peak_mb": round(max(r["peak_mb"] for r in colds + warms)), "pdf_kb": round(pdf.stat().st_size / 1024),
        "s_per_page": round(cold["seconds"] / pages, 3),
        "cold_layout_s": round(cold["layout_s"], 2), "cold_write_s": round(cold["write_s"], 2),
        "cold_preflight_s": round(cold["preflight_s"], 2), "documents_laid_out": cold["laid_out"],
        "copy_accounting_s": round(min(r["accounting_s"] or 0.0 for r in colds), 3),
        "copy_accounting_vs_cold": round(min(r["accounting_s"] or 0.0 for r in colds) / cold["seconds"], 3),
        "overset": any(r["overset"] for r in colds), "cores": os.cpu_count(), "runs": repeat,
        "cold_process_s": round(min(cold_procs), 2), "recompose_process_s": round(min(recompose_procs), 2),
        "naive_process_s": round(min(naive_procs), 2),
        "cold_vs_naive_process": paired(cold_procs, naive_procs),
        "recompose_vs_cold_process": paired(recompose_procs, cold_procs),
        "recompose_process_noserver_s": round(min(noserver_procs), 2),
        "recompose_vs_cold_process_noserver": paired(noserver_procs, cold_procs),
        "cold_all_s": [round(r["seconds"], 2) for r in colds], "naive_all_s": [round(r["seconds"], 2) for r in naives],
        "cold_process_all_s": [round(t, 2) for t in cold_procs],
        "naive_process_all_s": [round(t, 2) for t in naive_procs],
        "recompose_process_all_s": [round(t, 2) for t in recompose_procs],
        "recompose_process_noserver_all_s": [round(t, 2) for t in noserver_procs],
    }


SET = r"""
import sys
from pathlib import Path
from layout.rendering.engine import set_paragraphs
html = Path(sys.argv[1]).read_text()
Path(sys.argv[2]).write_text(set_paragraphs(html, tuple(Path(p) for p in sys.argv[3:])))
"""
"""The final HTML with its marked paragraphs set by the paragraph breaker (``engine.set_paragraphs``, as
a galley's are): what WeasyPrint must draw to give total-fit's lines."""


def total_fit_bench(pages: int, work: Path, repeat: int = 3) -> dict:
    """Total-fit's cold compose of the synthetic issue of ``pages`` pages (paper settings ``TOTAL_FIT``),
    in one process and as whole processes, against two naive one-pass WeasyPrint renders: of the final
    HTML as the benchmark's greedy row has it (``issue_html_for``: its body paragraphs still carry the
    breaker's ``data-lb`` markers, so WeasyPrint sets them greedily itself, which is not total-fit's
    output: ``*_naive_markers``), and of the same HTML with the paragraphs set by the breaker first, what
    WeasyPrint must draw to give the same lines (``*_naive_set``: the reference issue 15 means).
    Interleaved as ``bench``: times the fastest, ratios the median of each round's."""
    root = work / f"tf{pages}"
    issue_id = _typography_root(root, pages, TOTAL_FIT)
    markers, set_html = work / f"tf{pages}.html", work / f"tf{pages}-set.html"
    photos, base = root / "build" / issue_id / "images", str(root / "issues" / issue_id) + "/"
    allowed = [str(root / "issues" / issue_id), str(root / "fonts"), str(root / "stylesheets"), str(photos)]
    colds: list[dict] = []
    naive_markers: list[float] = []
    naive_set: list[float] = []
    cold_procs: list[float] = []
    markers_procs: list[float] = []
    set_procs: list[float] = []
    commands: dict[str, list[str]] = {}
    for run in range(repeat):
        shutil.rmtree(root / "build", ignore_errors=True)
        colds.append(_child(CHILD, str(root), issue_id))
        if run == 0:
            _child(DUMP + "\nprint('{}')", str(root), issue_id, str(markers))
            _child(SET + "\nprint('{}')", str(markers), str(set_html), *allowed)
            for name, html in (("markers", markers), ("set", set_html)):
                commands[name] = naive_command(html, base, work / f"tf{pages}-naive-{name}-process.pdf", photos)
                _process(commands[name], root)  # once first: bytecode written
        naive_markers.append(_child(NAIVE, str(markers), base, str(work / f"tf{pages}-naive-markers.pdf"),
                                    str(photos))["seconds"])
        naive_set.append(_child(NAIVE, str(set_html), base, str(work / f"tf{pages}-naive-set.pdf"),
                                str(photos))["seconds"])
        shutil.rmtree(root / "build", ignore_errors=True)
        cold_procs.append(_process([*LAYOUT, "compose", issue_id], root))
        markers_procs.append(_process(commands["markers"], root))
        set_procs.append(_process(commands["set"], root))
    seconds = [r["seconds"] for r in colds]
    cold = min(colds, key=lambda r: r["seconds"])

    def paired(top: list[float], bottom: list[float]) -> float:
        return round(statistics.median(a / b for a, b in zip(top, bottom)), 2)

    return {
        "pages": f"{pages} tf", "tf_cold_s": round(cold["seconds"], 2),
        "tf_naive_set_s": round(min(naive_set), 2), "tf_naive_markers_s": round(min(naive_markers), 2),
        "tf_cold_vs_naive_set": paired(seconds, naive_set), "tf_cold_vs_naive_markers": paired(seconds, naive_markers),
        "tf_cold_process_s": round(min(cold_procs), 2), "tf_naive_set_process_s": round(min(set_procs), 2),
        "tf_naive_markers_process_s": round(min(markers_procs), 2),
        "tf_cold_vs_naive_set_process": paired(cold_procs, set_procs),
        "tf_cold_vs_naive_markers_process": paired(cold_procs, markers_procs),
        "tf_cold_layout_s": round(cold["layout_s"], 2), "tf_cold_write_s": round(cold["write_s"], 2),
        "tf_cold_preflight_s": round(cold["preflight_s"], 2), "tf_overset": any(r["overset"] for r in colds),
        "tf_peak_mb": round(max(r["peak_mb"] for r in colds)), "cores": os.cpu_count(), "runs": repeat,
        "load_at_end": round(os.getloadavg()[0], 2),
        "tf_cold_all_s": [round(t, 2) for t in seconds], "tf_naive_set_all_s": [round(t, 2) for t in naive_set],
        "tf_cold_process_all_s": [round(t, 2) for t in cold_procs],
        "tf_naive_set_process_all_s": [round(t, 2) for t in set_procs],
    }


def total_fit_table(rows: list[dict]) -> str:
    """The total-fit rows (a metric a line, an issue size a column), then issue 15's speed goal, met or
    not, against the set HTML's naive render (and, for comparison, the markers')."""
    width = max(len(k) for k in rows[0])
    lines = [f"{'':{width}}  " + "  ".join(f"{row['pages']:>10}" for row in rows)]
    lines += [f"{key:{width}}  " + "  ".join(f"{row[key]!s:>10}" for row in rows) for key in rows[0]
              if key != "pages" and not key.endswith("_all_s")]
    for row in rows:
        for key, what in (("tf_cold_vs_naive_set", "naive render of the set HTML"),
                          ("tf_cold_vs_naive_markers", "naive render of the marked HTML (greedy lines)")):
            for suffix, how in (("", "in one process"), ("_process", "whole processes")):
                value = row[key + suffix]
                lines.append(f"{'met' if value <= 0.6 else 'NOT MET':8} total-fit cold compose of {row['pages'][:-3]} "
                             f"pages <= 0.6 x the {what}, {how}: {value}")
    return "\n".join(lines)


# ---- Typography: the figures of issue 15, from the PDFs ------------------------------------------------

SAMPLE = "issue-2022-04-01"
GOALS = {"loose_share": 0.15, "median_ratio": 1.45, "rivers": 10, "past_edge": 0, "ladders": 0}
"""Issue 15's goals: at most 15 % of justified lines wider than 2x, median at most 1.45, at most 10
rivers of 3+ lines, no line past the right edge, no ladder of 3 hyphens."""


def typography(root: Path, issue_id: str, pdf: Path, font: str = "NW-Text") -> dict:
    """The figures of the issue's justified body lines in ``pdf`` (adverts left out), for the issue
    and for each story, with the worst lines named (``composing/typo.py``; slots from the compose's fit.json)."""
    from .composing import typo

    fit = json.loads((root / "build" / issue_id / "fit.json").read_text())
    box = [(s["slot_id"], s["page"], s["box"][0], s["box"][1], s["box"][0] + s["box"][2], s["box"][1] + s["box"][3])
           for s in fit["slots"]]
    adverts = [(s["page"], *b[2:]) for s, b in zip(fit["slots"], box) if s["slug"].startswith("advert")]
    lines = typo.assign_slots(typo.read_lines(pdf, font=font, exclude=adverts), box)
    natural = typo.natural_space(REPO / "fonts" / "PTF55F.ttf", 9.0)
    whole = typo.figures(lines, natural, 10.5, worst=8).to_json()
    stories = {}
    for slot in dict.fromkeys(line.slot for line in lines if line.slot):
        f = typo.figures([line for line in lines if line.slot == slot], natural, 10.5, worst=3).to_json()
        stories[slot] = {k: f[k] for k in ("justified", "loose_share", "median_ratio", "rivers", "past_edge",
                                           "ladders", "worst")}
    return {**whole, "stories": stories}


TYPST = r"""
#set page(width: 280mm, height: 430mm, margin: (x: 12mm, top: 16mm, bottom: 14mm), columns: 5)
#set columns(gutter: 4mm)
#set text(font: "PT Serif", size: 9pt, lang: "en", region: "gb", hyphenate: true)
#set par(justify: true, leading: 10.5pt - 0.75em, spacing: 10.5pt - 0.75em, first-line-indent: 1em)
"""


def typst_pdf(root: Path, issue_id: str, out: Path) -> Path | None:
    """The same copy (every story's paragraphs, adverts left out, in order) set by Typst in the same
    48 mm columns and fonts, if the ``typst`` package is installed; else None."""
    try:
        import typst
    except ImportError:
        return None
    from .reading.articles import load_articles
    from .reading.manifest import load_issue
    from .reading.settings import load_settings

    settings = load_settings(root / "issues" / "paper.yaml")
    issue = load_issue(root / "issues" / issue_id, settings)
    articles = load_articles(root / "issues" / issue_id, issue.slugs)
    body = []
    for slug in dict.fromkeys(slot.slug for page in issue.pages for slot in page.slots):
        article = articles[slug]
        if article.kind == "advert":
            continue
        body += [block.text.replace("\\", "\\\\").replace("#", "\\#").replace("*", "\\*").replace("_", "\\_")
                 .replace("$", "\\$").replace("@", "\\@").replace("<", "\\<").replace("[", "\\[")
                 .replace("]", "\\]").replace("`", "\\`") for block in article.blocks if block.tag == "p"]
    source = out.with_suffix(".typ")
    source.write_text(TYPST + "\n\n".join(body) + "\n")
    out.write_bytes(typst.compile(str(source), font_paths=[str(root / "fonts")]))
    return out


TOTAL_FIT = {"line_breaking": "total-fit", "tracking": "2%", "glyph_scaling": "2%"}
"""The paper settings the breaker is measured with (``line_breaking`` is ``greedy`` by default)."""


def _typography_root(root: Path, pages: int | None, paper: dict | None) -> str:
    """Write the sample issue (``pages`` None) or a synthetic one into ``root``, its paper settings
    updated with ``paper``; return the issue's id."""
    import yaml

    root.mkdir()
    if pages is None:
        for name in ("stylesheets", "fonts"):
            shutil.copytree(REPO / name, root / name)
        (root / "issues").mkdir()
        shutil.copy(REPO / "issues" / "paper.yaml", root / "issues" / "paper.yaml")
        shutil.copytree(REPO / "issues" / SAMPLE, root / "issues" / SAMPLE)
        issue_id = SAMPLE
    else:
        issue_id = make_issue(root, pages)
    if paper:
        path = root / "issues" / "paper.yaml"
        settings = yaml.safe_load(path.read_text(encoding="utf-8"))
        path.write_text(yaml.safe_dump({**settings, **paper}, allow_unicode=True), encoding="utf-8")
    return issue_id


def typography_bench(pages: list[int], work: Path) -> list[dict]:
    """The typographic figures of the sample issue and of the synthetic issues of ``pages`` pages:
    layout's plates with ``line_breaking: total-fit`` (and ``tracking: 2%``), layout's plates with
    the default greedy breaking, WeasyPrint alone (the naive one-pass render of the greedy HTML),
    Typst (if installed) on the same copy."""
    rows = []
    for pages_ in [None, *pages]:
        row: dict = {}
        for name, paper in (("total-fit", TOTAL_FIT), ("greedy", None)):
            root = work / f"typo{pages_ or 'sample'}-{name}"
            issue_id = _typography_root(root, pages_, paper)
            _child(CHILD, str(root), issue_id)
            row["issue"] = issue_id
            row[name] = typography(root, issue_id, root / "build" / issue_id / f"{issue_id}.pdf")
        html, naive = work / f"{issue_id}.html", work / f"{issue_id}-naive.pdf"
        _child(DUMP + "\nprint('{}')", str(root), issue_id, str(html))
        _child(NAIVE, str(html), str(root / "issues" / issue_id) + "/", str(naive),
               str(root / "build" / issue_id / "images"))
        row["weasyprint"] = typography(root, issue_id, naive)
        set_by_typst = typst_pdf(root, issue_id, work / f"{issue_id}-typst.pdf")
        if set_by_typst is not None:
            row["typst"] = typography(root, issue_id, set_by_typst, font="PTSerif")
        rows.append(row)
    return rows


def typography_table(rows: list[dict]) -> str:
    """Issue 15's table for each issue (layout total-fit and greedy, WeasyPrint alone, Typst), the
    goals met or not by total-fit, and the worst lines and stories of its plates."""
    out = []
    for row in rows:
        out.append(f"{row['issue']}: | | lines | > 2x | median | rivers 3+ | past edge | ladders 3+ |")
        for name in ("total-fit", "greedy", "weasyprint", "typst"):
            if name in row:
                f = row[name]
                out.append(f"  {name:11} {f['justified']:5} {f['loose_share']:6.0%} {f['median_ratio']:6.2f} "
                           f"{f['rivers']:5} {f['past_edge']:5} {f['ladders']:5}")
        f = row["total-fit"]
        met = [f["loose_share"] <= GOALS["loose_share"], f["median_ratio"] <= GOALS["median_ratio"],
               f["rivers"] <= GOALS["rivers"], f["past_edge"] <= GOALS["past_edge"], f["ladders"] <= GOALS["ladders"]]
        out.append(f"  total-fit goals (<= 15 %, <= 1.45, <= 10, 0, 0): {'met' if all(met) else 'NOT MET'} "
                   f"{['yes' if m else 'no' for m in met]}")
        out += [f"  worst: p{w['page']} {w['slot']}: {w['ratio']:.2f}x “{w['text']}”" for w in f["worst"][:5]]
        worst_stories = sorted(f["stories"].items(), key=lambda kv: -kv[1]["loose_share"])[:3]
        out += [f"  loosest story: {slot}: {s['loose_share']:.0%} > 2x, median {s['median_ratio']:.2f}, "
                f"{s['rivers']} rivers" for slot, s in worst_stories]
    return "\n".join(out)


def main() -> None:
    """Run the benchmark and print a table; write bench.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, nargs="*", default=[8, 16, 64])
    parser.add_argument("--json", type=Path, default=Path("bench.json"))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (the fastest is kept)")
    parser.add_argument("--total-fit", action="store_true",
                        help="only total-fit's cold compose against the naive renders (issue 15), at the --pages sizes")
    parser.add_argument("--typography", action="store_true",
                        help="only the typographic figures (issue 15), of the sample issue and the --pages issues")
    parser.add_argument("--suite", action="store_true",
                        help="only the test suite, the README's test command as a whole process (issue 14)")
    args = parser.parse_args()
    if args.suite:  # issue 14's suite target only
        suite = suite_bench(args.repeat)
        print(suite_table(suite))
        args.json.write_text(json.dumps(suite, indent=2) + "\n")
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="layout-bench-") as tmp, contextlib.ExitStack() as servers:
        SERVER_LOG[:] = [Path(tmp) / "servers.log"]
        servers.callback(stop_servers)  # the compose servers its runs started end with it
        if args.typography:  # issue 15's figures only (total-fit, greedy, WeasyPrint alone, Typst)
            (Path(tmp) / "typo").mkdir()
            typo_rows = typography_bench(args.pages, Path(tmp) / "typo")
            print(typography_table(typo_rows))
            args.json.write_text(json.dumps({"typography": typo_rows}, indent=2) + "\n")
            return
        if args.total_fit:  # issue 15's speed goal only
            tf_rows = []
            for pages in args.pages:
                tf_rows.append(total_fit_bench(pages, Path(tmp), args.repeat))
                print(json.dumps(tf_rows[-1]), file=sys.stderr)
            print(total_fit_table(tf_rows))
            args.json.write_text(json.dumps({"total_fit": tf_rows}, indent=2) + "\n")
            return
        startup = startup_bench(Path(tmp), args.repeat)  # the same for every size
        print(json.dumps(startup), file=sys.stderr)
        for pages in args.pages:
            rows.append({**bench(pages, Path(tmp), args.repeat), **startup})
            print(json.dumps(rows[-1]), file=sys.stderr)
    print(table(rows))
    args.json.write_text(json.dumps(rows, indent=2) + "\n")


def table(rows: list[dict]) -> str:
    """A metric a line, an issue size a column; then the targets of issue 6, met or not."""
    width = max(len(k) for k in rows[0])
    lines = [f"{'':{width}}  " + "  ".join(f"{row['pages']:>8} p" for row in rows)]
    lines += [f"{key:{width}}  " + "  ".join(f"{row[key]!s:>10}" for row in rows) for key in rows[0]
              if key != "pages" and not key.endswith("_all_s")]
    by_size = {row["pages"]: row for row in rows}
    checks = []
    if 16 in by_size:
        row = by_size[16]
        checks.append(("cold compose of 16 pages <= 0.6 x naive", row["cold_vs_naive"] <= 0.6, row["cold_vs_naive"]))
        checks.append(("recompose after one edit <= 0.15 x cold", row["recompose_vs_cold"] <= 0.15,
                       row["recompose_vs_cold"]))
        checks.append(("  (in a warm process, as layout watch)", row["watch_vs_cold"] <= 0.15, row["watch_vs_cold"]))
        checks.append(("copy accounting <= 5% of a cold compose (its CPU time, serial)",
                       row["copy_accounting_vs_cold"] <= 0.05, row["copy_accounting_vs_cold"]))
        if "cold_vs_naive_process" in row:  # issue 14: whole processes, as a user starts them
            checks.append(("whole processes: cold compose of 16 pages <= 0.6 x naive",
                           row["cold_vs_naive_process"] <= 0.6, row["cold_vs_naive_process"]))
            checks.append(("whole processes: recompose after one edit <= 0.12 x cold",
                           row["recompose_vs_cold_process"] <= 0.12, row["recompose_vs_cold_process"]))
            if "recompose_vs_cold_process_noserver" in row:
                checks.append(("  (without the compose server, LAYOUT_SERVER=off)",
                               row["recompose_vs_cold_process_noserver"] <= 0.12,
                               row["recompose_vs_cold_process_noserver"]))
    if rows and "help_vs_sample_cold" in rows[0]:
        checks.append(("whole processes: layout --help <= 0.1 x a cold compose of the sample issue",
                       rows[0]["help_vs_sample_cold"] <= 0.1, rows[0]["help_vs_sample_cold"]))
    if 64 in by_size:
        checks.append(("peak memory at 64 pages <= 400 MB", by_size[64]["peak_mb"] <= 400, by_size[64]["peak_mb"]))
    if 8 in by_size and 64 in by_size:
        ratio = round(by_size[64]["s_per_page"] / by_size[8]["s_per_page"], 2)
        checks.append(("seconds a page flat, 8 to 64 pages (64/8 <= 1.1)", ratio <= 1.1, ratio))
    lines += [f"{'met' if ok else 'NOT MET':8} {name}: {value}" for name, ok, value in checks]
    return "\n".join(lines)


# ---- The test suite: issue 14's 60 s, timed as a user runs the README's test command --------------

SUITE_TARGET_S = 60.0
"""Issue 14: the suite runs in under 60 s on the 2-core machine."""

CALIBRATION = "s = 0\nfor i in range(10 ** 7):\n    s += i\n"
"""A fixed piece of pure Python, run before each run of the suite in one process a core, all at once
(as the suite's workers run), and timed until the last ends: how fast the machine is at that moment
for work on every core (a shared machine ran one copy alone in 0.76-1.52 s within one day, and two
at once can be slower than one alone where the cores are shared with others), so that two runs'
times compare only beside their calibrations."""


def suite_bench(repeat: int, command: list[str] | None = None, cwd: Path = REPO, calibration: str = CALIBRATION
                ) -> dict:
    """The README's test command (``python -m pytest -q``) run ``repeat`` times as a whole process
    from ``cwd``: each run's wall-clock time, its CPU (user and system, the suite's processes and
    theirs), the load average before it and the machine's speed just before (``CALIBRATION``, on
    every core at once)."""
    import resource

    command = command or [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    runs: list[dict] = []
    for _ in range(repeat):
        started = time.perf_counter()
        loops = [subprocess.Popen([sys.executable, "-c", calibration]) for _ in range(os.cpu_count() or 1)]
        if any(loop.wait() for loop in loops):
            raise RuntimeError(f"the calibration loop failed: {calibration!r}")
        calibrated = time.perf_counter() - started
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        lines = done.stdout.strip().splitlines()
        runs.append({"wall_s": round(wall, 1), "user_s": round(after.ru_utime - before.ru_utime, 1),
                     "system_s": round(after.ru_stime - before.ru_stime, 1), "calibration_s": round(calibrated, 2),
                     "load_before": round(load, 2), "exit": done.returncode, "summary": lines[-1] if lines else ""})
        print(json.dumps(runs[-1]), file=sys.stderr)
    return {"suite_runs": runs, "suite_fastest_s": min(float(r["wall_s"]) for r in runs)}


def suite_table(row: dict) -> str:
    """Each run of the suite, then issue 14's target, met or not (by the fastest run that passed)."""
    lines = ["wall s  user s  system s  calibration s  load  exit  summary"]
    lines += [f"{r['wall_s']:6}  {r['user_s']:6}  {r['system_s']:8}  {r['calibration_s']:13}  {r['load_before']:4}  "
              f"{r['exit']:4}  {r['summary']}" for r in row["suite_runs"]]
    passed = [r["wall_s"] for r in row["suite_runs"] if r["exit"] == 0]
    if not passed:
        return "\n".join([*lines, "NOT MET  the test suite passes: no run passed"])
    fastest = min(passed)
    verdict = "met" if fastest < SUITE_TARGET_S else "NOT MET"
    return "\n".join([*lines, f"{verdict:8} the test suite (README's test command, a whole process) in under "
                             f"{SUITE_TARGET_S:g} s: {fastest}"])


if __name__ == "__main__":
    main()
