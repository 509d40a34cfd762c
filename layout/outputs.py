"""The issue's output folder, ``build/<issue>/``: its lock, the last round kept in ``previous/`` for
``layout diff``, plates left from older sources marked stale, and ``layout check``'s preflight of the
plates already written."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from .base import publish
from .base.files import write_atomic
from .errors import BusyError, InputError, Problem
from .press.accounting import PlateCopy, copies_from_json
from .press.preflight import Finding, check_issue, report_json
from .reading.manifest import find_issue
from .reading.settings import load_settings
from .rendering.workers import PARENT_ONLY_FILES
from .run import Project


@contextlib.contextmanager
def issue_lock(project: Project, issue_id: str) -> Iterator[None]:
    """Hold the issue's lock: a second run on the same issue refuses at once, never interleaves.

    The lock is an advisory ``flock`` on ``build/<issue>/.lock``: the kernel drops it when the
    process ends, however it ends, so a killed run never leaves the issue locked.
    """
    out = project.build(issue_id)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise BusyError(f"{issue_id} is being composed by another layout run ({holder})", (Problem(
                project.shown(out), "", "two runs on one issue would mix their outputs",
                "wait for the other run to finish (or stop it), then run again"),)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        publish.clean(out)  # put back what a crash left aside, remove what it left half-done
        PARENT_ONLY_FILES.add(handle.fileno())
        try:
            yield
        finally:
            PARENT_ONLY_FILES.discard(handle.fileno())
            fcntl.flock(handle, fcntl.LOCK_UN)


def keep_previous(out: Path) -> None:
    """Keep the last round's fit report, text and proofs in ``previous/`` for ``layout diff``: hard
    links to them where the system allows (outputs are replaced, never changed in place, so the kept
    ones stay as they were; a recompose copied some 6 MB of proofs at 16 pages)."""
    if not (out / "fit.json").exists():
        return
    previous = publish.staging(out / "previous")  # published whole
    try:
        for name in ("fit.json", "text.json"):
            if (out / name).exists():
                _link_or_copy(out / name, previous / name)
        if (out / "proofs").is_dir():
            shutil.copytree(out / "proofs", previous / "proofs", copy_function=_link_or_copy)
        publish.replace_folder(previous, out / "previous")
    finally:
        shutil.rmtree(previous, ignore_errors=True)


def _link_or_copy(source: str | Path, target: str | Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


STALE_NOTE = "STALE.txt"
SOURCES_FILE = "SOURCES.sha256"


def mark_stale_plates(out: Path, inputs: str) -> bool:
    """Mark ``plates/`` stale (a STALE.txt inside) when the sources have changed since its plates were
    made and this compose did not replace them; return True if it is stale."""
    plates = out / "plates"
    if not plates.is_dir():
        return False
    made_from = (plates / SOURCES_FILE).read_text().strip() if (plates / SOURCES_FILE).is_file() else ""
    if made_from == inputs:
        (plates / STALE_NOTE).unlink(missing_ok=True)
        return False
    write_atomic(plates / STALE_NOTE, (
        b"STALE: these print plates were made from sources that have changed since.\n"
        b"The last compose did not pass (overset copy or preflight), so they were not replaced.\n"
        b"Do not send them to the printer: fix what the last compose reported and compose again;\n"
        b"its pages are in ../plates-draft/ (draft plates) and ../*-proof.pdf (marked proof).\n"))
    return True


def check_issue_plates(project: Project, issue_id: str) -> tuple[list[Finding], Path]:
    """Preflight the plates already written for ``issue_id`` (``layout check``)."""
    settings = load_settings(project.issues / "paper.yaml")
    find_issue(project.issues, issue_id)
    out = project.build(issue_id)
    folder, plates = _written_plates(project, issue_id)
    fit = _fit_report(project, issue_id)
    findings = check_issue(plates, settings, fit, copies=_expected_copy(folder / "copy.json", len(plates)))
    changed = publish.changed_files(folder)
    if changed is not None:
        findings.append(Finding(publish.SUMS, "checksums", not changed,
                                f"changed since they were composed: {', '.join(changed)}" if changed else
                                "every file as it was composed"))
    write_atomic(out / "preflight.json", report_json(findings))
    return findings, folder


def _written_plates(project: Project, issue_id: str) -> tuple[Path, list[Path]]:
    """The folder of the issue's plates and the plates in it: ``plates/``, or the old set a crash
    between two renames left aside (see base/publish.py), or the drafts."""
    out = project.build(issue_id)
    folder = next((out / name for name in ("plates", ".plates.old", "plates-draft") if (out / name).is_dir()), None)
    if folder is None:
        raise InputError(f"no plates for {issue_id} yet", (Problem(
            project.shown(out), "", "nothing has been composed", f"run: layout compose {issue_id}"),))
    plates = sorted(folder.glob(f"{issue_id}-p*.pdf"))
    if not plates:
        raise InputError(f"no plates in {project.shown(folder)}", (Problem(
            project.shown(folder), "", "the folder holds no plate", f"run: layout compose {issue_id}"),))
    return folder, plates


def _fit_report(project: Project, issue_id: str) -> dict | None:
    """The issue's fit report (``fit.json``), if it has been written; an error if it is damaged."""
    path = project.build(issue_id) / "fit.json"
    if not path.exists():
        return None
    try:
        fit = json.loads(path.read_bytes())
    except (ValueError, UnicodeError):
        fit = None
    if not isinstance(fit, dict) or not isinstance(fit.get("overset", []), list):
        raise InputError(f"{project.shown(path)} is damaged", (Problem(
            project.shown(path), "", "it is not the fit report layout writes",
            f"run: layout compose {issue_id} (it writes the fit report again)"),))
    return fit


def _expected_copy(path: Path, plates: int) -> list[PlateCopy] | None:
    """What the plates beside ``path`` must show (written with them), if it is there and whole."""
    if not path.exists():
        return None
    try:
        copies = copies_from_json(path.read_bytes())
    except (ValueError, UnicodeError):
        raise InputError(f"{path} is damaged", (Problem(str(path), "", "it is not the copy account layout "
                         "writes with the plates", "compose the issue again"),)) from None
    return copies if len(copies) == plates else None
