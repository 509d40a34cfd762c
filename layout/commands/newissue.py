"""``layout new ISSUE --from PREVIOUS``: next week's issue folder, made from last week's.

What is kept, and what is not:

- the manifest (``issue.yaml``): every page, slot, size, pin and jump as it was, its comments too;
  ``date:`` moved on a week and ``number:`` on by one;
- house adverts (articles with ``kind: advert``) and regular columns (``regular: true``: a
  standing column that runs every week as it is, such as party contacts) as they are, with the
  photos they use, and every
  supplied advert in ``ads/`` (its booking stays in the manifest: replace the PDF when the
  advertiser sends a new one);
- every other article is replaced by a **placeholder** of the same name: ``headline: New
  headline``, its ``kind:`` kept, ``sample: true`` (so it prints the "Sample copy" tag until it is
  written), and one line of placeholder copy. So last week's copy, sample or real, never runs again
  by mistake, and the page plan stays whole: write each story into its file and compose.

Nothing is overwritten: an existing ISSUE folder is refused.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import yaml

from ..errors import InputError, Problem
from ..reading.articles import PLACEHOLDER
from ..reading.manifest import SLUG, find_issue
from ..reading.sources import display_path

PLACEHOLDER_HEADLINE = "New headline"


def new_issue(issues: Path, issue_id: str, previous: str) -> Path:
    """Make ``issues/<issue_id>`` from ``issues/<previous>``; return the new folder."""
    source = find_issue(issues, previous)
    target = issues / issue_id
    if not SLUG.match(issue_id):
        raise InputError(f"{issue_id!r} is not a valid issue name", (Problem(
            display_path(issues), "", "issue names are lower-case letters, digits and hyphens",
            "name it like issue-2022-04-08"),))
    if target.exists():
        raise InputError(f"{display_path(target)} already exists", (Problem(
            display_path(target), "", "layout new never overwrites an issue",
            "choose another name, or remove that folder first"),))
    text = (source / "issue.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    date, number = data.get("date"), data.get("number")
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date.strip())
        except ValueError:
            date = None
    if not isinstance(date, dt.date) or not isinstance(number, int):
        raise InputError(f"{display_path(source / 'issue.yaml')}: no date or number to move on", (Problem(
            display_path(source / "issue.yaml"), "date, number", "both must be set",
            "give the previous issue 'date: YYYY-MM-DD' and 'number: N'"),))
    text = re.sub(r"^date:.*$", f"date: {date + dt.timedelta(days=7)}", text, count=1, flags=re.M)
    text = re.sub(r"^number:.*$", f"number: {number + 1}", text, count=1, flags=re.M)
    text = f"# Made by `layout new {issue_id} --from {previous}`: placeholders stand for last week's copy.\n" + text
    staging = issues / f".{issue_id}.new"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "articles").mkdir(parents=True)
    try:
        (staging / "issue.yaml").write_text(text, encoding="utf-8")
        if (source / "ads").is_dir():
            shutil.copytree(source / "ads", staging / "ads")
        for path in sorted((source / "articles").glob("*.md")):
            _carry(path, source, staging)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _carry(path: Path, source: Path, target: Path) -> None:
    """Keep a house advert or a regular column (and its photos); replace any other article by a
    placeholder."""
    text = path.read_text(encoding="utf-8")
    front: dict = {}
    if text.startswith("---\n") and "\n---\n" in text[4:]:
        try:
            front = yaml.safe_load(text[4:text.index("\n---\n", 4)]) or {}
        except yaml.YAMLError:
            front = {}
    if isinstance(front, dict) and (front.get("kind") == "advert" or front.get("regular") is True):
        shutil.copy2(path, target / "articles" / path.name)
        for image in front.get("images") or []:
            name = image.get("file") if isinstance(image, dict) else None
            if isinstance(name, str) and (source / name).is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / name, target / name)
        return
    placeholder = {"headline": PLACEHOLDER_HEADLINE, "sample": True}
    if isinstance(front, dict) and front.get("kind") in ("editorial", "brief"):
        placeholder["kind"] = front["kind"]
    (target / "articles" / path.name).write_text(
        "---\n" + yaml.safe_dump(placeholder, sort_keys=False) + "---\n" + PLACEHOLDER, encoding="utf-8")
