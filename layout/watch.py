"""``layout watch``: recompose an issue every time one of its sources is saved."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .build import Project, compose_issue
from .errors import LayoutError, environment_fault, is_environment
from .render import Workers


def sources(project: Project, issue_id: str) -> Iterator[Path]:
    """Every file whose change should trigger a recompose."""
    yield project.issues / "paper.yaml"
    for folder in (project.issues / issue_id, project.stylesheets, project.fonts):
        yield from (p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def snapshot(project: Project, issue_id: str) -> dict[Path, tuple[float, int]]:
    """Modification time and size of every source."""
    found = {}
    for path in sources(project, issue_id):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        found[path] = (stat.st_mtime, stat.st_size)
    return found


def watch(project: Project, issue_id: str, say: Callable[[str], None], interval: float = 0.5,
          rounds: int | None = None) -> None:
    """Compose now and after every change; ``rounds`` limits the number of composes (for tests)."""
    workers = Workers()  # kept warm from save to save
    try:
        _watch(project, issue_id, say, interval, rounds, workers)
    finally:
        workers.close()


def _watch(project: Project, issue_id: str, say: Callable[[str], None], interval: float, rounds: int | None,
           workers: Workers) -> None:
    seen: dict[Path, tuple[float, int]] = {}
    done = 0
    while rounds is None or done < rounds:
        current = snapshot(project, issue_id)
        if current != seen:
            changed = sorted(str(p.name) for p in set(current) ^ set(seen) | {p for p in current
                             if seen.get(p) not in (None, current[p])})
            seen = current
            started = time.monotonic()
            try:
                result = compose_issue(project, issue_id, progress=lambda m: None, shared=workers)
                status = f"{len(result.issue.pages)} pages composed"
            except LayoutError as error:
                status = f"error: {error}"
            except (OSError, MemoryError) as error:  # the machine's fault: say which path, keep watching
                status = f"error: {environment_fault(error) if is_environment(error) else error}"
            except Exception as error:  # noqa: BLE001 - a bug must not end the watch: the next save may work
                status = (f"internal error: {type(error).__name__}: {error} (a bug in layout; run layout compose "
                          "--debug for the traceback)")
            done += 1
            trigger = ", ".join(changed[:3]) + (" ..." if len(changed) > 3 else "") if done > 1 else "start"
            say(f"[{time.strftime('%H:%M:%S')}] {trigger}: {status} in {time.monotonic() - started:.1f} s")
        time.sleep(interval)
