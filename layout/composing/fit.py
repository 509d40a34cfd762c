"""Stage 4 (fit report): what fitted, what is over, what is short, where text jumped."""

from __future__ import annotations

import json
from dataclasses import asdict

from .compose import Composition, SlotFit
from .typo import LOOSE_MARK, slot_typography

HOLE_LINES = 2
"""Empty lines at a column bottom beyond which a hole is reported."""


def fit_data(composition: Composition) -> dict:
    """Return the fit report as plain data (written as ``fit.json``); each slot with the typographic
    figures of its lines (``typo.slot_typography``)."""
    typography = slot_typography(composition)
    return {
        "slots": [{**asdict(s), **({"typography": typography[s.slot_id]} if s.slot_id in typography else {})}
                  for s in composition.slots],  # (greedy breaking: no figures, main's report)
        "pages": [asdict(p) for p in composition.page_fits],
        "overset": [s.slot_id for s in composition.overset],
        "holes": holes(composition),
        "rounds": composition.rounds,
        "notes": list(composition.notes),
    }


def fit_json(composition: Composition) -> bytes:
    """Return the fit report as JSON bytes."""
    return (json.dumps(fit_data(composition), indent=2, ensure_ascii=False) + "\n").encode()


def holes(composition: Composition) -> list[str]:
    """Describe every hole deeper than HOLE_LINES: at a slot's column bottom or below a page's slots."""
    found = []
    for slot in composition.slots:
        for column, short in enumerate(slot.column_short):
            if short > HOLE_LINES and not slot.over and column < slot.columns - 1:
                found.append(f"p{slot.page} {slot.slot_id}: column {column + 1} ends {short} lines short")
        if slot.column_short and slot.column_short[-1] > HOLE_LINES and not slot.over:
            found.append(f"p{slot.page} {slot.slot_id}: last column ends {slot.column_short[-1]} lines short")
    for page in composition.page_fits:
        if page.spans:
            for column, line, depth in page.spans:
                if depth > HOLE_LINES:
                    found.append(f"p{page.page}: {depth} empty lines in grid column {column + 1}, "
                                 f"lines {line + 1}-{line + depth}")
            continue
        for column, depth in enumerate(page.holes):
            if depth > HOLE_LINES:
                found.append(f"p{page.page}: {depth} empty lines in grid column {column + 1}")
    return found


def _status(slot: SlotFit) -> str:
    if slot.over:
        return f"OVER +{slot.over}"
    if slot.jump_to:
        return f"jumps to p{slot.jump_to}"
    if slot.short > HOLE_LINES:
        return f"short -{slot.short}"
    return "fits"


def fit_table(composition: Composition) -> str:
    """Return the fit report as a table for the terminal."""
    header = ("page", "slot", "cols", "depth", "avail", "used", "over", "short", "status")
    rows = [header] + [
        (f"p{s.page}", s.slot_id, str(s.columns), str(s.depth), str(s.available), str(s.used),
         f"+{s.over}" if s.over else "0", f"-{s.short}" if s.short else "0", _status(s))
        for s in composition.slots]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for hole in holes(composition):
        lines.append(f"hole: {hole}")
    for note in composition.notes:
        lines.append(f"warning: {note}")
    for slot in composition.slots:
        if slot.suggestions:
            lines.append(f"to fit p{slot.page} {slot.slot_id} ({'+' if slot.over else '-'}"
                         f"{slot.over or slot.short} lines; {slot.place}):")
            lines += [f"    - {s}" for s in slot.suggestions]
    lines += typography_notes(composition)
    return "\n".join(lines)


def typography_notes(composition: Composition) -> list[str]:
    """What the paragraph breaker did and can do, slot by slot: paragraphs set a line longer
    (``fit: loose``), what looseness offers a short slot, and the lines still looser than 2.5x (marked
    on the proof), for a sub-editor to rewrite."""
    typography = slot_typography(composition)
    notes = []
    for slot in composition.slots:
        block = typography.get(slot.slot_id)
        if not block:
            continue
        where = f"p{slot.page} {slot.slot_id}"
        if block["loosened"]:
            notes.append(f"loose: {where}: set {_paragraphs(block['loosened'])} a line longer "
                         "(fit: loose, or total-fit filling a hole)")
        if slot.short > HOLE_LINES and not slot.over:
            offer = [p for p in block["longer"] if p not in block["loosened"]]
            if offer:
                gain = min(len(offer), slot.short)
                notes.append(f"to fit {where} (-{slot.short} lines): set {_paragraphs(offer[:gain])} a line "
                             f"longer: fills {gain} of the {slot.short}-line hole (fit: loose in issue.yaml)")
        elif slot.over and block["shorter"]:
            notes.append(f"to fit {where} (+{slot.over} lines): {_paragraphs(block['shorter'])} can be set a "
                         f"line shorter at acceptable spacing")
        worst = [w for w in block["worst"] if w["ratio"] > LOOSE_MARK]
        if worst:
            notes.append(f"loose lines: {where}: " + "; ".join(
                f"“{w['text']}” ({w['ratio']:.1f}x)" for w in worst[:3]) + " (marked on the proof: rewrite)")
    blocks = [b for b in typography.values() if b]
    tracked, scaled = (sum(b.get(key, 0) for b in blocks) for key in ("tracked_lines", "scaled_lines"))
    if tracked or scaled:
        notes.append(f"justification: of {sum(b['lines'] for b in blocks)} lines set, {tracked} letter-spaced "
                     f"(tracking), {scaled} with their glyphs scaled (glyph_scaling), within the paper's bounds")
    return notes


def _paragraphs(ids: list[str]) -> str:
    numbers = [str(int(i.rsplit("-b", 1)[1]) + 1) for i in ids]
    return ("paragraph " if len(numbers) == 1 else "paragraphs ") + ", ".join(numbers)


def summary(composition: Composition) -> list[str]:
    """One line for each slot that is over or short and each hole (what ``watch`` prints after a save)."""
    out = []
    for slot in composition.slots:
        if slot.over:
            out.append(f"  over: {slot.place}: {slot.over_words or f'{slot.over} lines over'}")
        elif slot.short > HOLE_LINES and not slot.jump_to:
            out.append(f"  short: {slot.place}: {slot.short} lines short")
    out += [f"  hole: {hole}" for hole in holes(composition)]
    out += [f"  warning: {note}" for note in composition.notes]
    return out
