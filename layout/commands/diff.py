"""``layout diff``: what changed between two composes of an issue: reflowed articles, changed pages, moved jumps."""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

from ..base.files import write_atomic
from ..errors import InputError, Problem

FIELDS = ("page", "depth", "used", "over", "short", "jump_to", "continued_from", "box")


@dataclass(frozen=True)
class Change:
    """One difference between the previous round and this one."""

    kind: str
    """``reflowed``, ``added``, ``removed``, ``jump moved`` or ``page changed``."""
    what: str
    detail: str


def compare(previous: Path, current: Path, pictures: Path) -> list[Change]:
    """Compare the round kept in ``previous`` with the build in ``current``; draw changed pages."""
    old, new = _report(previous / "fit.json"), _report(current / "fit.json")
    try:
        changes = _slots(old, new)
    except (KeyError, TypeError, AttributeError, ValueError):
        raise _damaged(previous / "fit.json", current / "fit.json") from None
    old_text, new_text = _texts(previous / "text.json"), _texts(current / "text.json")
    for slot_id in sorted(set(old_text) & set(new_text)):
        if old_text[slot_id] != new_text[slot_id] and not any(c.what == slot_id for c in changes):
            changes.append(Change("reflowed", slot_id, "its text changed"))
    for stale in pictures.glob("p*.png"):
        stale.unlink()
    for png in sorted((current / "proofs").glob("p[0-9]*.png")):
        before = previous / "proofs" / png.name
        try:
            Image.open(png).close()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise _damaged(png) from None
        box = _changed_area(before, png)
        if box is not None:
            changes.append(Change("page changed", png.stem, f"pixels changed in {box}"))
            _highlight(png, box, pictures / png.name)
    return changes


def _slots(old: dict, new: dict) -> list[Change]:
    before = {s["slot_id"]: s for s in old["slots"]}
    after = {s["slot_id"]: s for s in new["slots"]}
    changes = []
    for slot_id in sorted(set(before) | set(after)):
        if slot_id not in before:
            changes.append(Change("added", slot_id, f"new on page {after[slot_id]['page']}"))
        elif slot_id not in after:
            changes.append(Change("removed", slot_id, f"was on page {before[slot_id]['page']}"))
        else:
            a, b = before[slot_id], after[slot_id]
            if (a["jump_to"], a["continued_from"]) != (b["jump_to"], b["continued_from"]):
                changes.append(Change("jump moved", slot_id, f"jump p{a['jump_to'] or a['continued_from']} -> "
                                      f"p{b['jump_to'] or b['continued_from']}"))
            moved = [f for f in FIELDS if a.get(f) != b.get(f) and f not in ("jump_to", "continued_from")]
            if moved:
                changes.append(Change("reflowed", slot_id, ", ".join(f"{f} {a.get(f)} -> {b.get(f)}" for f in moved)))
    return changes


def _changed_area(before: Path, after: Path) -> tuple[int, int, int, int] | None:
    """Where ``after`` differs from ``before``: all of it if ``before`` is missing or damaged."""
    with Image.open(after) as b:
        try:
            with Image.open(before) as a:
                if a.size != b.size:
                    return (0, 0, *b.size)
                return ImageChops.difference(a.convert("L"), b.convert("L")).point(
                    lambda v: 255 if v > 24 else 0).getbbox()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):  # missing or damaged
            return (0, 0, *b.size)


def _damaged(*paths: Path) -> InputError:
    shown = " or ".join(str(p) for p in paths)
    return InputError(f"{shown}: missing, damaged, or not written by this version of layout", tuple(Problem(
        str(p), "", "cannot be read as what layout writes there", "compose the issue twice again to compare "
        "(layout compose ISSUE), or delete build/ISSUE/previous") for p in paths))


def _report(path: Path) -> dict:
    """A fit report (``fit.json``), checked to be one."""
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, UnicodeError, FileNotFoundError, IsADirectoryError):
        raise _damaged(path) from None
    if not isinstance(data, dict) or not isinstance(data.get("slots"), list) or not all(
            isinstance(s, dict) and isinstance(s.get("slot_id"), str) for s in data["slots"]):
        raise _damaged(path)
    return data


def _texts(path: Path) -> dict[str, str]:
    """The slots' texts (``text.json``), if there are any."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, UnicodeError, IsADirectoryError):
        raise _damaged(path) from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise _damaged(path)
    return data


def _highlight(png: Path, box: tuple[int, int, int, int], target: Path) -> None:
    with Image.open(png) as opened:
        image = opened.convert("RGB")
        draw = ImageDraw.Draw(image)
        x0, y0, x1, y1 = box
        draw.rectangle([x0 - 3, y0 - 3, x1 + 3, y1 + 3], outline=(230, 0, 0), width=4)
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
    write_atomic(target, buffer.getvalue())


def report(changes: list[Change]) -> str:
    """The differences for the terminal."""
    if not changes:
        return "no changes since the previous compose"
    return "\n".join(f"{c.kind:13} {c.what}: {c.detail}" for c in changes)


def report_json(changes: list[Change]) -> bytes:
    """The differences as JSON."""
    return (json.dumps([asdict(c) for c in changes], indent=2) + "\n").encode()
