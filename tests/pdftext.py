"""Reading composed PDFs back: page text, words in order, baselines."""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

import pdfplumber
from pypdf import PdfReader


def page_texts(pdf: Path) -> list[str]:
    """Return the extracted text of each page."""
    return [page.extract_text() or "" for page in PdfReader(pdf).pages]


def letters(text: str) -> str:
    """Return ``text`` reduced to lower-case letters and digits (hyphenation and spacing undone)."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[^0-9a-z]", "", text.lower())


def body_baselines(pdf: Path, font: str = "NW-Text", size: float = 9.0) -> list[list[float]]:
    """Return, per page, the distinct baselines (points from the top) of body-size text in ``font``."""
    out = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            ys = {round(c["bottom"], 2) for c in page.chars
                  if font in c["fontname"] and abs(c["size"] - size) < 0.01}
            out.append(sorted(ys))
    return out


def word_places(pdf: bytes) -> list[dict[tuple[str, float], list[float]]]:
    """Per page: the left edges of each word, by its text and baseline."""
    out = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            found: dict[tuple[str, float], list[float]] = {}
            for word in page.extract_words():
                found.setdefault((word["text"], round(word["bottom"], 1)), []).append(word["x0"])
            out.append({key: sorted(xs) for key, xs in found.items()})
    return out


def same_places(ours: dict, multicol: dict) -> bool:
    """The same words on the same baselines, each within half a point of the same left edge."""
    return ours.keys() == multicol.keys() and all(
        len(ours[k]) == len(multicol[k]) and all(abs(a - b) <= 0.5 for a, b in zip(ours[k], multicol[k]))
        for k in ours)
