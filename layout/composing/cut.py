"""Stage 2 (composing): cut a story at a line for a jump, keeping every word (and its inline markup)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ..reading.articles import Block
from .measure import Line

HYPHENS = "-\u2010\u00ad"
"""What WeasyPrint may append to a line it hyphenated (CSS ``hyphenate-character``)."""


@dataclass(frozen=True, order=True)
class Cut:
    """A place in an article's body: word ``word`` of block ``block``."""

    block: int
    word: int = 0


START = Cut(0, 0)


def slice_blocks(blocks: tuple[Block, ...], start: Cut, end: Cut | None) -> tuple[tuple[Block, ...], bool, bool]:
    """Return the blocks from ``start`` up to ``end`` and whether the slice starts/ends mid-paragraph."""
    stop = end if end is not None else Cut(len(blocks), 0)
    out: list[Block] = []
    for index in range(start.block, min(stop.block + 1, len(blocks))):
        block = blocks[index]
        first = start.word if index == start.block else 0
        last = stop.word if index == stop.block else None
        if last == 0 or (last is not None and last <= first):
            continue
        if first or last is not None:
            html = split_html(block.html, first, last)
            words = block.text.split()
            block = Block(block.tag, html, " ".join(words[first:last]))
        out.append(block)
    return tuple(out), start.word > 0, end is not None and end.word > 0


def cut_point(lines: tuple[Line, ...], columns: int, blocks: tuple[Block, ...], start: Cut,
              id_prefix: str) -> Cut | None:
    """Return where the text that ran past the frame's ``columns`` begins, or None if it all fits.

    The cut falls at a line: at the first overset line's block if that line starts its block, else
    after the words set on the block's fitted lines (a word hyphenated across the cut moves over whole).
    """
    overset = [i for i, line in enumerate(lines) if line.column >= columns]
    if not overset:
        return None
    first = lines[overset[0]]
    index = _block_index(first.block_id, id_prefix)
    fitted = [line for line in lines[: overset[0]] if line.block_id == first.block_id]
    base = start.word if index == start.block else 0
    if not fitted or blocks[index].tag != "p":
        return Cut(index, base)
    words = blocks[index].text.split()
    source = "".join(words)
    chars = _consumed(source, sum(len(w) for w in words[:base]), [line.text for line in fitted])
    total = 0
    for position, word in enumerate(words):
        total += len(word)
        if total >= chars:
            return Cut(index, position + 1 if total == chars else position)
    return Cut(index + 1, 0)


def _consumed(source: str, position: int, lines: list[str]) -> int:
    """Return how far into ``source`` (whitespace removed) the set ``lines`` reach from ``position``.

    A hyphen that ends a line but is not in the source was added by hyphenation and is skipped.
    """
    for text in lines:
        chars = "".join(text.split())
        for i, char in enumerate(chars):
            if position < len(source) and source[position] == char:
                position += 1
            elif not (i == len(chars) - 1 and char in HYPHENS):
                position += 1  # a character the layout changed (ligature, transform): keep counting
    return position


def _block_index(block_id: str, prefix: str) -> int:
    return int(block_id[len(prefix):])


def split_html(html: str, first: int, last: int | None) -> str:
    """Return the inline ``html`` from word ``first`` up to (not including) word ``last``."""
    root = ET.fromstring(f"<x>{html}</x>")
    counter = [0]
    _trim(root, first, last, counter)
    inner = (root.text or "") + "".join(ET.tostring(c, encoding="unicode", method="html") for c in root)
    return inner.strip()


def _keep(text: str, first: int, last: int | None, counter: list[int]) -> str:
    """Keep the words of ``text`` whose running index is in [first, last); count them."""
    kept = []
    for word in text.split():
        if counter[0] >= first and (last is None or counter[0] < last):
            kept.append(word)
        counter[0] += 1
    if not kept:
        return " " if text.strip() != text and text else ""
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() else ""
    return lead + " ".join(kept) + trail


def _trim(element: ET.Element, first: int, last: int | None, counter: list[int]) -> None:
    element.text = _keep(element.text or "", first, last, counter)
    for child in list(element):
        _trim(child, first, last, counter)
        child.tail = _keep(child.tail or "", first, last, counter)
        if not (child.text or "").strip() and not len(child):
            siblings = list(element)
            position = siblings.index(child)
            if position:
                siblings[position - 1].tail = (siblings[position - 1].tail or "") + (child.tail or "")
            else:
                element.text = (element.text or "") + (child.tail or "")
            element.remove(child)
